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
	p.calls = append(p.calls, probeCall{connector.ActionStarted(ctx), stored})
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		newPipeline(t, cfg).Run(ctx)
	}()
	for ctx.Err() == nil {
		probe.mu.Lock()
		n := len(probe.calls)
		probe.mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
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
	p.calls = append(p.calls, deviceCall{f.Key.String(), connector.ActionStarted(ctx)})
	if len(p.calls) == 1 {
		return connector.Result{}, errors.New("connection reset")
	}
	return connector.Result{Status: connector.Acted}, nil
}

// Two files seen on one device are two actions on one target: the second is handed the first's attempt, which may
// still take effect.
func TestActionStartIsSharedByTheTarget(t *testing.T) {
	src, analyzer := connectortest.NewSource("cbc"), connectortest.NewAnalyzer("sandbox")
	for i := range 2 {
		h := src.AddFile(fmt.Appendf(nil, "MZ file %d", i))
		analyzer.SetVerdict(h, connector.Verdict{Kind: connector.Malicious, Score: 100})
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
			Sightings: []connector.Sighting{{DeviceID: "7", DeviceName: "WS-7", ProcessGUID: fmt.Sprintf("ORG-%d", i)}}})
	}
	probe := &deviceProbe{}
	cfg := fastConfig(memstore.New(), analyzer, []connector.Source{src}, []connector.Responder{probe})
	cfg.Respond.Concurrency = 1
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		newPipeline(t, cfg).Run(ctx)
	}()
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
	for ctx.Err() == nil {
		if _, ok := other(); ok {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	c, ok := other()
	if !ok || c.handed.IsZero() {
		t.Errorf("the second file's action on device 7: %+v (found %v), want the first file's attempt handed over", c, ok)
	}
}
