package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// demoIDs are the ids the fakes gave the demo world.
type demoIDs struct {
	finance, dc   int64  // Carbon Black devices
	sales, lab    string // SentinelOne agents
	threat        string // the threat on the sales laptop
	labThreat     string // the threat on the lab machine
	salesComputer string
}

func (e *testEnv) ids(t *testing.T) demoIDs {
	t.Helper()
	var ids demoIDs
	var d DeviceOutput
	e.mustCall(t, "cbc_device", map[string]any{"name": demoHostFinance}, &d)
	ids.finance = d.ID
	e.mustCall(t, "cbc_device", map[string]any{"name": demoHostDC}, &d)
	ids.dc = d.ID
	var agents Page[AgentItem]
	e.mustCall(t, "s1_agents", map[string]any{}, &agents)
	for _, a := range agents.Items {
		switch a.ComputerName {
		case demoAgentSales:
			ids.sales, ids.salesComputer = a.ID, a.ComputerName
		case demoAgentLab:
			ids.lab = a.ID
		}
	}
	var threats Page[ThreatItem]
	e.mustCall(t, "s1_threats", map[string]any{}, &threats)
	for _, th := range threats.Items {
		switch th.AgentID {
		case ids.sales:
			ids.threat = th.ID
		case ids.lab:
			ids.labThreat = th.ID
		}
	}
	if ids.finance == 0 || ids.dc == 0 || ids.sales == "" || ids.lab == "" || ids.threat == "" || ids.labThreat == "" {
		t.Fatalf("demo ids %+v", ids)
	}
	return ids
}

// actionCase is one action tool with arguments that act on the demo world.
type actionCase struct {
	tool string
	args map[string]any
	// effects counts what the fakes show of the action.
	effects func() int
}

func (e *testEnv) actionCases(t *testing.T) []actionCase {
	ids := e.ids(t)
	w := e.world
	count := func(list []string, want string) int {
		n := 0
		for _, s := range list {
			if strings.Contains(s, want) {
				n++
			}
		}
		return n
	}
	return []actionCase{
		{actBan, map[string]any{"sha256": demoDropper.sha256}, func() int { return len(w.CarbonBlack.Overrides()) }},
		{actQuarantine, map[string]any{"device_id": ids.finance}, func() int {
			n := 0
			for _, a := range w.CarbonBlack.DeviceActions() {
				if a.ActionType == "QUARANTINE" && slices.Contains(a.DeviceIDs, ids.finance) {
					n++
				}
			}
			return n
		}},
		{actWatchlist, map[string]any{"sha256": demoDropper.sha256}, func() int { return len(w.CarbonBlack.Reports()) }},
		{actNote, map[string]any{"threat_id": ids.threat}, func() int { return len(w.SentinelOne.Notes(ids.threat)) }},
		{actBlocklist, map[string]any{"sha1": demoDropper.sha1, "os_types": []string{"windows", "linux"}},
			func() int { return len(w.SentinelOne.Restrictions()) }},
		{actMitigate, map[string]any{"threat_id": ids.threat, "action": "kill"},
			func() int { return count(w.SentinelOne.ThreatActions(ids.threat), "kill") }},
		{actIsolate, map[string]any{"agent_id": ids.sales},
			func() int { return count(w.SentinelOne.AgentActions(ids.sales), "disconnect") }},
	}
}

// with returns args plus the common action arguments.
func with(args map[string]any, reason string, execute bool) map[string]any {
	out := map[string]any{"reason": reason}
	for k, v := range args {
		out[k] = v
	}
	if execute {
		out["execute"] = true
	}
	return out
}

// lastAudit returns the last audit record of a tool.
func (e *testEnv) lastAudit(t *testing.T, tool string) map[string]any {
	t.Helper()
	recs := e.audit.records(t)
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i]["tool"] == tool {
			return recs[i]
		}
	}
	t.Fatalf("no audit record of %s", tool)
	return nil
}

