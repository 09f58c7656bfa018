package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// engine is the state of one RunOnce or Run.
type engine struct {
	p   *Pipeline
	cfg *Config
	log *slog.Logger
	obs Observer

	// ctx is the caller's context; stop is closed when it ends. Collect, lookup, fetch and await calls use ctx and
	// stop at once. work is for submissions and actions under way: it ends ShutdownTimeout after stop. persist is
	// for store writes, which are never cut short.
	ctx        context.Context
	stop       <-chan struct{}
	work       context.Context
	cancelWork context.CancelFunc
	persist    context.Context

	feeders sync.WaitGroup // resume and collectors
	jobs    sync.WaitGroup // live jobs
	workers sync.WaitGroup
	// batchRuns counts the goroutines running batches of BatchResponders (see batcher).
	batchRuns sync.WaitGroup
	// batchers holds one batcher per BatchResponder, by name.
	batchers map[string]*batcher

	lookupQ  chan *job
	fetchQ   chan *job
	submitQ  chan *job
	awaitQ   chan *job
	respondQ chan *job
	// queued holds the handoffs in front of the await and respond stages (see send); pumps counts their goroutines.
	queued map[chan *job]*handoff
	pumps  sync.WaitGroup

	mu       sync.Mutex
	inflight map[Key]*job
	// skipped remembers, for this run, the actions a responder skipped and the verdict it skipped them for, so that
	// a new pass over an item (new sightings) does not ask again while the verdict is the same.
	skipped  map[ActionKey]verdictMark
	shared   sharedStarts // see actionstart.go
	ended    map[string]bool
	sum      Summary
	storeErr error
	// health is the health of every component called in this run; cycle counts Run's collection cycles (see
	// blocked).
	health map[string]*componentState
	cycle  int
	// resuming is set while a cycle's resumeDue runs, so that slow cycles do not pile up.
	resuming atomic.Bool

	// leases is Config.Store when it is a LeasingStore (nil otherwise): every job then holds a lease on its item.
	// wake and freed wake the claimer.
	leases LeasingStore
	// claimed counts the jobs of this run until their lease is released (guarded by mu).
	claimed int
	wake    chan struct{}
	freed   chan struct{}
}

// job carries one item through the stages of this run. Only one job per key is alive at a time.
type job struct {
	key   Key
	dirty bool // the collector merged new evidence while the job was alive
	// waits counts the retries this job waited for in process (see retry).
	waits int
	known *Verdict // a verdict the analyzer already had, kept while resubmitting
	// sample is the fetched sample handed from fetch to submit, and sampleSource the source that delivered it.
	sample       Sample
	sampleSource string
	// held is the job's lease on its item when the store leases (set before the job is queued).
	held *held
	// claiming is set while start claims the item; a claim of the claimer for the same item meanwhile is handed
	// over in adopted (guarded by engine.mu).
	claiming bool
	adopted  *adoptedClaim
}

// start begins a run: it starts the stage workers and takes up the open items left by earlier runs.
func (p *Pipeline) start(ctx context.Context) *engine {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &engine{
		p: p, cfg: &p.cfg, log: p.log, obs: p.obs,
		ctx: ctx, stop: ctx.Done(), work: work, cancelWork: cancel, persist: context.WithoutCancel(ctx),
		lookupQ: make(chan *job), fetchQ: make(chan *job), submitQ: make(chan *job),
		awaitQ: make(chan *job), respondQ: make(chan *job),
		inflight: map[Key]*job{}, ended: map[string]bool{}, skipped: map[ActionKey]verdictMark{},
		health: map[string]*componentState{}, batchers: map[string]*batcher{},
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1),
	}
	e.queued = map[chan *job]*handoff{e.awaitQ: {e: e, q: e.awaitQ}, e.respondQ: {e: e, q: e.respondQ}}
	for _, r := range p.cfg.Responders {
		if b, ok := r.(BatchResponder); ok {
			e.batchers[r.Name()] = &batcher{e: e, r: b, max: p.cfg.RespondBatch}
		}
	}
	e.leases, _ = p.cfg.Store.(LeasingStore)
	e.shared.before = p.cfg.Now()
	e.sum = Summary{Started: e.shared.before, Verdicts: map[Kind]int{}, Actions: map[string]ActionCounts{},
		Failures: map[Stage]int{}, LastCollected: map[string]time.Time{}}
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(p.cfg.ShutdownTimeout)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-work.Done():
			}
		case <-work.Done():
		}
	}()
	e.spawn(e.lookupQ, p.cfg.Lookup.Concurrency, e.lookup)
	e.spawn(e.fetchQ, p.cfg.Fetch.Concurrency, e.fetchSample)
	e.spawn(e.submitQ, p.cfg.Submit.Concurrency, e.submit)
	e.spawn(e.awaitQ, p.cfg.Await.Concurrency, e.await)
	e.spawn(e.respondQ, p.cfg.Respond.Concurrency, e.respond)
	// Open items left by earlier runs are listed before any collection, then taken up alongside it. On a
	// LeasingStore the claimer (started by RunOnce and Run) takes them up instead, a bounded number at a time.
	if e.leases == nil {
		e.feeders.Add(1)
		go e.resume(e.openItems())
	}
	return e
}

