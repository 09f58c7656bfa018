package connector_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// endState is what a run leaves behind: the state and verdict of every item and the effects of every responder.
type endState struct {
	items   map[string]string // key -> state/verdict
	effects map[string]map[string]int
	subs    map[string]int
}

func captureEnd(t *testing.T, store connector.Store, w *world) endState {
	t.Helper()
	es := endState{items: map[string]string{}, effects: map[string]map[string]int{}, subs: map[string]int{}}
	err := store.View(context.Background(), func(tx connector.Tx) error {
		for _, st := range []connector.State{connector.StateNew, connector.StateSubmitting, connector.StateAwaiting,
			connector.StateResponding, connector.StateDone, connector.StateFailed} {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				v := "none"
				if it.Verdict != nil {
					v = it.Verdict.Kind.String()
				}
				es.items[it.Key.String()] = string(it.State) + "/" + v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*connectortest.Responder{w.all, w.note, w.report, w.quarantine} {
		es.effects[r.Name()] = r.Effects()
	}
	for _, s := range w.analyzer.Submissions() {
		es.subs[s.Evidence.String()]++
	}
	return es
}

func TestFaultsReachTheSameEndState(t *testing.T) {
	run := func(faults *connectortest.Faults) (endState, connector.Summary) {
		w := newWorld(60, 300)
		for _, s := range []*connectortest.Source{w.cbc, w.s1, w.tap} {
			s.Faults = faults
		}
		w.analyzer.Faults = faults
		for _, r := range []*connectortest.Responder{w.all, w.note, w.report, w.quarantine} {
			r.Faults = faults
			r.CheckExisting = true // late failures repeat a call once; an idempotent vendor absorbs it
		}
		store := memstore.New()
		cfg := fastConfig(store, w.analyzer, w.sources(), w.responders())
		cfg.Retry.Attempts = 12
		p := newPipeline(t, cfg)
		var sum connector.Summary
		// Sources that fail too often give up for the run and continue the next; the end state must not depend on it.
		for range 5 {
			s, err := p.RunOnce(context.Background())
			if err != nil {
				t.Fatalf("RunOnce: %v", err)
			}
			sum.Collected += s.Collected
			sum.SourceErrors += s.SourceErrors
			sum.Submitted += s.Submitted
			sum.Recovered += s.Recovered
		}
		return captureEnd(t, store, w), sum
	}
	clean, cleanSum := run(nil)
	faults := &connectortest.Faults{ErrorRate: 0.2, LateErrorRate: 0.05, Seed: 7}
	faulty, faultySum := run(faults)
	c := faults.Counts()
	if c.Errors < 100 || c.LateErrors < 5 {
		t.Fatalf("too few faults injected to mean anything: %+v", c)
	}
	t.Logf("faults injected: %+v; source errors %d; tickets recovered after lost responses %d",
		c, faultySum.SourceErrors, faultySum.Recovered)
	if cleanSum.Collected != 300 || faultySum.Collected != 300 {
		t.Errorf("collected %d without faults and %d with, want 300 each", cleanSum.Collected, faultySum.Collected)
	}
	for k, want := range clean.items {
		if got := faulty.items[k]; got != want {
			t.Errorf("item %s ended %s with faults, %s without", k, got, want)
		}
	}
	if len(faulty.items) != len(clean.items) {
		t.Errorf("%d items with faults, %d without", len(faulty.items), len(clean.items))
	}
	for name, want := range clean.effects {
		if got := faulty.effects[name]; !maps.Equal(got, want) {
			t.Errorf("%s: effects differ with faults: %d targets vs %d", name, len(got), len(want))
		}
	}
	if !maps.Equal(clean.subs, faulty.subs) {
		t.Errorf("submissions differ with faults (a lost response must not cause a second submission): %v vs %v",
			len(clean.subs), len(faulty.subs))
	}
	for k, n := range faulty.subs {
		if n != 1 {
			t.Errorf("file %s submitted %d times", k, n)
		}
	}
	for k, st := range clean.items {
		if !strings.HasPrefix(st, "done/") {
			t.Errorf("item %s ended %s without faults", k, st)
		}
	}
}

// panicky panics on the files listed.
type panicky struct {
	connector.Responder
	on map[string]bool
}

func (p panicky) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if p.on[f.Key.String()] {
		panic("assignment to entry in nil map") // as a buggy adapter would
	}
	return p.Responder.Respond(ctx, f)
}

// panickySource panics on its first Collect.
type panickySource struct {
	*connectortest.Source
	calls int
}

func (p *panickySource) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	p.calls++
	if p.calls == 1 {
		panic("collector bug")
	}
	return p.Source.Collect(ctx, cp)
}

func TestPanicsAreContainedAndReported(t *testing.T) {
	w := newWorld(20, 60)
	bad := map[string]bool{}
	for i := range 3 {
		bad[connector.Key{Kind: connector.SHA256, Hex: w.hashes[i*4].SHA256}.String()] = true
	}
	tap := &panickySource{Source: w.tap}
	store := memstore.New()
	cfg := fastConfig(store, w.analyzer, []connector.Source{w.cbc, w.s1, tap},
		[]connector.Responder{panicky{w.all, bad}, w.report})
	p := newPipeline(t, cfg)
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if sum.SourceErrors != 1 {
		t.Errorf("SourceErrors = %d, want 1 (the panicking collect)", sum.SourceErrors)
	}
	if sum.Failures[connector.StageRespond] != len(bad) {
		t.Errorf("dead letters at respond = %d, want %d: %v", sum.Failures[connector.StageRespond], len(bad), sum.Failures)
	}
	failed := map[string]string{}
	store.View(context.Background(), func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateFailed) {
			if err != nil {
				return err
			}
			failed[it.Key.String()] = it.Failure.Reason
		}
		return nil
	})
	if !slices.Equal(slices.Sorted(maps.Keys(failed)), slices.Sorted(maps.Keys(bad))) {
		t.Errorf("dead letters %v, want the files whose responder panicked %v", failed, bad)
	}
	for k, reason := range failed {
		if !strings.Contains(reason, "panic in respond webhook") || !strings.Contains(reason, "nil map") {
			t.Errorf("dead letter %s: reason %q does not report the panic", k, reason)
		}
	}
	// The other files went all the way; the next run collects the source that panicked.
	sum, err = p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Collected != 20 {
		t.Errorf("second run collected %d evidence from the recovered source, want 20", sum.Collected)
	}
	if n := len(w.report.Effects()); n != 20 {
		t.Errorf("per-file responder acted on %d files, want all 20 (panics stay contained to their item)", n)
	}
}
