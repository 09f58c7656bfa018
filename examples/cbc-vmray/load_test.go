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
// per request (the bound below is computed from them).
var stageLimits = map[connector.Stage]int{connector.StageLookup: 32, connector.StageFetch: 32, connector.StageSubmit: 32,
	connector.StageAwait: 64, connector.StageRespond: 256}

// runFlow runs the example's wiring through the engine over the world and returns the elapsed time and summary.
func runFlow(b testing.TB, cbc *carbonblacktest.Server, vm *vmraytest.Server, dir string, limits map[connector.Stage]int) (time.Duration, connector.Summary) {
	b.Helper()
	cfg := benchConfig(cbc, vm)
	cbc.ResetRequests()
	vm.ResetRequests()
	elapsed, sum := runConfig(b, cfg, dir, limits)
	if sum.FailureCount() != 0 || sum.Pending != 0 {
		b.Fatalf("summary %+v", sum)
	}
	return elapsed, sum
}

// runConfig runs the example's wiring with cfg through the engine, with the load benchmarks' poll setting and stage
// limits, and returns the elapsed time and summary.
func runConfig(b testing.TB, cfg *Config, dir string, limits map[connector.Stage]int) (time.Duration, connector.Summary) {
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
	lim := func(s connector.Stage) connector.StageLimits { return connector.StageLimits{Concurrency: limits[s]} }
	p, err := connector.New(connector.Config{Store: store, Sources: parts.Sources, Analyzer: parts.Analyzer,
		Responders: parts.Responders, Lookup: lim(connector.StageLookup), Fetch: lim(connector.StageFetch),
		Submit: lim(connector.StageSubmit), Await: lim(connector.StageAwait), Respond: lim(connector.StageRespond),
		PollInterval: time.Second, Retention: -1, Logger: benchLogger(), RespondBatch: loadSize("LOADBENCH_BATCH", 0)})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	sum, err := p.RunOnce(context.Background())
	elapsed := time.Since(t0)
	if err != nil {
		b.Fatalf("run: %v, summary %+v", err, sum)
	}
	return elapsed, sum
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

// bound is the flow's computed ceiling in files per second: min over stages of K / (calls per file × latency).
func bound(calls map[connector.Stage]float64, limits map[connector.Stage]int, latency time.Duration) (float64, connector.Stage) {
	best, by := 0.0, connector.Stage("")
	for s, c := range calls {
		if s == "" || c == 0 {
			continue
		}
		b := float64(limits[s]) / (c * latency.Seconds())
		if best == 0 || b < best {
			best, by = b, s
		}
	}
	return best, by
}

// BenchmarkSideBySide runs, in one benchmark and on the same kind of world (every file new and malicious, 1 s
// analyses, watchlist, ban and quarantine on, 100 ms added to every request), the example's flow over LOADBENCH_FILES
// files (default 1,000) and a sequential flow shaped like the original over LOADBENCH_SEQ_FILES files (default 30),
// and reports both rates, their ratio, the flow's computed bound and the calls per new file per vendor.
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
		addLatency(cbc, vm, latency)
		elapsed, sum := runFlow(b, cbc, vm, b.TempDir(), stageLimits)
		if sum.Analysed != n {
			b.Fatalf("flow analysed %d of %d", sum.Analysed, n)
		}
		rate := float64(n) / elapsed.Seconds()
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
		ceiling, by := bound(perStage, stageLimits, latency)
		steady := steadyRate(vm.Requests())
		b.ReportMetric(rate, "files/s")
		b.ReportMetric(seqRate, "seq-files/s")
		b.ReportMetric(rate/seqRate, "x-sequential")
		b.ReportMetric(ceiling, "bound-files/s")
		b.ReportMetric(100*rate/ceiling, "%-of-bound")
		b.ReportMetric(100*steady/ceiling, "%-of-bound-steady")
		b.ReportMetric(float64(cbcTotal)/float64(n), "cbc-calls/file")
		b.ReportMetric(float64(vmTotal)/float64(n), "vmray-calls/file")
		b.Logf("flow: %d files in %s (%.1f files/s); sequential: %d files in %s (%.2f files/s); %.0fx",
			n, elapsed.Round(time.Millisecond), rate, m, seqTime.Round(time.Millisecond), seqRate, rate/seqRate)
		b.Logf("bound %.1f files/s (stage %s; calls per file by stage %v); reached %.1f%% over the whole run, %.1f%% in steady state (%.1f files/s between the 10th and 90th percentile of verdicts)",
			ceiling, by, perStage, 100*rate/ceiling, 100*steady/ceiling, steady)
		b.Logf("CBC calls per file %s", perFile(cbcCalls, n))
		b.Logf("VMRay calls per file %s", perFile(vmCalls, n))
	}
}

// steadyRate is the rate at which files got their verdicts between the 10th and the 90th percentile (the last VMRay
// call of each file, its IOCs), so pipeline fill and drain are left out.
func steadyRate(reqs []vmraytest.Request) float64 {
	var ts []time.Time
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, "/iocs") {
			ts = append(ts, r.Time)
		}
	}
	if len(ts) < 10 {
		return 0
	}
	slices.SortFunc(ts, time.Time.Compare)
	lo, hi := len(ts)/10, len(ts)*9/10
	return float64(hi-lo) / ts[hi].Sub(ts[lo]).Seconds()
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
		elapsed, sum := runConfig(b, cfg, dir, map[connector.Stage]int{connector.StageLookup: 16, connector.StageFetch: 16,
			connector.StageSubmit: 16, connector.StageAwait: 32, connector.StageRespond: 64})
		close(stop)
		<-sampled
		cpu := cpuTime() - cpu0
		if path := os.Getenv("LOADBENCH_HEAPPROFILE"); path != "" {
			writeHeapProfile(b, path)
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
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
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