func TestActionsAreDryRunsByDefault(t *testing.T) {
	env := newEnv(t, nil, nil)
	for _, tc := range env.actionCases(t) {
		for _, execute := range []bool{false, true} {
			var out ActionOutput
			env.mustCall(t, tc.tool, with(tc.args, "triage of the invoice dropper", execute), &out)
			if out.Mode != modeDryRun || out.Status != string(connector.Skipped) || !strings.HasPrefix(out.Detail, "dry run: would ") ||
				out.Target == "" {
				t.Errorf("%s (execute %v): %+v", tc.tool, execute, out)
			}
			if execute && !strings.Contains(out.Detail, "actions.dry_run") {
				t.Errorf("%s: detail %q does not say the server forces dry runs", tc.tool, out.Detail)
			}
			if n := tc.effects(); n != 0 {
				t.Errorf("%s: a dry run changed the vendor (%d effects)", tc.tool, n)
			}
			rec := env.lastAudit(t, tc.tool)
			if rec["decision"] != decisionAllowed || rec["mode"] != modeDryRun || rec["why"] != "triage of the invoice dropper" ||
				rec["who"].(map[string]any)["client"] != "test-agent/1.0" || rec["what"] == nil || rec["target"] == "" {
				t.Errorf("%s: audit %v", tc.tool, rec)
			}
		}
	}
}

func TestExecutedActionsActOnce(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false; c.Actions.MaxPerHour = 100 }, nil)
	for _, tc := range env.actionCases(t) {
		var out ActionOutput
		// A dry run first: it must not count as done.
		env.mustCall(t, tc.tool, with(tc.args, "contain the dropper", false), &out)
		if out.Status != string(connector.Skipped) || tc.effects() != 0 {
			t.Fatalf("%s: dry run %+v, %d effects", tc.tool, out, tc.effects())
		}
		env.mustCall(t, tc.tool, with(tc.args, "contain the dropper", true), &out)
		if out.Mode != modeExecute || out.Status != string(connector.Acted) || out.Approval == nil || !out.Approval.Approved {
			t.Fatalf("%s: %+v", tc.tool, out)
		}
		first := tc.effects()
		if first == 0 {
			t.Fatalf("%s acted but the fake shows nothing", tc.tool)
		}
		rec := env.lastAudit(t, tc.tool)
		if res, _ := rec["result"].(map[string]any); rec["decision"] != decisionAllowed || res["status"] != "acted" {
			t.Errorf("%s: audit %v", tc.tool, rec)
		}
		env.mustCall(t, tc.tool, with(tc.args, "asked again", true), &out)
		if out.Status != "done-before" || out.DoneAt.IsZero() {
			t.Errorf("%s: repeated call %+v", tc.tool, out)
		}
		if again := tc.effects(); again != first {
			t.Errorf("%s: the repeated call acted again (%d effects, then %d)", tc.tool, first, again)
		}
		if rec := env.lastAudit(t, tc.tool); rec["repeated"] != true {
			t.Errorf("%s: audit of the repeat %v", tc.tool, rec)
		}
	}
	if !env.world.CarbonBlack.Banned(demoDropper.sha256) {
		t.Error("the dropper is not banned")
	}
	if d, _ := env.world.CarbonBlack.Device(env.ids(t).finance); !d.Quarantined {
		t.Error("the finance workstation is not quarantined")
	}
}

func TestConcurrentIdenticalRequestsActOnce(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false }, nil)
	ids := env.ids(t)
	args := with(map[string]any{"agent_id": ids.sales}, "isolate now", true)
	done := make(chan string, 4)
	for range 4 {
		go func() {
			res, err := env.client.CallTool(context.Background(), &mcp.CallToolParams{Name: actIsolate, Arguments: args})
			if err != nil || res.IsError {
				done <- "error"
				return
			}
			var out ActionOutput
			b, _ := json.Marshal(res.StructuredContent)
			json.Unmarshal(b, &out)
			done <- out.Status
		}()
	}
	var statuses []string
	for range 4 {
		statuses = append(statuses, <-done)
	}
	slices.Sort(statuses)
	if !slices.Equal(statuses, []string{"acted", "done-before", "done-before", "done-before"}) {
		t.Errorf("statuses %v", statuses)
	}
	if n := len(env.world.SentinelOne.AgentActions(ids.sales)); n != 1 {
		t.Errorf("the agent got %d actions, want 1", n)
	}
	env.app.locks.mu.Lock()
	defer env.app.locks.mu.Unlock()
	if n := len(env.app.locks.locks); n != 0 {
		t.Errorf("%d action locks left after the calls", n)
	}
}

