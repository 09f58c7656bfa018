package proofpoint

import (
	"context"
	"fmt"
	"github.com/soarkit/soarkit/internal/rest"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Pool names one of TAP's request pools. TAP counts requests per service
// credential over a rolling 24 hours, per pool, and answers 429 once a pool
// is spent until 24 hours after its oldest counted request.
type Pool string

// TAP's pools (documented limits per 24 hours in brackets).
const (
	// PoolSIEM is shared by siem/all, issues, messages/delivered,
	// messages/blocked and clicks/blocked [1,800].
	PoolSIEM Pool = "siem"
	// PoolClicksPermitted is siem/clicks/permitted's own pool [1,800].
	PoolClicksPermitted Pool = "siem-clicks-permitted"
	// PoolCampaignIDs is campaign/ids [50].
	PoolCampaignIDs Pool = "campaign-ids"
	// PoolForensicsThreat is forensics by threatId [50].
	PoolForensicsThreat Pool = "forensics-threat"
	// PoolForensicsCampaign is forensics by campaignId [1,800].
	PoolForensicsCampaign Pool = "forensics-campaign"
	// PoolPeopleVAP is people/vap [50].
	PoolPeopleVAP Pool = "people-vap"
	// PoolPeopleTopClickers is people/top-clickers [50].
	PoolPeopleTopClickers Pool = "people-top-clickers"
	// PoolURLDecode is url/decode [1,800].
	PoolURLDecode Pool = "url-decode"
)

// PoolWindow is the span over which TAP counts requests.
const PoolWindow = 24 * time.Hour

// Pools lists every pool in a stable order.
func Pools() []Pool {
	return []Pool{PoolSIEM, PoolClicksPermitted, PoolCampaignIDs, PoolForensicsThreat,
		PoolForensicsCampaign, PoolPeopleVAP, PoolPeopleTopClickers, PoolURLDecode}
}

// DefaultPoolLimit returns TAP's documented 24-hour limit for p and the
// reserve the client keeps by default (1% of the limit, at least one): the
// last requests of a pool stay available for calls made with
// [UseReserve], for example an analyst's manual lookup while a poller runs.
func DefaultPoolLimit(p Pool) (limit, reserve int) {
	switch p {
	case PoolSIEM, PoolClicksPermitted, PoolForensicsCampaign, PoolURLDecode:
		return 1800, 18
	case PoolCampaignIDs, PoolForensicsThreat, PoolPeopleVAP, PoolPeopleTopClickers:
		return 50, 1
	}
	return 0, 0
}

// PoolStatus is a snapshot of one pool.
type PoolStatus struct {
	Pool Pool
	// Limit is the 24-hour limit and Reserve the requests held back.
	Limit   int
	Reserve int
	// Used counts the requests sent in the last 24 hours.
	Used int
	// Remaining is Limit-Used (never negative); Available is what ordinary
	// calls may still spend (Remaining minus the reserve).
	Remaining int
	Available int
	// NextRelease is when the oldest counted request leaves the window (zero
	// when none is counted).
	NextRelease time.Time
	// LastThrottled is when TAP last answered 429 for this pool (zero if
	// never): the service may count requests this client did not send.
	LastThrottled time.Time
}

// PoolError is returned (inside an [*Error]) when the tracker refuses a call.
// It matches [ErrPoolExhausted] and [ErrRateLimited].
type PoolError struct {
	Status PoolStatus
	// RetryAt is when the next request becomes available.
	RetryAt time.Time
}

// Error describes the pool's state.
func (e *PoolError) Error() string {
	s := e.Status
	return fmt.Sprintf("pool %s: %d of %d requests used in the last 24h (%d held in reserve); next request available at %s",
		s.Pool, s.Used, s.Limit, s.Reserve, e.RetryAt.UTC().Format(time.RFC3339))
}

// Is matches ErrPoolExhausted and ErrRateLimited.
func (e *PoolError) Is(target error) bool {
	return target == ErrPoolExhausted || target == ErrRateLimited
}

// PoolTracker counts requests per pool over a rolling 24 hours. A client
// records every attempt it sends (retries included) and refuses a call once
// only the pool's reserve is left. It is safe for concurrent use; share one
// between clients of the same credential with [WithPoolTracker].
type PoolTracker struct {
	now func() time.Time

	mu    sync.Mutex
	pools map[Pool]*poolState
}

type poolState struct {
	limit, reserve int
	sent           []time.Time // oldest first
	throttled      time.Time
}

// NewPoolTracker returns a tracker with TAP's default limits that reads the
// time from now (nil means time.Now).
func NewPoolTracker(now func() time.Time) *PoolTracker {
	if now == nil {
		now = time.Now
	}
	t := &PoolTracker{now: now, pools: make(map[Pool]*poolState)}
	for _, p := range Pools() {
		limit, reserve := DefaultPoolLimit(p)
		t.pools[p] = &poolState{limit: limit, reserve: reserve}
	}
	return t
}

// SetLimit changes a pool's limit and reserve (for tests, or a contract with
// other limits). A reserve outside [0, limit) is clamped.
func (t *PoolTracker) SetLimit(p Pool, limit, reserve int) {
	limit = max(limit, 1)
	reserve = min(max(reserve, 0), limit-1)
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(p)
	st.limit, st.reserve = limit, reserve
}

// state returns p's state, creating an entry with the common 1,800 limit
// for a pool this package does not name; callers hold t.mu.
func (t *PoolTracker) state(p Pool) *poolState {
	st, ok := t.pools[p]
	if !ok {
		st = &poolState{limit: 1800, reserve: 18}
		t.pools[p] = st
	}
	return st
}

// prune drops requests older than the window; callers hold t.mu.
func (st *poolState) prune(now time.Time) {
	cut := now.Add(-PoolWindow)
	i := 0
	for i < len(st.sent) && !st.sent[i].After(cut) {
		i++
	}
	if i > 0 {
		st.sent = append(st.sent[:0], st.sent[i:]...)
	}
}

func (st *poolState) status(p Pool) PoolStatus {
	s := PoolStatus{Pool: p, Limit: st.limit, Reserve: st.reserve, Used: len(st.sent), LastThrottled: st.throttled}
	s.Remaining = max(st.limit-s.Used, 0)
	s.Available = max(s.Remaining-st.reserve, 0)
	if len(st.sent) > 0 {
		s.NextRelease = st.sent[0].Add(PoolWindow)
	}
	return s
}

// Status reports p's current state.
func (t *PoolTracker) Status(p Pool) PoolStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(p)
	st.prune(t.now())
	return st.status(p)
}

