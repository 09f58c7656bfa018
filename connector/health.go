package connector

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ComponentKind names the role of a component in health reports: "source", "analyzer" or "responder".
type ComponentKind string

// The component kinds.
const (
	KindSource    ComponentKind = "source"
	KindAnalyzer  ComponentKind = "analyzer"
	KindResponder ComponentKind = "responder"
)

// kindOf returns the kind of component a stage calls.
func kindOf(stage Stage) ComponentKind {
	switch stage {
	case StageCollect, StageFetch:
		return KindSource
	case StageRespond:
		return KindResponder
	}
	return KindAnalyzer
}

// ComponentStatus is the health of one component as the engine saw it last.
type ComponentStatus struct {
	Kind ComponentKind `json:"kind"`
	// Healthy is false while the component's last call was refused for authorization (401, 403, ErrUnauthorized).
	Healthy bool `json:"healthy"`
	// Reason is the refusal, when unhealthy.
	Reason string `json:"reason,omitempty"`
	// Since is when the component last changed health.
	Since time.Time `json:"since"`
}

// HealthObserver is an optional extension of Observer: an Observer that implements it also learns when a
// component changes health and when a source collected successfully (for readiness probes and gauges).
type HealthObserver interface {
	// ComponentHealth reports a change of health of the named component.
	ComponentHealth(kind ComponentKind, name string, healthy bool, reason string)
	// SourceCollected reports a successful Collect call of the named source.
	SourceCollected(name string, at time.Time)
}

// componentState is the engine's record of one component.
type componentState struct {
	ComponentStatus
	// cycle is the cycle in which the component became unhealthy: calls to it are skipped for the rest of that
	// cycle, and the first call of a later cycle probes it again.
	cycle int
}

// callDone records the health outcome of one component call: an authorization failure marks it unhealthy, a
// success (or a RetryLater, which the component could only answer when authorized) healthy again.
func (e *engine) callDone(stage Stage, component string, err error) {
	var healthy bool
	switch {
	case err == nil:
		healthy = true
	case Classify(err) == Authorization:
		healthy = false
	default:
		if _, later := RetryAfter(err); !later {
			return
		}
		healthy = true
	}
	now := e.cfg.Now()
	e.mu.Lock()
	st, seen := e.health[component]
	changed := !seen || st.Healthy != healthy
	if changed {
		st = &componentState{ComponentStatus: ComponentStatus{Kind: kindOf(stage), Healthy: healthy, Since: now}}
		e.health[component] = st
	}
	if !healthy {
		st.Reason, st.cycle = err.Error(), e.cycle
	} else {
		st.Reason = ""
	}
	reason := st.Reason
	e.mu.Unlock()
	if !changed {
		return
	}
	if healthy {
		if seen {
			e.log.Info("component healthy again", "component", component, "kind", kindOf(stage))
		}
	} else {
		e.log.Error("component unauthorized: its items wait until it is fixed", "component", component,
			"kind", kindOf(stage), "stage", stage, "err", err)
	}
	if ho, ok := e.obs.(HealthObserver); ok {
		ho.ComponentHealth(kindOf(stage), component, healthy, reason)
	}
}

// blocked reports whether component was refused for authorization in the current cycle: the engine does not call it
// again before the next cycle (or run), and items that need it wait.
func (e *engine) blocked(component string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.health[component]
	return ok && !st.Healthy && st.cycle == e.cycle
}

// blockedErr returns, when component is blocked (see blocked), an authorization error with the refusal's reason.
func (e *engine) blockedErr(component string) error {
	if !e.blocked(component) {
		return nil
	}
	e.mu.Lock()
	reason := e.health[component].Reason
	e.mu.Unlock()
	return Unauthorized(fmt.Errorf("%s refused an earlier call of this cycle: %s", component, reason))
}

// collected records a successful collection of source.
func (e *engine) collected(source string) {
	now := e.cfg.Now()
	e.count(func(s *Summary) { s.LastCollected[source] = now })
	if ho, ok := e.obs.(HealthObserver); ok {
		ho.SourceCollected(source, now)
	}
}

// healthSnapshot copies the component health for the summary.
func (e *engine) healthSnapshot() map[string]ComponentStatus {
	out := make(map[string]ComponentStatus, len(e.health))
	for name, st := range e.health {
		out[name] = st.ComponentStatus
	}
	return out
}

// Problem returns why the run counts as failed, or "" when it did not fail: a component was unauthorized when the
// run ended, or every source failed for the whole run (none collected successfully and at least one failed). The
// example connectors turn a problem into exit code 1.
func (s Summary) Problem() string {
	var probs []string
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		if st := s.Components[name]; !st.Healthy {
			probs = append(probs, fmt.Sprintf("%s %s unauthorized: %s", st.Kind, name, st.Reason))
		}
	}
	if len(s.LastCollected) == 0 && s.SourceErrors > 0 {
		probs = append(probs, fmt.Sprintf("every source failed (%d failed collections, none succeeded)", s.SourceErrors))
	}
	return strings.Join(probs, "; ")
}
