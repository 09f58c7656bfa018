package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// benchLatency is the fixed time every VMRay analysis takes.
const benchLatency = time.Second

// benchWorld seeds n distinct new files, each run by one process on one of
// ten hosts, into fresh fakes; VMRay finds every file malicious after
// benchLatency.
func benchWorld(b testing.TB, n int) (*carbonblacktest.Server, *vmraytest.Server) {
	b.Helper()
	cbc, vm, _ := flowWorld(b, n, 10, benchLatency)
	return cbc, vm
}

// flowWorld seeds n distinct new files, file i run by one process on host
// i mod hosts, into fresh fakes; VMRay finds every file malicious after
// latency. hostOf maps each file's SHA-256 to its host's device id.
func flowWorld(b testing.TB, n, hosts int, latency time.Duration, vmOpts ...vmraytest.Option) (cbc *carbonblacktest.Server,
	vm *vmraytest.Server, hostOf map[string]int64) {
	b.Helper()
	cbc, err := carbonblacktest.New(carbonblacktest.WithJobPolls(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cbc.Close)
	vm, err = vmraytest.New(append([]vmraytest.Option{vmraytest.WithTiming(vmraytest.Timing{InWorkFor: latency}),
		vmraytest.WithDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 90,
			IOCs: vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: common(vmray.VerdictMalicious), Domain: "c2.bench.example"}}}})},
		vmOpts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { vm.Close() })
	var devs []carbonblack.Device
	for i := range hosts {
		devs = append(devs, cbc.AddDevice(carbonblack.Device{Name: fmt.Sprintf("WS-%04d", i), OS: "WINDOWS"}))
	}
	hostOf = map[string]int64{}
	t0 := time.Now().Add(-time.Hour)
	for i := range n {
		// Spread over 50 minutes: one search job returns at most 10,000 processes, and the source splits a
		// window down to a second, not below.
		start := carbonblack.Timestamp{Time: t0.Add(time.Duration(i) * 50 * time.Minute / time.Duration(n))}
		sha, err := cbc.AddBinary(carbonblacktest.Binary{Content: fmt.Appendf(nil, "MZ bench sample %06d", i)})
		if err != nil {
			b.Fatal(err)
		}
		d := devs[i%len(devs)]
		hostOf[sha] = d.ID
		cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: "WINDOWS",
			ProcessGUID: fmt.Sprintf("bench-%06d", i), ProcessHash: []string{sha}, ProcessSHA256: sha,
			ProcessName: fmt.Sprintf(`c:\bench\s%06d.exe`, i), ProcessPID: carbonblack.IntList{int64(1000 + i)},
			ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: start, DeviceTimestamp: start, BackendTimestamp: start})
	}
	return cbc, vm, hostOf
}

// benchConfig is the example's configuration against the fakes: process
// search only, watchlist report, ban and quarantine on.
func benchConfig(cbc *carbonblacktest.Server, vm *vmraytest.Server) *Config {
	c := defaults()
	c.CarbonBlack.URL, c.CarbonBlack.OrgKey, c.CarbonBlack.APIID = cbc.URL(), cbc.OrgKey(), cbc.APIID()
	c.CarbonBlack.APISecret = config.NewSecret(cbc.APISecret())
	c.CarbonBlack.DataSources = []string{"process"}
	c.VMRay.URL, c.VMRay.APIKey = vm.URL(), config.NewSecret(vmraytest.DefaultAPIKey)
	c.Ban.Enabled, c.Quarantine.Enabled = true, true
	return c
}

