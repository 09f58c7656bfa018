package sentinelonetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
)

// threatMatcher selects threats by the GET /threats filters the fake knows.
// Bad values are reported in errs.
func threatMatcher(q url.Values, errs *[]string) func(*threatRec) bool {
	ids, agents := csv(q, "ids"), csv(q, "agentIds")
	accounts, sites, groups := csv(q, "accountIds"), csv(q, "siteIds"), csv(q, "groupIds")
	hashes := csv(q, "contentHashes")
	created := parseBounds(q, "createdAt", "created_at", errs)
	updated := parseBounds(q, "updatedAt", "updated_at", errs)
	type set struct{ in, nin []string }
	lists := func(name string) set { return set{csv(q, name), csv(q, name+"Nin")} }
	incident, verdict, conf := lists("incidentStatuses"), lists("analystVerdicts"), lists("confidenceLevels")
	mit, class, oss := lists("mitigationStatuses"), lists("classifications"), lists("osTypes")
	name, nameLike := q.Get("displayName"), strings.ToLower(q.Get("displayName__like"))
	computers := csv(q, "computerName__contains")
	resolved, agentActive := q.Get("resolved"), q.Get("agentIsActive")
	check := func(s set, v string) bool { return in(s.in, v) && notIn(s.nin, v) }
	return func(t *threatRec) bool {
		ti, ri := &t.t.ThreatInfo, &t.t.AgentRealtimeInfo
		switch {
		case !in(ids, t.t.ID), !in(agents, ri.AgentID), !in(accounts, ri.AccountID), !in(sites, ri.SiteID), !in(groups, ri.GroupID),
			!in(hashes, ti.SHA1), !created.ok(ti.CreatedAt.Time), !updated.ok(ti.UpdatedAt.Time),
			!check(incident, ti.IncidentStatus), !check(verdict, ti.AnalystVerdict), !check(conf, ti.ConfidenceLevel),
			!check(mit, ti.MitigationStatus), !check(class, ti.Classification), !check(oss, ri.AgentOSType):
			return false
		case name != "" && ti.ThreatName != name, nameLike != "" && !strings.Contains(strings.ToLower(ti.ThreatName), nameLike):
			return false
		case resolved != "" && strings.EqualFold(resolved, "true") != (ti.IncidentStatus == sentinelone.IncidentResolved):
			return false
		case agentActive != "" && strings.EqualFold(agentActive, "true") != ri.AgentIsActive:
			return false
		}
		if len(computers) > 0 {
			return slices.ContainsFunc(computers, func(c string) bool {
				return strings.Contains(strings.ToLower(ri.AgentComputerName), strings.ToLower(c))
			})
		}
		return true
	}
}

// threatView is a threat as the console shows it now: the agent's live
// state is copied in.
// active holds the agents' unresolved threat counts, counted once per agent
// for a whole list.
func (s *Server) threatViewLocked(t *threatRec, active activeCounts) sentinelone.Threat {
	out := t.t
	if a := s.st.agent(out.AgentRealtimeInfo.AgentID); a != nil {
		out.AgentRealtimeInfo.AgentIsActive = a.a.IsActive
		out.AgentRealtimeInfo.AgentNetworkStatus = a.a.NetworkStatus
		out.AgentRealtimeInfo.ScanStatus = a.a.ScanStatus
		out.AgentRealtimeInfo.ActiveThreats = active.of(&s.st, a.a.ID)
	}
	return out
}

// activeCounts memoises the agents' counts of unresolved threats within one
// request: each agent's threats are counted from the index, once.
type activeCounts map[string]int

func (c activeCounts) of(st *state, agentID string) int {
	if n, ok := c[agentID]; ok {
		return n
	}
	n := 0
	for _, pos := range st.threatsOfAgent[agentID] {
		if st.threats[pos].t.ThreatInfo.IncidentStatus != sentinelone.IncidentResolved {
			n++
		}
	}
	st.examined += len(st.threatsOfAgent[agentID])
	c[agentID] = n
	return n
}

// threatCandidatesLocked returns, in stored order, the threats a filter can
// select: those of the ids or agents it names (from the indexes), or every
// threat when it names neither. The matcher still decides.
func (s *Server) threatCandidatesLocked(q url.Values) []*threatRec {
	var pos []int
	switch ids, agents := csv(q, "ids"), csv(q, "agentIds"); {
	case len(ids) > 0:
		for _, id := range ids {
			pos = append(pos, s.st.threatsWithID[id]...)
		}
	case len(agents) > 0:
		for _, id := range agents {
			pos = append(pos, s.st.threatsOfAgent[id]...)
		}
	default:
		s.st.examined += len(s.st.threats)
		return s.st.threats
	}
	slices.Sort(pos)
	pos = slices.Compact(pos)
	out := make([]*threatRec, len(pos))
	for i, p := range pos {
		out[i] = s.st.threats[p]
	}
	s.st.examined += len(out)
	return out
}

