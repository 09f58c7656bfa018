package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
)

// ActionArgs are the arguments every action tool takes besides its target.
type ActionArgs struct {
	Reason  string `json:"reason" jsonschema:"why the action is needed (required; recorded in the audit log and shown to the approver)"`
	Execute bool   `json:"execute,omitempty" jsonschema:"act for real; false (the default) is a dry run that only says what would happen"`
}

// HashActionInput is the input of the Carbon Black actions on a file.
type HashActionInput struct {
	SHA256 string `json:"sha256" jsonschema:"the file's SHA-256 (64 hex digits)"`
	ActionArgs
}

// DeviceActionInput is the input of cbc_quarantine_device.
type DeviceActionInput struct {
	DeviceID int64 `json:"device_id" jsonschema:"the Carbon Black device id"`
	ActionArgs
}

// ThreatNoteInput is the input of s1_threat_note.
type ThreatNoteInput struct {
	ThreatID string `json:"threat_id" jsonschema:"the SentinelOne threat id"`
	ActionArgs
}

// BlocklistInput is the input of s1_blocklist_hash.
type BlocklistInput struct {
	SHA1    string   `json:"sha1" jsonschema:"the file's SHA-1 (40 hex digits; SentinelOne blocklists SHA-1)"`
	OSTypes []string `json:"os_types,omitempty" jsonschema:"operating systems to block it on: windows, macos, linux (default windows)"`
	ActionArgs
}

// MitigateInput is the input of s1_mitigate_threat.
type MitigateInput struct {
	ThreatID string `json:"threat_id" jsonschema:"the SentinelOne threat id"`
	Action   string `json:"action" jsonschema:"kill, quarantine, remediate or rollback-remediation"`
	ActionArgs
}

// AgentActionInput is the input of s1_isolate_agent.
type AgentActionInput struct {
	AgentID string `json:"agent_id" jsonschema:"the SentinelOne agent id"`
	ActionArgs
}

// mitigations maps the mitigate tool's action names to SentinelOne's.
var mitigations = map[string]sentinelone.MitigationAction{
	"kill": sentinelone.MitigateKill, "quarantine": sentinelone.MitigateQuarantine,
	"remediate": sentinelone.MitigateRemediate, "rollback-remediation": sentinelone.MitigateRollbackRemediation,
}

// mitigationNames are the mitigate tool's actions in a stable order.
func mitigationNames() []string {
	return []string{"kill", "quarantine", "remediate", "rollback-remediation"}
}

// mitigateResponder is the responders map key of one mitigation.
func mitigateResponder(action string) string { return actMitigate + ":" + action }

// buildResponders makes the responder of every action whose vendor is
// configured. Responder names are the tool names, so the action log reads
// like the audit log.
func (a *App) buildResponders() error {
	add := func(key string, r connector.Responder, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		a.responders[key] = r
		return nil
	}
	var errs []error
	if a.cb != nil {
		ban, err := carbonblackconn.NewBan(a.cb, carbonblackconn.BanOptions{Name: actBan, Description: a.cfg.Actions.BanDescription})
		errs = append(errs, add(actBan, ban, err))
		q, err := carbonblackconn.NewQuarantine(a.cb, actQuarantine)
		errs = append(errs, add(actQuarantine, q, err))
		if a.analyzer != nil {
			wl, err := carbonblackconn.NewWatchlistReport(a.cb, carbonblackconn.WatchlistOptions{Name: actWatchlist,
				Watchlist: a.cfg.Actions.Watchlist, Logger: a.logger,
				IOCVerdicts: connector.Kinds(connector.Malicious, connector.Suspicious)})
			errs = append(errs, add(actWatchlist, wl, err))
		}
	}
	if a.s1 != nil {
		if a.analyzer != nil {
			n, err := sentineloneconn.NewNote(a.s1, sentineloneconn.NoteOptions{Name: actNote})
			errs = append(errs, add(actNote, n, err))
		}
		bl, err := sentineloneconn.NewGlobalBlocklist(a.s1, sentineloneconn.GlobalBlocklistOptions{Name: actBlocklist,
			Scope: a.s1Scope, Description: a.cfg.Actions.BlocklistDescription})
		errs = append(errs, add(actBlocklist, bl, err))
		for _, m := range mitigationNames() {
			r, err := sentineloneconn.NewMitigation(a.s1, mitigations[m], mitigateResponder(m))
			errs = append(errs, add(mitigateResponder(m), r, err))
		}
		iso, err := sentineloneconn.NewAgentAction(a.s1, sentineloneconn.ActionDisconnect, actIsolate)
		errs = append(errs, add(actIsolate, iso, err))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	sha256RE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	sha1RE   = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	md5RE    = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	idRE     = regexp.MustCompile(`^[0-9]{1,24}$`)
)

// checkID rejects an id that is not a SentinelOne id.
func checkID(what, id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("%s %q is not a SentinelOne id (a decimal number)", what, id)
	}
	return nil
}

