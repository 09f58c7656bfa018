package sentinelonetest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
)

var osTypes = []string{sentinelone.OSWindows, sentinelone.OSMacOS, sentinelone.OSLinux, sentinelone.OSWindowsLegacy}

// scopeFilter is the scope part of a restriction or IOC filter.
type scopeFilter struct {
	AccountIDs flexList `json:"accountIds"`
	AccountID  flexList `json:"accountId"`
	SiteIDs    flexList `json:"siteIds"`
	GroupIDs   flexList `json:"groupIds"`
	Tenant     flexList `json:"tenant"`
}

func (f scopeFilter) scope() sentinelone.RestrictionScope {
	return sentinelone.RestrictionScope{AccountIDs: append(f.AccountIDs, f.AccountID...), SiteIDs: f.SiteIDs, GroupIDs: f.GroupIDs,
		Tenant: len(f.Tenant) > 0 && strings.EqualFold(f.Tenant[0], "true")}
}

func emptyScope(sc sentinelone.RestrictionScope) bool {
	return !sc.Tenant && len(sc.AccountIDs)+len(sc.SiteIDs)+len(sc.GroupIDs) == 0
}

// unknownScopeLocked returns the first scope id the console does not know.
func (s *Server) unknownScopeLocked(sc sentinelone.RestrictionScope) string {
	for _, id := range sc.AccountIDs {
		if !slices.ContainsFunc(s.st.accounts, func(a sentinelone.Account) bool { return a.ID == id }) {
			return id
		}
	}
	for _, id := range sc.SiteIDs {
		if !slices.ContainsFunc(s.st.sites, func(a sentinelone.Site) bool { return a.ID == id }) {
			return id
		}
	}
	for _, id := range sc.GroupIDs {
		if !slices.ContainsFunc(s.st.groups, func(a sentinelone.Group) bool { return a.ID == id }) {
			return id
		}
	}
	return ""
}

func sameScope(a, b sentinelone.RestrictionScope) bool {
	return a.Tenant == b.Tenant && slices.Equal(a.AccountIDs, b.AccountIDs) && slices.Equal(a.SiteIDs, b.SiteIDs) && slices.Equal(a.GroupIDs, b.GroupIDs)
}

// scopeNameLocked describes a scope like the console's scopeName/scopePath.
func (s *Server) scopeNameLocked(sc sentinelone.RestrictionScope) (name, path string) {
	switch {
	case len(sc.SiteIDs) > 0:
		for _, site := range s.st.sites {
			if site.ID == sc.SiteIDs[0] {
				return site.Name, "Global / " + site.AccountName + " / " + site.Name
			}
		}
	case len(sc.AccountIDs) > 0:
		for _, a := range s.st.accounts {
			if a.ID == sc.AccountIDs[0] {
				return a.Name, "Global / " + a.Name
			}
		}
	case len(sc.GroupIDs) > 0:
		for _, g := range s.st.groups {
			if g.ID == sc.GroupIDs[0] {
				return g.Name, "Global / " + g.Name
			}
		}
	}
	return "Global", "Global"
}

// addRestrictionLocked creates a blocklist entry unless one with the same
// value, OS and scope exists.
func (s *Server) addRestrictionLocked(value, osType, description, source string, sc sentinelone.RestrictionScope) (sentinelone.Restriction, bool) {
	for _, r := range s.st.restrictions {
		if r.Value == value && r.OSType == osType && sameScope(r.Scope, sc) {
			return r, false
		}
	}
	now := s.nowTime()
	name, path := s.scopeNameLocked(sc)
	r := sentinelone.Restriction{ID: s.st.nextID(), Type: sentinelone.RestrictionBlackHash, Value: value, OSType: osType,
		Description: description, Source: orDefault(source, "user"), UserID: noteCreatorID, UserName: noteCreator,
		ScopeName: name, ScopePath: path, Scope: sc, CreatedAt: now, UpdatedAt: now}
	s.st.restrictions = append(s.st.restrictions, r)
	return r, true
}

