package sentinelonetest

import (
	"crypto/sha1"
	"encoding/hex"
	"io"
	"slices"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
)

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Server) nowTime() sentinelone.Time { return sentinelone.NewTime(s.now()) }

// AddAccount adds an account (an id is assigned when empty) and returns it.
func (s *Server) AddAccount(a sentinelone.Account) sentinelone.Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = orDefault(a.ID, s.st.nextID())
	a.State = orDefault(a.State, "active")
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.nowTime()
		a.UpdatedAt = a.CreatedAt
	}
	s.st.accounts = append(s.st.accounts, a)
	return a
}

// AddSite adds a site (in the default account unless AccountID is set).
func (s *Server) AddSite(site sentinelone.Site) sentinelone.Site {
	s.mu.Lock()
	defer s.mu.Unlock()
	site.ID = orDefault(site.ID, s.st.nextID())
	site.AccountID = orDefault(site.AccountID, DefaultAccountID)
	site.State = orDefault(site.State, "active")
	site.HealthStatus = true
	if site.CreatedAt.IsZero() {
		site.CreatedAt = s.nowTime()
		site.UpdatedAt = site.CreatedAt
	}
	s.st.sites = append(s.st.sites, site)
	return site
}

// AddGroup adds a group (in the default site unless SiteID is set).
func (s *Server) AddGroup(g sentinelone.Group) sentinelone.Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.ID = orDefault(g.ID, s.st.nextID())
	g.SiteID = orDefault(g.SiteID, DefaultSiteID)
	g.Type = orDefault(g.Type, "static")
	s.st.groups = append(s.st.groups, g)
	return g
}

// seedDefaults adds the default account, site and group.
func (s *Server) seedDefaults() {
	s.AddAccount(sentinelone.Account{ID: DefaultAccountID, Name: DefaultAccountName, AccountType: "Paid", UsageType: "customer",
		BillingMode: "subscription", IsDefault: true, NumberOfSites: 1})
	s.AddSite(sentinelone.Site{ID: DefaultSiteID, Name: DefaultSiteName, AccountID: DefaultAccountID, AccountName: DefaultAccountName,
		SiteType: "Paid", SKU: "Complete", Suite: "Complete", IsDefault: true, TotalLicenses: 100})
	s.AddGroup(sentinelone.Group{ID: DefaultGroupID, Name: DefaultGroupName, SiteID: DefaultSiteID, IsDefault: true, Inherits: true})
}

// AddAgent adds an agent and returns it as stored. Empty ids and scope are
// filled (default account, site and group); IsActive is taken as given, so
// set it for an online agent.
func (s *Server) AddAgent(a sentinelone.Agent) sentinelone.Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = orDefault(a.ID, s.st.nextID())
	a.UUID = orDefault(a.UUID, s.st.hexID("")[:32])
	a.AccountID = orDefault(a.AccountID, DefaultAccountID)
	a.AccountName = orDefault(a.AccountName, DefaultAccountName)
	a.SiteID = orDefault(a.SiteID, DefaultSiteID)
	a.SiteName = orDefault(a.SiteName, DefaultSiteName)
	a.GroupID = orDefault(a.GroupID, DefaultGroupID)
	a.GroupName = orDefault(a.GroupName, DefaultGroupName)
	a.OSType = orDefault(a.OSType, sentinelone.OSWindows)
	a.NetworkStatus = orDefault(a.NetworkStatus, "connected")
	a.ScanStatus = orDefault(a.ScanStatus, "none")
	a.MitigationMode = orDefault(a.MitigationMode, "protect")
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.nowTime()
		a.RegisteredAt = a.CreatedAt
		a.UpdatedAt = a.CreatedAt
	}
	if a.LastActiveDate.IsZero() {
		a.LastActiveDate = s.nowTime()
	}
	rec := &agentRec{a: a, files: map[string]File{}}
	s.st.agents = append(s.st.agents, rec)
	if _, dup := s.st.agentByID[a.ID]; !dup { // the first of an id answers, as a scan did
		s.st.agentByID[a.ID] = rec
	}
	return a
}

// SetAgentActive turns an agent on or off line. Pending uploads of an
// offline agent wait until it is active again.
func (s *Server) SetAgentActive(agentID string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.st.agent(agentID)
	if ag == nil {
		return false
	}
	ag.a.IsActive = active
	if active {
		ag.a.LastActiveDate = s.nowTime()
	}
	return true
}

