package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Pipeline. Store, Analyzer and at least one Source are required; every other field has a
// default (see New).
type Config struct {
	// Store holds the durable state (boltstore is the embedded default).
	Store Store
	// Sources report evidence; their names must be unique and stable.
	Sources []Source
	// Analyzer turns files into verdicts (PassThrough for sources that carry their own).
	Analyzer Analyzer
	// Responders act on findings, in this order for each file. Their names must be unique and stable.
	Responders []Responder

	// Per-stage concurrency and the bound on one component call. Defaults: Lookup 4 and 1 min, Fetch 2 and 10 min,
	// Submit 2 and 10 min, Await 8 and AnalysisTimeout, Respond 4 and 2 min; the retry horizon of every stage is
	// 24 h.
	Lookup, Fetch, Submit, Await, Respond StageLimits
	// RespondBatch is the most findings one RespondBatch call of a BatchResponder gets (default 100). A batch holds
	// the findings that reached the respond stage while the previous batch ran, so it is also bounded by
	// Respond.Concurrency items.
	RespondBatch int
	// CollectTimeout bounds one Source.Collect call (default 10 min).
	CollectTimeout time.Duration

	// VerdictTTL is how long a stored verdict is reused without asking the analyzer again (default 24 h).
	VerdictTTL time.Duration
	// Resubmit lists the verdicts for which a file the analyzer already knows is analysed again, once: the engine
	// never resubmits a file it has submitted itself (default: none).
	Resubmit KindSet
	// AnalysisTimeout bounds the wait for a verdict, measured from the ticket's submission time, across restarts
	// (default 30 min). A ticket that runs out becomes a dead letter.
	AnalysisTimeout time.Duration
	// PollInterval is the wait before calling Await again after it returned RetryLater without a delay (default 30 s).
	PollInterval time.Duration
	// Retry is the backoff between tries of a step that failed transiently, in every stage (default 2 s doubling up
	// to 30 min, jittered). A step is tried until its stage's horizon (StageLimits.Horizon) runs out; Attempts, when
	// set, also caps the tries of one step. The time of the next try is stored with the item, so the schedule
	// survives restarts. Attempts also bounds the tries of one collection (default 5).
	Retry Backoff
	// RetryInRun is the longest backoff a run waits for in process (default 1 min), for at most two retries of a
	// step per run or cycle. An item whose next try is further away, or that failed again, is left open in the store
	// and taken up when due by a later cycle of Run or a later RunOnce.
	RetryInRun time.Duration
	// RetryFailedAfter is how long a dead letter rests before its file, when collected again, is worked on again
	// (default 24 h).
	RetryFailedAfter time.Duration

	// Interval is the time between collections in Run (default 5 min).
	Interval time.Duration
	// ShutdownTimeout bounds the drain after the context ends: submissions and actions under way get this long to
	// finish and be recorded (default 30 s). Everything else stops at once and resumes from the store next time.
	ShutdownTimeout time.Duration
	// Retention is the age after which final items and their action-log records are pruned (default 30 days;
	// negative: never).
	Retention time.Duration

	// Replicas, used only when Store is a LeasingStore (several replicas share it; see LeasingStore).
	Replicas Replicas

	// Logger receives records per item and stage (default: discard).
	Logger *slog.Logger
	// Observer receives counters and latencies (default: none).
	Observer Observer
	// Now is the clock for stored times, TTLs and timeouts (default time.Now).
	Now func() time.Time
}

// StageLimits bounds one stage.
type StageLimits struct {
	// Concurrency is the number of calls the stage makes at once.
	Concurrency int
	// Timeout bounds one component call.
	Timeout time.Duration
	// Horizon is how long a step of this stage is retried after its first transient failure before the item becomes
	// a dead letter (default 24 h). It runs across restarts.
	Horizon time.Duration
}

// Pipeline runs Sources -> dedupe -> Analyzer -> Responders with every step recorded in the Store. Create it with New;
// call RunOnce (cron) or Run (daemon). A Pipeline runs one run at a time.
type Pipeline struct {
	cfg     Config
	fetch   map[string]Fetcher
	log     *slog.Logger
	obs     Observer
	running atomic.Bool
}

// ErrRunning is returned by RunOnce and Run while another run of the same Pipeline is under way.
var ErrRunning = errors.New("connector: pipeline already running")

