package connector_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// checkWorld verifies the end state of a world after all its evidence was processed: one analysis per file, every
// sighting answered exactly once by the ungated responder, and every gate honoured.
func checkWorld(t *testing.T, w *world) {
	t.Helper()
	perFile := map[string]int{}
	for _, s := range w.analyzer.Submissions() {
		perFile[s.Evidence.String()]++
	}
	if len(perFile) != len(w.files) {
		t.Errorf("%d distinct files submitted, want %d", len(perFile), len(w.files))
	}
	for k, n := range perFile {
		if n != 1 {
			t.Errorf("file %s submitted %d times", k, n)
		}
	}
	// Every sighting exactly once.
	effects := w.all.Effects()
	if len(effects) != w.evidence {
		t.Errorf("ungated responder acted on %d targets, want %d sightings", len(effects), w.evidence)
	}
	for target, n := range effects {
		if n != 1 {
			t.Errorf("ungated responder acted %d times on %s", n, target)
		}
	}
	wantNotes, wantReports, devices := 0, 0, map[string]bool{}
	for _, f := range w.all.Findings() {
		i := w.fileOfItem[f.Key.String()]
		if f.Verdict.Kind != w.kinds[i] {
			t.Errorf("finding for file %d carries verdict %s, want %s", i, f.Verdict.Kind, w.kinds[i])
		}
		if w.kinds[i] == connector.Malicious {
			wantNotes++
			if dk := f.Sighting.DeviceKey(); dk != "" {
				devices[f.Key.String()+" "+dk] = true
			}
		}
	}
	for i, k := range w.kinds {
		if k == connector.Malicious || k == connector.Suspicious {
			wantReports++
		}
		_ = i
	}
	checkGate := func(r *connectortest.Responder, allowed connector.KindSet, want int) {
		t.Helper()
		effects := r.Effects()
		if len(effects) != want {
			t.Errorf("%s acted on %d targets, want %d", r.Name(), len(effects), want)
		}
		for target, n := range effects {
			if n != 1 {
				t.Errorf("%s acted %d times on %s", r.Name(), n, target)
			}
		}
		for _, f := range r.Findings() {
			if !allowed.Has(f.Verdict.Kind) {
				t.Errorf("%s acted on a %s finding despite its gate", r.Name(), f.Verdict.Kind)
			}
		}
	}
	checkGate(w.note, connector.Kinds(connector.Malicious), wantNotes)
	checkGate(w.report, connector.Kinds(connector.Malicious, connector.Suspicious), wantReports)
	checkGate(w.quarantine, connector.Kinds(connector.Malicious), len(devices))
}

func TestEndToEndOneAnalysisPerHash(t *testing.T) {
	w := newWorld(200, 1000)
	store := memstore.New()
	p := newPipeline(t, fastConfig(store, w.analyzer, w.sources(), w.responders()))
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	checkWorld(t, w)
	if sum.Collected != 1000 || sum.New != 200 || sum.Deduped != 800 || sum.Submitted != 200 || sum.Analysed != 200 {
		t.Errorf("summary = collected %d new %d deduped %d submitted %d analysed %d; want 1000 200 800 200 200",
			sum.Collected, sum.New, sum.Deduped, sum.Submitted, sum.Analysed)
	}
	if got := sum.Verdicts[connector.Malicious] + sum.Verdicts[connector.Suspicious] + sum.Verdicts[connector.Clean] +
		sum.Verdicts[connector.Unknown]; got != 200 {
		t.Errorf("summary counts %d verdicts, want 200: %v", got, sum.Verdicts)
	}
	if n := sum.FailureCount(); n != 0 || sum.Pending != 0 {
		t.Errorf("summary: %d dead letters, %d pending; want none", n, sum.Pending)
	}
	if a := sum.Actions["webhook"]; a.Acted != 1000 {
		t.Errorf("summary: webhook acted %d times, want 1000", a.Acted)
	}
	if a := sum.Actions["note"]; a.Acted+a.Skipped != 1000 || a.Acted != 250 {
		t.Errorf("summary: note acted %d skipped %d; want 250 and 750", a.Acted, a.Skipped)
	}

	// A second run finds nothing new: no lookup, submission or action happens again.
	lookups := w.analyzer.Lookups()
	calls := w.all.Calls() + w.note.Calls() + w.report.Calls() + w.quarantine.Calls()
	sum, err = p.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("second RunOnce: %v", err)
	}
	if sum.Collected != 0 || w.analyzer.Lookups() != lookups || len(w.analyzer.Submissions()) != 200 ||
		w.all.Calls()+w.note.Calls()+w.report.Calls()+w.quarantine.Calls() != calls {
		t.Errorf("second run repeated work: %+v", sum)
	}

	// New sightings of known files reach the responders, with the stored verdict and no new analysis.
	w.add(300)
	sum, err = p.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("third RunOnce: %v", err)
	}
	checkWorld(t, w)
	if sum.New != 0 || sum.Submitted != 0 || sum.LookedUp != 0 || sum.CacheHits < 200 {
		t.Errorf("third run: new %d submitted %d looked up %d cache hits %d; want 0 0 0 >=200",
			sum.New, sum.Submitted, sum.LookedUp, sum.CacheHits)
	}
	if a := sum.Actions["report"]; a.Acted != 0 || a.DoneBefore < 100 {
		t.Errorf("third run: per-file report acted %d, done before %d; want 0 and >=100", a.Acted, a.DoneBefore)
	}
}

