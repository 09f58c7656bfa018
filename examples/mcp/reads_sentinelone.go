package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/sentinelone"
)

// s1Page fetches one page of a SentinelOne listing at cursor c (the
// console's cursor of the page and the items of it already returned) and
// bounds it. fetch asks for limit items from the console's cursor.
func s1Page[T, O any](c cursor, size, maxBytes int, fetch func(cursor string, limit int) (*sentinelone.Page[T], error),
	conv func(T) O) (Page[O], error) {
	limit := min(c.Offset+size, 1000)
	if c.Offset >= limit {
		return Page[O]{}, errBadCursor
	}
	page, err := fetch(c.Vendor, limit)
	if err != nil {
		return Page[O]{}, err
	}
	items := make([]O, 0, len(page.Items))
	for _, it := range page.Items[min(c.Offset, len(page.Items)):] {
		items = append(items, conv(it))
	}
	kept, n := bound(items, maxBytes)
	out := Page[O]{Items: kept, Total: page.TotalItems, Truncated: n < len(items)}
	switch {
	case n < len(items):
		out.NextCursor = cursor{Vendor: c.Vendor, Offset: c.Offset + n}.encode()
	case page.NextCursor != "":
		out.NextCursor = cursor{Vendor: page.NextCursor}.encode()
	}
	return out, nil
}

// ThreatsInput is the input of s1_threats.
type ThreatsInput struct {
	Hash         string `json:"hash,omitempty" jsonschema:"only threats on this file (SHA-1 or SHA-256)"`
	ComputerName string `json:"computer_name,omitempty" jsonschema:"only threats on endpoints whose name contains this"`
	AgentID      string `json:"agent_id,omitempty" jsonschema:"only threats of this agent"`
	SinceHours   int    `json:"since_hours,omitempty" jsonschema:"only threats created in the last N hours (default: any time)"`
	PageInput
}

