package connectortest

import (
	"context"
	"maps"
	"sync"

	"github.com/soarkit/soarkit/connector"
)

// Responder is an in-memory connector.Responder that records every finding it acts on. Each call counts as an
// effect on its target (evidence key plus Finding.Target), so a test can see any action the engine repeated; with
// CheckExisting it behaves like an idempotent vendor instead and reports connector.Unchanged for a target it already
// acted on.
type Responder struct {
	name  string
	scope connector.Scope
	// CheckExisting makes a repeated call on the same target report Unchanged without a new effect.
	CheckExisting bool
	// Faults, when set, injects failures (late errors happen after the effect).
	Faults *Faults

	mu       sync.Mutex
	effects  map[string]int
	calls    int
	findings []connector.Finding
}

// NewResponder returns a responder with the given name and scope.
func NewResponder(name string, scope connector.Scope) *Responder {
	return &Responder{name: name, scope: scope, effects: map[string]int{}}
}

// Name returns the responder's name.
func (r *Responder) Name() string { return r.name }

// Scope returns the responder's scope.
func (r *Responder) Scope() connector.Scope { return r.scope }

// Target returns the effect key of a finding: its evidence key, plus its target if any.
func Target(f connector.Finding) string {
	if f.Target == "" {
		return f.Key.String()
	}
	return f.Key.String() + " " + f.Target
}

// Respond records the finding as an effect on its target.
func (r *Responder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if err := r.Faults.before(ctx, "respond "+r.name); err != nil {
		return connector.Result{}, err
	}
	if r.scope != connector.ScopeEvidence && (f.Sighting == nil || f.Sighting.Key() == f.Sighting.Source+"?") {
		return connector.Result{Status: connector.Skipped, Detail: "the sighting names nothing to act on"}, nil
	}
	target := Target(f)
	r.mu.Lock()
	r.calls++
	if r.CheckExisting && r.effects[target] > 0 {
		r.mu.Unlock()
		return connector.Result{Status: connector.Unchanged, Detail: "already present: " + target}, nil
	}
	r.effects[target]++
	r.findings = append(r.findings, f)
	r.mu.Unlock()
	if err := r.Faults.after("respond " + r.name); err != nil {
		return connector.Result{}, err
	}
	return connector.Result{Status: connector.Acted, Detail: "acted on " + target}, nil
}

// Effects returns the number of effects per target.
func (r *Responder) Effects() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.effects)
}

// Calls returns the number of Respond calls that got past fault injection.
func (r *Responder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Findings returns the findings that had an effect, in order.
func (r *Responder) Findings() []connector.Finding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]connector.Finding(nil), r.findings...)
}

// BatchResponder is a Responder that also implements connector.BatchResponder: RespondBatch acts on each finding as
// Respond does and records the size of every batch, so a test can see how the engine grouped the findings.
type BatchResponder struct {
	*Responder
	// Hold, when set, makes every RespondBatch call wait until it is closed (or the context ends) before acting, so
	// a test can let findings pile up behind a batch under way.
	Hold <-chan struct{}

	bmu     sync.Mutex
	batches []int
}

// NewBatchResponder returns a batch responder with the given name and scope.
func NewBatchResponder(name string, scope connector.Scope) *BatchResponder {
	return &BatchResponder{Responder: NewResponder(name, scope)}
}

// RespondBatch acts on every finding of the batch, in order.
func (r *BatchResponder) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	r.bmu.Lock()
	r.batches = append(r.batches, len(fs))
	r.bmu.Unlock()
	if r.Hold != nil {
		select {
		case <-r.Hold:
		case <-ctx.Done():
		}
	}
	return connector.RespondEach(ctx, r.Responder, fs)
}

// Batches returns the size of every RespondBatch call, in order.
func (r *BatchResponder) Batches() []int {
	r.bmu.Lock()
	defer r.bmu.Unlock()
	return append([]int(nil), r.batches...)
}