// Statuses reports every known pool, in the order of [Pools].
func (t *PoolTracker) Statuses() []PoolStatus {
	out := make([]PoolStatus, 0, len(Pools()))
	for _, p := range Pools() {
		out = append(out, t.Status(p))
	}
	return out
}

// Remaining is the number of requests p has left in the rolling window,
// the reserve included.
func (t *PoolTracker) Remaining(p Pool) int { return t.Status(p).Remaining }

// Check reports, without counting anything, whether a call on p would be
// allowed now; useReserve lets it spend the reserve.
func (t *PoolTracker) Check(p Pool, useReserve bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.check(p, useReserve)
}

func (t *PoolTracker) check(p Pool, useReserve bool) error {
	st := t.state(p)
	st.prune(t.now())
	floor := st.reserve
	if useReserve {
		floor = 0
	}
	if st.limit-len(st.sent) > floor {
		return nil
	}
	s := st.status(p)
	// The next request frees when enough old ones leave the window to lift
	// the count below the floor.
	idx := min(max(len(st.sent)-(st.limit-floor), 0), len(st.sent)-1)
	retry := t.now()
	if idx >= 0 {
		retry = st.sent[idx].Add(PoolWindow)
	}
	return &PoolError{Status: s, RetryAt: retry}
}

// Acquire counts one request on p if the pool allows it, and otherwise
// returns a [*PoolError].
func (t *PoolTracker) Acquire(p Pool, useReserve bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(p, useReserve); err != nil {
		return err
	}
	st := t.state(p)
	st.sent = append(st.sent, t.now())
	return nil
}

// Record adds requests sent at the given times, for example the ones a
// previous run of the program persisted from [PoolTracker.Sent].
func (t *PoolTracker) Record(p Pool, at ...time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(p)
	st.sent = append(st.sent, at...)
	slices.SortFunc(st.sent, func(a, b time.Time) int { return a.Compare(b) })
	st.prune(t.now())
}

// Sent returns the times of the requests counted on p, oldest first.
func (t *PoolTracker) Sent(p Pool) []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(p)
	st.prune(t.now())
	return slices.Clone(st.sent)
}

// throttledAt notes a 429 from TAP.
func (t *PoolTracker) throttledAt(p Pool) {
	t.mu.Lock()
	t.state(p).throttled = t.now()
	t.mu.Unlock()
}

type poolKey struct{}
type reserveKey struct{}

// UseReserve returns a context whose calls may spend the pools' reserve, for
// the occasional call that matters more than the poller's budget.
func UseReserve(ctx context.Context) context.Context {
	return context.WithValue(ctx, reserveKey{}, true)
}

func usesReserve(ctx context.Context) bool {
	v, _ := ctx.Value(reserveKey{}).(bool)
	return v
}

// poolTransport counts every attempt in its pool (the engine retries below
// the client's methods, and TAP counts each attempt) and notes 429s.
type poolTransport struct {
	next    http.RoundTripper
	tracker *PoolTracker
}

// RoundTrip counts the attempt in its pool, or refuses it, then sends it.
func (pt *poolTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p, ok := r.Context().Value(poolKey{}).(Pool)
	if !ok {
		return pt.next.RoundTrip(r)
	}
	if err := pt.tracker.Acquire(p, usesReserve(r.Context())); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		// Refused before sending: backing off would only wait for the
		// same refusal.
		return nil, rest.Final(err)
	}
	resp, err := pt.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		pt.tracker.throttledAt(p)
	}
	return resp, err
}
