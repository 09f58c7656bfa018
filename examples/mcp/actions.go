package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
)

// The action tools.
const (
	actBan        = "cbc_ban_hash"
	actQuarantine = "cbc_quarantine_device"
	actWatchlist  = "cbc_watchlist_report"
	actNote       = "s1_threat_note"
	actBlocklist  = "s1_blocklist_hash"
	actMitigate   = "s1_mitigate_threat"
	actIsolate    = "s1_isolate_agent"
)

// actionNames lists every action tool (the default of actions.allowed).
func actionNames() []string {
	return []string{actBan, actQuarantine, actWatchlist, actNote, actBlocklist, actMitigate, actIsolate}
}

// Modes of an action call.
const (
	modeDryRun  = "dry-run"
	modeExecute = "execute"
)

// ActionOutput is the result of every action tool.
type ActionOutput struct {
	Action string `json:"action" jsonschema:"the action tool"`
	Target string `json:"target" jsonschema:"what the action is on"`
	Mode   string `json:"mode" jsonschema:"dry-run (nothing changed) or execute"`
	// Status is the responder's: acted, unchanged (already in the desired
	// state), skipped (a dry run, or nothing to do); or done-before when the
	// action log shows the action done by an earlier call.
	Status   string    `json:"status" jsonschema:"acted, unchanged, skipped (dry run or nothing to do) or done-before (an earlier call did it)"`
	Detail   string    `json:"detail" jsonschema:"what happened, in words"`
	Approval *Decision `json:"approval,omitempty" jsonschema:"the approver's answer, for executed actions"`
	DoneAt   time.Time `json:"done_at,omitzero" jsonschema:"when an earlier call did the action (status done-before)"`
	Link     string    `json:"link,omitempty" jsonschema:"console link to the target"`
}

// actionPlan is an action resolved to what its responder acts on.
type actionPlan struct {
	finding connector.Finding
	// target names it for people ("device 42 (WS-FIN-01)"); summary says
	// the action ("quarantine Carbon Black device 42 (WS-FIN-01)").
	target  string
	summary string
	link    string
}

// actionCall is one call of an action tool.
type actionCall struct {
	tool string
	// responder is the key of the responder in App.responders (default:
	// the tool's name).
	responder string
	reason    string
	execute   bool
	// plan resolves the target and applies the scope guard's target
	// checks; a *RefusedError refuses the call.
	plan func(ctx context.Context) (actionPlan, error)
}

// errNoReason refuses an action without a reason.
var errNoReason = refused("a reason is required: say why the action is needed")

// act runs an action call: the guard, the action log, dry run or approval,
// the responder, and one audit record whatever happens.
//
// With approval by elicitation, a call runs twice: the first returns the
// question (a result with input requests, audited as pending), the client
// asks the user and calls again with the answer.
func (a *App) act(ctx context.Context, req *mcp.CallToolRequest, call actionCall) (*mcp.CallToolResult, ActionOutput, error) {
	mode := modeDryRun
	if call.execute && !a.cfg.Actions.DryRun {
		mode = modeExecute
	}
	rec := AuditRecord{Tool: call.tool, Kind: "action", Who: callerOf(req), What: rawInput(req), Why: call.reason, Mode: mode}
	out := ActionOutput{Action: call.tool, Mode: mode}
	// The approver's wait comes on top of the vendor calls' bound.
	cctx, cancel := context.WithTimeout(ctx, a.cfg.Limits.CallTimeout+a.cfg.Approval.Timeout)
	defer cancel()
	ask, err := a.actGuarded(cctx, req, call, &rec, &out)
	var re *RefusedError
	switch {
	case ask != nil:
		rec.Decision = decisionPending
	case errors.As(err, &re):
		rec.Decision, rec.Refusal = decisionRefused, re.Reason
	case err != nil:
		rec.Decision, rec.Error = decisionFailed, err.Error()
	default:
		rec.Decision = decisionAllowed
	}
	a.audit.Record(ctx, rec)
	if ask != nil {
		return ask, ActionOutput{}, nil
	}
	return nil, out, err
}