func (s *Server) listThreats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	var errs []string
	match := threatMatcher(q, &errs)
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	s.mu.Lock()
	var out []sentinelone.Threat
	active := activeCounts{}
	for _, t := range s.threatCandidatesLocked(q) {
		if match(t) {
			out = append(out, s.threatViewLocked(t, active))
		}
	}
	s.mu.Unlock()
	switch p.sortBy {
	case "createdAt", "createdDate":
		slices.SortStableFunc(out, func(a, b sentinelone.Threat) int {
			return cmpTimes(a.ThreatInfo.CreatedAt, b.ThreatInfo.CreatedAt, p.desc)
		})
	case "updatedAt":
		slices.SortStableFunc(out, func(a, b sentinelone.Threat) int {
			return cmpTimes(a.ThreatInfo.UpdatedAt, b.ThreatInfo.UpdatedAt, p.desc)
		})
	default:
		if p.desc {
			slices.Reverse(out)
		}
	}
	writePage(w, out, p)
}

// threatAction decodes an action body and returns the threats its filter
// selects (under the lock, which the caller must release).
func (s *Server) threatAction(w http.ResponseWriter, r *http.Request, data any) ([]*threatRec, bool) {
	var req actionRequest
	if !readBody(w, r, &req) {
		return nil, false
	}
	if req.Filter == nil {
		validation(w, "filter: Missing data for required field.")
		return nil, false
	}
	if data != nil && (len(req.Data) == 0 || json.Unmarshal(req.Data, data) != nil) {
		validation(w, "data: Missing data for required field.")
		return nil, false
	}
	var errs []string
	fq := filterValues(req.Filter)
	match := threatMatcher(fq, &errs)
	if len(errs) > 0 {
		validation(w, errs...)
		return nil, false
	}
	s.mu.Lock()
	var out []*threatRec
	for _, t := range s.threatCandidatesLocked(fq) {
		if match(t) {
			out = append(out, t)
		}
	}
	return out, true
}

type detail struct {
	ThreatID       string `json:"threatId"`
	Result         string `json:"result,omitempty"`
	AnalystVerdict string `json:"analystVerdict,omitempty"`
	Skipped        []any  `json:"skipped,omitempty"`
	Reports        []any  `json:"reports,omitempty"`
}

func writeAffected(w http.ResponseWriter, affected int, details []detail) {
	data := map[string]any{"affected": affected}
	if details != nil {
		data["details"] = details
	}
	writeData(w, data)
}

var verdicts = []string{sentinelone.VerdictUndefined, sentinelone.VerdictTruePositive, sentinelone.VerdictFalsePositive, sentinelone.VerdictSuspicious}
var incidentStatuses = []string{sentinelone.IncidentUnresolved, sentinelone.IncidentInProgress, sentinelone.IncidentResolved}

func (s *Server) analystVerdict(w http.ResponseWriter, r *http.Request) {
	var data struct {
		AnalystVerdict string `json:"analystVerdict"`
	}
	threats, ok := s.threatAction(w, r, &data)
	if !ok {
		return
	}
	if !slices.Contains(verdicts, data.AnalystVerdict) {
		s.mu.Unlock()
		validation(w, "data.analystVerdict: Must be one of: "+strings.Join(verdicts, ", ")+".")
		return
	}
	details := []detail{}
	affected := 0
	for _, t := range threats {
		res := "not_changed"
		if t.t.ThreatInfo.AnalystVerdict != data.AnalystVerdict {
			res = "updated"
			affected++
			t.t.ThreatInfo.AnalystVerdict = data.AnalystVerdict
			describe(&t.t.ThreatInfo)
			s.touch(t, s.now())
		}
		t.actions = append(t.actions, "analyst-verdict/"+data.AnalystVerdict)
		details = append(details, detail{ThreatID: t.t.ID, Result: res})
	}
	s.mu.Unlock()
	writeAffected(w, affected, details)
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request) {
	var data struct {
		IncidentStatus string `json:"incidentStatus"`
		AnalystVerdict string `json:"analystVerdict"`
	}
	threats, ok := s.threatAction(w, r, &data)
	if !ok {
		return
	}
	if !slices.Contains(incidentStatuses, data.IncidentStatus) || (data.AnalystVerdict != "" && !slices.Contains(verdicts, data.AnalystVerdict)) {
		s.mu.Unlock()
		validation(w, "data.incidentStatus: Must be one of: "+strings.Join(incidentStatuses, ", ")+".")
		return
	}
	details := []detail{}
	affected := 0
	for _, t := range threats {
		ti := &t.t.ThreatInfo
		res := "not_changed"
		if ti.IncidentStatus != data.IncidentStatus || (data.AnalystVerdict != "" && ti.AnalystVerdict != data.AnalystVerdict) {
			res = "updated"
			affected++
			ti.IncidentStatus = data.IncidentStatus
			if data.AnalystVerdict != "" {
				ti.AnalystVerdict = data.AnalystVerdict
			}
			describe(ti)
			s.touch(t, s.now())
		}
		t.actions = append(t.actions, "incident/"+data.IncidentStatus)
		details = append(details, detail{ThreatID: t.t.ID, Result: res, AnalystVerdict: ti.AnalystVerdict})
	}
	s.mu.Unlock()
	writeAffected(w, affected, details)
}