// spawn starts n workers running fn on the jobs of q until the run closes q.
func (e *engine) spawn(q chan *job, n int, fn func(*job)) {
	for range n {
		e.workers.Add(1)
		go func() {
			defer e.workers.Done()
			for j := range q {
				if e.stopping() {
					e.abandon(j)
					continue
				}
				fn(j)
			}
		}()
	}
}

// close ends the run: it stops the workers, prunes, and returns the summary with the number of items left open, and
// the first store failure of the run.
func (e *engine) close() (Summary, error) {
	e.pumps.Wait()
	close(e.lookupQ)
	close(e.fetchQ)
	close(e.submitQ)
	close(e.awaitQ)
	close(e.respondQ)
	e.workers.Wait()
	e.batchRuns.Wait()
	e.cancelWork()
	if e.cfg.Retention > 0 && !e.stopping() {
		e.prune()
	}
	pending, waiting := 0, 0
	err := e.cfg.Store.View(e.persist, func(tx Tx) error {
		pending, waiting = 0, 0
		for _, st := range OpenStates() {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				pending++
				if it.Retry != nil {
					waiting++
				}
			}
		}
		return nil
	})
	e.mu.Lock()
	e.sum.Pending, e.sum.Waiting = pending, waiting
	e.sum.Components = e.healthSnapshot()
	e.sum.Finished = e.cfg.Now()
	if err != nil && e.storeErr == nil {
		e.storeErr = err
	}
	err = e.storeErr
	e.mu.Unlock()
	s := e.summary()
	e.log.Info("run finished", "collected", s.Collected, "new", s.New, "deduped", s.Deduped,
		"submitted", s.Submitted, "analysed", s.Analysed, "dead_letters", s.FailureCount(), "pending", s.Pending,
		"waiting", s.Waiting)
	if p := s.Problem(); p != "" {
		e.log.Error("run failed", "problem", p)
	}
	return s, err
}

func (e *engine) summary() Summary {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sum.clone()
}

func (e *engine) prune() {
	cutoff := e.cfg.Now().Add(-e.cfg.Retention)
	pr, err := e.cfg.Store.Prune(e.persist, cutoff)
	if err != nil {
		e.log.Error("prune failed", "err", err)
		return
	}
	if pr != (Pruned{}) {
		e.log.Info("pruned old records", "before", cutoff, "items", pr.Items, "aliases", pr.Aliases, "actions", pr.Actions)
	}
}

func (e *engine) stopping() bool {
	select {
	case <-e.stop:
		return true
	default:
		return false
	}
}

// count updates the summary under the lock.
func (e *engine) count(fn func(s *Summary)) {
	e.mu.Lock()
	fn(&e.sum)
	e.mu.Unlock()
}

// dispatch starts a job for key unless one is alive, in which case it marks it dirty so it looks at the item again
// before finishing.
func (e *engine) dispatch(key Key, st State) { e.start(key, st, true) }

