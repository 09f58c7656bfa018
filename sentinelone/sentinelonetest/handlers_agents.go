package sentinelonetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
)

// agentMatcher selects agents by the GET /agents filters the fake knows.
func agentMatcher(q url.Values) func(*agentRec) bool {
	ids, uuids := csv(q, "ids"), csv(q, "uuids")
	accounts, sites, groups := csv(q, "accountIds"), csv(q, "siteIds"), csv(q, "groupIds")
	osTypes, statuses, scans := csv(q, "osTypes"), csv(q, "networkStatuses"), csv(q, "scanStatuses")
	domains, machines := csv(q, "domains"), csv(q, "machineTypes")
	contains := csv(q, "computerName__contains")
	name, like := q.Get("computerName"), strings.ToLower(q.Get("computerName__like"))
	isActive, infected := q.Get("isActive"), q.Get("infected")
	return func(a *agentRec) bool {
		g := &a.a
		switch {
		case !in(ids, g.ID), !in(uuids, g.UUID), !in(accounts, g.AccountID), !in(sites, g.SiteID), !in(groups, g.GroupID),
			!in(osTypes, g.OSType), !in(statuses, g.NetworkStatus), !in(scans, g.ScanStatus), !in(domains, g.Domain),
			!in(machines, g.MachineType):
			return false
		case name != "" && !strings.EqualFold(g.ComputerName, name):
			return false
		case like != "" && !strings.Contains(strings.ToLower(g.ComputerName), like):
			return false
		case isActive != "" && strings.EqualFold(isActive, "true") != g.IsActive:
			return false
		case infected != "" && strings.EqualFold(infected, "true") != g.Infected:
			return false
		}
		if len(contains) > 0 {
			for _, c := range contains {
				if strings.Contains(strings.ToLower(g.ComputerName), strings.ToLower(c)) {
					return true
				}
			}
			return false
		}
		return true
	}
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	match := agentMatcher(q)
	s.mu.Lock()
	var out []sentinelone.Agent
	active := activeCounts{}
	for _, a := range s.st.agents {
		if match(a) {
			a.a.ActiveThreats = active.of(&s.st, a.a.ID)
			a.a.Infected = a.a.ActiveThreats > 0
			out = append(out, a.a)
		}
	}
	s.mu.Unlock()
	writePage(w, out, p)
}

// agentActions are the actions the fake accepts, and whether an agent must
// be online to be affected.
var agentActions = map[string]bool{
	"disconnect": false, "connect": false, "shutdown": true, "restart-machine": true,
	"initiate-scan": false, "abort-scan": false, "broadcast": false,
}

func (s *Server) agentAction(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	needsOnline, known := agentActions[action]
	if !known {
		notFound(w, "Action "+action)
		return
	}
	var req actionRequest
	if !readBody(w, r, &req) {
		return
	}
	if req.Filter == nil {
		validation(w, "filter: Missing data for required field.")
		return
	}
	if action == "broadcast" {
		var data struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(req.Data, &data) != nil || data.Message == "" {
			validation(w, "data.message: Missing data for required field.")
			return
		}
	}
	match := agentMatcher(filterValues(req.Filter))
	s.mu.Lock()
	now := s.nowTime()
	affected := 0
	for _, a := range s.st.agents {
		if !match(a) || (needsOnline && !a.a.IsActive) {
			continue
		}
		affected++
		a.actions = append(a.actions, action)
		switch action {
		case "disconnect":
			a.a.NetworkStatus, a.a.NetworkQuarantineEnabled = "disconnected", true
			s.agentActivityLocked(a, sentinelone.ActivityAgentDisconnected, "was disconnected from network.")
		case "connect":
			a.a.NetworkStatus, a.a.NetworkQuarantineEnabled = "connected", false
			s.agentActivityLocked(a, sentinelone.ActivityAgentReconnected, "was connected to network.")
		case "initiate-scan":
			a.a.ScanStatus, a.a.ScanStartedAt = "started", now
		case "abort-scan":
			a.a.ScanStatus, a.a.ScanAbortedAt = "aborted", now
		}
		a.a.UpdatedAt = now
	}
	s.mu.Unlock()
	writeData(w, map[string]int{"affected": affected})
}

// agentActivityLocked logs an agent activity.
func (s *Server) agentActivityLocked(a *agentRec, typ int, what string) {
	data, _ := json.Marshal(map[string]any{"computerName": a.a.ComputerName, "externalIp": nilIfEmpty(a.a.ExternalIP),
		"siteName": a.a.SiteName, "groupName": a.a.GroupName, "accountName": a.a.AccountName})
	s.st.activities = append(s.st.activities, sentinelone.Activity{
		ID: s.st.nextID(), ActivityType: typ, AgentID: a.a.ID, AccountID: a.a.AccountID, AccountName: a.a.AccountName,
		SiteID: a.a.SiteID, SiteName: a.a.SiteName, GroupID: a.a.GroupID, GroupName: a.a.GroupName,
		PrimaryDescription: "Agent " + a.a.ComputerName + " " + what, CreatedAt: s.nowTime(), UpdatedAt: s.nowTime(),
		Data: sentinelone.ActivityData{Raw: data},
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) agentFetchFiles(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			Password string   `json:"password"`
			Files    flexList `json:"files"`
		} `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	var errs []string
	if err := sentinelone.ValidatePassword(req.Data.Password); err != nil {
		errs = append(errs, "data.password: The password must be 10 or more characters with a mix of upper and lower case letters, numbers, and symbols.")
	}
	if n := len(req.Data.Files); n == 0 || n > sentinelone.MaxFetchPaths {
		errs = append(errs, "data.files: Length must be between 1 and 10.")
	}
	for _, f := range req.Data.Files {
		if strings.ContainsAny(f, "*?") {
			errs = append(errs, "data.files: Wildcards are not supported.")
			break
		}
	}
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	s.mu.Lock()
	a := s.st.agent(r.PathValue("id"))
	if a == nil {
		s.mu.Unlock()
		notFound(w, "Agent")
		return
	}
	a.actions = append(a.actions, "fetch-files")
	s.st.pending = append(s.st.pending, &pendingUpload{
		due: s.now().Add(s.cfg.uploadDelay), agentID: a.a.ID, paths: req.Data.Files, password: req.Data.Password,
		activityType: sentinelone.ActivityFetchedFilesUploaded, batch: s.st.hexID("")[:32],
	})
	s.mu.Unlock()
	writeData(w, map[string]bool{"success": true})
}
