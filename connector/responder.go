package connector

import (
	"context"
	"fmt"
)

// Scope says what one action of a responder is about, and so how often the engine calls it for a file. The zero
// value is ScopeSighting.
type Scope uint8

const (
	// ScopeSighting: one action per sighting (a threat note, a mitigation of one threat, a webhook per process).
	ScopeSighting Scope = iota
	// ScopeEvidence: one action per file (a watchlist report, a hash ban, an indicator). Finding.Sighting is nil.
	ScopeEvidence
	// ScopeDevice: one action per device that saw the file (quarantine, agent disconnect); Finding.Sighting is the
	// first sighting on that device. Sightings that name no device are not acted on.
	ScopeDevice
)

// String returns "evidence", "sighting" or "device".
func (s Scope) String() string {
	switch s {
	case ScopeEvidence:
		return "evidence"
	case ScopeSighting:
		return "sighting"
	case ScopeDevice:
		return "device"
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// Status says what a responder did.
type Status string

const (
	// Acted: the responder changed something (created the report, isolated the device).
	Acted Status = "acted"
	// Unchanged: the target already was in the desired state (the note exists, the hash is already banned). The
	// engine records it as done, like Acted.
	Unchanged Status = "unchanged"
	// Skipped: the responder chose not to act now (a verdict gate, dry run, a sighting missing a field it needs).
	// Nothing is recorded, so the action can happen on a later verdict or run.
	Skipped Status = "skipped"
)

// Result reports what a responder did.
type Result struct {
	Status Status `json:"status"`
	// Detail says it in words, for logs and the action log: "created report 8f2c", "already banned",
	// "dry run: would quarantine device 42".
	Detail string `json:"detail,omitempty"`
}

// Responder acts on findings: writes a report, bans a hash, isolates a device, calls a webhook.
//
// Contract:
//   - Name is stable across restarts: the action log is keyed by (Name, evidence key, target).
//   - Scope is constant; it decides how many actions a finding yields (see Scope).
//   - Respond must be idempotent: the engine never repeats an action it recorded as done, but a crash between the
//     vendor accepting the action and the engine recording it repeats the call once. Check for "already present" and
//     report Unchanged rather than creating a duplicate where the vendor allows. f.EarlierAttempt is the start of
//     the earlier unfinished attempt of the same action (recorded in the Store before that call, so it survives a
//     restart): a responder whose vendor applies requests late waits for it (ErrActionSettling) instead of sending
//     again.
//   - Respond acts on exactly one target: the evidence, or f.Sighting. Gating on verdicts and dry run are wrappers
//     (Gate, DryRun), not flags inside the responder.
//   - Errors follow the control-error rules: Permanent for "cannot ever work", anything else is retried.
type Responder interface {
	Name() string
	Scope() Scope
	Respond(ctx context.Context, f Finding) (Result, error)
}

// targets returns the findings a responder of scope s acts on for item it.
func targets(s Scope, key Key, ev Evidence, v Verdict) []Finding {
	base := Finding{Key: key, Evidence: ev, Verdict: v}
	switch s {
	case ScopeEvidence:
		return []Finding{base}
	case ScopeSighting, ScopeDevice:
		var out []Finding
		seen := map[string]bool{}
		for i := range ev.Sightings {
			sg := ev.Sightings[i]
			t := sg.Key()
			if s == ScopeDevice {
				t = sg.DeviceKey()
			}
			if t == "" || seen[t] {
				continue
			}
			seen[t] = true
			f := base
			f.Sighting = &sg
			f.Target = t
			out = append(out, f)
		}
		return out
	}
	return nil
}
