package proofpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// DefaultPollLookBack is a look-back that covers TAP's indexing delay:
// events can appear in the SIEM API up to about 30 minutes after they
// happened, so a window queried right after it closed may miss some.
const DefaultPollLookBack = 30 * time.Minute

// lookBackSafety keeps the first window clear of the look-back limit, which
// moves forward while the windows are fetched.
const lookBackSafety = 5 * time.Minute

// PollQuery describes a range of SIEM events to walk window by window.
type PollQuery struct {
	// Streams are fetched for every window, in order; empty means
	// [StreamAll]. Each stream costs one request per window.
	Streams []Stream
	// From is where the previous run stopped (its last [Batch.Resume]) or,
	// on a first run, where to start. Required.
	From time.Time
	// To ends the range (exclusive); zero or later than now minus the end
	// margin means now minus the end margin.
	To time.Time
	// LookBack re-queries this much before From to catch events TAP indexed
	// late (see [DefaultPollLookBack]). Events already yielded are dropped
	// by Seen.
	LookBack time.Duration
	// WindowSize is the length of each window, at most and by default
	// [MaxWindow].
	WindowSize time.Duration
	// ThreatTypes and ThreatStatuses filter every call (see [Query]).
	ThreatTypes    []string
	ThreatStatuses []string
	// Seen remembers the events already yielded. Pass the same set to
	// consecutive runs (or persist it; it marshals to JSON) so the look-back
	// overlap yields no event twice across runs; nil deduplicates within
	// this run only.
	Seen *Seen
}

// Batch is the events of one window, deduplicated.
type Batch struct {
	// Window is the interval queried.
	Window Interval
	// QueryEndTime is TAP's end of the served window.
	QueryEndTime time.Time
	// Resume is where the next run should start (its PollQuery.From) once
	// this batch is processed. It never moves backwards.
	Resume time.Time
	// Skipped is the part of the requested range TAP no longer serves
	// because it lies before the look-back limit; set on the first batch
	// only, zero otherwise.
	Skipped Interval

	MessagesDelivered []Message
	MessagesBlocked   []Message
	ClicksPermitted   []Click
	ClicksBlocked     []Click
	// Duplicates counts events dropped because they were already yielded.
	Duplicates int
	// SkippedItems lists the window's events that did not decode (see
	// "Malformed items" in the package documentation).
	SkippedItems []SkippedItem
}

// Len is the number of events in the batch.
func (b *Batch) Len() int {
	return len(b.MessagesDelivered) + len(b.MessagesBlocked) + len(b.ClicksPermitted) + len(b.ClicksBlocked)
}

// Plan splits q's range into the windows [SIEMService.Poll] would fetch, and
// reports the part of the range dropped for being older than the look-back
// limit. Every window lasts 30 seconds to WindowSize; the last one is moved
// back (overlapping its predecessor) rather than shortened below 30
// seconds. No windows means there is nothing new to fetch yet, or (with a
// non-zero skipped) that the whole range is beyond the look-back.
func (s *SIEMService) Plan(q PollQuery) (windows []Interval, skipped Interval, err error) {
	if q.From.IsZero() {
		return nil, Interval{}, &WindowError{Detail: "PollQuery.From is required"}
	}
	if q.LookBack < 0 {
		return nil, Interval{}, &WindowError{Detail: "PollQuery.LookBack must not be negative"}
	}
	size := q.WindowSize
	if size == 0 {
		size = MaxWindow
	}
	if size < MinWindow || size > MaxWindow {
		return nil, Interval{}, &WindowError{Reason: ErrWindowTooLong, Detail: fmt.Sprintf("PollQuery.WindowSize %v is outside %v..%v", size, MinWindow, MaxWindow)}
	}
	now := s.c.now()
	latest := now.Add(-s.c.endMargin).Truncate(time.Second)
	to := q.To.Truncate(time.Second)
	if q.To.IsZero() || to.After(latest) {
		to = latest
	}
	if !to.After(q.From) {
		return nil, Interval{}, nil
	}
	start := q.From.Add(-q.LookBack).Truncate(time.Second)
	earliest := now.Add(-s.c.lookBack + min(lookBackSafety, s.c.lookBack/10)).Truncate(time.Second).Add(time.Second)
	if start.Before(earliest) {
		skipped = Interval{Start: start, End: earliest}
		if !to.After(earliest) {
			// The whole range is beyond the look-back.
			skipped.End = to
			return nil, skipped, nil
		}
		start = earliest
	}
	if to.Sub(start) < MinWindow {
		if skipped.IsZero() {
			start = to.Add(-MinWindow)
		} else if to = start.Add(MinWindow); to.After(latest) {
			return nil, skipped, nil
		}
	}
	for ws := start; ws.Before(to); ws = ws.Add(size) {
		we := ws.Add(size)
		if we.After(to) {
			we = to
		}
		w := Interval{Start: ws, End: we}
		if w.Duration() < MinWindow {
			w.Start = we.Add(-MinWindow)
		}
		windows = append(windows, w)
	}
	return windows, skipped, nil
}