// args returns the common arguments (promoted to every action input).
func (a ActionArgs) args() ActionArgs { return a }

// actionInput is an action tool's input: it embeds ActionArgs.
type actionInput interface{ args() ActionArgs }

// guardedDoc ends every action tool's description.
const guardedDoc = " Dry run unless execute is true and the server allows execution; checked against the server's scope guard, " +
	"approved by a human when the server requires it, done once however often it is asked, and audited."

// addAction registers an action tool: plan resolves its input to what the
// responder acts on; responder names the responder when it depends on the
// input (nil: the tool's own).
func addAction[In actionInput](a *App, s *mcp.Server, name, title, doc string, responder func(In) string,
	plan func(context.Context, In) (actionPlan, error)) {
	t := &mcp.Tool{Name: name, Description: doc + guardedDoc,
		Annotations: &mcp.ToolAnnotations{Title: title, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(true)}}
	mcp.AddTool(s, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, ActionOutput, error) {
		args := in.args()
		call := actionCall{tool: name, reason: args.Reason, execute: args.Execute,
			plan: func(ctx context.Context) (actionPlan, error) { return plan(ctx, in) }}
		if responder != nil {
			call.responder = responder(in)
		}
		return a.act(ctx, req, call)
	})
}

// addActionTools registers the action tools of the configured vendors.
func (a *App) addActionTools(s *mcp.Server) {
	if a.cb != nil {
		addAction(a, s, actBan, "Ban a file in Carbon Black Cloud",
			"Bans a file by SHA-256 in Carbon Black Cloud (an organisation-wide BLACK_LIST reputation override).", nil,
			func(_ context.Context, in HashActionInput) (actionPlan, error) { return a.planHash(in.SHA256, "ban") })
		addAction(a, s, actQuarantine, "Quarantine a Carbon Black device",
			"Quarantines (network-isolates) a Carbon Black Cloud device.", nil,
			func(ctx context.Context, in DeviceActionInput) (actionPlan, error) {
				return a.planDevice(ctx, in.DeviceID)
			})
		if a.analyzer != nil {
			addAction(a, s, actWatchlist, "Write a Carbon Black watchlist report",
				"Writes a watchlist report with the IOCs of VMRay's verdict on a file (the file must have a VMRay verdict), "+
					"so Carbon Black alerts on them.", nil,
				func(ctx context.Context, in HashActionInput) (actionPlan, error) {
					return a.planWatchlist(ctx, in.SHA256)
				})
		}
	}
	if a.s1 == nil {
		return
	}
	if a.analyzer != nil {
		addAction(a, s, actNote, "Note VMRay's verdict on a SentinelOne threat",
			"Adds VMRay's verdict on the threat's file (verdict, VTIs, IOCs, report link) as a note on a SentinelOne threat.", nil,
			func(ctx context.Context, in ThreatNoteInput) (actionPlan, error) {
				return a.planThreat(ctx, in.ThreatID, actNote, "")
			})
	}
	addAction(a, s, actBlocklist, "Blocklist a file in SentinelOne",
		"Adds a file's SHA-1 to the SentinelOne blocklist of the configured account or sites.", nil, a.planBlocklist)
	addAction(a, s, actMitigate, "Mitigate a SentinelOne threat",
		"Runs a mitigation (kill, quarantine, remediate, rollback-remediation) on a SentinelOne threat.",
		func(in MitigateInput) string { return mitigateResponder(in.Action) },
		func(ctx context.Context, in MitigateInput) (actionPlan, error) {
			if _, ok := mitigations[in.Action]; !ok {
				return actionPlan{}, fmt.Errorf("unknown mitigation %q (use %s)", in.Action, strings.Join(mitigationNames(), ", "))
			}
			return a.planThreat(ctx, in.ThreatID, mitigateResponder(in.Action), in.Action)
		})
	addAction(a, s, actIsolate, "Isolate a SentinelOne agent",
		"Disconnects a SentinelOne agent's device from the network (network quarantine).", nil,
		func(ctx context.Context, in AgentActionInput) (actionPlan, error) {
			return a.planAgent(ctx, in.AgentID)
		})
}

