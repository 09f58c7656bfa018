package proofpoint

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// SIEMService reads message and click events per time window. TAP does not
// page: one call returns every event of its window (at most one hour), in
// no particular order. See [SIEMService.Poll] for walking a longer range.
type SIEMService service

// Stream is one SIEM endpoint.
type Stream string

// The SIEM endpoints, by path under /v2/siem/.
const (
	// StreamAll returns all four event kinds.
	StreamAll Stream = "all"
	// StreamIssues returns permitted clicks and delivered messages with a
	// known threat.
	StreamIssues Stream = "issues"
	// StreamMessagesDelivered returns delivered messages.
	StreamMessagesDelivered Stream = "messages/delivered"
	// StreamMessagesBlocked returns blocked (quarantined) messages.
	StreamMessagesBlocked Stream = "messages/blocked"
	// StreamClicksPermitted returns permitted clicks.
	StreamClicksPermitted Stream = "clicks/permitted"
	// StreamClicksBlocked returns blocked clicks.
	StreamClicksBlocked Stream = "clicks/blocked"
)

// Streams lists the SIEM endpoints.
func Streams() []Stream {
	return []Stream{StreamAll, StreamIssues, StreamMessagesDelivered, StreamMessagesBlocked, StreamClicksPermitted, StreamClicksBlocked}
}

// Pool is the request pool the stream counts against: clicks/permitted has
// its own, the others share [PoolSIEM].
func (s Stream) Pool() Pool {
	if s == StreamClicksPermitted {
		return PoolClicksPermitted
	}
	return PoolSIEM
}

func (s Stream) valid() bool {
	for _, k := range Streams() {
		if s == k {
			return true
		}
	}
	return false
}

// Threat types and statuses accepted by the threatType and threatStatus
// filters.
const (
	ThreatTypeURL         = "url"
	ThreatTypeAttachment  = "attachment"
	ThreatTypeMessageText = "messageText"

	ThreatStatusActive        = "active"
	ThreatStatusCleared       = "cleared"
	ThreatStatusFalsePositive = "falsePositive"
)

// Query selects the events of one SIEM call. Exactly one of Interval,
// SinceTime and SinceSeconds must be set.
type Query struct {
	// Interval is an explicit window: 30 seconds to one hour, starting within
	// the look-back and ending at least the end margin before now.
	Interval Interval
	// SinceTime starts the window; TAP ends it at its current time rounded
	// to the minute. It must lie one minute to 59.5 minutes in the past, so
	// the window stays within 30 seconds to one hour however TAP rounds.
	SinceTime time.Time
	// SinceSeconds is a window of that many seconds (30 to 3600) ending at
	// TAP's current time rounded to the minute.
	SinceSeconds int
	// ThreatTypes filters by threat type (ThreatType* constants); empty
	// means all.
	ThreatTypes []string
	// ThreatStatuses filters by threat status (ThreatStatus* constants);
	// empty means TAP's default, active and cleared.
	ThreatStatuses []string
}

// Limits of a SIEM window.
const (
	MinWindow = 30 * time.Second
	MaxWindow = time.Hour
)

// values encodes the query with format=json.
func (q Query) values() url.Values {
	v := url.Values{"format": {"json"}}
	switch {
	case !q.Interval.IsZero():
		v.Set("interval", q.Interval.String())
	case !q.SinceTime.IsZero():
		v.Set("sinceTime", formatQueryTime(q.SinceTime))
	case q.SinceSeconds != 0:
		v.Set("sinceSeconds", strconv.Itoa(q.SinceSeconds))
	}
	for _, t := range q.ThreatTypes {
		v.Add("threatType", t)
	}
	for _, s := range q.ThreatStatuses {
		v.Add("threatStatus", s)
	}
	return v
}

// validate applies TAP's window rules at time now.
func (q Query) validate(now time.Time, lookBack, endMargin time.Duration) error {
	set := 0
	if !q.Interval.IsZero() {
		set++
	}
	if !q.SinceTime.IsZero() {
		set++
	}
	if q.SinceSeconds != 0 {
		set++
	}
	if set != 1 {
		return &WindowError{Detail: "exactly one of Interval, SinceTime and SinceSeconds must be set"}
	}
	switch {
	case !q.Interval.IsZero():
		// Check what is sent: whole seconds.
		sent := Interval{Start: q.Interval.Start.Truncate(time.Second), End: q.Interval.End.Truncate(time.Second)}
		return checkWindow(sent, now, lookBack, endMargin, MaxWindow)
	case !q.SinceTime.IsZero():
		// TAP ends the window at its time rounded to the minute, up to 30
		// seconds either side of now: check the longest and the shortest.
		longest := Interval{Start: q.SinceTime, End: now.Add(30 * time.Second)}
		if err := checkWindow(longest, now, lookBack, 0, MaxWindow); err != nil {
			return err
		}
		if shortest := (Interval{Start: q.SinceTime, End: now.Add(-30 * time.Second)}); shortest.Duration() < MinWindow {
			return &WindowError{Window: shortest, Reason: ErrWindowTooShort,
				Detail: fmt.Sprintf("sinceTime %s may give a window under %v once TAP rounds its end", formatQueryTime(q.SinceTime), MinWindow)}
		}
		return nil
	}
	var reason error
	switch {
	case q.SinceSeconds < int(MinWindow/time.Second):
		reason = ErrWindowTooShort
	case q.SinceSeconds > int(MaxWindow/time.Second):
		reason = ErrWindowTooLong
	default:
		return nil
	}
	return &WindowError{Reason: reason, Detail: fmt.Sprintf("sinceSeconds %d is outside 30..3600", q.SinceSeconds)}
}

