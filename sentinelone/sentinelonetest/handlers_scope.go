package sentinelonetest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
)

func (s *Server) systemInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	info := s.st.system
	s.mu.Unlock()
	writeData(w, wire(info))
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	ids := csvAny(q, "accountIds", "ids")
	states := csv(q, "states")
	s.mu.Lock()
	var out []sentinelone.Account
	for _, a := range s.st.accounts {
		if in(ids, a.ID) && in(states, a.State) && (q.Get("name") == "" || a.Name == q.Get("name")) &&
			(q.Get("query") == "" || strings.Contains(strings.ToLower(a.Name), strings.ToLower(q.Get("query")))) {
			out = append(out, a)
		}
	}
	s.mu.Unlock()
	writePage(w, out, p)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.st.accounts {
		if a.ID == r.PathValue("id") {
			writeData(w, wire(a))
			return
		}
	}
	notFound(w, "Account")
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	accounts := csvAny(q, "accountIds", "accountId")
	ids := csv(q, "siteIds")
	states := csvAny(q, "states", "state")
	name, contains := q.Get("name"), strings.ToLower(q.Get("name__contains"))
	s.mu.Lock()
	var out []sentinelone.Site
	var active, total int
	for _, site := range s.st.sites {
		if in(accounts, site.AccountID) && in(ids, site.ID) && in(states, site.State) && (name == "" || site.Name == name) &&
			strings.Contains(strings.ToLower(site.Name), contains) {
			out = append(out, site)
			active += site.ActiveLicenses
			total += site.TotalLicenses
		}
	}
	s.mu.Unlock()
	// The console wraps the page in an object with license totals.
	start := min(p.offset, len(out))
	end := min(start+p.limit, len(out))
	sites := make([]any, 0, end-start)
	for _, site := range out[start:end] {
		sites = append(sites, wire(site))
	}
	pag := map[string]any{"totalItems": len(out), "nextCursor": nil}
	if end < len(out) {
		pag["nextCursor"] = encodeCursor(end)
	}
	writeJSON(w, map[string]any{"data": map[string]any{"allSites": map[string]int{"activeLicenses": active, "totalLicenses": total}, "sites": sites},
		"pagination": pag})
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, site := range s.st.sites {
		if site.ID == r.PathValue("id") {
			writeData(w, wire(site))
			return
		}
	}
	notFound(w, "Site")
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	ids, sites := csv(q, "groupIds"), csv(q, "siteIds")
	s.mu.Lock()
	var out []sentinelone.Group
	for _, g := range s.st.groups {
		if in(ids, g.ID) && in(sites, g.SiteID) && (q.Get("type") == "" || g.Type == q.Get("type")) && (q.Get("name") == "" || g.Name == q.Get("name")) {
			g.TotalAgents = 0
			for _, a := range s.st.agents {
				if a.a.GroupID == g.ID {
					g.TotalAgents++
				}
			}
			out = append(out, g)
		}
	}
	s.mu.Unlock()
	writePage(w, out, p)
}

// activityTypeCatalogue is the part of the console's catalogue the fake
// produces.
var activityTypeCatalogue = []sentinelone.ActivityType{
	{ID: sentinelone.ActivityFetchedFilesUploaded, Action: "Agent Uploaded Fetched Files", DescriptionTemplate: "Agent {{ computer_name }} ({{ external_ip }}) successfully uploaded {{ filename }}."},
	{ID: sentinelone.ActivityThreatFileUploaded, Action: "Agent Uploaded Threat File", DescriptionTemplate: "Agent {{ computer_name }} ({{ external_ip }}) successfully uploaded a threat file."},
	{ID: sentinelone.ActivityAgentDisconnected, Action: "Agent Disconnected From Network", DescriptionTemplate: "Agent {{ computer_name }} was disconnected from network."},
	{ID: sentinelone.ActivityAgentReconnected, Action: "Agent Reconnected To Network", DescriptionTemplate: "Agent {{ computer_name }} was connected to network."},
}

func (s *Server) activityTypes(w http.ResponseWriter, r *http.Request) {
	writeData(w, wire(activityTypeCatalogue))
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	var errs []string
	bounds := parseBounds(q, "createdAt", "created_at", &errs)
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	types := csvAny(q, "activityTypes", "activity_types")
	ids, agents, threats := csv(q, "ids"), csv(q, "agentIds"), csv(q, "threatIds")
	accounts, sites := csv(q, "accountIds"), csv(q, "siteIds")
	s.mu.Lock()
	s.advanceLocked()
	var out []sentinelone.Activity
	for _, a := range s.st.activities {
		if in(types, itoa(a.ActivityType)) && in(ids, a.ID) && in(agents, a.AgentID) && in(threats, a.ThreatID) &&
			in(accounts, a.AccountID) && in(sites, a.SiteID) && bounds.ok(a.CreatedAt.Time) {
			out = append(out, a)
		}
	}
	s.mu.Unlock()
	sortActivities(out, p)
	writePage(w, out, p)
}

// sortActivities orders by createdAt (the only sort the fake knows), oldest
// first unless desc; equal times keep the order they were logged in.
func sortActivities(out []sentinelone.Activity, p pageParams) {
	slices.SortStableFunc(out, func(a, b sentinelone.Activity) int { return a.CreatedAt.Compare(b.CreatedAt.Time) })
	if p.desc {
		slices.Reverse(out)
	}
}

func cmpTimes(a, b sentinelone.Time, desc bool) int {
	c := cmp.Compare(a.UnixNano(), b.UnixNano())
	if desc {
		return -c
	}
	return c
}
