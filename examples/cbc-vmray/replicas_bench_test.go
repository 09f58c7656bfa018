package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// Replica benchmark defaults: files, the fixed analysis time and the items one replica holds
// (SOARKIT_BENCH_FILES, SOARKIT_BENCH_LATENCY, SOARKIT_BENCH_CLAIMED override them).
const (
	replicaBenchFiles   = 400
	replicaBenchLatency = 200 * time.Millisecond
	replicaBenchClaimed = 40
	// benchSubmit bounds a submission and the wait for one that may still be applied (vmrayconn's SettleDelay).
	benchSubmit = 5 * time.Second
)

// roundTrips counts the statements (each one round trip) and the transactions the replicas send.
type roundTrips struct{ statements, transactions atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	if strings.HasPrefix(strings.ToLower(d.SQL), "begin") {
		c.transactions.Add(1)
	}
	return ctx
}

func (c *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkReplicas runs 1, 2 and 4 in-process replicas of the connector (each with its own clients, pool and
// claims) on one PostgreSQL schema over 400 new files, each analysed by VMRay in a fixed 200 ms, with VMRay's rate
// limit off and on (ratelimit=N: N requests/s shared by all replicas, burst N/2). It reports files per second, the
// bound the claims set, and the database statements and transactions per file. The bound: a replica holds at most
// Replicas.MaxClaimed items (40, the default with the default stage concurrencies) and each spends at least the
// analysis time in work, so n replicas move at most n × 40 / 200 ms files per second (VMRay's results are polled, so
// an await worker is not held during an analysis). SOARKIT_BENCH_RATELIMIT sets N (default 100; 0 runs only without a limit).
func BenchmarkReplicas(b *testing.B) {
	dbURL := pgstoretest.URL(b)
	files, claimed := envInt(b, "SOARKIT_BENCH_FILES", replicaBenchFiles), envInt(b, "SOARKIT_BENCH_CLAIMED", replicaBenchClaimed)
	latency := replicaBenchLatency
	if v := os.Getenv("SOARKIT_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SOARKIT_BENCH_LATENCY: %v", err)
		}
		latency = d
	}
	limits := []int{0}
	if n := envInt(b, "SOARKIT_BENCH_RATELIMIT", 100); n > 0 {
		limits = append(limits, n)
	}
	for _, limit := range limits {
		for _, replicas := range []int{1, 2, 4} {
			name := fmt.Sprintf("replicas=%d/ratelimit=%d", replicas, limit)
			b.Run(name, func(b *testing.B) {
				var elapsed time.Duration
				var statements, transactions float64
				for range b.N {
					b.StopTimer()
					var opts []vmraytest.Option
					if limit > 0 {
						opts = append(opts, vmraytest.WithRateLimit(float64(limit), limit/2))
					}
					cbc, vm, _ := flowWorld(b, files, 10, latency, opts...)
					schema := pgstoretest.NewSchema(b)
					pgstoretest.Open(b, schema, pgstore.Options{}).Close() // migrate outside the measurement
					counter := &roundTrips{}
					ctx, cancel := context.WithCancel(context.Background())
					var wg sync.WaitGroup
					var runErr atomic.Value
					pipelines := make([]*connector.Pipeline, replicas)
					for i := range pipelines {
						store, err := pgstore.Open(ctx, dbURL, pgstore.Options{Schema: schema, Tracer: counter})
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { store.Close() })
						cfg := benchConfig(cbc, vm)
						parts, err := build(ctx, cfg, runner.Env{Logger: slog.New(slog.DiscardHandler)})
						if err != nil {
							b.Fatal(err)
						}
						// A submission refused with 429 is looked for before it is sent again, for up to twice
						// SettleDelay (default: the engine's 10-minute submit timeout); bound both to benchSubmit.
						opts := cfg.VMRay.analyzerOptions(slog.New(slog.DiscardHandler), false)
						opts.SettleDelay = benchSubmit
						if parts.Analyzer, err = vmrayconn.New(vm.Client(), opts); err != nil {
							b.Fatal(err)
						}
						pipelines[i], err = connector.New(connector.Config{Store: store, Sources: parts.Sources,
							Analyzer: parts.Analyzer, Responders: parts.Responders, PollInterval: 50 * time.Millisecond,
							Submit:   connector.StageLimits{Timeout: benchSubmit},
							Interval: time.Second, Replicas: connector.Replicas{Owner: fmt.Sprintf("replica-%d", i),
								MaxClaimed: claimed}})
						if err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					t0 := time.Now()
					for _, p := range pipelines {
						wg.Go(func() {
							if _, err := p.Run(ctx); err != nil && ctx.Err() == nil {
								runErr.Store(err)
							}
						})
					}
					deadline := time.Now().Add(10 * time.Minute)
					for len(cbc.Overrides()) < files || len(cbc.DeviceActions()) < 10 {
						if err := runErr.Load(); err != nil {
							b.Fatal(err)
						}
						if time.Now().After(deadline) {
							cancel()
							b.Fatalf("not done after 10 minutes: %d of %d files banned", len(cbc.Overrides()), files)
						}
						time.Sleep(10 * time.Millisecond)
					}
					elapsed += time.Since(t0)
					b.StopTimer()
					statements += float64(counter.statements.Load()) / float64(files)
					transactions += float64(counter.transactions.Load()) / float64(files)
					cancel()
					wg.Wait()
				}
				b.ReportMetric(float64(files*b.N)/elapsed.Seconds(), "files/s")
				b.ReportMetric(float64(replicas*claimed)/latency.Seconds(), "bound_files/s")
				b.ReportMetric(statements/float64(b.N), "statements/file")
				b.ReportMetric(transactions/float64(b.N), "transactions/file")
			})
		}
	}
}