// start starts a job for key unless one is alive; then it marks that job dirty when mark is set.
func (e *engine) start(key Key, st State, mark bool) {
	e.mu.Lock()
	if j, ok := e.inflight[key]; ok {
		j.dirty = j.dirty || mark
		e.mu.Unlock()
		return
	}
	if e.leases != nil && e.claimed >= e.cfg.Replicas.MaxClaimed {
		// No room: the item stays claimable, for this replica's claimer or another replica.
		e.mu.Unlock()
		return
	}
	j := &job{key: key, claiming: e.leases != nil}
	e.inflight[key] = j
	e.claimed++
	e.jobs.Add(1)
	e.mu.Unlock()
	if e.leases != nil {
		c, ok := e.claimStarted(j)
		if !ok {
			e.drop(j)
			return
		}
		j.held, st = e.hold(c.Lease, c.sent), c.Item.State
	}
	if q := e.queueFor(st); q != nil {
		e.send(q, j)
		return
	}
	e.finish(j)
}

func (e *engine) queueFor(st State) chan *job {
	switch st {
	case StateNew, StateSubmitting:
		return e.lookupQ
	case StateAwaiting:
		return e.awaitQ
	case StateResponding:
		return e.respondQ
	}
	return nil
}

// send hands j to the next stage; when the run stops first, j is abandoned (its state is in the store). Workers only
// send downstream, so the stages cannot deadlock.
//
// A job for the lookup, fetch or submit stage waits for a free worker, so that a stage does not run ahead of the
// next: a fetched sample (a spooled file) waits for submit in the fetch worker that holds it. A job for the await or
// respond stage holds nothing the stage must bound (its sample is uploaded, its state stored), so it joins the stage's
// handoff queue and the sender moves on at once: a full await stage no longer stops submissions, and a full respond
// stage no longer holds await workers. Without this, an await stage busy with finished analyses held the submit
// workers, so the next analyses started late and the await stage then ran short of finished ones; the stages took
// turns instead of overlapping.
func (e *engine) send(q chan *job, j *job) {
	if h := e.queued[q]; h != nil {
		h.put(j)
		return
	}
	select {
	case q <- j:
	case <-e.stop:
		e.abandon(j)
	}
}

// handoff is the unbounded FIFO queue in front of a stage (see send): put never blocks, and one goroutine, running
// while the queue is not empty, hands the jobs to the stage's workers in order. A queued job costs a pointer, not a
// goroutine.
type handoff struct {
	e *engine
	q chan *job

	mu      sync.Mutex
	jobs    []*job
	head    int
	running bool
}

// put queues j for the stage.
func (h *handoff) put(j *job) {
	h.mu.Lock()
	h.jobs = append(h.jobs, j)
	if !h.running {
		h.running = true
		h.e.pumps.Add(1)
		go h.pump()
	}
	h.mu.Unlock()
}

// pump hands the queued jobs to the stage until the queue is empty; when the run stops, the queued jobs are
// abandoned (their state is in the store).
func (h *handoff) pump() {
	defer h.e.pumps.Done()
	for {
		h.mu.Lock()
		if h.head == len(h.jobs) {
			h.jobs, h.head, h.running = h.jobs[:0], 0, false
			h.mu.Unlock()
			return
		}
		j := h.jobs[h.head]
		h.jobs[h.head] = nil
		h.head++
		if h.head >= 1024 && h.head*2 >= len(h.jobs) {
			// Give the space of the jobs handed over back.
			h.jobs, h.head = append([]*job(nil), h.jobs[h.head:]...), 0
		}
		h.mu.Unlock()
		select {
		case h.q <- j:
		case <-h.e.stop:
			h.e.abandon(j)
		}
	}
}

// later sends j to q after d, from its own goroutine (used for retries and for sending upstream).
func (e *engine) later(q chan *job, j *job, d time.Duration) {
	go func() {
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-e.stop:
				e.abandon(j)
				return
			}
		}
		e.send(q, j)
	}()
}

// finish ends j, unless new evidence arrived meanwhile and the item is open again.
func (e *engine) finish(j *job) {
	e.mu.Lock()
	if j.dirty {
		j.dirty = false
		e.mu.Unlock()
		it, ok := e.item(j)
		if !ok {
			return
		}
		if q := e.queueFor(it.State); q != nil {
			e.later(q, j, 0)
			return
		}
		e.mu.Lock()
	}
	delete(e.inflight, j.key)
	e.mu.Unlock()
	e.jobEnded(j)
}