// planHash is a Carbon Black action on a file.
func (a *App) planHash(sha string, verb string) (actionPlan, error) {
	if !sha256RE.MatchString(sha) {
		return actionPlan{}, fmt.Errorf("sha256 %q is not 64 hex digits", sha)
	}
	sha = strings.ToLower(sha)
	key := connector.Key{Kind: connector.SHA256, Hex: sha}
	return actionPlan{finding: connector.Finding{Key: key, Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: sha}}},
		target: "sha256:" + sha, summary: verb + " file " + sha + " in Carbon Black Cloud", link: a.cbHashLink(sha)}, nil
}

// planDevice is a Carbon Black action on a device, within the allowed
// policies.
func (a *App) planDevice(ctx context.Context, id int64) (actionPlan, error) {
	if id <= 0 {
		return actionPlan{}, fmt.Errorf("device_id must be a positive Carbon Black device id, got %d", id)
	}
	d, err := a.cb.Devices.Get(ctx, id)
	if err != nil {
		return actionPlan{}, fmt.Errorf("reading device %d: %w", id, err)
	}
	if err := a.guard.Policy(d.ID, d.PolicyID, d.PolicyName); err != nil {
		return actionPlan{}, err
	}
	sid := strconv.FormatInt(d.ID, 10)
	target := fmt.Sprintf("device %d (%s)", d.ID, d.Name)
	return actionPlan{finding: connector.Finding{Key: targetKey("cbc-device", sid),
		Sighting: &connector.Sighting{Source: name, DeviceID: sid, DeviceName: d.Name}, Target: "device:" + sid},
		target: target, summary: "quarantine Carbon Black " + target, link: a.cbDeviceLink(d.ID)}, nil
}

// planWatchlist is the watchlist report of a file with a VMRay verdict.
func (a *App) planWatchlist(ctx context.Context, sha string) (actionPlan, error) {
	p, err := a.planHash(sha, "write a watchlist report with the IOCs of")
	if err != nil {
		return p, err
	}
	v, found, err := a.analyzer.Lookup(ctx, p.finding.Evidence)
	if err != nil {
		return p, fmt.Errorf("looking the file up in VMRay: %w", err)
	}
	if !found {
		return p, fmt.Errorf("VMRay has no verdict for %s: submit it with vmray_submit_sample first", p.finding.Key.Hex)
	}
	p.finding.Verdict = v
	return p, nil
}

// planThreat is a SentinelOne action on a threat, within the allowed sites
// and groups. The note carries VMRay's verdict on the threat's file.
func (a *App) planThreat(ctx context.Context, id, responder, mitigation string) (actionPlan, error) {
	if err := checkID("threat_id", id); err != nil {
		return actionPlan{}, err
	}
	t, err := a.s1.Threats.Get(ctx, id)
	if err != nil {
		return actionPlan{}, fmt.Errorf("reading threat %s: %w", id, err)
	}
	ai := t.AgentRealtimeInfo
	what := fmt.Sprintf("threat %s (%s on %s)", t.ID, t.ThreatInfo.ThreatName, ai.AgentComputerName)
	if err := a.guard.Site(what, ai.SiteID, ai.SiteName, ai.GroupID, ai.GroupName); err != nil {
		return actionPlan{}, err
	}
	hashes := connector.Hashes{SHA1: strings.ToLower(t.ThreatInfo.SHA1), SHA256: strings.ToLower(t.ThreatInfo.SHA256),
		MD5: strings.ToLower(t.ThreatInfo.MD5)}
	key, err := hashes.Key()
	if err != nil {
		key, hashes = targetKey("s1-threat", t.ID), connector.Hashes{}
	}
	f := connector.Finding{Key: key, Evidence: connector.Evidence{Hashes: hashes, FileName: t.ThreatInfo.ThreatName},
		Sighting: &connector.Sighting{Source: name, ThreatID: t.ID, AgentID: ai.AgentID, DeviceName: ai.AgentComputerName,
			SiteID: ai.SiteID, SiteName: ai.SiteName, FilePath: string(t.ThreatInfo.FilePath)},
		Target: "threat:" + t.ID}
	p := actionPlan{finding: f, target: what, link: a.s1ThreatLink(t.ID)}
	if responder == actNote {
		if hashes.IsZero() {
			return p, fmt.Errorf("%s names no file hash, so VMRay has no verdict to note", what)
		}
		v, found, err := a.analyzer.Lookup(ctx, f.Evidence)
		if err != nil {
			return p, fmt.Errorf("looking the threat's file up in VMRay: %w", err)
		}
		if !found {
			return p, fmt.Errorf("VMRay has no verdict for the file of %s: submit it with vmray_submit_sample first", what)
		}
		p.finding.Verdict = v
		p.summary = "note VMRay's " + v.Kind.String() + " verdict on SentinelOne " + what
		return p, nil
	}
	// Each mitigation is its own responder, so it has its own action log
	// entries; the tool's responder map key names it.
	p.summary = mitigation + " SentinelOne " + what
	return p, nil
}