func TestGuardRefusals(t *testing.T) {
	env := newEnv(t, func(c *Config) {
		c.Actions.DryRun = false
		c.Actions.Allowed = []string{actQuarantine, actIsolate, actMitigate, actBan}
		c.Actions.AllowedPolicies = []string{"Standard"}
		c.Actions.AllowedSites = []string{"Default site"}
		c.Actions.MaxPerHour = 1
	}, nil)
	ids := env.ids(t)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{actBlocklist, with(map[string]any{"sha1": demoDropper.sha1}, "r", false), "not among the allowed actions"},
		{actQuarantine, with(map[string]any{"device_id": ids.dc}, "r", false), "not among actions.allowed_policies"},
		{actIsolate, with(map[string]any{"agent_id": ids.lab}, "r", true), "not among actions.allowed_sites"},
		{actMitigate, with(map[string]any{"threat_id": ids.labThreat, "action": "quarantine"}, "r", true), "allowed_sites"},
		{actBan, with(map[string]any{"sha256": demoDropper.sha256}, "  ", true), "a reason is required"},
	} {
		msg := env.mustFail(t, tc.tool, tc.args)
		if !strings.Contains(msg, "refused") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q, want a refusal with %q", tc.tool, msg, tc.want)
		}
		rec := env.lastAudit(t, tc.tool)
		if rec["decision"] != decisionRefused || !strings.Contains(rec["refusal"].(string), tc.want) {
			t.Errorf("%s: audit %v", tc.tool, rec)
		}
	}
	if n := len(env.world.SentinelOne.AgentActions(ids.lab)) + len(env.world.CarbonBlack.DeviceActions()) +
		len(env.world.SentinelOne.ThreatActions(ids.labThreat)) + len(env.world.CarbonBlack.Overrides()); n != 0 {
		t.Errorf("refused actions reached the vendors (%d effects)", n)
	}

	// The hourly budget: one executed action, then refusals until the hour
	// has passed. Dry runs do not count.
	var out ActionOutput
	env.mustCall(t, actQuarantine, with(map[string]any{"device_id": ids.finance}, "r", true), &out)
	if out.Status != "acted" {
		t.Fatalf("first action %+v", out)
	}
	env.mustCall(t, actIsolate, with(map[string]any{"agent_id": ids.sales}, "r", false), &out)
	if msg := env.mustFail(t, actIsolate, with(map[string]any{"agent_id": ids.sales}, "r", true)); !strings.Contains(msg, "max_per_hour") {
		t.Errorf("over budget: %q", msg)
	}
	env.clock.Advance(time.Hour + time.Second)
	env.mustCall(t, actIsolate, with(map[string]any{"agent_id": ids.sales}, "r", true), &out)
	if out.Status != "acted" {
		t.Errorf("after an hour: %+v", out)
	}
}

// approvalHook is an approval webhook answering answer and recording the
// requests.
func approvalHook(t *testing.T, answer string) (*httptest.Server, *atomic.Int32, chan ApprovalRequest) {
	t.Helper()
	var calls atomic.Int32
	reqs := make(chan ApprovalRequest, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if err := connector.VerifyWebhook([]byte("hook-secret"), r.Header, body, "", time.Minute, time.Now()); err != nil {
			t.Errorf("approval request not signed: %v", err)
		}
		var req ApprovalRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("approval request: %v", err)
		}
		reqs <- req
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, reqs
}