// abandon drops j without changing its stored state; it resumes on the next run (or, when the store leases, on any
// replica once the lease is released).
func (e *engine) abandon(j *job) {
	e.dropSample(j)
	e.drop(j)
}

// drop ends j.
func (e *engine) drop(j *job) {
	e.mu.Lock()
	delete(e.inflight, j.key)
	e.mu.Unlock()
	e.jobEnded(j)
}

// jobEnded completes the end of j, once it left inflight: its lease (if any) is released and it leaves the jobs of the
// run.
func (e *engine) jobEnded(j *job) {
	e.unhold(j, true)
	e.mu.Lock()
	e.claimed--
	e.mu.Unlock()
	e.jobs.Done()
	if e.leases != nil {
		e.freedOne()
	}
}

// item reads j's item. On a store failure or a missing item it abandons j and returns false.
func (e *engine) item(j *job) (Item, bool) {
	var it Item
	var found bool
	err := e.cfg.Store.View(e.persist, func(tx Tx) error {
		var err error
		it, found, err = tx.Item(j.key)
		return err
	})
	if err == nil && !found {
		err = fmt.Errorf("connector: item %s vanished from the store", j.key)
	}
	if err != nil {
		e.storeFailed(j, err)
		return Item{}, false
	}
	return it, true
}

// change applies fn to j's item in one transaction and returns the stored result. fn may be called more than once.
func (e *engine) change(j *job, fn func(it *Item, tx Tx) error) (Item, bool) {
	var out Item
	err := e.update(j, func(tx Tx) error {
		it, found, err := tx.Item(j.key)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("connector: item %s vanished from the store", j.key)
		}
		before := it.State
		if err := fn(&it, tx); err != nil {
			return err
		}
		if it.State != before {
			it.Retry = nil
		}
		it.Updated = e.cfg.Now()
		out = it
		return tx.PutItem(it)
	})
	if err != nil {
		e.storeFailed(j, err)
		return Item{}, false
	}
	return out, true
}

// storeFailed records a store failure (returned by the run) and abandons j.
// A lost lease is no store failure: another replica took the item over, and j stops without writing.
func (e *engine) storeFailed(j *job, err error) {
	if errors.Is(err, ErrLeaseLost) {
		e.log.Warn("lease lost: another replica took the item over", "key", j.key.String(), "err", err)
		e.abandon(j)
		return
	}
	e.log.Error("store failed", "key", j.key.String(), "err", err)
	e.setStoreErr(err)
	e.abandon(j)
}

// retry handles a failed try of stage by its class (see Classify): a permanent failure makes the item a dead letter;
// an authorization failure leaves it waiting (see wait); a transient one stores the backoff with the item and tries
// again after it, in this run when the wait is short (Config.RetryInRun), else in a later cycle or run. The item
// becomes a dead letter once the stage's horizon, counted from the step's first failure, has run out. q is the
// stage to go back to; component is the one that failed.
func (e *engine) retry(j *job, stage Stage, component string, q chan *job, err error) {
	if e.stopping() && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		e.abandon(j)
		return
	}
	if j.held != nil && j.held.effects.Err() != nil {
		// The lease ran out during the call (whatever error the component made of it): its outcome is unknown and
		// the item may have a new owner; a fresh claim takes it up.
		e.log.Warn("work stopped: its lease expired during the call", "key", j.key.String(), "stage", stage,
			"cause", context.Cause(j.held.effects))
		e.abandon(j)
		return
	}
	switch Classify(err) {
	case PermanentFailure:
		e.fail(j, stage, err)
		return
	case Authorization:
		e.wait(j, stage, component, err)
		return
	}
	now := e.cfg.Now()
	var rs RetryState
	if _, ok := e.change(j, func(it *Item, _ Tx) error {
		r := RetryState{Stage: stage, Since: now}
		if it.Retry != nil && it.Retry.Stage == stage && it.Retry.Class == Transient {
			r = *it.Retry
		}
		r.Class, r.Component, r.LastError = Transient, component, err.Error()
		r.Attempts++
		r.Next = now.Add(e.cfg.Retry.wait(r.Attempts, err))
		rs = r
		it.Retry = &r
		return nil
	}); !ok {
		return
	}
	horizon := e.limits(stage).Horizon
	if now.Sub(rs.Since) >= horizon || e.cfg.Retry.Attempts > 0 && rs.Attempts >= e.cfg.Retry.Attempts {
		e.fail(j, stage, fmt.Errorf("gave up after %d tries over %s (horizon %s): %w", rs.Attempts,
			now.Sub(rs.Since).Round(time.Second), horizon, err))
		return
	}
	d := rs.Next.Sub(now)
	e.obs.Add(CounterRetries, 1, string(stage))
	e.log.Warn("step failed, will retry", "key", j.key.String(), "stage", stage, "component", component,
		"try", rs.Attempts, "delay", d, "next", rs.Next, "err", err)
	e.dropSample(j)
	if d > e.cfg.RetryInRun || j.waits >= waitsInRun {
		e.abandon(j)
		return
	}
	j.waits++
	e.later(q, j, d)
}

