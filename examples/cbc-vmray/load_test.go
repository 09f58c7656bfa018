package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray/vmraytest"
	bolt "go.etcd.io/bbolt"
)

// loadSize reads a size of the load benchmarks from the environment.
func loadSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// addLatency makes every request to both fakes take d longer, like a vendor's round trip.
func addLatency(cbc *carbonblacktest.Server, vm *vmraytest.Server, d time.Duration) {
	cbc.InjectFault(carbonblacktest.Fault{Latency: d})
	vm.InjectFault(vmraytest.Fault{Latency: d})
}

// stageLimits are the concurrencies of the load benchmark's flow: enough for every stage to keep up with 100 ms
// per request (the bound below is computed from them). An item holds a respond worker while it passes the three
// batched responders in turn (at least 1.2 s at 100 ms per call), hence the larger respond stage.
var stageLimits = map[connector.Stage]int{connector.StageLookup: 32, connector.StageFetch: 32, connector.StageSubmit: 32,
	connector.StageAwait: 64, connector.StageRespond: 512}

// flowResult is what one run of the flow measured.
type flowResult struct {
	start   time.Time
	elapsed time.Duration
	sum     connector.Summary
	// store counts the run's store writes and the commits they shared.
	store boltstore.Stats
	// batches and findings count, per batched responder, its RespondBatch calls and the findings they held.
	batches, findings map[string]int
	// respondBatch is the engine's largest batch (Config.RespondBatch).
	respondBatch int
	// awaitTime is the time the await stage's Await calls took, together.
	awaitTime time.Duration
}

// runFlow runs the example's wiring through the engine over the world and returns what it measured.
func runFlow(b testing.TB, cbc *carbonblacktest.Server, vm *vmraytest.Server, dir string, limits map[connector.Stage]int) flowResult {
	b.Helper()
	cfg := benchConfig(cbc, vm)
	cbc.ResetRequests()
	vm.ResetRequests()
	res := runConfig(b, cfg, dir, limits)
	if res.sum.FailureCount() != 0 || res.sum.Pending != 0 {
		b.Fatalf("summary %+v", res.sum)
	}
	return res
}

// batchObserver counts the batches of each batched responder and the actions of each responder (one per finding),
// and sums the time the await stage's component calls took.
type batchObserver struct {
	mu                sync.Mutex
	batches, findings map[string]int
	awaitTime         time.Duration
}

func (o *batchObserver) Add(c connector.Counter, n int, labels ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch c {
	case connector.CounterBatches:
		o.batches[labels[0]] += n
	case connector.CounterActions:
		o.findings[labels[0]] += n
	}
}

func (o *batchObserver) Latency(stage connector.Stage, _ string, _ string, d time.Duration) {
	if stage == connector.StageAwait {
		o.mu.Lock()
		o.awaitTime += d
		o.mu.Unlock()
	}
}