// AddAgentFile puts a file on an agent for POST /agents/{id}/actions/
// fetch-files (looked up by path, case-insensitively). Paths that were not
// added are reported as not found in the manifest.
func (s *Server) AddAgentFile(agentID string, f File) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ag := s.st.agent(agentID)
	if ag == nil || f.Path == "" {
		return false
	}
	ag.files[normPath(f.Path)] = f
	return true
}

// AddThreat adds a threat and returns it as stored. The id (and
// threatInfo.threatId) is assigned when empty; createdAt and updatedAt
// default to now; incident status, verdict and mitigation status default to
// unresolved, undefined and not_mitigated; agentRealtimeInfo is filled from
// a seeded agent named by AgentRealtimeInfo.AgentID.
func (s *Server) AddThreat(t sentinelone.Threat) sentinelone.Threat {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ID = orDefault(t.ID, orDefault(t.ThreatInfo.ThreatID, s.st.nextID()))
	ti := &t.ThreatInfo
	ti.ThreatID = t.ID
	if ti.CreatedAt.IsZero() {
		ti.CreatedAt = s.nowTime()
	}
	if ti.UpdatedAt.IsZero() {
		ti.UpdatedAt = ti.CreatedAt
	}
	if ti.IdentifiedAt.IsZero() {
		ti.IdentifiedAt = ti.CreatedAt
	}
	ti.IncidentStatus = orDefault(ti.IncidentStatus, sentinelone.IncidentUnresolved)
	ti.AnalystVerdict = orDefault(ti.AnalystVerdict, sentinelone.VerdictUndefined)
	ti.MitigationStatus = orDefault(ti.MitigationStatus, sentinelone.MitigationStatusNotMitigated)
	ti.ConfidenceLevel = orDefault(ti.ConfidenceLevel, sentinelone.ConfidenceMalicious)
	describe(ti)
	if ag := s.st.agent(t.AgentRealtimeInfo.AgentID); ag != nil {
		ri := &t.AgentRealtimeInfo
		ri.AgentUUID = ag.a.UUID
		ri.AgentComputerName = orDefault(ri.AgentComputerName, ag.a.ComputerName)
		ri.AgentOSType = orDefault(ri.AgentOSType, ag.a.OSType)
		ri.AgentIsActive = ag.a.IsActive
		ri.AccountID, ri.AccountName = ag.a.AccountID, ag.a.AccountName
		ri.SiteID, ri.SiteName = ag.a.SiteID, ag.a.SiteName
		ri.GroupID, ri.GroupName = ag.a.GroupID, ag.a.GroupName
	}
	if t.AgentRealtimeInfo.SiteID == "" {
		t.AgentRealtimeInfo.AccountID, t.AgentRealtimeInfo.AccountName = DefaultAccountID, DefaultAccountName
		t.AgentRealtimeInfo.SiteID, t.AgentRealtimeInfo.SiteName = DefaultSiteID, DefaultSiteName
	}
	rec := &threatRec{t: t}
	s.st.threats = append(s.st.threats, rec)
	pos := len(s.st.threats) - 1
	s.st.threatsWithID[t.ID] = append(s.st.threatsWithID[t.ID], pos)
	s.st.threatsOfAgent[t.AgentRealtimeInfo.AgentID] = append(s.st.threatsOfAgent[t.AgentRealtimeInfo.AgentID], pos)
	if _, dup := s.st.threatByID[t.ID]; !dup {
		s.st.threatByID[t.ID] = rec
	}
	return t
}

// describe sets the human-readable descriptions the console derives.
func describe(ti *sentinelone.ThreatInfo) {
	ti.IncidentStatusDescription = map[string]string{"unresolved": "Unresolved", "in_progress": "In progress", "resolved": "Resolved"}[ti.IncidentStatus]
	ti.AnalystVerdictDescription = map[string]string{"undefined": "Undefined", "true_positive": "True positive",
		"false_positive": "False positive", "suspicious": "Suspicious"}[ti.AnalystVerdict]
	ti.MitigationStatusDescription = map[string]string{"mitigated": "Mitigated", "not_mitigated": "Not mitigated",
		"marked_as_benign": "Marked as benign"}[ti.MitigationStatus]
}

