package connector_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// startProbe is a device responder that records, per call, the start the engine handed it and the start the store
// held during the call; its first call fails without an answer, its second finds the earlier start within its
// settle window and sends nothing, its third acts.
type startProbe struct {
	store connector.Store
	mu    sync.Mutex
	calls []probeCall
}

type probeCall struct {
	handed, stored time.Time
}

func (p *startProbe) Name() string           { return "probe" }
func (p *startProbe) Scope() connector.Scope { return connector.ScopeEvidence }

func (p *startProbe) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	var stored time.Time
	if err := p.store.View(ctx, func(tx connector.Tx) error {
		it, _, err := tx.Item(f.Key)
		stored = it.ActionStarts["probe|"]
		return err
	}); err != nil {
		return connector.Result{}, err
	}
	p.mu.Lock()
	p.calls = append(p.calls, probeCall{f.EarlierAttempt, stored})
	n := len(p.calls)
	p.mu.Unlock()
	switch n {
	case 1:
		return connector.Result{}, errors.New("connection reset")
	case 2:
		return connector.Result{}, connector.RetryLater(fmt.Errorf("quarantine: %w", connector.ErrActionSettling), time.Millisecond)
	}
	return connector.Result{Status: connector.Acted}, nil
}

// The engine records an action's start in the store before it calls the responder, hands a later attempt the
// start of the earlier one, and keeps that start when the responder waits for it to settle.
func TestActionStartIsRecordedBeforeTheCallAndHandedOn(t *testing.T) {
	w := newWorld(1, 1)
	store := memstore.New()
	probe := &startProbe{store: store}
	cfg := fastConfig(store, w.analyzer, w.sources(), []connector.Responder{probe})
	runUntil(t, cfg, func() bool {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		return len(probe.calls) >= 3
	})
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.calls) != 3 {
		t.Fatalf("%d calls, want 3: %+v", len(probe.calls), probe.calls)
	}
	c := probe.calls
	if !c[0].handed.IsZero() || c[0].stored.IsZero() {
		t.Errorf("first call: handed %v (want zero), stored %v (want the start, recorded before the call)", c[0].handed, c[0].stored)
	}
	if !c[1].handed.Equal(c[0].stored) || !c[1].stored.After(c[0].stored) {
		t.Errorf("second call: handed %v, want the first start %v; stored %v, want a later one", c[1].handed, c[0].stored, c[1].stored)
	}
	if !c[2].handed.Equal(c[0].stored) {
		t.Errorf("third call: handed %v, want the first start %v kept while settling", c[2].handed, c[0].stored)
	}
}

// deviceProbe records, per call, the item and the start handed over; the first call fails without an answer.
type deviceProbe struct {
	mu    sync.Mutex
	calls []deviceCall
}

type deviceCall struct {
	item   string
	handed time.Time
}

func (p *deviceProbe) Name() string           { return "isolate" }
func (p *deviceProbe) Scope() connector.Scope { return connector.ScopeDevice }

func (p *deviceProbe) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, deviceCall{f.Key.String(), f.EarlierAttempt})
	if len(p.calls) == 1 {
		return connector.Result{}, errors.New("connection reset")
	}
	return connector.Result{Status: connector.Acted}, nil
}

// Two files seen on one device are two actions on one target: the second is handed the first's attempt, which may
// still take effect.
func TestActionStartIsSharedByTheTarget(t *testing.T) {
	src, analyzer := twoFilesOnOneDevice()
	probe := &deviceProbe{}
	cfg := fastConfig(memstore.New(), analyzer, []connector.Source{src}, []connector.Responder{probe})
	cfg.Respond.Concurrency = 1
	other := func() (deviceCall, bool) {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		for _, c := range probe.calls {
			if len(probe.calls) > 0 && c.item != probe.calls[0].item {
				return c, true
			}
		}
		return deviceCall{}, false
	}
	runUntil(t, cfg, func() bool {
		_, ok := other()
		return ok
	})
	c, ok := other()
	if !ok || c.handed.IsZero() {
		t.Errorf("the second file's action on device 7: %+v (found %v), want the first file's attempt handed over", c, ok)
	}
}

// batchProbe is a batch device responder: its first batch fails without an answer, its second answers settling
// for every finding, its third acts. It records the starts handed to each finding of each batch.
type batchProbe struct {
	store   connector.Store
	mu      sync.Mutex
	batches [][]time.Time
	stored  []time.Time // the first finding's stored start during each batch
}

func (p *batchProbe) Name() string           { return "quarantine" }
func (p *batchProbe) Scope() connector.Scope { return connector.ScopeEvidence }

func (p *batchProbe) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	out := p.RespondBatch(ctx, []connector.Finding{f})[0]
	return out.Result, out.Err
}

