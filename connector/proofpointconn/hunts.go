package proofpointconn

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// Defaults of the hunt options.
const (
	// DefaultHuntsPerCollect bounds the Enrich calls of one Collect: small,
	// so a Collect returns soon and the checkpoint records each step of the
	// hunts (a connector killed more often than a long Collect lasts still
	// makes progress).
	DefaultHuntsPerCollect = 16
	// DefaultHuntConcurrency is how many Enrich calls run at once.
	DefaultHuntConcurrency = 4
	// DefaultHuntTimeout bounds one Enrich call.
	DefaultHuntTimeout = 2 * time.Minute
	// DefaultHuntFor is how long an attachment's failing hunt is retried:
	// TAP's own look-back.
	DefaultHuntFor = 7 * 24 * time.Hour
	// DefaultMaxPendingHunts bounds the attachments waiting in the checkpoint
	// for their hunts; while it is reached no new window is read.
	DefaultMaxPendingHunts = 1000
)

// DefaultHuntRetry is the back-off between the tries of one attachment's
// hunt: one minute doubling up to an hour.
var DefaultHuntRetry = connector.Backoff{Initial: time.Minute, Max: time.Hour}

// pendingHunt is an attachment whose hunt has not succeeded yet, with its
// evidence, kept in the checkpoint so that it survives restarts.
type pendingHunt struct {
	Evidence connector.Evidence `json:"evidence"`
	Since    time.Time          `json:"since"`
	Tries    int                `json:"tries,omitempty"`
	Next     time.Time          `json:"next,omitzero"`
}

// huntResult is the outcome of one Enrich call.
type huntResult struct {
	ev  connector.Evidence
	err error
}

// hunt runs Enrich for the given pending hunts, at most HuntConcurrency at
// once, each bounded by HuntTimeout, and returns the results in order.
func (s *Source) hunt(ctx context.Context, todo []pendingHunt) []huntResult {
	out := make([]huntResult, len(todo))
	sem := make(chan struct{}, s.opts.HuntConcurrency)
	var wg sync.WaitGroup
	for i, p := range todo {
		if ctx.Err() != nil {
			out[i].err = ctx.Err()
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			hctx, cancel := context.WithTimeout(ctx, s.opts.HuntTimeout)
			defer cancel()
			ev := p.Evidence
			ev.Sightings = slices.Clone(ev.Sightings)
			out[i] = huntResult{ev: ev, err: s.opts.Enrich(hctx, &ev)}
		})
	}
	wg.Wait()
	return out
}

// huntRound is what runHunts did.
type huntRound struct {
	pending []pendingHunt        // the hunts still pending
	done    []connector.Evidence // the evidence of the attachments hunted (or given up)
	ran     bool                 // some hunt was tried
	left    bool                 // due hunts were left for another call
}

// runHunts tries the hunts that are due at now, up to HuntsPerCollect. A
// failure only reschedules its own attachment; one that has failed for
// HuntFor is given up and logged, and its evidence delivered without the
// hunt's sightings.
func (s *Source) runHunts(ctx context.Context, pending []pendingHunt, now time.Time) (huntRound, error) {
	var due []int
	left := false
	for i, p := range pending {
		if p.Next.After(now) {
			continue
		}
		if len(due) == s.opts.HuntsPerCollect {
			left = true
			break
		}
		due = append(due, i)
	}
	if len(due) == 0 {
		return huntRound{pending: pending}, nil
	}
	todo := make([]pendingHunt, len(due))
	for j, i := range due {
		todo[j] = pending[i]
	}
	results := s.hunt(ctx, todo)
	if err := ctx.Err(); err != nil {
		// The call is ending (shutdown or its timeout): nothing of it is used.
		return huntRound{}, err
	}
	drop := make(map[int]bool, len(due))
	var evs []connector.Evidence
	for j, i := range due {
		r, p := results[j], &pending[i]
		if r.err == nil {
			drop[i] = true
			evs = append(evs, r.ev)
			continue
		}
		p.Tries++
		if now.Sub(p.Since) >= s.opts.HuntFor {
			drop[i] = true
			evs = append(evs, p.Evidence)
			s.log.ErrorContext(ctx, "proofpointconn: giving up the hunt for an attachment; recording it without", "source", s.opts.Name,
				"sha256", p.Evidence.Hashes.SHA256, "tries", p.Tries, "since", p.Since, "err", r.err)
			continue
		}
		delay := s.opts.HuntRetry.Delay(p.Tries)
		if connector.IsPermanent(r.err) {
			delay = s.opts.HuntRetry.Max
		}
		if d, ok := connector.RetryAfter(r.err); ok && d > delay {
			delay = min(d, s.opts.HuntRetry.Max)
		}
		p.Next = now.Add(delay)
		s.log.WarnContext(ctx, "proofpointconn: hunt failed; retrying this attachment later", "source", s.opts.Name,
			"sha256", p.Evidence.Hashes.SHA256, "tries", p.Tries, "next", p.Next, "err", r.err)
	}
	kept := pending[:0:0]
	for i, p := range pending {
		if !drop[i] {
			kept = append(kept, p)
		}
	}
	return huntRound{pending: kept, done: evs, ran: true, left: left}, nil
}

// queueHunts adds the window's attachments to the pending hunts, due at
// once; an attachment already pending gets the new sightings.
func queueHunts(pending []pendingHunt, evs []connector.Evidence, now time.Time) []pendingHunt {
	at := make(map[string]int, len(pending))
	for i, p := range pending {
		at[p.Evidence.Hashes.SHA256] = i
	}
	for _, ev := range evs {
		sha := ev.Hashes.SHA256
		i, ok := at[sha]
		if !ok {
			at[sha] = len(pending)
			pending = append(pending, pendingHunt{Evidence: ev, Since: now, Next: now})
			continue
		}
		have := &pending[i].Evidence
		seen := make(map[string]bool, len(have.Sightings))
		for _, sg := range have.Sightings {
			seen[sg.Key()] = true
		}
		for _, sg := range ev.Sightings {
			if !seen[sg.Key()] {
				seen[sg.Key()] = true
				have.Sightings = append(have.Sightings, sg)
			}
		}
	}
	return pending
}

func checkHuntOptions(o *Options) error {
	if o.HuntsPerCollect == 0 {
		o.HuntsPerCollect = DefaultHuntsPerCollect
	}
	if o.HuntConcurrency == 0 {
		o.HuntConcurrency = DefaultHuntConcurrency
	}
	if o.HuntTimeout == 0 {
		o.HuntTimeout = DefaultHuntTimeout
	}
	if o.HuntFor == 0 {
		o.HuntFor = DefaultHuntFor
	}
	if o.MaxPendingHunts == 0 {
		o.MaxPendingHunts = DefaultMaxPendingHunts
	}
	if o.HuntRetry.Initial == 0 {
		o.HuntRetry.Initial = DefaultHuntRetry.Initial
	}
	if o.HuntRetry.Max == 0 {
		o.HuntRetry.Max = DefaultHuntRetry.Max
	}
	if o.HuntsPerCollect < 0 || o.HuntConcurrency < 0 || o.HuntTimeout < 0 || o.HuntFor < 0 || o.MaxPendingHunts < 0 ||
		o.HuntRetry.Initial < 0 || o.HuntRetry.Max < o.HuntRetry.Initial {
		return fmt.Errorf("proofpointconn: hunt options must not be negative and HuntRetry.Max must be at least HuntRetry.Initial")
	}
	return nil
}
