package sentineloneconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
	"github.com/soarkit/soarkit/sentinelone"
)

// mitigationStatusNames are the names the console reports in a threat's
// mitigationStatus for each action.
var mitigationStatusNames = map[sentinelone.MitigationAction]string{
	sentinelone.MitigateKill:                "kill",
	sentinelone.MitigateQuarantine:          "quarantine",
	sentinelone.MitigateRemediate:           "remediate",
	sentinelone.MitigateRollbackRemediation: "rollback",
}

// Mitigation is a responder that runs one mitigation action (kill,
// quarantine, remediate, rollback-remediation) on each threat of a file,
// selected by the sighting's THREAT id (never its agent id: seed bug D.3). A
// sighting without a threat (a Deep Visibility process) is Skipped; a threat
// on which the action already succeeded or is pending is Unchanged, and so is
// one this responder asked for in the last ten minutes whose status does not
// show it yet.
type Mitigation struct {
	c       *sentinelone.Client
	name    string
	action  sentinelone.MitigationAction
	pending *pending.Actions
}

// NewMitigation returns a mitigation responder for action, named name
// (default "s1-<action>").
func NewMitigation(c *sentinelone.Client, action sentinelone.MitigationAction, name string) (*Mitigation, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if _, ok := mitigationStatusNames[action]; !ok {
		return nil, fmt.Errorf("sentineloneconn: unsupported mitigation %q (use kill, quarantine, remediate or rollback-remediation)", action)
	}
	if name == "" {
		name = "s1-" + string(action)
	}
	return &Mitigation{c: c, name: name, action: action, pending: pending.New(0, nil)}, nil
}

// SetSettleDelay sets how long an action that may have been sent (by this
// process, or by an attempt before a restart: see connector.Finding.EarlierAttempt)
// and that the console does not show yet is waited for before it is sent
// again (default ten minutes). Call it before the first Respond.
func (m *Mitigation) SetSettleDelay(d time.Duration) { m.pending.SetHold(d) }

// Name returns the responder's name.
func (m *Mitigation) Name() string { return m.name }

// Scope is per sighting (per threat).
func (m *Mitigation) Scope() connector.Scope { return connector.ScopeSighting }

// Respond runs the action on the sighting's threat unless it succeeded, is
// pending, or was requested by this responder in the last ten minutes and
// the console does not show it yet.
func (m *Mitigation) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	tid := threatID(f)
	if tid == "" {
		return skipped("the sighting has no SentinelOne threat to %s", m.action)
	}
	return m.pending.Do(tid, f.EarlierAttempt, func(r pending.Request) (connector.Result, bool, error) {
		t, err := m.c.Threats.Get(ctx, tid)
		if err != nil {
			return connector.Result{}, false, classify("reading threat "+tid, err)
		}
		want := mitigationStatusNames[m.action]
		for _, ms := range t.MitigationStatus {
			if ms.Action == want && ms.Status != "failed" {
				res, err := unchanged("%s on threat %s is already %s", m.action, tid, ms.Status)
				return res, false, err
			}
		}
		if res, ok, err := m.pending.Pending(r, fmt.Sprintf("%s on threat %s", m.action, tid)); ok {
			return res, false, err
		}
		res, err := m.c.Threats.Mitigate(ctx, m.action, []string{tid}, sentinelone.Scope{})
		if err != nil {
			return connector.Result{}, true, classify(fmt.Sprintf("%s on threat %s", m.action, tid), err)
		}
		if res.Affected == 0 {
			return connector.Result{}, true, connector.Permanent(fmt.Errorf("sentineloneconn: %s on threat %s affected nothing", m.action, tid))
		}
		out, err := acted("%s on threat %s (agent %s)", m.action, tid, t.AgentRealtimeInfo.AgentID)
		return out, true, err
	})
}

// AgentAction is an action on an agent (the original's AUTO_INITIATE_SCAN,
// AUTO_DISCONNECT, AUTO_SHUTDOWN).
type AgentAction string

// The agent actions.
const (
	ActionInitiateScan AgentAction = "initiate-scan"
	ActionDisconnect   AgentAction = "disconnect"
	ActionShutdown     AgentAction = "shutdown"
)

// Agent is a responder that runs an action on every agent that saw a file:
// a full disk scan (Unchanged while one is running), network disconnection
// (Unchanged when disconnected) or shutdown (Unchanged when the agent is
// offline already). An action it requested in the last ten minutes that the
// console does not show yet is Unchanged too.
type Agent struct {
	c       *sentinelone.Client
	name    string
	action  AgentAction
	pending *pending.Actions
}

