package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// replicaConfig is the configuration of one replica of the world's connector on store.
func (w world) replicaConfig(store connector.Store, owner string) connector.Config {
	limits := connector.StageLimits{Concurrency: 3}
	return connector.Config{Store: store, Sources: []connector.Source{w.src}, Analyzer: w.sandbox,
		Responders: []connector.Responder{connector.Gate(w.isolate, connector.Kinds(connector.Malicious))},
		Lookup:     limits, Fetch: limits, Submit: limits, Await: limits, Respond: limits,
		Replicas: connector.Replicas{Owner: owner, MaxClaimed: 5}}
}

// Three replicas share one schema: every file is submitted once and every sighting acted on once, whichever replica
// collects and whichever works on each item, and nothing is left open.
func TestReplicasShareTheWork(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	const files = 60
	w := newWorld(files)
	w.sandbox.Latency = 5 * time.Millisecond
	var wg sync.WaitGroup
	sums := make([]connector.Summary, 3)
	for i := range sums {
		store := pgstoretest.Open(t, schema, pgstore.Options{})
		p, err := connector.New(w.replicaConfig(store, "replica-"+string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			var err error
			if sums[i], err = p.RunOnce(context.Background()); err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// A replica that finished early leaves the rest to the others; a last run on the schema finds nothing to do.
	last := pgstoretest.Open(t, schema, pgstore.Options{})
	p, err := connector.New(w.replicaConfig(last, "last"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Pending != 0 || sum.Submitted != 0 {
		t.Errorf("after the replicas: %d pending, %d submitted, %v", sum.Pending, sum.Submitted, err)
	}
	submitted := 0
	for _, s := range sums {
		submitted += s.Submitted
	}
	if n := len(w.sandbox.Submissions()); n != files || submitted != files {
		t.Errorf("%d submissions (%d counted by the replicas) for %d distinct files", n, submitted, files)
	}
	effects := w.isolate.Effects()
	if len(effects) != 2*files {
		t.Errorf("isolate acted on %d targets, want %d", len(effects), 2*files)
	}
	for target, n := range effects {
		if n != 1 {
			t.Errorf("isolate acted %d times on %s", n, target)
		}
	}
	if calls := w.isolate.Calls(); calls != 2*files {
		t.Errorf("isolate was called %d times for %d targets", calls, 2*files)
	}
}

// partitioned wraps a replica's store: while cut is set, its lease renewals fail as if the database were
// unreachable, so its leases run out while it works.
type partitioned struct {
	*pgstore.Store
	mu  sync.Mutex
	cut bool
}

func (p *partitioned) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	p.mu.Unlock()
}

func (p *partitioned) Renew(ctx context.Context, l connector.Lease, ttl time.Duration) (connector.Lease, error) {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		return connector.Lease{}, errors.New("partitioned: connection refused")
	}
	return p.Store.Renew(ctx, l, ttl)
}

// blockingAnalyzer holds Await until release is closed, after telling started.
type blockingAnalyzer struct {
	*connectortest.Analyzer
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (a *blockingAnalyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	a.once.Do(func() { close(a.started) })
	select {
	case <-a.release:
	case <-ctx.Done():
		return connector.Verdict{}, ctx.Err()
	}
	return a.Analyzer.Await(ctx, t)
}

// A replica whose lease ran out while it awaited a verdict (cut off from the database, or paused) cannot write
// what the replica that took the item over already did: its verdict is refused by the fencing check, it never acts,
// and its run reports no store failure; the new owner awaits the same ticket instead of submitting again.
func TestStaleReplicaIsFenced(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	schema := pgstoretest.NewSchema(t)
	w := newWorld(1)
	stale := &partitioned{Store: pgstoretest.Open(t, schema, pgstore.Options{Now: clock.Now})}
	blocking := &blockingAnalyzer{Analyzer: w.sandbox, started: make(chan struct{}), release: make(chan struct{})}
	cfg := w.replicaConfig(stale, "stale")
	cfg.Analyzer = blocking
	cfg.Replicas.LeaseTTL = time.Minute
	a, err := connector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	staleDone := make(chan connector.Summary)
	go func() {
		sum, err := a.RunOnce(context.Background())
		if err != nil {
			t.Errorf("stale replica: %v", err)
		}
		staleDone <- sum
	}()
	<-blocking.started // submitted; awaiting under its lease
	stale.mu.Lock()
	stale.cut = true
	stale.mu.Unlock()
	clock.Advance(2 * time.Minute) // its lease has expired by the database's (fake) clock

	fresh := pgstoretest.Open(t, schema, pgstore.Options{Now: clock.Now})
	b, err := connector.New(w.replicaConfig(fresh, "fresh"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := b.RunOnce(context.Background())
	if err != nil || sum.Resumed != 1 || sum.Submitted != 0 || sum.Pending != 0 {
		t.Fatalf("new owner: resumed %d, submitted %d, pending %d, %v; want it to take the awaited item over",
			sum.Resumed, sum.Submitted, sum.Pending, err)
	}
	close(blocking.release)
	staleSum := <-staleDone
	if staleSum.Analysed != 1 {
		t.Errorf("stale replica analysed %d", staleSum.Analysed)
	}
	if n := len(w.sandbox.Submissions()); n != 1 {
		t.Errorf("%d submissions, want 1", n)
	}
	if calls := w.isolate.Calls(); calls != 2 {
		t.Errorf("isolate called %d times, want 2 (the new owner's, one per sighting)", calls)
	}
	mustView(t, fresh, func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateDone) {
			if err != nil {
				return err
			}
			if it.Verdict == nil || it.Verdict.Kind != connector.Malicious {
				t.Errorf("stored verdict %+v", it.Verdict)
			}
			return nil
		}
		t.Error("the item is not done")
		return nil
	})
}

// One collector per source: while a replica holds the source's lease, another replica's run does not collect it.
func TestSourceCollectedByOneReplica(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	w := newWorld(3)
	holder := pgstoretest.Open(t, schema, pgstore.Options{})
	if _, ok, err := holder.ClaimSource(context.Background(), "edr", "other", time.Minute); err != nil || !ok {
		t.Fatalf("ClaimSource: %v %v", ok, err)
	}
	store := pgstoretest.Open(t, schema, pgstore.Options{})
	p, err := connector.New(w.replicaConfig(store, "r"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Collected != 0 || w.src.Collects() != 0 {
		t.Errorf("collected %d (%d calls) under another replica's source lease, %v", sum.Collected, w.src.Collects(), err)
	}
}

// stallingResponder stalls its first call until the call's context ends (a replica stopped in the middle of an
// action), with the replica's renewals cut meanwhile, and records why it ended; later calls go to the wrapped
// responder.
type stallingResponder struct {
	connector.Responder
	store *partitioned
	once  sync.Once
	cause chan error
}

func (r *stallingResponder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	stalled := false
	r.once.Do(func() { stalled = true })
	if !stalled {
		return r.Responder.Respond(ctx, f)
	}
	r.store.setCut(true)
	<-ctx.Done()
	r.store.setCut(false)
	r.cause <- context.Cause(ctx)
	return connector.Result{}, ctx.Err()
}

// A call with effects outside the store runs under a context that ends when the lease's deadline passes without a
// renewal: a replica that cannot renew stops acting on its own, and the item is acted on later under a new lease.
func TestEffectsStopWhenTheLeaseRunsOut(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	w := newWorld(1)
	store := &partitioned{Store: pgstoretest.Open(t, schema, pgstore.Options{})}
	stalling := &stallingResponder{Responder: connector.Gate(w.isolate, connector.Kinds(connector.Malicious)),
		store: store, cause: make(chan error, 1)}
	cfg := w.replicaConfig(store, "r")
	cfg.Responders = []connector.Responder{stalling}
	cfg.Replicas.LeaseTTL = time.Second
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	cfg.Logger = slog.New(slog.NewTextHandler(lockedBuf{&logMu, &logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() {
		if t.Failed() {
			logMu.Lock()
			t.Log(logBuf.String())
			logMu.Unlock()
		}
	}()
	p, err := connector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Pending != 0 {
		t.Fatalf("RunOnce: pending %d, %v", sum.Pending, err)
	}
	if cause := <-stalling.cause; !errors.Is(cause, connector.ErrLeaseLost) {
		t.Errorf("the stalled action ended with %v, want the lease's expiry", cause)
	}
	if calls := w.isolate.Calls(); calls != 2 {
		t.Errorf("isolate acted %d times, want 2 (one per sighting, after the stalled call)", calls)
	}
}

// refusingAnalyzer answers every lookup with 401, as a wrong key would.
type refusingAnalyzer struct {
	connector.Analyzer
	mu      sync.Mutex
	lookups int
}

func (a *refusingAnalyzer) Lookup(context.Context, connector.Evidence) (connector.Verdict, bool, error) {
	a.mu.Lock()
	a.lookups++
	a.mu.Unlock()
	return connector.Verdict{}, false, connector.Unauthorized(errors.New("sandbox: 401 Unauthorized"))
}

// Items waiting for an unauthorized component are released due at the next cycle, not at once: the replicas do not
// claim them again and again while the key is refused, and the run ends with them open.
func TestRefusedItemsWaitForTheNextCycle(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	w := newWorld(3)
	store := pgstoretest.Open(t, schema, pgstore.Options{})
	refusing := &refusingAnalyzer{Analyzer: w.sandbox}
	cfg := w.replicaConfig(store, "r")
	cfg.Analyzer = refusing
	cfg.Interval = time.Hour
	// One lookup worker: with more, lookups already under way when the first refusal comes back are made too.
	cfg.Lookup.Concurrency = 1
	p, err := connector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Pending != 3 || sum.Waiting != 3 {
		t.Fatalf("RunOnce: %d pending, %d waiting, %v; want the 3 items left waiting", sum.Pending, sum.Waiting, err)
	}
	if refusing.lookups != 1 {
		t.Errorf("%d lookups; want 1 (the component is then known to refuse)", refusing.lookups)
	}
	mustView(t, store, func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateNew) {
			if err != nil {
				return err
			}
			if it.Retry == nil || it.Retry.Class != connector.Authorization || it.Retry.Next.Sub(it.Updated) < 59*time.Minute {
				t.Errorf("item %s waits with %+v; want an authorization wait due at the next cycle", it.Key, it.Retry)
			}
		}
		return nil
	})
}

type lockedBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