// waitsInRun bounds the retries one job waits for in process: after that (or when the wait is longer than
// Config.RetryInRun) the item is left open with its next-attempt time for a later cycle or run, so a run never
// spins on a step that keeps failing.
const waitsInRun = 2

// wait leaves j's item open after its component refused the call for authorization: the try uses up no attempt
// and restarts the step's horizon, and the item is taken up again in the next cycle or run.
func (e *engine) wait(j *job, stage Stage, component string, err error) {
	now := e.cfg.Now()
	next := now
	if e.leases != nil {
		// Released items are claimable at once: without a later due time the replicas would take the item up again
		// and again while the component refuses them. The next cycle is when a single process looks again too.
		next = now.Add(e.cfg.Interval)
	}
	if _, ok := e.change(j, func(it *Item, _ Tx) error {
		r := RetryState{Stage: stage, Class: Authorization, Since: now, Next: next, Component: component,
			LastError: err.Error()}
		if it.Retry != nil && it.Retry.Stage == stage {
			r.Attempts = it.Retry.Attempts
		}
		it.Retry = &r
		return nil
	}); !ok {
		return
	}
	e.log.Debug("waiting for an unauthorized component", "key", j.key.String(), "stage", stage,
		"component", component)
	e.abandon(j)
}

// limits returns the limits of a work stage.
func (e *engine) limits(stage Stage) StageLimits {
	switch stage {
	case StageLookup:
		return e.cfg.Lookup
	case StageFetch:
		return e.cfg.Fetch
	case StageSubmit:
		return e.cfg.Submit
	case StageAwait:
		return e.cfg.Await
	}
	return e.cfg.Respond
}

// dropSample closes a sample j holds.
func (e *engine) dropSample(j *job) {
	if j.sample.Body != nil {
		j.sample.Body.Close()
		j.sample = Sample{}
	}
}

// fail makes j's item a dead letter with err as the reason.
func (e *engine) fail(j *job, stage Stage, err error) {
	e.dropSample(j)
	now := e.cfg.Now()
	if _, ok := e.change(j, func(it *Item, _ Tx) error {
		it.State = StateFailed
		it.Failure = &Failure{Stage: stage, Reason: err.Error(), At: now}
		return nil
	}); !ok {
		return
	}
	e.count(func(s *Summary) { s.Failures[stage]++ })
	e.obs.Add(CounterFailures, 1, string(stage))
	e.log.Error("dead letter", "key", j.key.String(), "stage", stage, "reason", err.Error())
	e.finish(j)
}

// call runs one component call with the stage's bookkeeping: latency, outcome, and panic containment.
func call[T any](e *engine, ctx context.Context, stage Stage, component string, timeout time.Duration,
	fn func(context.Context) (T, error)) (out T, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			pe := &PanicError{Component: component, Stage: stage, Value: r, Stack: debug.Stack()}
			e.log.Error("component panicked", "stage", stage, "component", component, "panic", fmt.Sprint(r),
				"stack", string(pe.Stack))
			err = pe
		}
		e.obs.Latency(stage, component, outcome(err), time.Since(start))
		e.callDone(stage, component, err)
	}()
	return fn(ctx)
}

func outcome(err error) string {
	var pe *PanicError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	switch Classify(err) {
	case PermanentFailure:
		return "failed"
	case Authorization:
		return "unauthorized"
	}
	return "retry"
}