// ThreatItem is one SentinelOne threat.
type ThreatItem struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Classification   string    `json:"classification,omitempty"`
	Confidence       string    `json:"confidence_level,omitempty"`
	AnalystVerdict   string    `json:"analyst_verdict,omitempty"`
	IncidentStatus   string    `json:"incident_status,omitempty"`
	MitigationStatus string    `json:"mitigation_status,omitempty"`
	SHA1             string    `json:"sha1,omitempty"`
	SHA256           string    `json:"sha256,omitempty"`
	FilePath         string    `json:"file_path,omitempty"`
	AgentID          string    `json:"agent_id,omitempty"`
	ComputerName     string    `json:"computer_name,omitempty"`
	SiteName         string    `json:"site_name,omitempty"`
	GroupName        string    `json:"group_name,omitempty"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
	Link             string    `json:"link"`
}

// threats is s1_threats.
func (a *App) threats(ctx context.Context, in ThreatsInput) (Page[ThreatItem], error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return Page[ThreatItem]{}, err
	}
	var f sentinelone.ThreatFilter
	if in.Hash != "" {
		h, err := hashKind(in.Hash)
		if err != nil || h.MD5 != "" {
			return Page[ThreatItem]{}, fmt.Errorf("hash %q is not a SHA-1 or SHA-256", in.Hash)
		}
		f.ContentHashes = []string{h.SHA1 + h.SHA256}
	}
	if in.ComputerName != "" {
		f.ComputerNameContains = []string{in.ComputerName}
	}
	if in.AgentID != "" {
		if err := checkID("agent_id", in.AgentID); err != nil {
			return Page[ThreatItem]{}, err
		}
		f.AgentIDs = []string{in.AgentID}
	}
	if in.SinceHours > 0 {
		f.CreatedAtGte = sentinelone.NewTime(a.now().Add(-time.Duration(in.SinceHours) * time.Hour))
	}
	return s1Page(c, a.cfg.Limits.pageSize(in.PageSize), a.cfg.Limits.MaxResultBytes,
		func(cur string, limit int) (*sentinelone.Page[sentinelone.Threat], error) {
			p, err := a.s1.Threats.List(ctx, sentinelone.ThreatListOptions{ThreatFilter: f,
				ListOptions: sentinelone.ListOptions{Limit: limit, Cursor: cur, SortBy: "createdAt", SortOrder: sentinelone.Descending}})
			if err != nil {
				return nil, fmt.Errorf("listing SentinelOne threats: %w", err)
			}
			return p, nil
		},
		func(t sentinelone.Threat) ThreatItem {
			ti, ai := t.ThreatInfo, t.AgentRealtimeInfo
			return ThreatItem{ID: t.ID, Name: clip(ti.ThreatName), Classification: ti.Classification, Confidence: ti.ConfidenceLevel,
				AnalystVerdict: ti.AnalystVerdict, IncidentStatus: ti.IncidentStatus, MitigationStatus: ti.MitigationStatus,
				SHA1: strings.ToLower(ti.SHA1), SHA256: strings.ToLower(ti.SHA256), FilePath: clip(string(ti.FilePath)),
				AgentID: ai.AgentID, ComputerName: ai.AgentComputerName, SiteName: ai.SiteName, GroupName: ai.GroupName,
				CreatedAt: ti.CreatedAt.Time, Link: a.s1ThreatLink(t.ID)}
		})
}

// AgentsInput is the input of s1_agents.
type AgentsInput struct {
	ComputerName string `json:"computer_name,omitempty" jsonschema:"only endpoints whose name contains this"`
	AgentID      string `json:"agent_id,omitempty" jsonschema:"only this agent"`
	Infected     *bool  `json:"infected,omitempty" jsonschema:"only infected (true) or clean (false) endpoints"`
	PageInput
}

// AgentItem is one SentinelOne agent.
type AgentItem struct {
	ID            string    `json:"id"`
	ComputerName  string    `json:"computer_name"`
	OSType        string    `json:"os_type,omitempty"`
	OSName        string    `json:"os_name,omitempty"`
	Active        bool      `json:"active"`
	Infected      bool      `json:"infected"`
	ActiveThreats int       `json:"active_threats"`
	NetworkStatus string    `json:"network_status,omitempty"`
	SiteID        string    `json:"site_id,omitempty"`
	SiteName      string    `json:"site_name,omitempty"`
	GroupName     string    `json:"group_name,omitempty"`
	LastActive    time.Time `json:"last_active,omitzero"`
	ExternalIP    string    `json:"external_ip,omitempty"`
	Link          string    `json:"link"`
}

// agents is s1_agents.
func (a *App) agents(ctx context.Context, in AgentsInput) (Page[AgentItem], error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return Page[AgentItem]{}, err
	}
	f := sentinelone.AgentFilter{Infected: in.Infected}
	if in.ComputerName != "" {
		f.ComputerNameContains = []string{in.ComputerName}
	}
	if in.AgentID != "" {
		if err := checkID("agent_id", in.AgentID); err != nil {
			return Page[AgentItem]{}, err
		}
		f.IDs = []string{in.AgentID}
	}
	return s1Page(c, a.cfg.Limits.pageSize(in.PageSize), a.cfg.Limits.MaxResultBytes,
		func(cur string, limit int) (*sentinelone.Page[sentinelone.Agent], error) {
			p, err := a.s1.Agents.List(ctx, sentinelone.AgentListOptions{AgentFilter: f,
				ListOptions: sentinelone.ListOptions{Limit: limit, Cursor: cur}})
			if err != nil {
				return nil, fmt.Errorf("listing SentinelOne agents: %w", err)
			}
			return p, nil
		},
		func(ag sentinelone.Agent) AgentItem {
			return AgentItem{ID: ag.ID, ComputerName: ag.ComputerName, OSType: ag.OSType, OSName: ag.OSName, Active: ag.IsActive,
				Infected: ag.Infected, ActiveThreats: ag.ActiveThreats, NetworkStatus: ag.NetworkStatus, SiteID: ag.SiteID,
				SiteName: ag.SiteName, GroupName: ag.GroupName, LastActive: ag.LastActiveDate.Time, ExternalIP: ag.ExternalIP,
				Link: a.s1AgentLink(ag.ID)}
		})
}

// addSentinelOneTools registers the SentinelOne read tools.
func (a *App) addSentinelOneTools(s *mcp.Server) {
	addRead(a, s, &mcp.Tool{Name: "s1_threats", Title: "SentinelOne threats",
		Description: "Lists SentinelOne threats, newest first, filtered by file hash, endpoint, agent and age. Paginated."}, a.threats)
	addRead(a, s, &mcp.Tool{Name: "s1_agents", Title: "SentinelOne agents",
		Description: "Lists SentinelOne agents (endpoints) by name, id or infection state: OS, activity, network status, site. Paginated."}, a.agents)
}
