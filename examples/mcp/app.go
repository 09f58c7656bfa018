package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/vmray"
)

// App is everything the tools use: the vendor clients (nil when a vendor is
// not configured), the responders behind the action tools, the scope guard,
// the approver, the action log and the audit log. One App serves any number
// of MCP sessions.
type App struct {
	cfg    *Config
	logger *slog.Logger
	now    func() time.Time

	vm       *vmray.Client
	analyzer *vmrayconn.Analyzer
	cb       *carbonblack.Client
	s1       *sentinelone.Client
	s1Scope  *sentineloneconn.Scope
	tap      *proofpoint.Client

	responders map[string]connector.Responder
	store      connector.Store
	guard      *Guard
	approver   Approver
	audit      *Auditor

	// pending are the approval questions asked by elicitation.
	pending pendingApprovals
	// locks serialises calls of one action on one target, so two identical
	// requests in flight act once.
	locks keyLocks
}

// Deps are what NewApp needs besides the configuration: the action log, the
// audit log and a logger. Now is the clock of the hourly budget (default
// time.Now).
type Deps struct {
	Store  connector.Store
	Audit  *Auditor
	Logger *slog.Logger
	Now    func() time.Time
}

// NewApp builds the clients and responders of every configured vendor.
func NewApp(cfg *Config, deps Deps) (*App, error) {
	if deps.Store == nil || deps.Audit == nil {
		return nil, fmt.Errorf("%s: an action log store and an audit log are required", name)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a := &App{cfg: cfg, logger: deps.Logger, now: deps.Now, store: deps.Store, audit: deps.Audit,
		responders: map[string]connector.Responder{}}
	var err error
	if cfg.VMRay.URL != "" {
		if a.vm, err = cfg.VMRay.Client(a.logger); err != nil {
			return nil, err
		}
		if a.analyzer, err = vmrayconn.New(a.vm, cfg.VMRay.AnalyzerOptions(a.logger, false)); err != nil {
			return nil, err
		}
	}
	if cfg.CarbonBlack.URL != "" || cfg.CarbonBlack.CredentialsFile != "" {
		if a.cb, err = cfg.CarbonBlack.Client(a.logger); err != nil {
			return nil, err
		}
	}
	if s := cfg.SentinelOne; s.URL != "" {
		opts := []sentinelone.Option{sentinelone.WithLogger(a.logger), sentinelone.WithUserAgent(name)}
		transport, err := vendors.TransportOptions("sentinelone", s.Transport, sentinelone.WithInsecureSkipVerify,
			sentinelone.WithCACertPEM, sentinelone.WithProxy)
		if err != nil {
			return nil, err
		}
		if a.s1, err = sentinelone.New(s.URL, s.APIToken.Value(), append(opts, transport...)...); err != nil {
			return nil, err
		}
		if a.s1Scope, err = sentineloneconn.NewScope(a.s1, s.AccountID, s.SiteIDs); err != nil {
			return nil, err
		}
	}
	if p := cfg.Proofpoint; p.URL != "" {
		opts := []proofpoint.Option{proofpoint.WithLogger(a.logger), proofpoint.WithUserAgent(name)}
		transport, err := vendors.TransportOptions("proofpoint", p.Transport, proofpoint.WithInsecureSkipVerify,
			proofpoint.WithCACertPEM, proofpoint.WithProxy)
		if err != nil {
			return nil, err
		}
		if a.tap, err = proofpoint.New(p.URL, p.Principal, p.Secret.Value(), append(opts, transport...)...); err != nil {
			return nil, err
		}
	}
	if err := a.buildResponders(); err != nil {
		return nil, err
	}
	a.guard = NewGuard(cfg.Actions, a.now)
	if a.approver, err = newApprover(cfg.Approval); err != nil {
		return nil, err
	}
	return a, nil
}

// NewServer returns an MCP server with the tools of every configured vendor.
// Each session (stdio, or each HTTP client) may share it.
func (a *App) NewServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Title: "soarkit security tools", Version: rest.Version},
		&mcp.ServerOptions{Logger: a.logger, Instructions: instructions})
	a.addReadTools(s)
	a.addActionTools(s)
	return s
}

// instructions tell the model how the tools behave.
const instructions = `Security triage tools over VMRay, Carbon Black Cloud, SentinelOne and Proofpoint TAP.
Read tools return one page at a time: pass next_cursor back to get the next page. Every item has a console link.
Action tools are dry runs unless the server allows execution and the call sets execute: true; every action call
needs a reason, may be refused by the server's scope guard or by a human approver, and is recorded in an audit log.
Repeating an action that was done already does nothing and says so.`

// addReadTools registers the read tools of the configured vendors.
func (a *App) addReadTools(s *mcp.Server) {
	if a.analyzer != nil {
		a.addVMRayTools(s)
	}
	if a.cb != nil {
		a.addCarbonBlackTools(s)
	}
	if a.s1 != nil {
		a.addSentinelOneTools(s)
	}
	if a.tap != nil {
		a.addProofpointTools(s)
	}
}

// callContext bounds one tool call's vendor calls.
func (a *App) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.cfg.Limits.CallTimeout)
}

// addRead registers a read-only tool whose calls are bounded and audited.
func addRead[In, Out any](a *App, s *mcp.Server, t *mcp.Tool, h func(context.Context, In) (Out, error)) {
	t.Annotations = &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(true)}
	mcp.AddTool(s, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		cctx, cancel := a.callContext(ctx)
		defer cancel()
		out, err := h(cctx, in)
		rec := AuditRecord{Tool: t.Name, Kind: "read", Who: callerOf(req), What: rawInput(req), Decision: decisionAllowed}
		if err != nil {
			rec.Decision, rec.Error = decisionFailed, err.Error()
		}
		a.audit.Record(ctx, rec)
		return nil, out, err
	})
}

// rawInput returns the call's arguments for the audit log.
func rawInput(req *mcp.CallToolRequest) json.RawMessage {
	if req == nil || req.Params == nil {
		return nil
	}
	return req.Params.Arguments
}

func ptr[T any](v T) *T { return &v }