// New checks cfg, fills in the defaults and returns the pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Store == nil {
		return nil, errors.New("connector: Config.Store is required")
	}
	if cfg.Analyzer == nil {
		return nil, errors.New("connector: Config.Analyzer is required")
	}
	if len(cfg.Sources) == 0 {
		return nil, errors.New("connector: Config.Sources needs at least one source")
	}
	if cfg.Analyzer.Name() == "" {
		return nil, errors.New("connector: the analyzer has an empty name")
	}
	p := &Pipeline{fetch: map[string]Fetcher{}}
	names := map[string]bool{}
	for i, s := range cfg.Sources {
		if s == nil || s.Name() == "" {
			return nil, fmt.Errorf("connector: source %d is nil or has an empty name", i)
		}
		if names[s.Name()] {
			return nil, fmt.Errorf("connector: two sources are named %q", s.Name())
		}
		names[s.Name()] = true
		if f, ok := s.(Fetcher); ok {
			p.fetch[s.Name()] = f
		}
	}
	names = map[string]bool{}
	for i, r := range cfg.Responders {
		if r == nil || r.Name() == "" {
			return nil, fmt.Errorf("connector: responder %d is nil or has an empty name", i)
		}
		if names[r.Name()] {
			return nil, fmt.Errorf("connector: two responders are named %q", r.Name())
		}
		if r.Scope() > ScopeDevice {
			return nil, fmt.Errorf("connector: responder %q has unknown scope %d", r.Name(), r.Scope())
		}
		names[r.Name()] = true
	}
	setDefault(&cfg.VerdictTTL, 24*time.Hour)
	setDefault(&cfg.AnalysisTimeout, 30*time.Minute)
	setDefault(&cfg.PollInterval, 30*time.Second)
	setDefault(&cfg.RetryFailedAfter, 24*time.Hour)
	setDefault(&cfg.Interval, 5*time.Minute)
	setDefault(&cfg.ShutdownTimeout, 30*time.Second)
	setDefault(&cfg.Retention, 30*24*time.Hour)
	setDefault(&cfg.CollectTimeout, 10*time.Minute)
	setLimits(&cfg.Lookup, 4, time.Minute)
	setLimits(&cfg.Fetch, 2, 10*time.Minute)
	setLimits(&cfg.Submit, 2, 10*time.Minute)
	setLimits(&cfg.Await, 8, cfg.AnalysisTimeout)
	setLimits(&cfg.Respond, 4, 2*time.Minute)
	if cfg.RespondBatch <= 0 {
		cfg.RespondBatch = 100
	}
	if cfg.Retry.Attempts < 0 {
		cfg.Retry.Attempts = 0
	}
	setDefault(&cfg.Retry.Initial, 2*time.Second)
	setDefault(&cfg.Retry.Max, 30*time.Minute)
	setDefault(&cfg.RetryInRun, time.Minute)
	cfg.Replicas.setDefaults(cfg)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p.cfg, p.log, p.obs = cfg, cfg.Logger, cfg.Observer
	return p, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func setLimits(l *StageLimits, n int, timeout time.Duration) {
	if l.Concurrency <= 0 {
		l.Concurrency = n
	}
	setDefault(&l.Timeout, timeout)
	setDefault(&l.Horizon, 24*time.Hour)
}

// RunOnce runs one collection of every source and works until every item it touched (and every open item left in the
// store by earlier runs that is due) is done, failed, waiting on a backoff or for a refused component (see the
// failure classes in the package documentation), or, when ctx ends, persisted for the next run. It returns the run's
// summary; the error is ctx's when the run was interrupted, or the store's when it failed. Failures of sources and
// items are not errors: they are counted in the summary (see Summary.Problem) and recorded in the store.
func (p *Pipeline) RunOnce(ctx context.Context) (Summary, error) {
	if !p.running.CompareAndSwap(false, true) {
		return Summary{}, ErrRunning
	}
	defer p.running.Store(false)
	e := p.start(ctx)
	var collectors sync.WaitGroup
	for _, s := range p.cfg.Sources {
		e.feeders.Add(1)
		collectors.Go(func() { e.collect(s) })
	}
	if e.leases != nil {
		// Claim open work until the collections are over and nothing claimable is left.
		idle := make(chan struct{})
		go func() {
			collectors.Wait()
			close(idle)
		}()
		e.feeders.Add(1)
		go e.claimer(idle)
	}
	e.feeders.Wait()
	e.jobs.Wait()
	s, err := e.close()
	if err == nil {
		err = ctx.Err()
	}
	return s, err
}

// Run is the daemon: it resumes open items, collects from every source now and every Interval after (a source whose
// previous collection is still running is skipped that round), and works on items as they come; analyses of earlier
// evidence are awaited while new evidence is collected. Every cycle also takes up the open items whose backoff has
// run out (see Config.Retry) and probes components refused in the previous cycle. It returns nil when ctx ends
// (after the graceful drain, see Config.ShutdownTimeout) or when every source has reported ErrEndOfInput and all
// work under way is done (items waiting on a backoff stay in the store for a later run); it returns an error only
// when the store fails. The summary covers the whole Run.
func (p *Pipeline) Run(ctx context.Context) (Summary, error) {
	if !p.running.CompareAndSwap(false, true) {
		return Summary{}, ErrRunning
	}
	defer p.running.Store(false)
	e := p.start(ctx)
	active := make(map[string]bool)
	finished := make(chan string)
	ended := map[string]bool{}
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	lastPrune := time.Now()
	idle := make(chan struct{})
	idleWatch := false
	allEnded := make(chan struct{})
	if e.leases != nil {
		e.feeders.Add(1)
		go e.claimer(allEnded)
	}
	startCycle := func() {
		for _, s := range p.cfg.Sources {
			if active[s.Name()] || ended[s.Name()] {
				continue
			}
			active[s.Name()] = true
			e.feeders.Add(1)
			go func() {
				e.collect(s)
				select {
				case finished <- s.Name():
				case <-e.stop:
				}
			}()
		}
	}
	startCycle()
	for {
		select {
		case <-e.stop:
			e.feeders.Wait()
			e.jobs.Wait()
			return e.close()
		case name := <-finished:
			active[name] = false
			if e.hasEnded(name) {
				ended[name] = true
			}
			if len(ended) == len(p.cfg.Sources) && !idleWatch {
				idleWatch = true
				close(allEnded)
				go func() {
					e.feeders.Wait()
					e.jobs.Wait()
					close(idle)
				}()
			}
		case <-idle:
			return e.close()
		case <-tick.C:
			if p.cfg.Retention > 0 && time.Since(lastPrune) >= max(p.cfg.Interval, time.Hour) {
				lastPrune = time.Now()
				e.prune()
			}
			if idleWatch {
				// Every source has ended: the run only finishes the work under way.
				continue
			}
			e.mu.Lock()
			e.cycle++
			e.mu.Unlock()
			if e.resuming.CompareAndSwap(false, true) {
				e.feeders.Add(1)
				go func() {
					defer e.feeders.Done()
					defer e.resuming.Store(false)
					e.resumeDue()
				}()
			}
			startCycle()
		}
	}
}
