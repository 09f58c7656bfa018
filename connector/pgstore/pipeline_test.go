package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// world is a source with files seen on two devices each, an analyzer that calls every file malicious, and a gated
// per-sighting responder.
type world struct {
	src     *connectortest.Source
	sandbox *connectortest.Analyzer
	isolate *connectortest.Responder
}

func newWorld(files int) world {
	w := world{src: connectortest.NewSource("edr"), sandbox: connectortest.NewAnalyzer("sandbox"),
		isolate: connectortest.NewResponder("isolate", connector.ScopeSighting)}
	w.src.BatchSize = 50
	for i := range files {
		h := w.src.AddFile(fmt.Appendf(nil, "payload %d", i))
		for d := range 2 {
			w.src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
				Sightings: []connector.Sighting{{DeviceID: fmt.Sprint(d), Source: "edr"}}})
		}
	}
	w.sandbox.Default = connector.Malicious
	return w
}

// run runs the pipeline once on store, with concurrency k in every stage.
func (w world) run(tb testing.TB, store connector.Store, k int) connector.Summary {
	tb.Helper()
	limits := connector.StageLimits{Concurrency: k}
	p, err := connector.New(connector.Config{Store: store, Sources: []connector.Source{w.src}, Analyzer: w.sandbox,
		Responders: []connector.Responder{connector.Gate(w.isolate, connector.Kinds(connector.Malicious))},
		Lookup:     limits, Fetch: limits, Submit: limits, Await: limits, Respond: limits})
	if err != nil {
		tb.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		tb.Fatalf("RunOnce: %v", err)
	}
	if sum.Pending != 0 || len(sum.Failures) != 0 {
		tb.Errorf("%d pending, failures %v", sum.Pending, sum.Failures)
	}
	return sum
}

// The engine runs on pgstore end to end: every file is analysed once and acted on once per sighting, and a process
// that starts again on the same schema (a restart, or a standby taking over) finds the work done and repeats nothing.
func TestPipelineOnPostgres(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	const files = 25
	w := newWorld(files)
	for range 2 {
		store := pgstoretest.Open(t, schema, pgstore.Options{})
		w.run(t, store, 4)
		store.Close()
	}
	if n := len(w.sandbox.Submissions()); n != files {
		t.Errorf("%d submissions for %d distinct files", n, files)
	}
	effects := w.isolate.Effects()
	if len(effects) != 2*files {
		t.Errorf("isolate acted on %d targets, want %d (every sighting)", len(effects), 2*files)
	}
	for target, n := range effects {
		if n != 1 {
			t.Errorf("isolate acted %d times on %s", n, target)
		}
	}
}

// statementCounter counts the statements a store sends, and the transactions among them.
type statementCounter struct{ statements, transactions, retries atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	if strings.HasPrefix(strings.ToLower(d.SQL), "begin") {
		c.transactions.Add(1)
	}
	return ctx
}

// Enabled, Handle, WithAttrs and WithGroup make the counter a slog.Handler that counts the store's retries.
func (c *statementCounter) Enabled(context.Context, slog.Level) bool { return true }

func (c *statementCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		c.retries.Add(1)
	}
	return nil
}

func (c *statementCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *statementCounter) WithGroup(string) slog.Handler      { return c }

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkPipelineOnPostgres measures the database cost per new file (two sightings, one gated responder, an
// analyzer that answers at once) with concurrency K in every stage: wall time, statements (each one round trip),
// transactions and serialization retries among them.
func BenchmarkPipelineOnPostgres(b *testing.B) {
	const files = 200
	for _, k := range []int{1, 8} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			var per time.Duration
			var statements, transactions, retries float64
			for b.Loop() {
				schema := pgstoretest.NewSchema(b)
				pgstoretest.Open(b, schema, pgstore.Options{}).Close() // migrate first: only the pipeline counts
				c := &statementCounter{}
				store := pgstoretest.Open(b, schema, pgstore.Options{MaxConns: int32(k + 2), Tracer: c, Logger: slog.New(c)})
				start := time.Now()
				newWorld(files).run(b, store, k)
				per = time.Since(start) / files
				statements, transactions = float64(c.statements.Load())/files, float64(c.transactions.Load())/files
				retries = float64(c.retries.Load()) / files
				store.Close()
			}
			b.ReportMetric(float64(per.Microseconds()), "µs/file")
			b.ReportMetric(statements, "statements/file")
			b.ReportMetric(transactions, "transactions/file")
			b.ReportMetric(retries, "retries/file")
		})
	}
}
