package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
)

// Approval by MCP elicitation. The MCP protocol (2026-07-28, SEP-2322) has a
// tool ask the user through the client by returning the question as an
// input request; the client shows it and calls the tool again with the
// answer. (For clients on older protocol versions the SDK does the same
// round trip from the server side.) The server remembers each question it
// asked, under a random token the client echoes back, so an answer is taken
// only for a question this server asked, in the same session, about the
// same action, once, and before approval.timeout.
//
// The user answers through the MCP client: elicitation trusts the client
// application (not the model). Use the webhook where the approver must be
// outside the agent's host.

// approvalInput is the key of the approval question among the input
// requests.
const approvalInput = "approval"

// pendingApproval is a question asked and not answered yet.
type pendingApproval struct {
	key     connector.ActionKey
	session string
	expires time.Time
}

// pendingApprovals holds the open questions.
type pendingApprovals struct {
	mu   sync.Mutex
	open map[string]pendingApproval
}

// ask records a question and returns its token.
func (p *pendingApprovals) ask(q pendingApproval, now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[string]pendingApproval{}
	}
	for t, old := range p.open {
		if now.After(old.expires) {
			delete(p.open, t)
		}
	}
	p.open[token] = q
	return token
}

// answer takes the question of token (once) and checks that the answer is
// for it.
func (p *pendingApprovals) answer(token string, key connector.ActionKey, session string, now time.Time) error {
	p.mu.Lock()
	q, ok := p.open[token]
	delete(p.open, token)
	p.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("the approval answer is not for a question this server asked (or it was answered already)")
	case now.After(q.expires):
		return fmt.Errorf("the approval question expired (approval.timeout)")
	case q.key != key || q.session != session:
		return fmt.Errorf("the approval answer is for another action or session")
	}
	return nil
}

// approvalForm is the elicitation's form: one checkbox and a comment.
var approvalForm = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"approve": map[string]any{"type": "boolean", "title": "Approve this action", "default": false},
		"comment": map[string]any{"type": "string", "title": "Comment"},
	},
	"required": []string{"approve"},
}

// supportsElicitation reports whether the client declared elicitation.
func supportsElicitation(req *mcp.CallToolRequest) bool {
	if req == nil || req.Session == nil {
		return false
	}
	p := req.Session.InitializeParams()
	return p != nil && p.Capabilities != nil && p.Capabilities.Elicitation != nil
}

// elicitApproval returns the result that asks the user to approve r.
func (a *App) elicitApproval(req *mcp.CallToolRequest, key connector.ActionKey, r ApprovalRequest) *mcp.CallToolResult {
	now := a.now()
	token := a.pending.ask(pendingApproval{key: key, session: req.Session.ID(), expires: now.Add(a.cfg.Approval.Timeout)}, now)
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{approvalInput: &mcp.ElicitParams{Mode: "form", RequestedSchema: approvalForm,
			Message: fmt.Sprintf("%s asks to %s.\nReason: %s\nApprove?", r.Who, r.Summary, r.Reason)}},
		RequestState: token,
	}
}

// elicitedDecision reads the user's answer from a retried call, or returns
// false when the call carries none.
func (a *App) elicitedDecision(req *mcp.CallToolRequest, key connector.ActionKey) (Decision, bool, error) {
	if req == nil || req.Params == nil || req.Params.InputResponses == nil {
		return Decision{}, false, nil
	}
	resp, ok := req.Params.InputResponses[approvalInput]
	if !ok {
		return Decision{}, true, fmt.Errorf("the call carries no answer to the approval question")
	}
	session := ""
	if req.Session != nil {
		session = req.Session.ID()
	}
	if err := a.pending.answer(req.Params.RequestState, key, session, a.now()); err != nil {
		return Decision{}, true, err
	}
	res, ok := resp.(*mcp.ElicitResult)
	if !ok {
		return Decision{}, true, fmt.Errorf("the answer to the approval question is not an elicitation result")
	}
	d := Decision{By: "user"}
	if res.Action != "accept" {
		d.Comment = "the user chose " + res.Action
		return d, true, nil
	}
	d.Approved, _ = res.Content["approve"].(bool)
	if c, ok := res.Content["comment"].(string); ok {
		d.Comment = clip(c)
	}
	return d, true, nil
}
