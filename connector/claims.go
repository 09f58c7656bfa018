package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Replicas configures the work claims of one replica on a LeasingStore. The zero value is usable.
type Replicas struct {
	// Owner names this replica in its leases (default: host name, process id and a random suffix, unique per
	// process and run).
	Owner string
	// LeaseTTL is how long a claim lasts without renewal (default 30 s): the items and sources of a replica that
	// died or stopped are taken over by the others after at most this long. Leases are renewed every LeaseTTL/3 while
	// their work runs, and before a submission or an action when less than half of the lease is left.
	LeaseTTL time.Duration
	// MaxClaimed bounds the items this replica holds at once (default: twice the sum of the stage concurrencies), so
	// work is spread over the replicas instead of being claimed by the first one.
	MaxClaimed int
	// PollInterval is how often a replica looks for claimable work besides the store's notifications (default
	// LeaseTTL/2): the leases of a replica that died expire without a notification.
	PollInterval time.Duration
}

func (r *Replicas) setDefaults(cfg Config) {
	if r.Owner == "" {
		r.Owner = defaultOwner()
	}
	setDefault(&r.LeaseTTL, 30*time.Second)
	if r.MaxClaimed <= 0 {
		r.MaxClaimed = 2 * (cfg.Lookup.Concurrency + cfg.Fetch.Concurrency + cfg.Submit.Concurrency +
			cfg.Await.Concurrency + cfg.Respond.Concurrency)
	}
	setDefault(&r.PollInterval, r.LeaseTTL/2)
}

// defaultOwner names this process: host, process id and a random suffix (a restarted process is a new owner).
func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// held is a lease the engine holds on an item or a source, kept alive by its own goroutine until end.
type held struct {
	store LeasingStore
	ttl   time.Duration

	mu    sync.Mutex
	lease Lease
	// deadline is when the lease runs out at the latest by this process's clock: ttl after the claim or renewal
	// that granted it was sent.
	deadline time.Time
	lost     error

	// effects is the context of the calls with effects outside the store made under the lease: it ends as soon as
	// the deadline passes without a renewal (a replica resumed after a pause stops before acting), or with the
	// lease.
	effects context.Context
	cancel  context.CancelCauseFunc

	stop chan struct{}
	done chan struct{}
}

// errLeaseExpired ends the effects context of a lease whose deadline passed without a renewal.
var errLeaseExpired = fmt.Errorf("%w: its deadline passed without a renewal", ErrLeaseLost)

// hold starts keeping l, granted by a call sent at sent.
func (e *engine) hold(l Lease, sent time.Time) *held {
	h := &held{store: e.leases, ttl: e.cfg.Replicas.LeaseTTL, lease: l, deadline: sent.Add(e.cfg.Replicas.LeaseTTL),
		stop: make(chan struct{}), done: make(chan struct{})}
	h.effects, h.cancel = context.WithCancelCause(e.work)
	go h.keep(e)
	return h
}

// watchEvery is how often a lease's deadline is checked: often enough that a replica resumed after a pause notices
// the expiry before it acts.
func watchEvery(ttl time.Duration) time.Duration {
	return min(max(ttl/30, 50*time.Millisecond), time.Second)
}

// keep renews the lease every ttl/3 until end, or until it is lost, and ends the effects context once the deadline
// passed without a renewal.
func (h *held) keep(e *engine) {
	defer close(h.done)
	tick := time.NewTicker(watchEvery(h.ttl))
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		h.mu.Lock()
		expired := time.Now().After(h.deadline)
		h.mu.Unlock()
		if expired {
			h.cancel(errLeaseExpired)
		}
		if time.Since(renewed) < h.ttl/3 {
			continue
		}
		renewed = time.Now()
		if err := h.renew(e.persist); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				e.log.Warn("lease lost: another replica took the work over", "lease", describeLease(h.current()),
					"err", err)
				return
			}
			e.log.Warn("renewing a lease failed; trying again", "lease", describeLease(h.current()), "err", err)
		}
	}
}

func describeLease(l Lease) string {
	if l.Source != "" {
		return fmt.Sprintf("source %s (%d)", l.Source, l.Token)
	}
	return fmt.Sprintf("item %s (%d)", l.Item, l.Token)
}

func (h *held) current() Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lease
}

// renew extends the lease now; a lost lease stays lost.
func (h *held) renew(ctx context.Context) error {
	h.mu.Lock()
	l, lost := h.lease, h.lost
	h.mu.Unlock()
	if lost != nil {
		return lost
	}
	ctx, cancel := context.WithTimeout(ctx, h.ttl/2)
	defer cancel()
	sent := time.Now()
	renewed, err := h.store.Renew(ctx, l, h.ttl)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.lease, h.deadline = renewed, sent.Add(h.ttl)
	case errors.Is(err, ErrLeaseLost):
		h.lost = err
		h.cancel(err)
	}
	return err
}