// runConfig runs the example's wiring with cfg through the engine, with the load benchmarks' poll setting and stage
// limits, and returns what it measured.
func runConfig(b testing.TB, cfg *Config, dir string, limits map[connector.Stage]int) flowResult {
	b.Helper()
	cfg.Run.Pipeline.PollInterval = benchPoll
	parts, err := build(context.Background(), cfg, runner.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	store, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	obs := &batchObserver{batches: map[string]int{}, findings: map[string]int{}}
	lim := func(s connector.Stage) connector.StageLimits { return connector.StageLimits{Concurrency: limits[s]} }
	batch := loadSize("LOADBENCH_BATCH", 100)
	p, err := connector.New(connector.Config{Store: store, Sources: parts.Sources, Analyzer: parts.Analyzer,
		Responders: parts.Responders, Lookup: lim(connector.StageLookup), Fetch: lim(connector.StageFetch),
		Submit: lim(connector.StageSubmit), Await: lim(connector.StageAwait), Respond: lim(connector.StageRespond),
		PollInterval: time.Second, Retention: -1, Logger: benchLogger(), RespondBatch: batch, Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	var ss *stackSampler
	if os.Getenv("LOADBENCH_STACKS") != "" {
		ss = startStackSampler(200 * time.Millisecond)
	}
	before := store.Stats()
	t0 := time.Now()
	sum, err := p.RunOnce(context.Background())
	elapsed := time.Since(t0)
	if ss != nil {
		fmt.Fprintf(os.Stderr, "goroutines by stage and activity (mean over samples):\n%s\n", ss.report())
	}
	if err != nil {
		b.Fatalf("run: %v, summary %+v", err, sum)
	}
	after := store.Stats()
	return flowResult{start: t0, elapsed: elapsed, sum: sum, respondBatch: batch, batches: obs.batches, findings: obs.findings,
		awaitTime: obs.awaitTime,
		store:     boltstore.Stats{Updates: after.Updates - before.Updates, Commits: after.Commits - before.Commits}}
}

// benchLogger logs the engine's records to standard error when LOADBENCH_LOG is set (for finding a bottleneck).
func benchLogger() *slog.Logger {
	if os.Getenv("LOADBENCH_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// benchPoll is the poll setting of the load benchmarks: the first wait between checks of an analysis (the analyzer
// stretches it to VMRay's pace).
const benchPoll = time.Second

// originalWait is the original connector's wait loop sleep (ANALYSIS_JOB_TIMEOUT/60 = 5 s).
const originalWait = 5 * time.Second

// runSequential runs the same components the way the original connector did: every call in turn, one file after
// another (lookup, download, submit), then one shared wait loop that sleeps originalWait and checks every pending
// submission in turn, and the responders one after another for each finished file.
func runSequential(b *testing.B, cbc *carbonblacktest.Server, vm *vmraytest.Server) (time.Duration, int) {
	b.Helper()
	ctx := context.Background()
	parts, err := build(ctx, benchConfig(cbc, vm), runner.Env{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	var evs []connector.Evidence
	var cp connector.Checkpoint
	for {
		batch, err := parts.Sources[0].Collect(ctx, cp)
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, batch.Evidence...)
		if batch.Next != nil {
			cp = batch.Next
		}
		if !batch.More {
			break
		}
	}
	fetcher := parts.Sources[0].(connector.Fetcher)
	type pending struct {
		f connector.Finding
		t connector.Ticket
	}
	var waiting []pending
	for _, ev := range evs {
		key, err := ev.Key()
		if err != nil {
			b.Fatal(err)
		}
		if _, found, err := parts.Analyzer.Lookup(ctx, ev); err != nil || found {
			b.Fatalf("lookup: found %v, %v", found, err)
		}
		s, err := fetcher.Fetch(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		t, err := parts.Analyzer.Submit(ctx, ev, s)
		s.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		waiting = append(waiting, pending{connector.Finding{Key: key, Evidence: ev}, t})
	}
	done := 0
	for len(waiting) > 0 {
		time.Sleep(originalWait)
		var still []pending
		for _, w := range waiting {
			v, err := parts.Analyzer.Await(ctx, w.t)
			if _, later := connector.RetryAfter(err); later {
				still = append(still, w)
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			w.f.Verdict = v
			for _, r := range parts.Responders {
				for _, f := range findings(r.Scope(), w.f) {
					if _, err := r.Respond(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
			}
			done++
		}
		waiting = still
	}
	return time.Since(t0), done
}

// findings are the targets of a responder for one file (the engine's rule, for the sequential flow).
func findings(s connector.Scope, f connector.Finding) []connector.Finding {
	if s == connector.ScopeEvidence {
		return []connector.Finding{f}
	}
	var out []connector.Finding
	seen := map[string]bool{}
	for i := range f.Evidence.Sightings {
		sg := f.Evidence.Sightings[i]
		t := sg.Key()
		if s == connector.ScopeDevice {
			t = sg.DeviceKey()
		}
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		g := f
		g.Sighting, g.Target = &sg, t
		out = append(out, g)
	}
	return out
}

// stageOf says which engine stage makes a call (by method and route, ids left out), or "" for collection.
func stageOf(call string) connector.Stage {
	switch {
	case strings.HasPrefix(call, "GET /rest/sample/sha256/"), strings.HasPrefix(call, "GET /rest/sample/md5/"),
		strings.HasPrefix(call, "GET /rest/sample/sha1/"):
		return connector.StageLookup
	case strings.Contains(call, "/cdc-file-storage"), strings.Contains(call, "/file/_download"):
		return connector.StageFetch
	case strings.HasPrefix(call, "POST /rest/sample/submit"):
		return connector.StageSubmit
	case strings.HasPrefix(call, "GET /rest/"):
		return connector.StageAwait
	case strings.Contains(call, "/search_jobs"), strings.Contains(call, "/processes/"):
		return ""
	}
	return connector.StageRespond
}

// batchParallel is how many per-finding calls carbonblackconn's batched responders make at once within one batch
// (its maxParallel).
const batchParallel = 64

// responderRoutes says, for the routes of the batched responders, which responder makes them and whether once per
// finding (made batchParallel at once within a batch) or once per batch (made one after another). Routes made once
// per run (the watchlist's and feed's listing and creation) are left out.
var responderRoutes = map[string]struct {
	responder  string
	perFinding bool
}{
	"GET /threathunter/watchlistmgr/v3/orgs/{}/reports/{}":       {"cbc-watchlist-report", true},
	"POST /threathunter/watchlistmgr/v3/orgs/{}/reports":         {"cbc-watchlist-report", true},
	"GET /threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}":    {"cbc-watchlist-report", false},
	"PUT /threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}":    {"cbc-watchlist-report", false},
	"POST /appservices/v6/orgs/{}/reputations/overrides":         {"cbc-ban", true},
	"POST /appservices/v6/orgs/{}/reputations/overrides/_search": {"cbc-ban", false},
	"POST /appservices/v6/orgs/{}/devices/_search":               {"cbc-quarantine", false},
	"POST /appservices/v6/orgs/{}/device_actions":                {"cbc-quarantine", false},
}

// boundTerm is one limit of the flow's rate: a stage's workers or a batched responder's batches.
type boundTerm struct {
	name string
	rate float64 // files per second
	how  string
}

// flowBound computes the flow's ceiling in files per second: the least of
//   - each worker stage s (lookup, fetch, submit, await): K_s / (c_s × L), with K_s its concurrency and c_s the
//     calls per file it made (a worker makes them one after another: Await's status check, analyses, sample, VTIs
//     and IOCs are serial);
//   - each batched responder r: B / (c_r × L), with B the largest batch (Config.RespondBatch, and at most the respond
//     stage's concurrency) and c_r the serial calls of a batch of B: its per-batch calls (measured per batch) plus
//     ceil(B / 64) rounds of its per-finding calls (measured per finding), since a responder's batches run one after
//     another;
//   - the respond stage's workers: K_respond / (Σ_r c_r × L), since an item holds a respond worker at least while
//     its own batch of each responder runs, in turn.
//
// The vendors' rate limits are not part of it: the fakes set none. calls is the measured calls per new file by
// stage; cbcCalls the Carbon Black calls by route (totals), for the responders.
func flowBound(calls map[connector.Stage]float64, cbcCalls map[string]int, res flowResult, limits map[connector.Stage]int,
	latency time.Duration) (float64, []boundTerm) {
	var terms []boundTerm
	L := latency.Seconds()
	for _, s := range []connector.Stage{connector.StageLookup, connector.StageFetch, connector.StageSubmit, connector.StageAwait} {
		if c := calls[s]; c > 0 {
			terms = append(terms, boundTerm{string(s), float64(limits[s]) / (c * L),
				fmt.Sprintf("%d / (%.3f calls × %s)", limits[s], c, latency)})
		}
	}
	perBatch, perFinding := map[string]float64{}, map[string]float64{}
	for route, c := range cbcCalls {
		rr, ok := responderRoutes[route]
		if !ok {
			continue
		}
		if rr.perFinding {
			perFinding[rr.responder] += float64(c) / float64(max(res.findings[rr.responder], 1))
		} else {
			perBatch[rr.responder] += float64(c) / float64(max(res.batches[rr.responder], 1))
		}
	}
	B := min(res.respondBatch, limits[connector.StageRespond])
	rounds := float64((B + batchParallel - 1) / batchParallel)
	serial := 0.0
	for _, r := range slices.Sorted(maps.Keys(res.batches)) {
		c := perBatch[r] + rounds*perFinding[r]
		serial += c
		terms = append(terms, boundTerm{r, float64(B) / (c * L), fmt.Sprintf(
			"%d / ((%.2f per batch + %.0f × %.2f per finding) × %s), mean batch %.1f findings", B, perBatch[r], rounds,
			perFinding[r], latency, float64(res.findings[r])/float64(max(res.batches[r], 1)))})
	}
	if serial > 0 {
		terms = append(terms, boundTerm{"respond workers", float64(limits[connector.StageRespond]) / (serial * L),
			fmt.Sprintf("%d / (%.2f serial calls × %s)", limits[connector.StageRespond], serial, latency)})
	}
	best := 0.0
	for _, t := range terms {
		if best == 0 || t.rate < best {
			best = t.rate
		}
	}
	return best, terms
}

// phases are the times of a run's verdicts (the last VMRay call of each file, its IOCs), measured from its start.
type phases struct {
	firstLookup, firstVerdict, lastVerdict, end time.Duration
	// steady is the rate of verdicts between the 10th and the 90th percentile, middle between the first and last.
	steady, middle float64
}

// runPhases measures the fill (start to first verdict), the drain (last verdict to the end) and the rates between.
func runPhases(reqs []vmraytest.Request, start time.Time, elapsed time.Duration) phases {
	var ts []time.Time
	var firstLookup time.Time
	for _, r := range reqs {
		switch {
		case strings.HasSuffix(r.Path, "/iocs"):
			ts = append(ts, r.Time)
		case strings.HasPrefix(r.Path, "/rest/sample/sha256/") && (firstLookup.IsZero() || r.Time.Before(firstLookup)):
			firstLookup = r.Time
		}
	}
	if len(ts) < 10 {
		return phases{}
	}
	slices.SortFunc(ts, time.Time.Compare)
	lo, hi := len(ts)/10, len(ts)*9/10
	return phases{firstLookup: firstLookup.Sub(start), firstVerdict: ts[0].Sub(start), lastVerdict: ts[len(ts)-1].Sub(start),
		end:    elapsed,
		steady: float64(hi-lo) / ts[hi].Sub(ts[lo]).Seconds(),
		middle: float64(len(ts)-1) / ts[len(ts)-1].Sub(ts[0]).Seconds()}
}

// BenchmarkSideBySide runs, in one benchmark and on the same kind of world (every file new and malicious, 1 s
// analyses, watchlist, ban and quarantine on, 100 ms added to every request), the example's flow over LOADBENCH_FILES
// files (default 1,000) and a sequential flow shaped like the original over LOADBENCH_SEQ_FILES files (default 30),
// and reports both rates, their ratio, the flow's computed bound (see flowBound) and its share of it over the whole
// run, between the first and last verdicts and in steady state, the fill and drain times, the calls per new file per
// vendor and the store writes per file.
func BenchmarkSideBySide(b *testing.B) {
	n, m := loadSize("LOADBENCH_FILES", 1000), loadSize("LOADBENCH_SEQ_FILES", 30)
	const latency = 100 * time.Millisecond
	for range b.N {
		cbc, vm := benchWorld(b, m)
		addLatency(cbc, vm, latency)
		seqTime, seqDone := runSequential(b, cbc, vm)
		if seqDone != m {
			b.Fatalf("sequential flow finished %d of %d files", seqDone, m)
		}
		seqRate := float64(m) / seqTime.Seconds()

		cbc, vm = benchWorld(b, n)
		// Every request is kept (without its body), whatever the size: the calls per file, the bound and the fill
		// are read from the recordings, and a fake keeps 100,000 by default.
		cbc.SetRecording(carbonblacktest.Recording{MaxRequests: 16*n + 1000, MaxBodyBytes: -1})
		vm.SetRecording(vmraytest.Recording{MaxRequests: 16*n + 1000, MaxBodyBytes: -1})
		addLatency(cbc, vm, latency)
		res := runFlow(b, cbc, vm, b.TempDir(), stageLimits)
		if res.sum.Analysed != n {
			b.Fatalf("flow analysed %d of %d", res.sum.Analysed, n)
		}
		rate := float64(n) / res.elapsed.Seconds()
		cbcCalls, vmCalls := callsByRoute(cbc.Requests()), callsByRoute(vm.Requests())
		perStage := map[connector.Stage]float64{}
		cbcTotal, vmTotal := 0, 0
		for call, c := range cbcCalls {
			perStage[stageOf(call)] += float64(c) / float64(n)
			cbcTotal += c
		}
		for call, c := range vmCalls {
			perStage[stageOf(call)] += float64(c) / float64(n)
			vmTotal += c
		}
		ceiling, terms := flowBound(perStage, cbcCalls, res, stageLimits, latency)
		ph := runPhases(vm.Requests(), res.start, res.elapsed)
		if os.Getenv("LOADBENCH_TIMELINE") != "" {
			for _, r := range cbc.Requests() {
				if d := r.Time.Sub(res.start); d < ph.firstLookup {
					fmt.Fprintf(os.Stderr, "%6.3f s %s %s\n", d.Seconds(), r.Method, route(r.Path))
				}
			}
		}
		fixed := ph.firstVerdict + (ph.end - ph.lastVerdict)
		b.ReportMetric(rate, "files/s")
		b.ReportMetric(seqRate, "seq-files/s")
		b.ReportMetric(rate/seqRate, "x-sequential")
		b.ReportMetric(ceiling, "bound-files/s")
		b.ReportMetric(100*rate/ceiling, "%-of-bound")
		b.ReportMetric(100*ph.middle/ceiling, "%-of-bound-verdicts")
		b.ReportMetric(100*ph.steady/ceiling, "%-of-bound-steady")
		b.ReportMetric(ph.firstVerdict.Seconds(), "fill-s")
		b.ReportMetric((ph.end - ph.lastVerdict).Seconds(), "drain-s")
		b.ReportMetric(float64(cbcTotal)/float64(n), "cbc-calls/file")
		b.ReportMetric(float64(vmTotal)/float64(n), "vmray-calls/file")
		b.ReportMetric(float64(res.store.Updates)/float64(n), "store-writes/file")
		b.ReportMetric(float64(res.store.Commits)/float64(n), "store-commits/file")
		b.Logf("flow: %d files in %s (%.1f files/s); sequential: %d files in %s (%.2f files/s); %.0fx",
			n, res.elapsed.Round(time.Millisecond), rate, m, seqTime.Round(time.Millisecond), seqRate, rate/seqRate)
		var lines []string
		for _, t := range terms {
			lines = append(lines, fmt.Sprintf("%s %.1f = %s", t.name, t.rate, t.how))
		}
		b.Logf("bound %.1f files/s, the least of: %s", ceiling, strings.Join(lines, "; "))
		b.Logf("reached %.1f%% over the whole run, %.1f%% between the first and last verdicts (%.1f files/s), %.1f%% in steady state (%.1f files/s between the 10th and 90th percentile of verdicts)",
			100*rate/ceiling, 100*ph.middle/ceiling, ph.middle, 100*ph.steady/ceiling, ph.steady)
		b.Logf("fill %.2f s (first lookup at %.2f s, first verdict at %.2f s), drain %.2f s (last verdict to the end): %.1f%% of the run; fill and drain under 5%% of a run at the bound takes %d files or more",
			ph.firstVerdict.Seconds(), ph.firstLookup.Seconds(), ph.firstVerdict.Seconds(), (ph.end - ph.lastVerdict).Seconds(),
			100*fixed.Seconds()/res.elapsed.Seconds(), int(19*fixed.Seconds()*ceiling)+1)
		// The await stage's calls took this long each on average (the added 100 ms, plus both fakes' and the
		// client's work on a shared machine): the bound at that latency is what the machine allowed.
		effective := res.awaitTime.Seconds() / (perStage[connector.StageAwait] * float64(n))
		b.ReportMetric(1000*effective, "await-ms/call")
		b.ReportMetric(100*ph.steady*perStage[connector.StageAwait]*effective/float64(stageLimits[connector.StageAwait]),
			"%-of-await-busy-steady")
		b.Logf("await calls took %.1f ms each on average (%.1f ms over the added latency): at that latency the await stage carries %.1f files/s, and the steady state reached %.1f%% of it",
			1000*effective, 1000*(effective-latency.Seconds()), float64(stageLimits[connector.StageAwait])/(perStage[connector.StageAwait]*effective),
			100*ph.steady*perStage[connector.StageAwait]*effective/float64(stageLimits[connector.StageAwait]))
		b.Logf("store: %.2f writes and %.3f commits per file; batches %v, findings %v", float64(res.store.Updates)/float64(n),
			float64(res.store.Commits)/float64(n), res.batches, res.findings)
		b.Logf("CBC calls per file %s", perFile(cbcCalls, n))
		b.Logf("VMRay calls per file %s", perFile(vmCalls, n))
	}
}

// fakeworldConfig is the example's configuration for a fakeworld whose environment (the export lines of -env-file)
// is in the file at path.
func fakeworldConfig(b *testing.B, path string) *Config {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "=")
		if ok && strings.HasPrefix(k, "CBC_VMRAY_") {
			env[k] = strings.Trim(v, "'")
		}
	}
	c := defaults()
	c.CarbonBlack.URL, c.CarbonBlack.OrgKey = env["CBC_VMRAY_CARBONBLACK_URL"], env["CBC_VMRAY_CARBONBLACK_ORG_KEY"]
	c.CarbonBlack.APIID, c.CarbonBlack.APISecret = env["CBC_VMRAY_CARBONBLACK_API_ID"], config.NewSecret(env["CBC_VMRAY_CARBONBLACK_API_SECRET"])
	c.CarbonBlack.DataSources = []string{"process"}
	c.VMRay.URL, c.VMRay.APIKey = env["CBC_VMRAY_VMRAY_URL"], config.NewSecret(env["CBC_VMRAY_VMRAY_API_KEY"])
	c.Ban.Enabled, c.Quarantine.Enabled = true, true
	if c.CarbonBlack.URL == "" || c.VMRay.URL == "" {
		b.Fatalf("%s names no Carbon Black or VMRay URL for cbc-vmray", path)
	}
	return c
}

// BenchmarkScale runs the example's flow without added latency over LOADBENCH_SCALE files (default 1,000; the
// documented figures use 1,000, 10,000 and 100,000) and reports CPU time, bytes allocated, peak heap and state size
// per file. With LOADBENCH_FAKEWORLD_ENV naming the -env-file of a fakeworld started with -items LOADBENCH_SCALE,
// the fakes run in that process and the figures are the connector's alone; otherwise the fakes run in this process
// and the figures include them.
func BenchmarkScale(b *testing.B) {
	n := loadSize("LOADBENCH_SCALE", 1000)
	fakeworld := os.Getenv("LOADBENCH_FAKEWORLD_ENV")
	for range b.N {
		var cfg *Config
		if fakeworld != "" {
			cfg = fakeworldConfig(b, fakeworld)
		} else {
			cbc, vm := benchWorld(b, n)
			// Count requests per route, keep none: memory should be the world's and the connector's.
			cbc.SetRecording(carbonblacktest.Recording{MaxRequests: -1})
			vm.SetRecording(vmraytest.Recording{MaxRequests: -1})
			cfg = benchConfig(cbc, vm)
		}
		dir := b.TempDir()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		var peak atomic.Uint64
		stop, sampled := make(chan struct{}), make(chan struct{})
		// LOADBENCH_HEAPPROFILE_AT writes the heap profile this far into the run (what is live in the middle of
		// it) instead of at its end.
		profilePath, profileAt := os.Getenv("LOADBENCH_HEAPPROFILE"), os.Getenv("LOADBENCH_HEAPPROFILE_AT")
		var midProfile *time.Timer
		midProfileErr := make(chan error, 1)
		if profilePath != "" && profileAt != "" {
			d, err := time.ParseDuration(profileAt)
			if err != nil {
				b.Fatalf("LOADBENCH_HEAPPROFILE_AT: %v", err)
			}
			midProfile = time.AfterFunc(d, func() { midProfileErr <- writeHeapProfile(profilePath) })
		}
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				peak.Store(max(peak.Load(), ms.HeapInuse))
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		res := runConfig(b, cfg, dir, map[connector.Stage]int{connector.StageLookup: 16, connector.StageFetch: 16,
			connector.StageSubmit: 16, connector.StageAwait: 32, connector.StageRespond: 64})
		elapsed, sum := res.elapsed, res.sum
		close(stop)
		<-sampled
		cpu := cpuTime() - cpu0
		switch {
		case midProfile != nil:
			if midProfile.Stop() {
				b.Errorf("the run ended before LOADBENCH_HEAPPROFILE_AT (%s): no heap profile written", profileAt)
			} else if err := <-midProfileErr; err != nil {
				b.Fatal(err)
			}
		case profilePath != "":
			if err := writeHeapProfile(profilePath); err != nil {
				b.Fatal(err)
			}
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// A fakeworld also holds its demo files (one of them missing from the binary store, a dead letter).
		if sum.Analysed < n || fakeworld == "" && (sum.Analysed != n || sum.FailureCount() != 0) {
			b.Fatalf("analysed %d of %d: %+v", sum.Analysed, n, sum)
		}
		st, err := os.Stat(filepath.Join(dir, "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "files/s")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/file")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1024/float64(n), "alloc-KiB/file")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(st.Size())/1024/float64(n), "state-KiB/file")
		sizes, err := bucketSizes(filepath.Join(dir, "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(sizes)) {
			parts = append(parts, fmt.Sprintf("%s %.0f B", name, float64(sizes[name])/float64(n)))
		}
		b.Logf("%d files: state file %.1f KiB per file; live keys and values per file: %s", n,
			float64(st.Size())/1024/float64(n), strings.Join(parts, ", "))
	}
}

// writeHeapProfile writes the live heap (after a collection) to path, for finding what a run retains.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bucketSizes sums the key and value bytes of every top-level bucket of a bbolt file.
func bucketSizes(path string) (map[string]int, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := map[string]int{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				out[string(name)] += len(k) + len(v)
				return nil
			})
		})
	})
	return out, err
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
