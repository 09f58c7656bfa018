package connector_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// slowAnalyzer takes latency for every analysis: each Await call lasts that long, so the engine's await concurrency
// K bounds the throughput at K/L.
type slowAnalyzer struct {
	*connectortest.Analyzer
	latency time.Duration
}

func (s slowAnalyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	timer := time.NewTimer(s.latency)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return connector.Verdict{}, ctx.Err()
	case <-timer.C:
	}
	return s.Analyzer.Await(ctx, t)
}

// throughputRun pushes n new files through a pipeline whose analyzer takes latency per analysis, with concurrency k
// in every stage, and returns the files per second it reached.
func throughputRun(tb testing.TB, store connector.Store, n, k int, latency time.Duration) float64 {
	tb.Helper()
	src := connectortest.NewSource("edr")
	src.BatchSize = 50
	for i := range n {
		h := src.AddFile(fmt.Appendf(nil, "bench file %d %d", i, time.Now().UnixNano()))
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
			Sightings: []connector.Sighting{{DeviceID: fmt.Sprint(i % 50), ProcessGUID: fmt.Sprint("g", i)}}})
	}
	a := connectortest.NewAnalyzer("sandbox")
	a.Default = connector.Malicious
	r := connectortest.NewResponder("note", connector.ScopeSighting)
	limits := connector.StageLimits{Concurrency: k}
	cfg := connector.Config{Store: store, Analyzer: slowAnalyzer{a, latency}, Sources: []connector.Source{src}, Responders: []connector.Responder{r},
		Lookup: limits, Fetch: limits, Submit: limits, Await: limits, Respond: limits, Retention: -1}
	p, err := connector.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	sum, err := p.RunOnce(context.Background())
	elapsed := time.Since(start)
	if err != nil || sum.Analysed != n || len(r.Effects()) != n {
		tb.Fatalf("run: %v; analysed %d of %d, %d actions", err, sum.Analysed, n, len(r.Effects()))
	}
	return float64(n) / elapsed.Seconds()
}

// BenchmarkThroughput measures files per second against the bound K/L, for K = 1 (the seeds' sequential
// behaviour) and larger K.
func BenchmarkThroughput(b *testing.B) {
	const latency = 100 * time.Millisecond
	for _, k := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("K=%d/L=%s", k, latency), func(b *testing.B) {
			n := 16 * k
			var rate float64
			for b.Loop() {
				rate = throughputRun(b, memstore.New(), n, k, latency)
			}
			bound := float64(k) / latency.Seconds()
			b.ReportMetric(rate, "files/s")
			b.ReportMetric(100*rate/bound, "%ofK/L")
		})
	}
}

// concurrentAwaits wraps slowAnalyzer and records the most Await calls under way at once.
type concurrentAwaits struct {
	slowAnalyzer
	now, peak atomic.Int64
}

func (c *concurrentAwaits) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return c.slowAnalyzer.Await(ctx, t)
}

// TestThroughputReachesTheConcurrencyBound is the benchmark's claim as a test, by counts rather than rates: with
// await concurrency K, K analyses are awaited at once (never more), and in the bubble's fake clock the run takes
// about n/K analysis latencies, not n.
func TestThroughputReachesTheConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, k, latency = 80, 8, 100 * time.Millisecond
		src := connectortest.NewSource("edr")
		src.BatchSize = 50
		for i := range n {
			h := src.AddFile(fmt.Appendf(nil, "bound file %d", i))
			src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
				Sightings: []connector.Sighting{{DeviceID: fmt.Sprint(i % 50), ProcessGUID: fmt.Sprint("g", i)}}})
		}
		a := connectortest.NewAnalyzer("sandbox")
		a.Default = connector.Malicious
		ca := &concurrentAwaits{slowAnalyzer: slowAnalyzer{a, latency}}
		r := connectortest.NewResponder("note", connector.ScopeSighting)
		limits := connector.StageLimits{Concurrency: k}
		p, err := connector.New(connector.Config{Store: memstore.New(), Analyzer: ca,
			Sources: []connector.Source{src}, Responders: []connector.Responder{r},
			Lookup: limits, Fetch: limits, Submit: limits, Await: limits, Respond: limits, Retention: -1})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		sum, err := p.RunOnce(context.Background())
		elapsed := time.Since(start)
		if err != nil || sum.Analysed != n || len(r.Effects()) != n {
			t.Fatalf("run: %v; analysed %d of %d, %d actions", err, sum.Analysed, n, len(r.Effects()))
		}
		if got := ca.peak.Load(); got != k {
			t.Errorf("at most %d Awaits ran at once, want exactly K = %d", got, k)
		}
		// Fake time advances only while every goroutine waits, so this is exact: n/K rounds of one latency each,
		// plus at most one round of slack for the pipeline filling up.
		if bound := time.Duration(n/k+1) * latency; elapsed > bound {
			t.Errorf("the run took %s of fake time, want at most %s (n/K+1 latencies)", elapsed, bound)
		}
	})
}

// countingStore counts transactions.
type countingStore struct {
	connector.Store
	updates, views atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(connector.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

func (c *countingStore) View(ctx context.Context, fn func(connector.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// BenchmarkStoreOverhead measures the cost per new file of the durable state, with an analyzer that answers at
// once, on memstore and on boltstore (with and without fsync).
func BenchmarkStoreOverhead(b *testing.B) {
	const n, k = 200, 8
	for _, c := range []struct {
		name string
		open func(b *testing.B) connector.Store
	}{
		{"memstore", func(*testing.B) connector.Store { return memstore.New() }},
		{"boltstore", func(b *testing.B) connector.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"boltstore-nosync", func(b *testing.B) connector.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var per time.Duration
			var updates, views float64
			for b.Loop() {
				cs := &countingStore{Store: c.open(b)}
				start := time.Now()
				throughputRun(b, cs, n, k, 0)
				per = time.Since(start) / n
				updates, views = float64(cs.updates.Load())/n, float64(cs.views.Load())/n
				cs.Close()
			}
			b.ReportMetric(float64(per.Microseconds()), "µs/file")
			b.ReportMetric(updates, "updates/file")
			b.ReportMetric(views, "views/file")
		})
	}
}