// check is called before a call with effects outside the store (a submission, an action): it returns nil when the
// lease is certainly current for a while, renewing it first when less than half of it is left (a replica that was
// paused finds out here that it lost its work), and an error when the work must stop.
func (h *held) check(ctx context.Context) error {
	h.mu.Lock()
	lost, left := h.lost, time.Until(h.deadline)
	h.mu.Unlock()
	if lost != nil {
		return lost
	}
	if h.effects.Err() != nil {
		// The deadline passed unrenewed once: calls under this lease fail, so the work starts over under a new one.
		return context.Cause(h.effects)
	}
	if left >= h.ttl/2 {
		return nil
	}
	return h.renew(ctx)
}

// end stops keeping the lease and, when release is set and the lease was not lost, gives it up.
func (h *held) end(ctx context.Context, release bool) error {
	close(h.stop)
	<-h.done
	h.cancel(nil)
	h.mu.Lock()
	l, lost := h.lease, h.lost
	h.mu.Unlock()
	if !release || lost != nil {
		return nil
	}
	return h.store.Release(ctx, l)
}

// update writes about j's item: under the fencing check of j's lease when the store leases, else with Update.
func (e *engine) update(j *job, fn func(Tx) error) error {
	if j.held == nil {
		return e.cfg.Store.Update(e.persist, fn)
	}
	return e.leases.UpdateFenced(e.persist, j.held.current(), fn)
}

// effectsCtx returns the context of j's calls with effects outside the store: e.work, bounded by j's lease when the
// store leases.
func (e *engine) effectsCtx(j *job) context.Context {
	if j.held == nil {
		return e.work
	}
	return j.held.effects
}

// guard reports whether j may make a call with effects outside the store; when not (its lease is lost or cannot be
// confirmed), it abandons j.
func (e *engine) guard(j *job) bool {
	if j.held == nil {
		return true
	}
	if err := j.held.check(e.persist); err != nil {
		e.log.Warn("work stopped: its lease is not confirmed", "key", j.key.String(), "err", err)
		e.abandon(j)
		return false
	}
	return true
}

// unhold ends j's lease, releasing it unless release is false.
func (e *engine) unhold(j *job, release bool) {
	if j.held == nil {
		return
	}
	if err := j.held.end(e.persist, release); err != nil && !errors.Is(err, ErrLeaseLost) {
		e.log.Warn("releasing a lease failed; it expires by itself", "key", j.key.String(), "err", err)
	}
}

// adoptedClaim is a claim with the time its request was sent.
type adoptedClaim struct {
	Claim
	sent time.Time
}

// claimStarted claims the item of j, a job start created (a collected or re-dispatched item); when the claimer got
// the item first, j takes its claim over. ok is false when another replica holds it (that replica sees the merged
// evidence through the item's revision) or the store failed.
func (e *engine) claimStarted(j *job) (adoptedClaim, bool) {
	c := adoptedClaim{sent: time.Now()}
	var found bool
	var err error
	c.Claim, found, err = e.leases.ClaimItem(e.persist, j.key, e.cfg.Replicas.Owner, e.cfg.Replicas.LeaseTTL)
	e.mu.Lock()
	j.claiming = false
	adopted := j.adopted
	j.adopted = nil
	e.mu.Unlock()
	if err != nil {
		e.log.Error("store failed claiming an item", "key", j.key.String(), "err", err)
		e.setStoreErr(err)
	}
	switch {
	case found && adopted != nil:
		e.releaseClaim(adopted.Claim)
	case adopted != nil:
		return *adopted, true
	}
	return c, found
}

// releaseClaim gives back a claim no job will use.
func (e *engine) releaseClaim(c Claim) {
	if err := e.leases.Release(e.persist, c.Lease); err != nil && !errors.Is(err, ErrLeaseLost) {
		e.log.Warn("releasing a lease failed; it expires by itself", "key", c.Item.Key.String(), "err", err)
	}
}

// setStoreErr records the first store failure of the run.
func (e *engine) setStoreErr(err error) {
	e.mu.Lock()
	if e.storeErr == nil {
		e.storeErr = err
	}
	e.mu.Unlock()
}

// free returns how many more items this replica may claim.
func (e *engine) free() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.Replicas.MaxClaimed - e.claimed
}