// BenchmarkFlow runs the whole CBC -> VMRay -> CBC flow over 1,000 new files
// with a fixed analysis latency of one second, with the engine's default
// concurrency, with every stage at 1, and with every stage at 16. It
// reports files per second and the API calls each file cost.
func BenchmarkFlow(b *testing.B) {
	const n = 1000
	for _, tc := range []struct {
		name string
		conc int
	}{{"defaults", 0}, {"concurrency=1", 1}, {"concurrency=16", 16}} {
		b.Run(tc.name, func(b *testing.B) {
			var elapsed time.Duration
			var cbcCalls, vmCalls map[string]int
			for range b.N {
				b.StopTimer()
				cbc, vm := benchWorld(b, n)
				parts, err := build(context.Background(), benchConfig(cbc, vm), runner.Env{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				store, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				lim := connector.StageLimits{Concurrency: tc.conc}
				p, err := connector.New(connector.Config{Store: store, Sources: parts.Sources, Analyzer: parts.Analyzer,
					Responders: parts.Responders, Lookup: lim, Fetch: lim, Submit: lim, Await: lim, Respond: lim,
					PollInterval: 100 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				cbc.ResetRequests()
				vm.ResetRequests()
				b.StartTimer()
				t0 := time.Now()
				sum, err := p.RunOnce(context.Background())
				elapsed += time.Since(t0)
				b.StopTimer()
				store.Close()
				if err != nil || sum.Submitted != n || sum.Verdicts[connector.Malicious] != n || sum.FailureCount() != 0 {
					b.Fatalf("run: %v, summary %+v", err, sum)
				}
				cbcCalls, vmCalls = callsByRoute(cbc.Requests()), callsByRoute(vm.Requests())
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "files/s")
			total := 0
			for _, c := range []map[string]int{cbcCalls, vmCalls} {
				for _, v := range c {
					total += v
				}
			}
			b.ReportMetric(float64(total)/n, "calls/file")
			b.Logf("%s: CBC calls per file %s; VMRay calls per file %s", tc.name, perFile(cbcCalls, n), perFile(vmCalls, n))
		})
	}
}

// callsByRoute groups requests by method and path with ids left out (both
// fakes record the same request type).
func callsByRoute(reqs []carbonblacktest.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Method+" "+route(r.Path)]++
	}
	return out
}

// route replaces the ids in a path by "{}".
func route(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if len(p) >= 8 && strings.ContainsAny(p, "0123456789") || len(p) >= 16 && !strings.ContainsAny(p, "-_") || isNumber(p) {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func perFile(calls map[string]int, n int) string {
	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%.3f; ", k, float64(calls[k])/float64(n))
	}
	return b.String()
}

// BenchmarkLargeSample streams one 1 GiB incompressible sample from the
// UBS fake (zip download, filedata entry spooled to disk while hashed)
// to the VMRay fake (multipart upload) and reports the peak growth of the
// heap in use above its level before the transfer.
func BenchmarkLargeSample(b *testing.B) {
	const size = 1 << 30
	for range b.N {
		b.StopTimer()
		cbc, err := carbonblacktest.New(carbonblacktest.WithTruncation(0))
		if err != nil {
			b.Fatal(err)
		}
		seed := uint64(time.Now().UnixNano())
		sha, err := cbc.AddBinary(carbonblacktest.Binary{Size: size, Open: func() io.Reader {
			return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed)}), size)
		}})
		if err != nil {
			b.Fatal(err)
		}
		vm, err := vmraytest.New(vmraytest.WithSampleStoreLimit(64 << 10))
		if err != nil {
			b.Fatal(err)
		}
		// The client's default cap on samples is 1 GiB; the zip around one is a little larger.
		bin, err := carbonblackconn.NewBinaries(cbc.Client(carbonblack.WithMaxSampleBytes(2<<30)),
			carbonblackconn.BinariesOptions{SpoolDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		an, err := vmrayconn.New(vm.Client(), vmrayconn.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		ctx := context.Background()
		s, err := bin.Fetch(ctx, sha, "big.exe")
		if err != nil {
			b.Fatal(err)
		}
		ev := connector.Evidence{Hashes: connector.Hashes{SHA256: sha}, FileName: "big.exe"}
		if _, err := an.Submit(ctx, ev, s); err != nil {
			b.Fatal(err)
		}
		s.Body.Close()
		b.StopTimer()
		close(stop)
		<-sampled
		if got, ok := vm.SampleByHash(sha); !ok || got.SHA256 != sha {
			b.Fatalf("VMRay did not receive the sample intact: %+v", got)
		}
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), before.HeapInuse))/(1<<20), "MiB-heap-growth")
		b.SetBytes(size)
		cbc.Close()
		vm.Close()
	}
}