// checkWindow applies the window rules shared by SIEM and campaign ids.
func checkWindow(w Interval, now time.Time, lookBack, endMargin, maxLen time.Duration) error {
	switch {
	case w.Start.IsZero() || w.End.IsZero():
		return &WindowError{Window: w, Detail: "both start and end are required"}
	case w.End.Before(w.Start):
		return &WindowError{Window: w, Reason: ErrWindowReversed, Detail: fmt.Sprintf("%s ends before it starts", w)}
	case w.Duration() < MinWindow:
		return &WindowError{Window: w, Reason: ErrWindowTooShort, Detail: fmt.Sprintf("%s lasts %v, less than %v", w, w.Duration(), MinWindow)}
	case w.Duration() > maxLen:
		return &WindowError{Window: w, Reason: ErrWindowTooLong, Detail: fmt.Sprintf("%s lasts %v, more than %v", w, w.Duration(), maxLen)}
	case lookBack > 0 && w.Start.Before(now.Add(-lookBack)):
		return &WindowError{Window: w, Reason: ErrStartTooOld, Detail: fmt.Sprintf("%s starts more than %v before now", w, lookBack)}
	case endMargin > 0 && w.End.After(now.Add(-endMargin)):
		return &WindowError{Window: w, Reason: ErrWindowStillCurrent, Detail: fmt.Sprintf("%s ends less than %v before now", w, endMargin)}
	}
	return nil
}

// List fetches the events of one stream for q. It checks the window and the
// stream's pool before sending, and returns an [*Error] wrapping a
// [*WindowError] or a [*PoolError] instead of spending a request TAP would
// refuse.
//
// API: GET /v2/siem/{stream}
func (s *SIEMService) List(ctx context.Context, stream Stream, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.List", stream, q)
}

func (s *SIEMService) list(ctx context.Context, op string, stream Stream, q Query) (*Events, error) {
	req := &rest.Request{Op: op, Path: "/v2/siem/" + string(stream), Query: q.values()}
	if !stream.valid() {
		return nil, s.c.refused(req, fmt.Errorf("%w: unknown SIEM stream %q", ErrInvalidRequest, stream))
	}
	if err := q.validate(s.c.now(), s.c.lookBack, s.c.endMargin); err != nil {
		return nil, s.c.refused(req, err)
	}
	var out Events
	if err := s.c.do(ctx, stream.Pool(), req, &out); err != nil {
		return nil, err
	}
	out.SkippedItems = s.c.rc.ReportSkipped(ctx, op, out.SkippedItems, s.c.onSkip)
	return &out, nil
}

// All fetches all four event kinds.
//
// API: GET /v2/siem/all
func (s *SIEMService) All(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.All", StreamAll, q)
}

// Issues fetches permitted clicks and delivered messages with known threats.
//
// API: GET /v2/siem/issues
func (s *SIEMService) Issues(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.Issues", StreamIssues, q)
}

// MessagesDelivered fetches delivered messages.
//
// API: GET /v2/siem/messages/delivered
func (s *SIEMService) MessagesDelivered(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.MessagesDelivered", StreamMessagesDelivered, q)
}

// MessagesBlocked fetches blocked messages.
//
// API: GET /v2/siem/messages/blocked
func (s *SIEMService) MessagesBlocked(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.MessagesBlocked", StreamMessagesBlocked, q)
}

// ClicksPermitted fetches permitted clicks (their own request pool).
//
// API: GET /v2/siem/clicks/permitted
func (s *SIEMService) ClicksPermitted(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.ClicksPermitted", StreamClicksPermitted, q)
}

// ClicksBlocked fetches blocked clicks.
//
// API: GET /v2/siem/clicks/blocked
func (s *SIEMService) ClicksBlocked(ctx context.Context, q Query) (*Events, error) {
	return s.list(ctx, "SIEM.ClicksBlocked", StreamClicksBlocked, q)
}