// planBlocklist is a SentinelOne blocklist entry for a SHA-1, in the
// configured account or sites. With allowed sites, the configured sites must
// be among them: an account-wide entry would reach every site.
func (a *App) planBlocklist(ctx context.Context, in BlocklistInput) (actionPlan, error) {
	if !sha1RE.MatchString(in.SHA1) {
		return actionPlan{}, fmt.Errorf("sha1 %q is not 40 hex digits", in.SHA1)
	}
	sc, err := a.s1Scope.Resolve(ctx)
	if err != nil {
		return actionPlan{}, fmt.Errorf("resolving the SentinelOne scope: %w", err)
	}
	if len(a.cfg.Actions.AllowedSites) > 0 {
		if !sc.Configured {
			return actionPlan{}, refused("the blocklist scope is the whole account %s, but actions.allowed_sites limits actions to some sites "+
				"(set sentinelone.site_ids)", sc.AccountID)
		}
		for _, id := range sc.SiteIDs {
			if err := a.guard.Site("the blocklist scope", id, sc.SiteNames[id], "", ""); err != nil {
				return actionPlan{}, err
			}
		}
	}
	sha1 := strings.ToLower(in.SHA1)
	oses := slices.Clone(in.OSTypes)
	if len(oses) == 0 {
		oses = []string{sentinelone.OSWindows}
	}
	var sightings []connector.Sighting
	for i, o := range oses {
		o = strings.ToLower(strings.TrimSpace(o))
		if o != sentinelone.OSWindows && o != sentinelone.OSMacOS && o != sentinelone.OSLinux {
			return actionPlan{}, fmt.Errorf("unknown OS type %q (use windows, macos or linux)", in.OSTypes[i])
		}
		oses[i] = o
		sightings = append(sightings, connector.Sighting{Source: name, ID: "os-" + o, OS: o})
	}
	slices.Sort(oses)
	oses = slices.Compact(oses)
	key := connector.Key{Kind: connector.SHA1, Hex: sha1}
	where := "account " + sc.AccountID
	if sc.Configured {
		where = "sites " + strings.Join(sc.SiteIDs, ", ")
	}
	return actionPlan{finding: connector.Finding{Key: key, Target: "os:" + strings.Join(oses, ","),
		Evidence: connector.Evidence{Hashes: connector.Hashes{SHA1: sha1}, Sightings: sightings}},
		target:  "sha1:" + sha1 + " on " + strings.Join(oses, ", "),
		summary: "blocklist file " + sha1 + " in SentinelOne for " + strings.Join(oses, ", ") + " in " + where}, nil
}

// planAgent is a SentinelOne action on an agent, within the allowed sites
// and groups.
func (a *App) planAgent(ctx context.Context, id string) (actionPlan, error) {
	if err := checkID("agent_id", id); err != nil {
		return actionPlan{}, err
	}
	ag, err := a.s1.Agents.Get(ctx, id)
	if err != nil {
		return actionPlan{}, fmt.Errorf("reading agent %s: %w", id, err)
	}
	what := fmt.Sprintf("agent %s (%s)", ag.ID, ag.ComputerName)
	if err := a.guard.Site(what, ag.SiteID, ag.SiteName, ag.GroupID, ag.GroupName); err != nil {
		return actionPlan{}, err
	}
	return actionPlan{finding: connector.Finding{Key: targetKey("s1-agent", ag.ID),
		Sighting: &connector.Sighting{Source: name, AgentID: ag.ID, DeviceName: ag.ComputerName, SiteID: ag.SiteID,
			SiteName: ag.SiteName, OS: ag.OSType}, Target: "agent:" + ag.ID},
		target: what, summary: "disconnect SentinelOne " + what + " from the network", link: a.s1AgentLink(ag.ID)}, nil
}