// Poll walks q's range window by window, in order, and yields one
// deduplicated [Batch] per window. Process a batch, then persist its Resume
// and Seen: the next run starting From that Resume (with the same LookBack)
// re-reads the overlap, picks up events TAP indexed late, and drops those
// already yielded. After an error the iteration ends; the batches yielded
// before it stand. Calls are checked against the windows' rules and the
// streams' pools before they are sent.
//
// API: GET /v2/siem/{stream} (once per window and stream)
func (s *SIEMService) Poll(ctx context.Context, q PollQuery) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		windows, skipped, err := s.Plan(q)
		if err != nil {
			yield(nil, s.c.refused(&rest.Request{Op: "SIEM.Poll", Path: "/v2/siem/"}, err))
			return
		}
		if !skipped.IsZero() {
			s.c.rc.Logger().WarnContext(ctx, "proofpoint: range older than the look-back limit skipped",
				"start", skipped.Start, "end", skipped.End, "look_back", s.c.lookBack)
		}
		streams := q.Streams
		if len(streams) == 0 {
			streams = []Stream{StreamAll}
		}
		seen := q.Seen
		if seen == nil {
			seen = NewSeen()
		}
		if len(windows) > 0 {
			seen.Forget(windows[0].Start.Add(-MaxWindow))
		}
		resume := q.From
		if len(windows) == 0 && !skipped.IsZero() {
			// Nothing TAP still serves: move the resume point past the
			// skipped range so the caller does not ask for it for ever.
			yield(&Batch{Skipped: skipped, Resume: later(resume, skipped.End)}, nil)
			return
		}
		for i, w := range windows {
			b := &Batch{Window: w}
			if i == 0 {
				b.Skipped = skipped
			}
			// Fetch every stream before recording anything in seen, so a
			// failure part-way leaves no event marked as yielded.
			results := make([]*Events, 0, len(streams))
			for _, st := range streams {
				ev, err := s.list(ctx, "SIEM.Poll", st, Query{Interval: w, ThreatTypes: q.ThreatTypes, ThreatStatuses: q.ThreatStatuses})
				if err != nil {
					yield(nil, err)
					return
				}
				results = append(results, ev)
			}
			for _, ev := range results {
				if t := ev.QueryEndTime.Time; t.After(b.QueryEndTime) {
					b.QueryEndTime = t
				}
				b.add(seen, w, ev)
			}
			end := w.End
			if !b.QueryEndTime.IsZero() && b.QueryEndTime.Before(end) {
				end = b.QueryEndTime
			}
			resume = later(resume, end)
			b.Resume = resume
			if !yield(b, nil) {
				return
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// add appends ev's events that seen has not yet recorded.
func (b *Batch) add(seen *Seen, w Interval, ev *Events) {
	addMessages := func(dst *[]Message, kind string, ms []Message) {
		for _, m := range ms {
			if seen.add(messageKey(kind, &m), eventTime(m.MessageTime, w)) {
				*dst = append(*dst, m)
			} else {
				b.Duplicates++
			}
		}
	}
	addClicks := func(dst *[]Click, kind string, cs []Click) {
		for _, c := range cs {
			if seen.add(clickKey(kind, &c), eventTime(c.ClickTime, w)) {
				*dst = append(*dst, c)
			} else {
				b.Duplicates++
			}
		}
	}
	addMessages(&b.MessagesDelivered, "delivered", ev.MessagesDelivered)
	addMessages(&b.MessagesBlocked, "blocked", ev.MessagesBlocked)
	addClicks(&b.ClicksPermitted, "permitted", ev.ClicksPermitted)
	addClicks(&b.ClicksBlocked, "blocked", ev.ClicksBlocked)
	b.SkippedItems = append(b.SkippedItems, ev.SkippedItems...)
}

func eventTime(t Time, w Interval) time.Time {
	if t.IsZero() {
		return w.Start
	}
	return t.Time
}

// messageKey identifies a message event: its GUID plus its recipients, since
// TAP may fan one message out into an event per recipient.
func messageKey(kind string, m *Message) string {
	id := m.GUID
	if id == "" {
		id = m.ID
	}
	if id == "" {
		id = m.MessageID + "@" + m.MessageTime.UTC().Format(time.RFC3339Nano)
	}
	rcpt := slices.Clone([]string(m.Recipient))
	slices.Sort(rcpt)
	return "message/" + kind + "/" + id + "/" + strings.ToLower(strings.Join(rcpt, ","))
}

// clickKey identifies a click event by its id.
func clickKey(kind string, c *Click) string {
	if c.ID != "" {
		return "click/" + kind + "/" + c.ID
	}
	return "click/" + kind + "/" + c.GUID + "/" + c.ClickTime.UTC().Format(time.RFC3339Nano) + "/" + c.Recipient + "/" + c.URL
}

// Seen is the set of SIEM events a poller already yielded, keyed by message
// GUID (plus recipients) and click id, each with its event time so old keys
// can be forgotten. It is safe for concurrent use and marshals to JSON for
// persistence between runs.
type Seen struct {
	mu   sync.Mutex
	keys map[string]time.Time
}

// NewSeen returns an empty set.
func NewSeen() *Seen { return &Seen{keys: make(map[string]time.Time)} }

// add records key and reports whether it was new.
func (s *Seen) add(key string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = make(map[string]time.Time)
	}
	if _, ok := s.keys[key]; ok {
		return false
	}
	s.keys[key] = at
	return true
}

// Len is the number of remembered events.
func (s *Seen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// Forget drops the events that happened before t and returns how many.
// [SIEMService.Poll] calls it with the start of its first window (less an
// hour), since older events cannot come back.
func (s *Seen) Forget(before time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, at := range s.keys {
		if at.Before(before) {
			delete(s.keys, k)
			n++
		}
	}
	return n
}

// MarshalJSON writes the keys and their event times.
func (s *Seen) MarshalJSON() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.keys)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Seen) UnmarshalJSON(b []byte) error {
	keys := make(map[string]time.Time)
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	return nil
}
