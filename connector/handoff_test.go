package connector_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// gatedAnalyzer holds every Await call until gate is closed, and counts the calls that returned.
type gatedAnalyzer struct {
	*connectortest.Analyzer
	gate    chan struct{}
	awaited atomic.Int64
}

func (g *gatedAnalyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	select {
	case <-ctx.Done():
		return connector.Verdict{}, ctx.Err()
	case <-g.gate:
	}
	v, err := g.Analyzer.Await(ctx, t)
	g.awaited.Add(1)
	return v, err
}

// gatedResponder holds every Respond call until gate is closed.
type gatedResponder struct {
	*connectortest.Responder
	gate chan struct{}
}

func (g *gatedResponder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	select {
	case <-ctx.Done():
		return connector.Result{}, ctx.Err()
	case <-g.gate:
	}
	return g.Responder.Respond(ctx, f)
}

// TestHandoffDoesNotHoldUpstreamWorkers holds the engine's handoff to the await and respond stages by counts: with
// every stage at concurrency 1 and the only await (or respond) worker held, every other file is still submitted (or
// awaited), because a worker hands its job to those stages without waiting for a free worker there. Before, the
// submit worker waited for the await worker (and the await worker for the respond worker), so a busy await stage
// stopped submissions, the next analyses started late, and the stages took turns instead of overlapping.
func TestHandoffDoesNotHoldUpstreamWorkers(t *testing.T) {
	const n = 20
	for _, held := range []string{"await", "respond"} {
		t.Run(held, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := connectortest.NewSource("edr")
				for i := range n {
					h := src.AddFile(fmt.Appendf(nil, "handoff file %d", i))
					src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
						Sightings: []connector.Sighting{{DeviceID: "d1", ProcessGUID: fmt.Sprint("g", i)}}})
				}
				a := &gatedAnalyzer{Analyzer: connectortest.NewAnalyzer("sandbox"), gate: make(chan struct{})}
				a.Default = connector.Malicious
				r := &gatedResponder{Responder: connectortest.NewResponder("note", connector.ScopeSighting),
					gate: make(chan struct{})}
				if held == "respond" {
					close(a.gate)
				}
				one := connector.StageLimits{Concurrency: 1}
				p, err := connector.New(connector.Config{Store: memstore.New(), Analyzer: a,
					Sources: []connector.Source{src}, Responders: []connector.Responder{r},
					Lookup: one, Fetch: one, Submit: one, Await: one, Respond: one, Retention: -1})
				if err != nil {
					t.Fatal(err)
				}
				type result struct {
					sum connector.Summary
					err error
				}
				done := make(chan result, 1)
				go func() {
					sum, err := p.RunOnce(context.Background())
					done <- result{sum, err}
				}()
				// Every goroutine of the run is now blocked: the held worker on its gate, the rest on nothing left
				// to do, unless a worker waits for the held stage.
				synctest.Wait()
				switch held {
				case "await":
					if got := len(a.Submissions()); got != n {
						t.Errorf("with the await worker held, %d of %d files were submitted, want all", got, n)
					}
				case "respond":
					if got := a.awaited.Load(); got != n {
						t.Errorf("with the respond worker held, %d of %d analyses were awaited, want all", got, n)
					}
				}
				if held == "await" {
					close(a.gate)
				}
				close(r.gate)
				res := <-done
				if res.err != nil || res.sum.Analysed != n || len(r.Effects()) != n {
					t.Fatalf("run: %v; analysed %d of %d, %d actions", res.err, res.sum.Analysed, n, len(r.Effects()))
				}
			})
		})
	}
}

// TestHandoffQueueIsLeftInTheStoreOnStop stops a run while files wait in the await stage's queue: the run ends
// (no goroutine is left, which synctest checks), every queued file stays open in the store, awaiting, and a later run
// finishes them without submitting any file again.
func TestHandoffQueueIsLeftInTheStoreOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 12
		src := connectortest.NewSource("edr")
		for i := range n {
			h := src.AddFile(fmt.Appendf(nil, "queued file %d", i))
			src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
				Sightings: []connector.Sighting{{DeviceID: "d1", ProcessGUID: fmt.Sprint("g", i)}}})
		}
		a := &gatedAnalyzer{Analyzer: connectortest.NewAnalyzer("sandbox"), gate: make(chan struct{})}
		a.Default = connector.Malicious
		r := connectortest.NewResponder("note", connector.ScopeSighting)
		store := memstore.New()
		one := connector.StageLimits{Concurrency: 1}
		cfg := connector.Config{Store: store, Analyzer: a, Sources: []connector.Source{src},
			Responders: []connector.Responder{r}, Lookup: one, Fetch: one, Submit: one, Await: one, Respond: one,
			Retention: -1}
		p, err := connector.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			sum connector.Summary
			err error
		}
		done := make(chan result, 1)
		go func() {
			sum, err := p.RunOnce(ctx)
			done <- result{sum, err}
		}()
		synctest.Wait()
		if got := len(a.Submissions()); got != n {
			t.Fatalf("%d of %d files submitted before the stop", got, n)
		}
		cancel()
		res := <-done
		if res.sum.Pending != n || res.sum.Analysed != 0 {
			t.Fatalf("stopped run: %v; %d pending, %d analysed; want %d pending, none analysed", res.err,
				res.sum.Pending, res.sum.Analysed, n)
		}
		close(a.gate)
		p, err = connector.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.RunOnce(context.Background())
		if err != nil || sum.Analysed != n || sum.Pending != 0 || len(r.Effects()) != n {
			t.Fatalf("second run: %v; analysed %d, pending %d, %d actions; want %d, 0, %d", err, sum.Analysed,
				sum.Pending, len(r.Effects()), n, n)
		}
		if got := len(a.Submissions()); got != n {
			t.Errorf("%d submissions after both runs, want %d (none again)", got, n)
		}
	})
}
