package ops

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// Health tracks readiness from the engine's health reports (it implements connector.HealthObserver): ready once a
// source collected successfully, and no longer ready while a component is unhealthy (its credentials were refused)
// or when no source collected successfully within the staleness bound.
type Health struct {
	mu         sync.Mutex
	staleness  time.Duration
	now        func() time.Time
	collected  map[string]time.Time
	components map[string]Component
}

// Component is the health of one component in a readiness answer.
type Component struct {
	Kind    connector.ComponentKind `json:"kind"`
	Healthy bool                    `json:"healthy"`
	Reason  string                  `json:"reason,omitempty"`
}

// Readiness is the answer of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Reasons says why it is not ready.
	Reasons []string `json:"reasons,omitempty"`
	// Components lists the components the engine reported on, by name.
	Components map[string]Component `json:"components,omitempty"`
	// LastCollected is when each source last collected successfully.
	LastCollected map[string]time.Time `json:"last_collected,omitempty"`
}

var _ connector.HealthObserver = (*Health)(nil)

// NewHealth returns a Health that goes unready when no source collected successfully for staleness (zero: never
// stale once ready).
func NewHealth(staleness time.Duration) *Health {
	return &Health{staleness: staleness, now: time.Now, collected: map[string]time.Time{},
		components: map[string]Component{}}
}

// ComponentHealth implements connector.HealthObserver.
func (h *Health) ComponentHealth(kind connector.ComponentKind, name string, healthy bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.components[name] = Component{Kind: kind, Healthy: healthy, Reason: reason}
}

// SourceCollected implements connector.HealthObserver.
func (h *Health) SourceCollected(name string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.collected[name] = at
}

// Ready reports readiness and, when not ready, why.
func (h *Health) Ready() Readiness {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := Readiness{Ready: true, Components: maps.Clone(h.components), LastCollected: maps.Clone(h.collected)}
	for _, name := range slices.Sorted(maps.Keys(h.components)) {
		if c := h.components[name]; !c.Healthy {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s unauthorized: %s", c.Kind, name, c.Reason))
		}
	}
	var last time.Time
	for _, at := range h.collected {
		if at.After(last) {
			last = at
		}
	}
	switch {
	case last.IsZero():
		r.Reasons = append(r.Reasons, "no source has collected successfully yet")
	case h.staleness > 0 && h.now().Sub(last) > h.staleness:
		r.Reasons = append(r.Reasons, fmt.Sprintf("no source has collected successfully for %s (limit %s)",
			h.now().Sub(last).Round(time.Second), h.staleness))
	}
	r.Ready = len(r.Reasons) == 0
	return r
}