func TestDeadLetterWhenNoSourceHasTheFile(t *testing.T) {
	src := connectortest.NewSource("tap")
	h := connectortest.HashesOf([]byte("never delivered"))
	src.Add(connector.Evidence{Hashes: h, Sightings: []connector.Sighting{{MessageID: "m1"}}})
	a := connectortest.NewAnalyzer("sandbox")
	store := memstore.New()
	p := newPipeline(t, fastConfig(store, a, []connector.Source{src}, nil))
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failures[connector.StageFetch] != 1 {
		t.Fatalf("failures = %v, want one at fetch", sum.Failures)
	}
	var failed []connector.Item
	store.View(context.Background(), func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateFailed) {
			if err != nil {
				return err
			}
			failed = append(failed, it)
		}
		return nil
	})
	if len(failed) != 1 || failed[0].Failure == nil || !strings.Contains(failed[0].Failure.Reason, "no source could deliver") {
		t.Fatalf("dead letters = %+v", failed)
	}
}

// recordingObserver sums counters by name and labels, and counts latencies by stage.
type recordingObserver struct {
	mu        sync.Mutex
	counts    map[string]int
	latencies map[connector.Stage]int
}

func (r *recordingObserver) Add(c connector.Counter, n int, labels ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(labels) != len(c.Labels()) {
		panic(fmt.Sprintf("counter %s: %d labels, want %v", c, len(labels), c.Labels()))
	}
	r.counts[strings.Join(append([]string{string(c)}, labels...), "/")] += n
}

func (r *recordingObserver) Latency(s connector.Stage, component, outcome string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies[s]++
}

func TestObserverSeesCountersAndLatencies(t *testing.T) {
	w := newWorld(20, 60)
	obs := &recordingObserver{counts: map[string]int{}, latencies: map[connector.Stage]int{}}
	cfg := fastConfig(memstore.New(), w.analyzer, w.sources(), w.responders())
	cfg.Observer = obs
	sum, err := newPipeline(t, cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{
		"evidence_collected/cbc": 20, "evidence_collected/s1": 20, "evidence_collected/tap": 20,
		"samples_submitted/sandbox": 20, "lookups/unknown": 20,
		"verdicts/malicious": 5, "verdicts/suspicious": 5, "verdicts/clean": 5, "verdicts/unknown": 5,
		"actions/webhook/acted": 60, "actions/note/acted": 15, "actions/report/acted": 10,
		"actions/note/skipped": sum.Actions["note"].Skipped,
	} {
		if got := obs.counts[key]; got != want {
			t.Errorf("counter %s = %d, want %d", key, got, want)
		}
	}
	if got := obs.counts["evidence_deduped/cbc"] + obs.counts["evidence_deduped/s1"] + obs.counts["evidence_deduped/tap"]; got != sum.Deduped {
		t.Errorf("deduped counters sum to %d, summary says %d", got, sum.Deduped)
	}
	for stage, min := range map[connector.Stage]int{connector.StageCollect: 3, connector.StageLookup: 20,
		connector.StageFetch: 20, connector.StageSubmit: 20, connector.StageAwait: 20, connector.StageRespond: 60} {
		if obs.latencies[stage] < min {
			t.Errorf("%d latencies at %s, want at least %d", obs.latencies[stage], stage, min)
		}
	}
	if len(connector.Counters()) != 12 {
		t.Errorf("Counters() lists %d counters", len(connector.Counters()))
	}
}