func (p *batchProbe) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	var stored time.Time
	_ = p.store.View(ctx, func(tx connector.Tx) error {
		it, _, err := tx.Item(fs[0].Key)
		stored = it.ActionStarts["quarantine|"]
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	starts := make([]time.Time, len(fs))
	for i, f := range fs {
		starts[i] = f.EarlierAttempt
	}
	p.batches = append(p.batches, starts)
	p.stored = append(p.stored, stored)
	outs := make([]connector.Outcome, len(fs))
	for i := range outs {
		switch len(p.batches) {
		case 1:
			outs[i].Err = errors.New("connection reset")
		case 2:
			outs[i].Err = connector.RetryLater(fmt.Errorf("quarantine: %w", connector.ErrActionSettling), time.Millisecond)
		default:
			outs[i].Result.Status = connector.Acted
		}
	}
	return outs
}

// A batch responder's findings each get their own earlier attempt, recorded before the batch call, and a batch that
// waits for an earlier attempt keeps that attempt's start.
func TestActionStartIsHandedToEachFindingOfABatch(t *testing.T) {
	w := newWorld(1, 1)
	store := memstore.New()
	probe := &batchProbe{store: store}
	cfg := fastConfig(store, w.analyzer, w.sources(), []connector.Responder{probe})
	runUntil(t, cfg, func() bool {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		return len(probe.batches) >= 3
	})
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.batches) < 3 {
		t.Fatalf("%d batches, want 3", len(probe.batches))
	}
	first, second, third := probe.batches[0][0], probe.batches[1][0], probe.batches[2][0]
	if !first.IsZero() || probe.stored[0].IsZero() {
		t.Errorf("first batch: handed %v, stored %v; want nothing handed and the start stored before the call", first, probe.stored[0])
	}
	if !second.Equal(probe.stored[0]) {
		t.Errorf("second batch handed %v, want the first attempt's start %v", second, probe.stored[0])
	}
	if !third.Equal(probe.stored[0]) {
		t.Errorf("third batch handed %v, want the first attempt's start %v kept while settling", third, probe.stored[0])
	}
}

// hangProbe is a device responder whose first call hangs until the run stops (a request in flight at a crash); it
// records the start handed to every call.
type hangProbe struct {
	mu     sync.Mutex
	calls  []deviceCall
	hung   chan struct{}
	hangOn bool
}

func (p *hangProbe) Name() string           { return "isolate" }
func (p *hangProbe) Scope() connector.Scope { return connector.ScopeDevice }

func (p *hangProbe) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	p.mu.Lock()
	p.calls = append(p.calls, deviceCall{f.Key.String(), f.EarlierAttempt})
	hang := p.hangOn && len(p.calls) == 1
	p.mu.Unlock()
	if hang {
		close(p.hung)
		<-ctx.Done()
		return connector.Result{}, ctx.Err()
	}
	return connector.Result{Status: connector.Acted}, nil
}

// An attempt in flight when the engine stopped is loaded from the store by the next run and handed to every file's
// action on the same device, while attempts this run makes itself are not.
func TestActionStartSurvivesARestartForTheTarget(t *testing.T) {
	src, analyzer := twoFilesOnOneDevice()
	store := memstore.New()
	run := func(p *hangProbe, until func() bool) {
		cfg := fastConfig(store, analyzer, []connector.Source{src}, []connector.Responder{p})
		cfg.Respond.Concurrency = 1
		runUntil(t, cfg, until)
	}
	first := &hangProbe{hangOn: true, hung: make(chan struct{})}
	run(first, func() bool {
		select {
		case <-first.hung:
			return true
		default:
			return false
		}
	})
	var inFlight time.Time
	if err := store.View(context.Background(), func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateResponding) {
			if err != nil {
				return err
			}
			if s := it.ActionStarts["isolate|device:7"]; s.After(inFlight) {
				inFlight = s
			}
		}
		return nil
	}); err != nil || inFlight.IsZero() {
		t.Fatalf("no start stored for the attempt in flight (%v)", err)
	}
	second := &hangProbe{}
	run(second, func() bool {
		second.mu.Lock()
		defer second.mu.Unlock()
		return len(second.calls) >= 2
	})
	second.mu.Lock()
	defer second.mu.Unlock()
	if len(second.calls) < 2 {
		t.Fatalf("second run: %d calls, want one per file", len(second.calls))
	}
	for _, c := range second.calls {
		if !c.handed.Equal(inFlight) {
			t.Errorf("second run, %s: handed %v, want the attempt in flight at the stop (%v)", c.item, c.handed, inFlight)
		}
	}
}

// runUntil runs a pipeline with cfg until done reports true (checked every 5 ms, for at most a minute), then stops
// it and waits for it to end.
func runUntil(t *testing.T, cfg connector.Config, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		newPipeline(t, cfg).Run(ctx)
	}()
	for ctx.Err() == nil && !done() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-ended
}

// twoFilesOnOneDevice returns a source with two malicious files seen on device 7, and the analyzer that knows them.
func twoFilesOnOneDevice() (*connectortest.Source, *connectortest.Analyzer) {
	src, analyzer := connectortest.NewSource("cbc"), connectortest.NewAnalyzer("sandbox")
	for i := range 2 {
		h := src.AddFile(fmt.Appendf(nil, "MZ file %d", i))
		analyzer.SetVerdict(h, connector.Verdict{Kind: connector.Malicious, Score: 100})
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
			Sightings: []connector.Sighting{{DeviceID: "7", DeviceName: "WS-7", ProcessGUID: fmt.Sprintf("ORG-%d", i)}}})
	}
	return src, analyzer
}
