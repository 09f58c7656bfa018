package connector_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// batchWorld makes n malicious files, each seen on two devices, and a pipeline whose responders are a per-file and a
// per-device BatchResponder (both gated), with respond concurrency k and at most max findings per batch.
func batchWorld(t *testing.T, n, k, max int) (*connector.Pipeline, *connectortest.BatchResponder, *connectortest.BatchResponder, chan struct{}) {
	src := connectortest.NewSource("edr")
	src.BatchSize = 100
	a := connectortest.NewAnalyzer("sandbox")
	a.Default = connector.Malicious
	for i := range n {
		h := src.AddFile(fmt.Appendf(nil, "batch file %d", i))
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: []connector.Sighting{
			{DeviceID: fmt.Sprint("d", i), ProcessGUID: fmt.Sprint("p", i)},
			{DeviceID: fmt.Sprint("e", i), ProcessGUID: fmt.Sprint("q", i)}}})
	}
	hold := make(chan struct{})
	report := connectortest.NewBatchResponder("report", connector.ScopeEvidence)
	report.Hold = hold
	quarantine := connectortest.NewBatchResponder("quarantine", connector.ScopeDevice)
	malicious := connector.Kinds(connector.Malicious)
	cfg := fastConfig(memstore.New(), a, []connector.Source{src},
		[]connector.Responder{connector.Gate(report, malicious), connector.Gate(quarantine, malicious)})
	cfg.Respond.Concurrency = k
	cfg.RespondBatch = max
	return newPipeline(t, cfg), report, quarantine, hold
}

func sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// The findings that reach the respond stage while a batch is under way go together into the next RespondBatch call,
// and every finding is acted on exactly once.
func TestBatchResponderGathersFindings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 12
		p, report, quarantine, hold := batchWorld(t, n, n, 100)
		done := make(chan connector.Summary)
		go func() {
			sum, err := p.RunOnce(context.Background())
			if err != nil {
				t.Error(err)
			}
			done <- sum
		}()
		// Every item is now in the respond stage: one batch holds, the other items wait behind it.
		synctest.Wait()
		close(hold)
		s := <-done
		if b := report.Batches(); len(b) > 2 || sum(b) != n {
			t.Errorf("report batches %v; want at most 2 calls for %d findings (the first under way, the rest gathered)", b, n)
		}
		if report.Calls() != n || quarantine.Calls() != 2*n {
			t.Errorf("report acted %d times, quarantine %d; want %d and %d", report.Calls(), quarantine.Calls(), n, 2*n)
		}
		for target, c := range quarantine.Effects() {
			if c != 1 {
				t.Errorf("quarantine of %s made %d times", target, c)
			}
		}
		if got := s.Actions["report"].Acted; got != n {
			t.Errorf("summary: report acted %d, want %d", got, n)
		}
		if len(quarantine.Batches()) >= 2*n {
			t.Errorf("quarantine batches %v: one call per finding, nothing gathered", quarantine.Batches())
		}
	})
}

// Config.RespondBatch bounds a batch; one item's findings are never split.
func TestBatchResponderRespectsMaximum(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10
		p, report, quarantine, hold := batchWorld(t, n, n, 3)
		go func() {
			synctest.Wait()
			close(hold)
		}()
		if _, err := p.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, b := range append(report.Batches(), quarantine.Batches()...) {
			if b > 3 {
				t.Errorf("batch of %d findings, want at most 3", b)
			}
		}
		if sum(report.Batches()) != n || sum(quarantine.Batches()) != 2*n {
			t.Errorf("batches %v and %v", report.Batches(), quarantine.Batches())
		}
		for _, b := range quarantine.Batches() {
			if b%2 != 0 {
				t.Errorf("quarantine batch of %d findings: one item's two devices were split", b)
			}
		}
	})
}

// A batch that answers with the wrong number of outcomes fails every finding permanently instead of guessing.
func TestBatchResponderWrongOutcomeCount(t *testing.T) {
	src := connectortest.NewSource("edr")
	h := src.AddFile([]byte("one file"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}})
	a := connectortest.NewAnalyzer("sandbox")
	a.Default = connector.Malicious
	cfg := fastConfig(memstore.New(), a, []connector.Source{src}, []connector.Responder{shortBatch{}})
	s, err := newPipeline(t, cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Failures[connector.StageRespond] != 1 || s.Actions["short"].Failed != 1 {
		t.Errorf("failures %v actions %v; want one respond dead letter", s.Failures, s.Actions)
	}
}

type shortBatch struct{}

func (shortBatch) Name() string           { return "short" }
func (shortBatch) Scope() connector.Scope { return connector.ScopeEvidence }
func (shortBatch) Respond(context.Context, connector.Finding) (connector.Result, error) {
	return connector.Result{Status: connector.Acted}, nil
}
func (shortBatch) RespondBatch(context.Context, []connector.Finding) []connector.Outcome { return nil }

// Gate keeps a BatchResponder batching, and skips the findings it does not let through without passing them on.
func TestGateKeepsBatching(t *testing.T) {
	inner := connectortest.NewBatchResponder("report", connector.ScopeEvidence)
	g, ok := connector.Gate(inner, connector.Kinds(connector.Malicious)).(connector.BatchResponder)
	if !ok {
		t.Fatal("Gate of a BatchResponder is not a BatchResponder")
	}
	if _, ok := connector.Gate(connectortest.NewResponder("x", connector.ScopeEvidence), connector.Kinds(connector.Malicious)).(connector.BatchResponder); ok {
		t.Error("Gate of a plain Responder claims to batch")
	}
	fs := []connector.Finding{
		{Key: connector.Key{Kind: connector.SHA256, Hex: "aa"}, Verdict: connector.Verdict{Kind: connector.Malicious}},
		{Key: connector.Key{Kind: connector.SHA256, Hex: "bb"}, Verdict: connector.Verdict{Kind: connector.Clean}},
		{Key: connector.Key{Kind: connector.SHA256, Hex: "cc"}, Verdict: connector.Verdict{Kind: connector.Malicious}},
	}
	outs := g.RespondBatch(context.Background(), fs)
	if len(outs) != 3 || outs[0].Result.Status != connector.Acted || outs[1].Result.Status != connector.Skipped ||
		outs[2].Result.Status != connector.Acted {
		t.Errorf("outcomes %+v", outs)
	}
	if b := inner.Batches(); len(b) != 1 || b[0] != 2 {
		t.Errorf("inner batches %v, want one of 2", b)
	}
}