func TestWebhookApproval(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		approved     bool
	}{
		{"granted", `{"answer":"yes","approver":"soc-lead","comment":"go"}`, true},
		{"denied", `{"answer":"no","approver":"soc-lead","comment":"not a true positive"}`, false},
		{"unclear answer denies", `approved!`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook, calls, reqs := approvalHook(t, tc.answer)
			env := newEnv(t, func(c *Config) {
				c.Actions.DryRun = false
				c.Actions.MaxPerHour = 1
				c.Approval.Mode, c.Approval.WebhookURL = approvalWebhook, hook.URL
				c.Approval.WebhookSecret = configSecret("hook-secret")
			}, nil)
			ids := env.ids(t)
			args := with(map[string]any{"device_id": ids.finance}, "dropper ran here", true)

			// Dry runs need no approval.
			env.mustCall(t, actQuarantine, with(map[string]any{"device_id": ids.finance}, "dry", false), nil)
			if calls.Load() != 0 {
				t.Fatal("a dry run asked for approval")
			}
			res := env.call(t, actQuarantine, args, nil)
			if calls.Load() != 1 {
				t.Fatalf("approval asked %d times", calls.Load())
			}
			req := <-reqs
			if req.Action != actQuarantine || req.Reason != "dropper ran here" || req.Who.Client != "test-agent/1.0" ||
				!strings.Contains(req.Summary, demoHostFinance) || req.ID == "" {
				t.Errorf("approval request %+v", req)
			}
			d, _ := env.world.CarbonBlack.Device(ids.finance)
			rec := env.lastAudit(t, actQuarantine)
			if tc.approved {
				if res.IsError || !d.Quarantined || rec["decision"] != decisionAllowed {
					t.Fatalf("granted: %s, quarantined %v, audit %v", text(res), d.Quarantined, rec)
				}
				if ap := rec["approval"].(map[string]any); ap["by"] != "soc-lead" || ap["approved"] != true {
					t.Errorf("audit approval %v", ap)
				}
				return
			}
			if !res.IsError || !strings.Contains(text(res), "refused") || d.Quarantined || rec["decision"] != decisionRefused {
				t.Fatalf("denied: %s, quarantined %v, audit %v", text(res), d.Quarantined, rec)
			}
			// A denial does not use the hourly budget (of one): the next
			// request reaches the approver again.
			env.call(t, actQuarantine, args, nil)
			if calls.Load() != 2 {
				t.Errorf("after a denial the budget refused: approval asked %d times", calls.Load())
			}
		})
	}
}

func TestWebhookApprovalUnreachableDenies(t *testing.T) {
	hook, _, _ := approvalHook(t, "")
	hook.Close()
	env := newEnv(t, func(c *Config) {
		c.Actions.DryRun = false
		c.Approval.Mode, c.Approval.WebhookURL = approvalWebhook, hook.URL
	}, nil)
	msg := env.mustFail(t, actBan, with(map[string]any{"sha256": demoDropper.sha256}, "r", true))
	if !strings.Contains(msg, "not approved") || env.world.CarbonBlack.Banned(demoDropper.sha256) {
		t.Errorf("unreachable approver: %q, banned %v", msg, env.world.CarbonBlack.Banned(demoDropper.sha256))
	}
}

func TestElicitationApproval(t *testing.T) {
	elicit := func(action string, approve bool) *mcp.ClientOptions {
		return &mcp.ClientOptions{ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			if !strings.Contains(req.Params.Message, "agent") || !strings.Contains(req.Params.Message, "isolate now") {
				t.Errorf("elicitation message %q", req.Params.Message)
			}
			return &mcp.ElicitResult{Action: action, Content: map[string]any{"approve": approve, "comment": "checked"}}, nil
		}}
	}
	for _, tc := range []struct {
		name     string
		opts     *mcp.ClientOptions
		approved bool
		want     string
	}{
		{"accepted", elicit("accept", true), true, ""},
		{"accepted unticked", elicit("accept", false), false, "the approver said no"},
		{"declined", elicit("decline", false), false, "decline"},
		{"client without elicitation", nil, false, "does not support elicitation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, func(c *Config) { c.Actions.DryRun = false; c.Approval.Mode = approvalElicitation }, tc.opts)
			ids := env.ids(t)
			res := env.call(t, actIsolate, with(map[string]any{"agent_id": ids.sales}, "isolate now", true), nil)
			acted := len(env.world.SentinelOne.AgentActions(ids.sales)) > 0
			if tc.approved != acted || res.IsError == tc.approved {
				t.Fatalf("result %q, acted %v", text(res), acted)
			}
			if !tc.approved && !strings.Contains(text(res), tc.want) {
				t.Errorf("refusal %q, want %q", text(res), tc.want)
			}
		})
	}
}