// mitigationNames maps action paths to the names in mitigationStatus.
var mitigationNames = map[string]string{
	"kill": "kill", "quarantine": "quarantine", "remediate": "remediate", "rollback-remediation": "rollback",
	"un-quarantine": "unquarantine", "network-quarantine": "network_quarantine",
}

func (s *Server) mitigate(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	name, known := mitigationNames[action]
	if !known {
		notFound(w, "Mitigation action "+action)
		return
	}
	threats, ok := s.threatAction(w, r, nil)
	if !ok {
		return
	}
	now := s.nowTime()
	details := []detail{}
	for _, t := range threats {
		status := "success"
		if a := s.st.agent(t.t.AgentRealtimeInfo.AgentID); a != nil && !a.a.IsActive {
			status = "pending"
		}
		ms := sentinelone.MitigationStatus{Action: name, Status: status, LastUpdate: now, MitigationStartedAt: now, AgentSupportsReport: true,
			ActionsCounters: &sentinelone.ActionCounters{Total: 1}, ReportID: s.st.nextID()}
		if status == "success" {
			ms.ActionsCounters.Success = 1
			ms.MitigationEndedAt = now
			ms.LatestReport = "/threats/mitigation-report/" + ms.ReportID
		}
		list := slices.DeleteFunc(t.t.MitigationStatus, func(m sentinelone.MitigationStatus) bool { return m.Action == name })
		t.t.MitigationStatus = append(list, ms)
		switch {
		case status != "success":
		case name == "rollback" || name == "unquarantine":
			t.t.ThreatInfo.MitigationStatus = sentinelone.MitigationStatusNotMitigated
		default:
			t.t.ThreatInfo.MitigationStatus = sentinelone.MitigationStatusMitigated
		}
		describe(&t.t.ThreatInfo)
		s.touch(t, now.Time)
		t.actions = append(t.actions, "mitigate/"+action)
		details = append(details, detail{ThreatID: t.t.ID, Reports: []any{wire(ms)}})
	}
	s.mu.Unlock()
	writeAffected(w, len(threats), details)
}

func (s *Server) threatFetchFile(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Password string `json:"password"`
	}
	threats, ok := s.threatAction(w, r, &data)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if err := sentinelone.ValidatePassword(data.Password); err != nil {
		validation(w, "data.password: The password must be 10 or more characters with a mix of upper and lower case letters, numbers, and symbols.")
		return
	}
	if len(threats) > 1 {
		validation(w, "filter: Fetch file supports a single threat; bulk operations are not supported.")
		return
	}
	if len(threats) == 0 {
		writeAffected(w, 0, nil)
		return
	}
	t := threats[0]
	t.actions = append(t.actions, "fetch-file")
	s.st.pending = append(s.st.pending, &pendingUpload{
		due: s.now().Add(s.cfg.uploadDelay), agentID: t.t.AgentRealtimeInfo.AgentID, threatID: t.t.ID, password: data.Password,
		activityType: sentinelone.ActivityThreatFileUploaded, batch: uuid(s.st.hexID("")),
	})
	writeAffected(w, 1, nil)
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	if q.Get("sortOrder") == "" {
		p.desc = true
	}
	types := csv(q, "activityTypes")
	id := r.PathValue("id")
	s.mu.Lock()
	s.advanceLocked()
	if s.st.threat(id) == nil {
		s.mu.Unlock()
		notFound(w, "Threat")
		return
	}
	var out []sentinelone.Activity
	for _, a := range s.st.activities {
		if a.ThreatID == id && in(types, itoa(a.ActivityType)) {
			out = append(out, a)
		}
	}
	s.mu.Unlock()
	sortActivities(out, p)
	writePage(w, out, p)
}

// uuid formats 32 hex digits as a dashed UUID.
func uuid(hex32 string) string {
	h := hex32[:32]
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