// SetThreatFile sets the file the threat's agent uploads for POST
// /threats/fetch-file. Without one the agent reports the file as not found.
func (s *Server) SetThreatFile(threatID string, f File) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.threat(threatID)
	if t == nil {
		return false
	}
	f.Path = orDefault(f.Path, string(t.t.ThreatInfo.FilePath))
	t.file = &f
	return true
}

// SetVaultFile makes the threat's file available from the Binary Vault
// (GET /threats/{id}/download-from-cloud), in a zip protected with
// sentinelone.BinaryVaultPassword.
func (s *Server) SetVaultFile(threatID string, f File) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.threat(threatID)
	if t == nil {
		return false
	}
	f.Path = orDefault(f.Path, string(t.t.ThreatInfo.FilePath))
	t.vault = &f
	return true
}

// AddActivity adds an activity (for example an old upload, to check that
// clients ignore it). Its id is assigned when empty and createdAt defaults to
// now.
func (s *Server) AddActivity(a sentinelone.Activity) sentinelone.Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = orDefault(a.ID, s.st.nextID())
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.nowTime()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	s.st.activities = append(s.st.activities, a)
	return a
}

// AddDVEvents adds Deep Visibility events; a query returns those whose
// createdAt lies in its date range (the S1QL text is not evaluated).
func (s *Server) AddDVEvents(events ...sentinelone.DVEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		if e.ID == "" {
			e.ID = s.st.nextID()
		}
		s.st.dvEvents = append(s.st.dvEvents, e)
	}
}

// SetPowerQueryResult sets the columns and rows a PowerQuery with exactly
// this query text returns (other queries return no rows).
func (s *Server) SetPowerQueryResult(query string, columns []sentinelone.PowerQueryColumn, rows [][]any) error {
	res := sentinelone.PowerQueryResult{Columns: columns}
	for _, row := range rows {
		out := make([]rawJSON, len(row))
		for i, v := range row {
			b, err := jsonMarshal(v)
			if err != nil {
				return err
			}
			out[i] = b
		}
		res.Data = append(res.Data, out)
	}
	s.mu.Lock()
	s.st.pqResults[query] = res
	s.mu.Unlock()
	return nil
}

// SetSystemInfo replaces what GET /system/info reports.
func (s *Server) SetSystemInfo(info sentinelone.SystemInfo) {
	s.mu.Lock()
	s.st.system = info
	s.mu.Unlock()
}

// Threat returns a threat as it stands now.
func (s *Server) Threat(id string) (sentinelone.Threat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.st.threat(id); t != nil {
		return t.t, true
	}
	return sentinelone.Threat{}, false
}

// Agent returns an agent as it stands now.
func (s *Server) Agent(id string) (sentinelone.Agent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.st.agent(id); a != nil {
		return a.a, true
	}
	return sentinelone.Agent{}, false
}

// Notes returns the notes written on a threat, oldest first.
func (s *Server) Notes(threatID string) []sentinelone.Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.st.threat(threatID); t != nil {
		return slices.Clone(t.notes)
	}
	return nil
}

// AgentActions returns the actions taken on an agent, in order, by their
// path names ("disconnect", "initiate-scan", "fetch-files", ...).
func (s *Server) AgentActions(agentID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.st.agent(agentID); a != nil {
		return slices.Clone(a.actions)
	}
	return nil
}

// ThreatActions returns the actions taken on a threat, in order:
// "mitigate/kill", "analyst-verdict/false_positive",
// "incident/resolved", "add-to-blacklist", "fetch-file", ...
func (s *Server) ThreatActions(threatID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.st.threat(threatID); t != nil {
		return slices.Clone(t.actions)
	}
	return nil
}

// Restrictions returns the blocklist.
func (s *Server) Restrictions() []sentinelone.Restriction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.restrictions)
}

// IOCs returns the threat-intelligence indicators.
func (s *Server) IOCs() []sentinelone.IOC {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.iocs)
}

// Activities returns the activity log, oldest first, including the upload
// activities of completed fetches.
func (s *Server) Activities() []sentinelone.Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	return slices.Clone(s.st.activities)
}

// fileSHA1 computes the SHA1 of a file's content.
func fileSHA1(f *File) (string, error) {
	h := sha1.New()
	if _, err := io.Copy(h, f.reader()); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// touch records an update time on a threat.
func (s *Server) touch(t *threatRec, at time.Time) {
	t.t.ThreatInfo.UpdatedAt = sentinelone.NewTime(at)
}