func TestMitigationsAreSeparateActions(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false }, nil)
	ids := env.ids(t)
	var out ActionOutput
	for _, m := range []string{"kill", "quarantine"} {
		env.mustCall(t, actMitigate, with(map[string]any{"threat_id": ids.threat, "action": m}, "r", true), &out)
		if out.Status != "acted" {
			t.Errorf("%s: %+v", m, out)
		}
	}
	if got := env.world.SentinelOne.ThreatActions(ids.threat); len(got) != 2 {
		t.Errorf("threat actions %v", got)
	}
	if msg := env.mustFail(t, actMitigate, with(map[string]any{"threat_id": ids.threat, "action": "nuke"}, "r", true)); !strings.Contains(msg, "unknown mitigation") {
		t.Errorf("unknown mitigation: %q", msg)
	}
	if msg := env.mustFail(t, actNote, with(map[string]any{"threat_id": "12ab"}, "r", false)); !strings.Contains(msg, "not a SentinelOne id") {
		t.Errorf("bad threat id: %q", msg)
	}
}

func TestElicitationAnswerMustMatchTheQuestion(t *testing.T) {
	opts := &mcp.ClientOptions{MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
		}}
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false; c.Approval.Mode = approvalElicitation }, opts)
	ids := env.ids(t)
	args := with(map[string]any{"agent_id": ids.sales}, "isolate now", true)
	approve := mcp.InputResponseMap{approvalInput: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}}
	ctx := context.Background()

	// An answer to a question never asked is refused.
	res, err := env.client.CallTool(ctx, &mcp.CallToolParams{Name: actIsolate, Arguments: args, InputResponses: approve,
		RequestState: "forged"})
	if err != nil || !res.IsError || !strings.Contains(text(res), "not for a question this server asked") {
		t.Fatalf("forged answer: %v %s", err, text(res))
	}

	// The question, then its answer for another target, then the right one.
	ask, err := env.client.CallTool(ctx, &mcp.CallToolParams{Name: actIsolate, Arguments: args})
	if err != nil || !ask.NeedsInput() || ask.InputRequests[approvalInput] == nil || ask.RequestState == "" {
		t.Fatalf("first round: %v %+v", err, ask)
	}
	if rec := env.lastAudit(t, actIsolate); rec["decision"] != decisionPending {
		t.Errorf("first round audit %v", rec)
	}
	other := with(map[string]any{"agent_id": ids.lab}, "isolate now", true)
	res, err = env.client.CallTool(ctx, &mcp.CallToolParams{Name: actIsolate, Arguments: other, InputResponses: approve,
		RequestState: ask.RequestState})
	if err != nil || !res.IsError || !strings.Contains(text(res), "another action") {
		t.Fatalf("answer for another agent: %v %s", err, text(res))
	}
	if n := len(env.world.SentinelOne.AgentActions(ids.lab)) + len(env.world.SentinelOne.AgentActions(ids.sales)); n != 0 {
		t.Fatalf("%d agent actions after refused answers", n)
	}
	// The token was used up by the wrong answer: ask again, answer right.
	ask, _ = env.client.CallTool(ctx, &mcp.CallToolParams{Name: actIsolate, Arguments: args})
	res, err = env.client.CallTool(ctx, &mcp.CallToolParams{Name: actIsolate, Arguments: args, InputResponses: approve,
		RequestState: ask.RequestState})
	if err != nil || res.IsError || len(env.world.SentinelOne.AgentActions(ids.sales)) != 1 {
		t.Fatalf("approved answer: %v %s", err, text(res))
	}
	rec := env.lastAudit(t, actIsolate)
	if ap, _ := rec["approval"].(map[string]any); rec["decision"] != decisionAllowed || ap["by"] != "user" {
		t.Errorf("audit %v", rec)
	}
}

func TestBlocklistScopeMustBeWithinAllowedSites(t *testing.T) {
	args := with(map[string]any{"sha1": demoDropper.sha1}, "r", false)
	env := newEnv(t, func(c *Config) { c.Actions.AllowedSites = []string{"Default site"} }, nil)
	if msg := env.mustFail(t, actBlocklist, args); !strings.Contains(msg, "whole account") {
		t.Errorf("account-wide blocklist: %q", msg)
	}
	var out ActionOutput
	env = newEnv(t, func(c *Config) {
		c.Actions.AllowedSites = []string{"Default site"}
		c.SentinelOne.SiteIDs = []string{"475482421366727779"} // the fake's default site
	}, nil)
	env.mustCall(t, actBlocklist, args, &out)
	if !strings.Contains(out.Detail, "sites 475482421366727779") {
		t.Errorf("site-scoped blocklist: %+v", out)
	}
}