// NewAgentAction returns an agent action responder, named name (default
// "s1-<action>").
func NewAgentAction(c *sentinelone.Client, action AgentAction, name string) (*Agent, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if !slices.Contains([]AgentAction{ActionInitiateScan, ActionDisconnect, ActionShutdown}, action) {
		return nil, fmt.Errorf("sentineloneconn: unsupported agent action %q (use initiate-scan, disconnect or shutdown)", action)
	}
	if name == "" {
		name = "s1-" + string(action)
	}
	return &Agent{c: c, name: name, action: action, pending: pending.New(0, nil)}, nil
}

// SetSettleDelay sets how long an action that may have been sent (by this
// process, or by an attempt before a restart: see connector.Finding.EarlierAttempt)
// and that the console does not show yet is waited for before it is sent
// again (default ten minutes). Call it before the first Respond.
func (a *Agent) SetSettleDelay(d time.Duration) { a.pending.SetHold(d) }

// Name returns the responder's name.
func (a *Agent) Name() string { return a.name }

// Scope is per device (agent).
func (a *Agent) Scope() connector.Scope { return connector.ScopeDevice }

// Respond runs the action on the sighting's agent unless it is in effect or
// this responder requested it in the last ten minutes and the console does
// not show it yet (agents apply actions when they check in). Calls for one
// agent never run at once.
func (a *Agent) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if f.Sighting == nil || f.Sighting.AgentID == "" {
		return skipped("the sighting names no SentinelOne agent")
	}
	id := f.Sighting.AgentID
	return a.pending.Do(id, f.EarlierAttempt, func(r pending.Request) (connector.Result, bool, error) {
		ag, err := a.c.Agents.Get(ctx, id)
		if err != nil {
			return connector.Result{}, false, classify("reading agent "+id, err)
		}
		if res, done := a.inEffect(ag); done {
			return res, false, nil
		}
		if res, ok, err := a.pending.Pending(r, fmt.Sprintf("%s on agent %s (%s)", a.action, id, ag.ComputerName)); ok {
			return res, false, err
		}
		filter := sentinelone.AgentFilter{IDs: []string{id}}
		var n int
		switch a.action {
		case ActionDisconnect:
			n, err = a.c.Agents.Disconnect(ctx, filter)
		case ActionInitiateScan:
			n, err = a.c.Agents.InitiateScan(ctx, filter)
		case ActionShutdown:
			n, err = a.c.Agents.Shutdown(ctx, filter)
		}
		if err != nil {
			return connector.Result{}, true, classify(fmt.Sprintf("%s on agent %s", a.action, id), err)
		}
		if n == 0 {
			return connector.Result{}, true, fmt.Errorf("sentineloneconn: %s on agent %s affected nothing", a.action, id)
		}
		res, err := acted("%s on agent %s (%s)", a.action, id, ag.ComputerName)
		return res, true, err
	})
}

// inEffect reports, with an Unchanged result, an agent the action need not
// be run on.
func (a *Agent) inEffect(ag *sentinelone.Agent) (connector.Result, bool) {
	var res connector.Result
	switch a.action {
	case ActionDisconnect:
		if ag.NetworkQuarantineEnabled || strings.EqualFold(ag.NetworkStatus, "disconnected") || strings.EqualFold(ag.NetworkStatus, "disconnecting") {
			res, _ = unchanged("agent %s (%s) is already disconnected", ag.ID, ag.ComputerName)
			return res, true
		}
	case ActionInitiateScan:
		if s := strings.ToLower(ag.ScanStatus); s == "started" || s == "pending" {
			res, _ = unchanged("a scan of agent %s (%s) is already %s", ag.ID, ag.ComputerName, s)
			return res, true
		}
	case ActionShutdown:
		if !ag.IsActive {
			res, _ = unchanged("agent %s (%s) is offline", ag.ID, ag.ComputerName)
			return res, true
		}
	}
	return res, false
}

// DefaultFalsePositiveDescription is the note of FalsePositive, the
// original's THREAT.AUTO_UPDATE_FALSE_POSITIVE_VERDICT.DESCRIPTION.
const DefaultFalsePositiveDescription = "Marked as False Positive because marked as clean by VMRay"

// DefaultFalsePositiveConfidence are the S1 confidence levels whose threats
// are marked false positive when VMRay finds the file clean.
var DefaultFalsePositiveConfidence = []string{sentinelone.ConfidenceMalicious, sentinelone.ConfidenceSuspicious}

