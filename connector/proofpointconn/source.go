package proofpointconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/proofpoint"
)

// Defaults of Options, those of the original Proofpoint connector.
const (
	// DefaultName names the source and the pass-through analyzer.
	DefaultName = "proofpoint-tap"
	// DefaultDelay lets TAP finish sandboxing and indexing before a window is
	// read (the original's delta, 15 minutes).
	DefaultDelay = 15 * time.Minute
	// DefaultFirstLookBack is how far before now minus the delay the first
	// run starts: the original read one hour per run.
	DefaultFirstLookBack = time.Hour
)

// Options configure a Source. Zero values select the defaults named on each
// field.
type Options struct {
	// Name is the source's stable name (default DefaultName).
	Name string
	// Streams are the SIEM message streams read for every window:
	// proofpoint.StreamMessagesDelivered and/or StreamMessagesBlocked (the
	// original's include_delivered, default on, and include_blocked, default
	// off). Default: delivered messages only.
	Streams []proofpoint.Stream
	// Delay keeps the windows this far behind now so TAP has finished with
	// them (default DefaultDelay; the original's delta in minutes).
	Delay time.Duration
	// FirstLookBack is how far back the first run reads, ending at now minus
	// Delay (default DefaultFirstLookBack). It is capped at the client's
	// look-back (TAP serves seven days).
	FirstLookBack time.Duration
	// Overlap re-reads this much before the checkpoint on every run, for
	// events TAP indexed later than Delay allowed (default 0). Re-read
	// events merge into the evidence the engine already holds.
	Overlap time.Duration
	// WindowSize is the length of one SIEM window, 30 s to 1 h (default 1 h).
	// One Collect call reads one window.
	WindowSize time.Duration
	// Classifications are the TAP threat classifications that make an
	// attachment evidence (default ["malware"], as in the original).
	Classifications []string
	// ThreatStatuses are the TAP threat statuses accepted, also sent as the
	// SIEM filter (default TAP's: active and cleared).
	ThreatStatuses []string
	// Enrich, when set, hunts each attachment: it is called with the
	// attachment's evidence and adds sightings to it, for example
	// carbonblackconn's Hunter.Enrich adding the processes that ran the
	// attachment. A hunt never holds the window back: the checkpoint moves
	// past the window at once, and the window's attachments wait in it (the
	// engine stores both in one transaction) until their hunts succeed. Each
	// hunt is tried in the Collect that read its window and, when it fails,
	// in later ones after HuntRetry's back-off; an attachment is delivered
	// once, with its hunt's sightings, so a failing hunt delays only its own
	// attachment.
	Enrich func(ctx context.Context, ev *connector.Evidence) error
	// HuntsPerCollect bounds the Enrich calls of one Collect (default
	// DefaultHuntsPerCollect); due hunts left over set Batch.More.
	HuntsPerCollect int
	// HuntConcurrency is how many Enrich calls run at once (default
	// DefaultHuntConcurrency).
	HuntConcurrency int
	// HuntTimeout bounds one Enrich call (default DefaultHuntTimeout).
	HuntTimeout time.Duration
	// HuntRetry is the back-off between the tries of one attachment's hunt
	// (default DefaultHuntRetry; Attempts is not used). A permanent error
	// waits HuntRetry.Max.
	HuntRetry connector.Backoff
	// HuntFor is how long a failing hunt is retried before it is given up
	// with an error log and the attachment is delivered without the hunt's
	// sightings (default DefaultHuntFor).
	HuntFor time.Duration
	// MaxPendingHunts bounds the attachments waiting in the checkpoint for
	// their hunts (default DefaultMaxPendingHunts): while it is reached,
	// Collect only retries hunts and reads no new window, so nothing is
	// dropped (TAP keeps seven days).
	MaxPendingHunts int
	// DebugSHA256 replaces the hash of every condemned attachment (the
	// original's [debug] sample): a test aid to drive the flow with a hash
	// known to the endpoints. Leave empty in production.
	DebugSHA256 string
	// Logger receives warnings (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Source is a connector.Source over TAP's SIEM message streams: each Collect
// reads one window, reports every attachment TAP condemned as Evidence with a
// sighting per message recipient and TAP's own verdict, and returns the
// window's end as the checkpoint. Create it with NewSource.
type Source struct {
	c        *proofpoint.Client
	opts     Options
	classes  []string
	statuses []string
	log      *slog.Logger
}

var _ connector.Source = (*Source)(nil)

// NewSource returns a source reading TAP through c.
func NewSource(c *proofpoint.Client, opts Options) (*Source, error) {
	if c == nil {
		return nil, errors.New("proofpointconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if len(opts.Streams) == 0 {
		opts.Streams = []proofpoint.Stream{proofpoint.StreamMessagesDelivered}
	}
	for _, s := range opts.Streams {
		if s != proofpoint.StreamMessagesDelivered && s != proofpoint.StreamMessagesBlocked {
			return nil, fmt.Errorf("proofpointconn: stream %q carries no messages; use %q or %q", s,
				proofpoint.StreamMessagesDelivered, proofpoint.StreamMessagesBlocked)
		}
	}
	opts.Streams = slices.Compact(opts.Streams)
	if opts.Delay == 0 {
		opts.Delay = DefaultDelay
	}
	if opts.FirstLookBack == 0 {
		opts.FirstLookBack = DefaultFirstLookBack
	}
	if opts.WindowSize == 0 {
		opts.WindowSize = proofpoint.MaxWindow
	}
	switch {
	case opts.Delay < 0, opts.FirstLookBack < 0, opts.Overlap < 0:
		return nil, errors.New("proofpointconn: Delay, FirstLookBack and Overlap must not be negative")
	case opts.WindowSize < proofpoint.MinWindow || opts.WindowSize > proofpoint.MaxWindow:
		return nil, fmt.Errorf("proofpointconn: WindowSize %v is outside %v..%v", opts.WindowSize, proofpoint.MinWindow, proofpoint.MaxWindow)
	case opts.Overlap > c.LookBack():
		return nil, fmt.Errorf("proofpointconn: Overlap %v exceeds TAP's look-back %v", opts.Overlap, c.LookBack())
	}
	opts.FirstLookBack = min(opts.FirstLookBack, c.LookBack())
	if len(opts.Classifications) == 0 {
		opts.Classifications = []string{"malware"}
	}
	if len(opts.ThreatStatuses) == 0 {
		opts.ThreatStatuses = []string{proofpoint.ThreatStatusActive, proofpoint.ThreatStatusCleared}
	}
	statuses := make([]string, 0, len(opts.ThreatStatuses))
	for _, st := range opts.ThreatStatuses {
		canonical, ok := threatStatuses[strings.ToLower(strings.TrimSpace(st))]
		if !ok {
			return nil, fmt.Errorf("proofpointconn: unknown threat status %q (use active, cleared or falsePositive)", st)
		}
		statuses = append(statuses, canonical)
	}
	opts.ThreatStatuses = slices.Compact(statuses)
	if opts.DebugSHA256 != "" {
		opts.DebugSHA256 = strings.ToLower(opts.DebugSHA256)
		if !isSHA256(opts.DebugSHA256) {
			return nil, fmt.Errorf("proofpointconn: DebugSHA256 %q is not a SHA-256", opts.DebugSHA256)
		}
	}
	if err := checkHuntOptions(&opts); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Source{c: c, opts: opts, log: opts.Logger}
	for _, v := range opts.Classifications {
		s.classes = append(s.classes, strings.ToLower(v))
	}
	for _, v := range opts.ThreatStatuses {
		s.statuses = append(s.statuses, strings.ToLower(v))
	}
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.opts.Name }

// threatStatuses maps TAP's threat statuses, in any case, to the spelling
// its threatStatus parameter takes.
var threatStatuses = map[string]string{
	"active":        proofpoint.ThreatStatusActive,
	"cleared":       proofpoint.ThreatStatusCleared,
	"falsepositive": proofpoint.ThreatStatusFalsePositive,
}

// checkpoint is the stored position: where the next window starts (TAP's
// queryEndTime of the last window read), and the attachments whose hunts have
// not succeeded yet, with their evidence.
type checkpoint struct {
	Resume time.Time     `json:"resume"`
	Hunts  []pendingHunt `json:"hunts,omitempty"`
}

func decodeCheckpoint(cp connector.Checkpoint) (checkpoint, error) {
	var c checkpoint
	if err := json.Unmarshal(cp, &c); err != nil || c.Resume.IsZero() {
		return checkpoint{}, connector.Permanent(fmt.Errorf("proofpointconn: unreadable checkpoint %q", cp))
	}
	return c, nil
}

// Collect reads the next SIEM window after cp (on the first run, the window
// FirstLookBack before now minus Delay) and returns the condemned
// attachments in it. With Options.Enrich, it returns those whose hunts
// succeeded in this call, of this window and of earlier ones whose hunts are
// retried, and keeps the others in the checkpoint. The checkpoint becomes the
// end of the window TAP served (its queryEndTime); More is set while further
// whole windows are ready or due hunts were left for another call. An empty
// window is a normal, empty batch.
//
// API: GET /v2/siem/messages/delivered and/or /v2/siem/messages/blocked
func (s *Source) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	now := s.opts.Now()
	to := now.Add(-s.opts.Delay).UTC().Truncate(time.Second)
	st := checkpoint{Resume: to.Add(-s.opts.FirstLookBack)}
	if cp != nil {
		var err error
		if st, err = decodeCheckpoint(cp); err != nil {
			return connector.Batch{}, err
		}
	}
	var (
		evs                 []connector.Evidence
		moved, more, queued bool
	)
	switch {
	case to.Sub(st.Resume) < proofpoint.MinWindow:
	case len(st.Hunts) >= s.opts.MaxPendingHunts:
		s.log.WarnContext(ctx, "proofpointconn: too many hunts pending; retrying them before reading further",
			"source", s.opts.Name, "pending", len(st.Hunts))
	default:
		batch, err := s.window(ctx, st.Resume, to)
		if err != nil {
			return connector.Batch{}, err
		}
		if batch != nil {
			evs = s.evidence(batch)
			st.Resume, moved = batch.Resume.UTC(), true
			more = to.Sub(batch.Resume) >= proofpoint.MinWindow
			if s.opts.Enrich != nil {
				// The window's attachments are recorded with the checkpoint
				// before any of them is hunted: their hunts run in the next
				// calls, so a crash during them loses no window.
				before := len(st.Hunts)
				st.Hunts, evs = queueHunts(st.Hunts, evs, now), nil
				queued = len(st.Hunts) > before
				more = more || queued
			}
		}
	}
	if s.opts.Enrich != nil && len(st.Hunts) > 0 && !queued {
		round, err := s.runHunts(ctx, st.Hunts, now)
		if err != nil {
			return connector.Batch{}, err
		}
		st.Hunts, evs = round.pending, round.done
		moved, more = moved || round.ran, more || round.left
	}
	if !moved {
		return connector.Batch{}, nil
	}
	next, err := json.Marshal(st)
	if err != nil {
		return connector.Batch{}, err
	}
	return connector.Batch{Evidence: evs, Next: next, More: more}, nil
}

// window reads the first SIEM window of [from, to); nil when TAP served none.
func (s *Source) window(ctx context.Context, from, to time.Time) (*proofpoint.Batch, error) {
	q := proofpoint.PollQuery{
		Streams: s.opts.Streams, From: from, To: to, LookBack: s.opts.Overlap, WindowSize: s.opts.WindowSize,
		ThreatTypes: []string{proofpoint.ThreatTypeAttachment}, ThreatStatuses: s.opts.ThreatStatuses,
	}
	for b, err := range s.c.SIEM.Poll(ctx, q) {
		if err != nil {
			return nil, classify("SIEM poll", err)
		}
		if !b.Skipped.IsZero() {
			s.log.WarnContext(ctx, "proofpointconn: part of the range is older than TAP's look-back and was skipped",
				"source", s.opts.Name, "start", b.Skipped.Start, "end", b.Skipped.End)
		}
		return b, nil
	}
	return nil, nil
}

// classify tells the engine how to treat a client error: credentials TAP
// refuses and requests it would refuse for ever are permanent; throttling and
// an exhausted pool ask for a later retry; the rest is transient.
func classify(op string, err error) error {
	err = fmt.Errorf("proofpointconn: %s: %w", op, err)
	switch {
	case errors.Is(err, proofpoint.ErrUnauthorized), errors.Is(err, proofpoint.ErrForbidden),
		errors.Is(err, proofpoint.ErrBadRequest), errors.Is(err, proofpoint.ErrInvalidRequest):
		return connector.Permanent(err)
	case errors.Is(err, proofpoint.ErrRateLimited):
		return connector.RetryLater(err, proofpoint.DefaultRateLimitedDelay)
	}
	return err
}