// poke wakes the claimer (work was announced, or a cycle began).
func (e *engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// freedOne tells the claimer that a job ended.
func (e *engine) freedOne() {
	select {
	case e.freed <- struct{}{}:
	default:
	}
}

// claimer takes up claimable items (open, unleased or expired, due) while this replica has room, on a notification,
// when a job ends and every PollInterval. It returns when the run stops, or once idle is closed, a claim found less
// than it had room for and no job of this replica is left (RunOnce thus also takes up what its own jobs released).
func (e *engine) claimer(idle <-chan struct{}) {
	defer e.feeders.Done()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	go e.listen(ctx)
	poll := time.NewTicker(e.cfg.Replicas.PollInterval)
	defer poll.Stop()
	for !e.stopping() {
		free := e.free()
		if free > 0 {
			n, err := e.claimSome(free)
			if err == nil && n == free {
				continue
			}
			if closed(idle) && n == 0 && e.free() == e.cfg.Replicas.MaxClaimed {
				return // nothing claimable and no job of this replica that could release one
			}
		}
		idleC := idle
		if closed(idle) {
			idleC = nil // wait for a job to end, then claim once more
		}
		select {
		case <-e.stop:
			return
		case <-e.wake:
		case <-e.freed:
		case <-poll.C:
		case <-idleC:
		}
	}
}

func closed(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// claimSome claims up to n items and starts a job on each; it returns how many it claimed.
func (e *engine) claimSome(n int) (int, error) {
	sent := time.Now()
	claims, err := e.leases.ClaimItems(e.ctx, e.cfg.Replicas.Owner, OpenStates(), n, e.cfg.Replicas.LeaseTTL)
	if err != nil {
		if e.stopping() {
			return 0, err
		}
		e.log.Error("store failed claiming work", "err", err)
		e.setStoreErr(err)
		return 0, err
	}
	if len(claims) > 0 {
		e.log.Debug("claimed work", "count", len(claims))
		e.count(func(s *Summary) { s.Resumed += len(claims) })
	}
	for _, c := range claims {
		e.adopt(c, sent)
	}
	return len(claims), nil
}

// adopt starts a job on a claimed item. When start is claiming the same item, the claim is handed to it; an item a
// job of this process already works on (its lease had expired unnoticed and this replica claimed it again) is
// released: the running job stops at its next fenced write, and the item is claimed afresh.
func (e *engine) adopt(c Claim, sent time.Time) {
	e.mu.Lock()
	if j, ok := e.inflight[c.Item.Key]; ok {
		if j.claiming && j.adopted == nil {
			j.adopted = &adoptedClaim{Claim: c, sent: sent}
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		e.releaseClaim(c)
		return
	}
	j := &job{key: c.Item.Key, held: e.hold(c.Lease, sent)}
	e.inflight[j.key] = j
	e.claimed++
	e.jobs.Add(1)
	e.mu.Unlock()
	if q := e.queueFor(c.Item.State); q != nil {
		e.send(q, j)
		return
	}
	e.finish(j)
}

// listen pokes the claimer whenever the store announces work, until ctx ends; a broken listener is opened again
// after PollInterval (the claimer polls meanwhile).
func (e *engine) listen(ctx context.Context) {
	for ctx.Err() == nil {
		l, err := e.leases.ListenWork(ctx)
		if err == nil {
			for err == nil {
				if err = l.Wait(ctx); err == nil {
					e.poke()
				}
			}
			l.Close()
		}
		if ctx.Err() != nil {
			return
		}
		e.log.Warn("listening for work failed; polling until it works again", "err", err)
		if sleep(ctx, e.cfg.Replicas.PollInterval) != nil {
			return
		}
	}
}

// claimSource claims a source for one collection; ok is false when another replica collects it (or the store
// failed, which is recorded).
func (e *engine) claimSource(name string) (h *held, ok bool) {
	sent := time.Now()
	l, ok, err := e.leases.ClaimSource(e.persist, name, e.cfg.Replicas.Owner, e.cfg.Replicas.LeaseTTL)
	if err != nil {
		e.log.Error("store failed claiming a source", "source", name, "err", err)
		e.setStoreErr(err)
		return nil, false
	}
	if !ok {
		e.log.Debug("another replica collects this source", "source", name)
		return nil, false
	}
	return e.hold(l, sent), true
}

// releaseSource ends a source lease.
func (e *engine) releaseSource(h *held) {
	if err := h.end(e.persist, true); err != nil && !errors.Is(err, ErrLeaseLost) {
		e.log.Warn("releasing a source lease failed; it expires by itself", "lease", describeLease(h.current()),
			"err", err)
	}
}