// actGuarded does the work of act. It returns a result only to ask the
// user for approval.
func (a *App) actGuarded(ctx context.Context, req *mcp.CallToolRequest, call actionCall, rec *AuditRecord, out *ActionOutput) (*mcp.CallToolResult, error) {
	if strings.TrimSpace(call.reason) == "" {
		return nil, errNoReason
	}
	if err := a.guard.Allowed(call.tool); err != nil {
		return nil, err
	}
	p, err := call.plan(ctx)
	if err != nil {
		return nil, err
	}
	if call.responder == "" {
		call.responder = call.tool
	}
	r, ok := a.responders[call.responder]
	if !ok {
		return nil, fmt.Errorf("%s is not available on this server", call.responder)
	}
	out.Target, out.Link, rec.Target = p.target, p.link, p.target
	key := connector.ActionKey{Responder: r.Name(), Item: p.finding.Key, Target: p.finding.Target}
	unlock := a.locks.lock(key)
	defer unlock()

	if done, found, err := a.doneBefore(ctx, key); err != nil {
		return nil, err
	} else if found {
		out.Status, out.Detail, out.DoneAt = "done-before", done.Detail, done.At
		rec.Repeated = true
		rec.Result = &connector.Result{Status: done.Status, Detail: done.Detail}
		return nil, nil
	}

	if out.Mode == modeDryRun {
		res, err := connector.DryRun(r, a.logger).Respond(ctx, p.finding)
		if err != nil {
			return nil, err
		}
		res.Detail = "dry run: would " + p.summary
		if a.cfg.Actions.DryRun {
			res.Detail += " (the server runs every action dry: actions.dry_run)"
		} else {
			res.Detail += " (call again with execute: true to act)"
		}
		out.Status, out.Detail = string(res.Status), res.Detail
		rec.Result = &res
		return nil, nil
	}

	if err := a.guard.Spend(false); err != nil {
		return nil, err
	}
	ar := ApprovalRequest{ID: connector.DeliveryID(r.Name(), p.finding), Action: call.tool, Target: p.target,
		Summary: p.summary, Reason: call.reason, Who: rec.Who}
	var d Decision
	if a.cfg.Approval.Mode == approvalElicitation {
		var answered bool
		d, answered, err = a.elicitedDecision(req, key)
		if err != nil {
			return nil, refused("not approved: %v", err)
		}
		if !answered {
			if !supportsElicitation(req) {
				return nil, refused("not approved: approval is by elicitation and this MCP client does not support elicitation")
			}
			return a.elicitApproval(req, key, ar), nil
		}
	} else if d, err = a.approver.Approve(ctx, ar); err != nil {
		return nil, refused("not approved: %v", err)
	}
	out.Approval, rec.Approval = &d, &d
	if !d.Approved {
		why := "the approver said no"
		if d.Comment != "" {
			why += ": " + d.Comment
		}
		return nil, refused("%s", why)
	}
	if err := a.guard.Spend(true); err != nil {
		return nil, err
	}
	res, err := r.Respond(ctx, p.finding)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", call.tool, p.target, err)
	}
	out.Status, out.Detail = string(res.Status), res.Detail
	rec.Result = &res
	if res.Status == connector.Acted || res.Status == connector.Unchanged {
		err := a.store.Update(context.WithoutCancel(ctx), func(tx connector.Tx) error {
			return tx.PutAction(connector.Action{ActionKey: key, Status: res.Status, Detail: res.Detail, At: a.now().UTC()})
		})
		if err != nil {
			return nil, fmt.Errorf("%s on %s acted but could not be recorded in the action log: %w", call.tool, p.target, err)
		}
	}
	return nil, nil
}

// doneBefore reads the action log.
func (a *App) doneBefore(ctx context.Context, key connector.ActionKey) (connector.Action, bool, error) {
	var done connector.Action
	var found bool
	err := a.store.View(ctx, func(tx connector.Tx) error {
		var err error
		done, found, err = tx.Action(key)
		return err
	})
	if err != nil {
		return connector.Action{}, false, fmt.Errorf("reading the action log: %w", err)
	}
	return done, found, nil
}

// keyLocks serialises the calls of one action on one target; an entry lives
// while calls hold or wait for it.
type keyLocks struct {
	mu    sync.Mutex
	locks map[connector.ActionKey]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock.
func (l *keyLocks) lock(key connector.ActionKey) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[connector.ActionKey]*keyLock{}
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock()
	return func() {
		k.mu.Unlock()
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}

// targetKey is the action log's item key for an action on something that
// is not a file (a device, an agent): a SHA-256 of what it is, so the same
// target always has the same key.
func targetKey(kind, id string) connector.Key {
	sum := sha256.Sum256([]byte(name + "\x00" + kind + "\x00" + id))
	return connector.Key{Kind: connector.SHA256, Hex: hex.EncodeToString(sum[:])}
}