func (s *Server) listRestrictions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	ids, oss := csv(q, "ids"), csv(q, "osTypes")
	accounts, sites, groups := csv(q, "accountIds"), csv(q, "siteIds"), csv(q, "groupIds")
	typ := orDefault(q.Get("type"), sentinelone.RestrictionBlackHash)
	value, contains := q.Get("value"), strings.ToLower(q.Get("value__contains"))
	tenant := q.Get("tenant") == "true"
	if msg := checkIDs("siteIds", sites); msg != "" {
		validation(w, msg)
		return
	}
	s.mu.Lock()
	var out []sentinelone.Restriction
	for _, e := range s.st.restrictions {
		inScope := (len(accounts)+len(sites)+len(groups) == 0 && !tenant) || (tenant && e.Scope.Tenant) ||
			intersects(accounts, e.Scope.AccountIDs) || intersects(sites, e.Scope.SiteIDs) || intersects(groups, e.Scope.GroupIDs)
		if inScope && e.Type == typ && in(ids, e.ID) && in(oss, e.OSType) && (value == "" || e.Value == value) &&
			strings.Contains(strings.ToLower(e.Value), contains) {
			out = append(out, e)
		}
	}
	s.mu.Unlock()
	writePage(w, out, p)
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func (s *Server) createRestriction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Filter scopeFilter `json:"filter"`
		Data   struct {
			Type        string `json:"type"`
			Value       string `json:"value"`
			OSType      string `json:"osType"`
			Description string `json:"description"`
			Source      string `json:"source"`
		} `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	d := req.Data
	var errs []string
	if d.Type != sentinelone.RestrictionBlackHash {
		errs = append(errs, "data.type: Must be one of: black_hash.")
	}
	if d.Value == "" {
		errs = append(errs, "data.value: Missing data for required field.")
	}
	if !slices.Contains(osTypes, d.OSType) {
		errs = append(errs, "data.osType: Must be one of: "+strings.Join(osTypes, ", ")+".")
	}
	sc := req.Filter.scope()
	if emptyScope(sc) {
		errs = append(errs, "filter: A scope (tenant, accountIds, siteIds or groupIds) is required.")
	}
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := s.unknownScopeLocked(sc); id != "" {
		validation(w, "Cannot find blocklist or exclusion for the requested scope ["+id+"]")
		return
	}
	rec, created := s.addRestrictionLocked(d.Value, d.OSType, d.Description, d.Source, sc)
	if !created {
		fail(w, http.StatusBadRequest, apiError{Code: sentinelone.CodeAlreadyExists, Title: "Already Exists Error",
			Detail: strPtr("Blocklist item with value " + rec.Value + " already exists in this scope")})
		return
	}
	writeData(w, []any{wire(rec)})
}

func (s *Server) deleteRestrictions(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			IDs  flexList `json:"ids"`
			Type string   `json:"type"`
		} `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	if len(req.Data.IDs) == 0 {
		validation(w, "data.ids: Missing data for required field.")
		return
	}
	s.mu.Lock()
	before := len(s.st.restrictions)
	s.st.restrictions = slices.DeleteFunc(s.st.restrictions, func(e sentinelone.Restriction) bool { return slices.Contains(req.Data.IDs, e.ID) })
	affected := before - len(s.st.restrictions)
	s.mu.Unlock()
	writeAffected(w, affected, nil)
}

// targetScope turns an add-to-blacklist targetScope into a restriction
// scope for a threat's agent.
func targetScope(target string, ri sentinelone.AgentRealtimeInfo) (sentinelone.RestrictionScope, bool) {
	switch target {
	case "group":
		return sentinelone.RestrictionScope{GroupIDs: []string{ri.GroupID}}, true
	case "site":
		return sentinelone.RestrictionScope{SiteIDs: []string{ri.SiteID}}, true
	case "account":
		return sentinelone.RestrictionScope{AccountIDs: []string{ri.AccountID}}, true
	case "tenant", "global":
		return sentinelone.RestrictionScope{Tenant: true}, true
	}
	return sentinelone.RestrictionScope{}, false
}

func (s *Server) addToBlacklist(w http.ResponseWriter, r *http.Request) {
	var data struct {
		TargetScope string `json:"targetScope"`
		Description string `json:"description"`
	}
	threats, ok := s.threatAction(w, r, &data)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if _, valid := targetScope(data.TargetScope, sentinelone.AgentRealtimeInfo{}); !valid || data.TargetScope == "global" {
		validation(w, "data.targetScope: Must be one of: group, site, account, tenant.")
		return
	}
	affected := 0
	details := []detail{}
	for _, t := range threats {
		t.actions = append(t.actions, "add-to-blacklist")
		if t.t.ThreatInfo.SHA1 == "" {
			details = append(details, detail{ThreatID: t.t.ID, Result: "threat_has_no_hash"})
			continue
		}
		sc, _ := targetScope(data.TargetScope, t.t.AgentRealtimeInfo)
		_, created := s.addRestrictionLocked(t.t.ThreatInfo.SHA1, orDefault(t.t.AgentRealtimeInfo.AgentOSType, sentinelone.OSWindows),
			data.Description, "action_from_threat", sc)
		res := "already_exists"
		if created {
			res = "created"
			affected++
		}
		details = append(details, detail{ThreatID: t.t.ID, Result: res})
	}
	writeAffected(w, affected, details)
}

func (s *Server) dvAddToBlacklist(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			TargetScope string `json:"targetScope"`
			Hashes      []struct {
				AgentID string `json:"agentId"`
				Hash    string `json:"hash"`
			} `json:"hashes"`
		} `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	if _, valid := targetScope(req.Data.TargetScope, sentinelone.AgentRealtimeInfo{}); !valid || req.Data.TargetScope == "tenant" || len(req.Data.Hashes) == 0 {
		validation(w, "data: targetScope (site, group, account or global) and hashes are required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	affected := 0
	for _, h := range req.Data.Hashes {
		a := s.st.agent(h.AgentID)
		if a == nil || h.Hash == "" {
			continue
		}
		a.actions = append(a.actions, "dv-add-to-blacklist")
		sc, _ := targetScope(req.Data.TargetScope, sentinelone.AgentRealtimeInfo{AccountID: a.a.AccountID, SiteID: a.a.SiteID, GroupID: a.a.GroupID})
		if _, created := s.addRestrictionLocked(h.Hash, a.a.OSType, "", "user", sc); created {
			affected++
		}
	}
	writeAffected(w, affected, nil)
}

// checkIDs applies the console's minimum id value to a list parameter.
func checkIDs(name string, ids []string) string {
	for i, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n < 100000000000000000 {
			return name + ": " + strconv.Itoa(i) + ": Must be greater than or equal to 100000000000000000."
		}
	}
	return ""
}
