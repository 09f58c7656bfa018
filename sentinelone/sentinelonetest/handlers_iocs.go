package sentinelonetest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
)

var iocTypes = []string{sentinelone.IOCTypeDNS, sentinelone.IOCTypeIPv4, sentinelone.IOCTypeIPv6, sentinelone.IOCTypeMD5,
	sentinelone.IOCTypeSHA1, sentinelone.IOCTypeSHA256, sentinelone.IOCTypeURL}

// iocView adds the list fields the console always sends, even empty.
func iocView(ioc sentinelone.IOC) any {
	m, ok := wire(ioc).(map[string]any)
	if !ok {
		return nil
	}
	for _, k := range []string{"category", "reference", "mitreTactic", "threatActors", "intrusionSets"} {
		if m[k] == nil {
			m[k] = []any{}
		}
	}
	if _, ok := m["metadata"]; !ok {
		m["metadata"] = ""
	}
	if _, ok := m["creationTime"]; !ok {
		m["creationTime"] = nil
	}
	return m
}

func (s *Server) listIOCs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	accounts, sites, uuids := csv(q, "accountIds"), csv(q, "siteIds"), csv(q, "uuids")
	typ, value, source, batch := q.Get("type"), q.Get("value"), q.Get("source"), q.Get("batchId")
	name := strings.ToLower(q.Get("name__contains"))
	s.mu.Lock()
	var out []any
	var list []sentinelone.IOC
	for _, ioc := range s.st.iocs {
		scopeOK := (len(accounts) == 0 || (ioc.Scope == "account" && in(accounts, string(ioc.ScopeID)))) &&
			(len(sites) == 0 || (ioc.Scope == "site" && in(sites, string(ioc.ScopeID))))
		if scopeOK && in(uuids, ioc.UUID) && (typ == "" || ioc.Type == typ) && (value == "" || ioc.Value == value) &&
			(source == "" || ioc.Source == source) && (batch == "" || ioc.BatchID == batch) && strings.Contains(strings.ToLower(ioc.Name), name) {
			list = append(list, ioc)
		}
	}
	s.mu.Unlock()
	if p.sortBy == "creationTime" || p.sortBy == "uploadTime" {
		slices.SortStableFunc(list, func(a, b sentinelone.IOC) int { return cmpTimes(a.UploadTime, b.UploadTime, p.desc) })
	}
	for _, ioc := range list {
		out = append(out, iocView(ioc))
	}
	writePage(w, out, p)
}

func (s *Server) createIOCs(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Filter scopeFilter       `json:"filter"`
		Data   []sentinelone.IOC `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	sc := req.Filter.scope()
	var errs []string
	if emptyScope(sc) {
		errs = append(errs, "filter: A scope (tenant, accountIds, siteIds or groupIds) is required.")
	}
	if len(req.Data) == 0 {
		errs = append(errs, "data: Missing data for required field.")
	}
	for i, ioc := range req.Data {
		n := strconv.Itoa(i)
		if !slices.Contains(iocTypes, ioc.Type) {
			errs = append(errs, "data."+n+".type: Must be one of: "+strings.Join(iocTypes, ", ")+".")
		}
		if ioc.Value == "" {
			errs = append(errs, "data."+n+".value: Missing data for required field.")
		}
		if ioc.Source == "" {
			errs = append(errs, "data."+n+".source: Missing data for required field.")
		}
		if ioc.Method != "" && ioc.Method != "EQUALS" {
			errs = append(errs, "data."+n+".method: Must be one of: EQUALS.")
		}
	}
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	s.mu.Lock()
	if id := s.unknownScopeLocked(sc); id != "" {
		s.mu.Unlock()
		validation(w, "Scope ["+id+"] not found")
		return
	}
	scope, scopeID := "global", ""
	switch {
	case len(sc.GroupIDs) > 0:
		scope, scopeID = "group", sc.GroupIDs[0]
	case len(sc.SiteIDs) > 0:
		scope, scopeID = "site", sc.SiteIDs[0]
	case len(sc.AccountIDs) > 0:
		scope, scopeID = "account", sc.AccountIDs[0]
	}
	now := s.nowTime()
	batch := s.st.hexID("")
	out := make([]any, 0, len(req.Data))
	for _, ioc := range req.Data {
		ioc.UUID = s.st.hexID("")
		ioc.BatchID, ioc.Scope, ioc.ScopeID = batch, scope, sentinelone.FlexString(scopeID)
		ioc.Method = orDefault(ioc.Method, "EQUALS")
		ioc.UploadTime, ioc.UpdatedAt = now, now
		s.st.iocs = append(s.st.iocs, ioc)
		out = append(out, iocView(ioc))
	}
	s.mu.Unlock()
	writeData(w, out)
}

func (s *Server) deleteIOCs(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Filter struct {
			scopeFilter
			UUIDs  flexList `json:"uuids"`
			Value  string   `json:"value"`
			Type   string   `json:"type"`
			Source string   `json:"source"`
		} `json:"filter"`
	}
	if !readBody(w, r, &req) {
		return
	}
	f := req.Filter
	if len(f.UUIDs) == 0 && f.Value == "" && f.Type == "" && f.Source == "" {
		validation(w, "filter: uuids or another IOC filter is required.")
		return
	}
	accounts := append(f.AccountIDs, f.AccountID...)
	s.mu.Lock()
	before := len(s.st.iocs)
	s.st.iocs = slices.DeleteFunc(s.st.iocs, func(ioc sentinelone.IOC) bool {
		return in(f.UUIDs, ioc.UUID) && (f.Value == "" || ioc.Value == f.Value) && (f.Type == "" || ioc.Type == f.Type) &&
			(f.Source == "" || ioc.Source == f.Source) && (len(accounts) == 0 || ioc.Scope != "account" || in(accounts, string(ioc.ScopeID)))
	})
	affected := before - len(s.st.iocs)
	s.mu.Unlock()
	writeAffected(w, affected, nil)
}
