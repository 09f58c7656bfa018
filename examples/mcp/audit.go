package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
)

// Audit decisions.
const (
	decisionAllowed = "allowed" // the call ran (a read, a dry run or an action)
	decisionRefused = "refused" // the guard or the approver refused the action
	decisionFailed  = "failed"  // the call was allowed and failed
	decisionPending = "pending" // the user was asked to approve (elicitation); the answer comes in a second call
)

// AuditRecord is one line of the audit log: who called which tool, with what
// arguments and why, what the guard and the approver decided, and the
// result. Every tool call writes one, allowed or refused.
type AuditRecord struct {
	Tool string `json:"tool"`
	// Kind is read or action.
	Kind string `json:"kind"`
	Who  Caller `json:"who"`
	// What are the call's arguments as the client sent them.
	What json.RawMessage `json:"what,omitempty"`
	// Why is the reason the caller gave (action tools).
	Why string `json:"why,omitempty"`
	// Mode is dry-run or execute (action tools).
	Mode string `json:"mode,omitempty"`
	// Target names what the action is on ("sha256:…", "device:42").
	Target string `json:"target,omitempty"`
	// Decision is allowed, refused or failed; Refusal says why it was
	// refused.
	Decision string `json:"decision"`
	Refusal  string `json:"refusal,omitempty"`
	// Approval is the approver's answer, when one was asked.
	Approval *Decision `json:"approval,omitempty"`
	// Result is what the responder did (action tools).
	Result *connector.Result `json:"result,omitempty"`
	// Repeated is true when the action log showed the action done already.
	Repeated bool   `json:"repeated,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Caller identifies who made a call: the MCP client as it introduced
// itself, its session, and the HTTP bearer token's user when there is one.
type Caller struct {
	Client  string `json:"client,omitempty"`
	Session string `json:"session,omitempty"`
	User    string `json:"user,omitempty"`
}

// String renders the caller for approval messages.
func (c Caller) String() string {
	s := c.Client
	if s == "" {
		s = "unknown client"
	}
	if c.User != "" {
		s += " as " + c.User
	}
	return s
}

// callerOf reads the caller from a request.
func callerOf(req *mcp.CallToolRequest) Caller {
	var c Caller
	if req == nil || req.Session == nil {
		return c
	}
	c.Session = req.Session.ID()
	if p := req.Session.InitializeParams(); p != nil && p.ClientInfo != nil {
		c.Client = p.ClientInfo.Name
		if p.ClientInfo.Version != "" {
			c.Client += "/" + p.ClientInfo.Version
		}
	}
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		c.User = req.Extra.TokenInfo.UserID
	}
	return c
}

// Auditor appends audit records as JSON lines (through log/slog's JSON
// handler, one object per line with time, level and msg).
type Auditor struct {
	log    *slog.Logger
	mu     sync.Mutex
	closer io.Closer
}

// NewAuditor writes records to w.
func NewAuditor(w io.Writer) *Auditor {
	return &Auditor{log: slog.New(slog.NewJSONHandler(w, nil))}
}

// OpenAuditor appends records to the file at path (created with mode 0600).
func OpenAuditor(path string) (*Auditor, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	a := NewAuditor(f)
	a.closer = f
	return a, nil
}

// Record writes one record. Records are written whole, one per line.
func (a *Auditor) Record(ctx context.Context, r AuditRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	attrs := []slog.Attr{slog.String("tool", r.Tool), slog.String("kind", r.Kind), slog.Any("who", r.Who)}
	if len(r.What) > 0 {
		attrs = append(attrs, slog.Any("what", r.What))
	}
	if r.Why != "" {
		attrs = append(attrs, slog.String("why", r.Why))
	}
	if r.Mode != "" {
		attrs = append(attrs, slog.String("mode", r.Mode))
	}
	if r.Target != "" {
		attrs = append(attrs, slog.String("target", r.Target))
	}
	attrs = append(attrs, slog.String("decision", r.Decision))
	if r.Refusal != "" {
		attrs = append(attrs, slog.String("refusal", r.Refusal))
	}
	if r.Approval != nil {
		attrs = append(attrs, slog.Any("approval", r.Approval))
	}
	if r.Result != nil {
		attrs = append(attrs, slog.Any("result", r.Result))
	}
	if r.Repeated {
		attrs = append(attrs, slog.Bool("repeated", true))
	}
	if r.Error != "" {
		attrs = append(attrs, slog.String("error", r.Error))
	}
	a.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "tool call", attrs...)
}

// Close closes the file OpenAuditor opened.
func (a *Auditor) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}