// FalsePositiveOptions configure NewFalsePositive.
type FalsePositiveOptions struct {
	// Name is the responder's name (default "s1-false-positive").
	Name string
	// ConfidenceLevels are the S1 confidence levels of the threats marked
	// (default DefaultFalsePositiveConfidence).
	ConfidenceLevels []string
	// Description is the note's text (default
	// DefaultFalsePositiveDescription).
	Description string
	// Note lays out the note (its subtypes; see NoteText).
	Note NoteOptions
	// SettleDelay is how long a verdict change that may have been sent (by
	// this process, or by an attempt before a restart: see
	// connector.Finding.EarlierAttempt) is waited for before it is sent again
	// (default ten minutes).
	SettleDelay time.Duration
}

// FalsePositive is a responder that, for a file VMRay found clean, sets
// the analyst verdict false_positive on each of its threats whose
// confidence level is configured, and adds a note with the description. It
// acts on the threat's own confidence level (from the sighting, which the
// source filled), so it works for files analysed in this run as well as for
// known ones (seed bug D.3). Any other verdict is Skipped.
type FalsePositive struct {
	c       *sentinelone.Client
	opts    FalsePositiveOptions
	pending *pending.Actions
}

// NewFalsePositive returns a false-positive responder.
func NewFalsePositive(c *sentinelone.Client, opts FalsePositiveOptions) (*FalsePositive, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "s1-false-positive"
	}
	if len(opts.ConfidenceLevels) == 0 {
		opts.ConfidenceLevels = slices.Clone(DefaultFalsePositiveConfidence)
	}
	for _, l := range opts.ConfidenceLevels {
		if !slices.Contains(DefaultConfidenceLevels, l) {
			return nil, fmt.Errorf("sentineloneconn: unknown confidence level %q (use malicious, suspicious or n/a)", l)
		}
	}
	if opts.Description == "" {
		opts.Description = DefaultFalsePositiveDescription
	}
	if err := opts.Note.check(); err != nil {
		return nil, err
	}
	p := pending.New(opts.SettleDelay, nil)
	return &FalsePositive{c: c, opts: opts, pending: p}, nil
}

// Name returns the responder's name.
func (fp *FalsePositive) Name() string { return fp.opts.Name }

// Scope is per sighting (per threat).
func (fp *FalsePositive) Scope() connector.Scope { return connector.ScopeSighting }

// Respond marks the threat false positive and notes why.
func (fp *FalsePositive) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if f.Verdict.Kind != connector.Clean {
		return skipped("the verdict is %s, not clean", f.Verdict.Kind)
	}
	tid := threatID(f)
	if tid == "" {
		return skipped("the sighting is not a SentinelOne threat")
	}
	t, err := fp.c.Threats.Get(ctx, tid)
	if err != nil {
		return connector.Result{}, classify("reading threat "+tid, err)
	}
	level := t.ThreatInfo.ConfidenceLevel
	if level == "" {
		level = f.Sighting.Attributes[AttrConfidenceLevel]
	}
	if !slices.Contains(fp.opts.ConfidenceLevels, level) {
		return skipped("threat %s has confidence level %q, not one of %s", tid, level, strings.Join(fp.opts.ConfidenceLevels, ", "))
	}
	var did []string
	if t.ThreatInfo.AnalystVerdict != sentinelone.VerdictFalsePositive {
		res, err := fp.pending.Do(tid, f.EarlierAttempt, func(r pending.Request) (connector.Result, bool, error) {
			if res, ok, err := fp.pending.Pending(r, "false-positive verdict of threat "+tid); ok {
				return res, false, err
			}
			res, err := fp.c.Threats.SetAnalystVerdict(ctx, sentinelone.ThreatFilter{IDs: []string{tid}}, sentinelone.VerdictFalsePositive)
			if err != nil {
				return connector.Result{}, true, classify("setting the analyst verdict of threat "+tid, err)
			}
			if res.Affected > 0 {
				return connector.Result{Status: connector.Acted, Detail: "marked threat " + tid + " false positive"}, true, nil
			}
			return connector.Result{Status: connector.Unchanged}, true, nil
		})
		if err != nil {
			return connector.Result{}, err
		}
		if res.Status == connector.Acted {
			did = append(did, res.Detail)
		}
	}
	r, err := addNote(ctx, fp.c, tid, NoteText(f, fp.opts.Note, fp.opts.Description))
	if err != nil {
		return connector.Result{}, err
	}
	if r.Status == connector.Acted {
		did = append(did, r.Detail)
	}
	if len(did) == 0 {
		return unchanged("threat %s is already marked false positive and noted", tid)
	}
	return acted("%s", strings.Join(did, "; "))
}