func TestFailedActionIsNotRecordedAsDone(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false }, nil)
	ids := env.ids(t)
	cb := env.world.CarbonBlack
	cb.InjectFault(fakehttp.Fault{Method: "POST", Path: "/appservices/v6/orgs/" + cb.OrgKey() + "/device_actions", Status: 403, Times: 1})
	args := with(map[string]any{"device_id": ids.finance}, "contain", true)
	msg := env.mustFail(t, actQuarantine, args)
	if !strings.Contains(msg, "cbc_quarantine_device on device") {
		t.Errorf("failure %q", msg)
	}
	if rec := env.lastAudit(t, actQuarantine); rec["decision"] != decisionFailed || rec["error"] == "" {
		t.Errorf("audit %v", rec)
	}
	var out ActionOutput
	env.mustCall(t, actQuarantine, args, &out)
	if d, _ := cb.Device(ids.finance); out.Status != "acted" || !d.Quarantined {
		t.Errorf("after the failure: %+v, quarantined %v", out, d.Quarantined)
	}
}

func TestNoteAndWatchlistNeedAVMRayVerdict(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false }, nil)
	unknown := strings.Repeat("0f", 32)
	if msg := env.mustFail(t, actWatchlist, with(map[string]any{"sha256": unknown}, "r", false)); !strings.Contains(msg, "VMRay has no verdict") {
		t.Errorf("watchlist without a verdict: %q", msg)
	}
	ids := env.ids(t)
	var out ActionOutput
	env.mustCall(t, actNote, with(map[string]any{"threat_id": ids.threat}, "record the sandbox verdict", true), &out)
	notes := env.world.SentinelOne.Notes(ids.threat)
	if out.Status != "acted" || len(notes) != 1 || !strings.Contains(notes[0].Text, "Verdict: MALICIOUS") ||
		!strings.Contains(notes[0].Text, "stage2.demo.example") {
		t.Errorf("note %+v: %+v", out, notes)
	}
	env.mustCall(t, actWatchlist, with(map[string]any{"sha256": demoDropper.sha256}, "hunt for its IOCs", true), &out)
	reports := env.world.CarbonBlack.Reports()
	if out.Status != "acted" || len(reports) != 1 || !strings.Contains(fmtJSON(reports[0]), "stage2.demo.example") {
		t.Errorf("watchlist %+v: %+v", out, reports)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestElicitationApprovalOnAnOlderProtocol drives the server as a client on
// protocol 2025-06-18 would (raw JSON-RPC): the server asks the question
// with elicitation/create during the call, and acts on the answer.
func TestElicitationApprovalOnAnOlderProtocol(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Actions.DryRun = false; c.Approval.Mode = approvalElicitation }, nil)
	ids := env.ids(t)
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ss, err := env.app.NewServer().Connect(ctx, &mcp.IOTransport{Reader: serverIn, Writer: serverOut}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	dec := json.NewDecoder(clientIn)
	send := func(msg string) {
		t.Helper()
		if _, err := io.WriteString(clientOut, msg+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		t.Helper()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{"elicitation":{}},"clientInfo":{"name":"old-desktop","version":"0.9"}}}`)
	if m := recv(); m["result"].(map[string]any)["protocolVersion"] != "2025-06-18" {
		t.Fatalf("initialize: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"s1_isolate_agent","arguments":` +
		`{"agent_id":"` + ids.sales + `","reason":"isolate now","execute":true}}}`)
	ask := recv()
	if ask["method"] != "elicitation/create" || !strings.Contains(fmtJSON(ask["params"]), "isolate now") {
		t.Fatalf("expected an elicitation, got %v", ask)
	}
	send(`{"jsonrpc":"2.0","id":` + fmtJSON(ask["id"]) + `,"result":{"action":"accept","content":{"approve":true}}}`)
	res := recv()
	if res["id"] != float64(2) || res["result"].(map[string]any)["isError"] == true {
		t.Fatalf("call result %v", res)
	}
	if n := len(env.world.SentinelOne.AgentActions(ids.sales)); n != 1 {
		t.Errorf("agent actions %d, want 1", n)
	}
	if rec := env.lastAudit(t, actIsolate); rec["decision"] != decisionAllowed || rec["who"].(map[string]any)["client"] != "old-desktop/0.9" {
		t.Errorf("audit %v", rec)
	}
}
