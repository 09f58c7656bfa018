package sentinelonetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// apiPrefix is where the fake serves the API.
const apiPrefix = "/web/api/v2.1"

// vaultPrefix serves pre-signed Binary Vault links (no token needed).
const vaultPrefix = "/fake-vault/"

func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	h := func(pattern string, f http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		api.HandleFunc(method+" "+apiPrefix+path, f)
	}
	h("GET /system/info", s.systemInfo)
	h("GET /accounts", s.listAccounts)
	h("GET /accounts/{id}", s.getAccount)
	h("GET /sites", s.listSites)
	h("GET /sites/{id}", s.getSite)
	h("GET /groups", s.listGroups)
	h("GET /activities", s.listActivities)
	h("GET /activities/types", s.activityTypes)

	h("GET /agents", s.listAgents)
	h("POST /agents/actions/{action}", s.agentAction)
	h("POST /agents/{id}/actions/fetch-files", s.agentFetchFiles)
	h("GET /agents/{id}/uploads/{activity}", s.downloadUpload)

	h("GET /threats", s.listThreats)
	h("GET /threats/{id}/notes", s.listNotes)
	h("POST /threats/notes", s.addNotes)
	h("PUT /threats/{id}/notes/{note}", s.updateNote)
	h("DELETE /threats/{id}/notes/{note}", s.deleteNote)
	h("POST /threats/analyst-verdict", s.analystVerdict)
	h("POST /threats/incident", s.incident)
	h("POST /threats/mitigate/{action}", s.mitigate)
	h("POST /threats/add-to-blacklist", s.addToBlacklist)
	h("POST /threats/dv-add-to-blacklist", s.dvAddToBlacklist)
	h("POST /threats/fetch-file", s.threatFetchFile)
	h("GET /threats/{id}/timeline", s.timeline)
	h("GET /threats/{id}/download-from-cloud", s.downloadFromCloud)

	h("GET /restrictions", s.listRestrictions)
	h("POST /restrictions", s.createRestriction)
	h("DELETE /restrictions", s.deleteRestrictions)

	h("GET /threat-intelligence/iocs", s.listIOCs)
	h("POST /threat-intelligence/iocs", s.createIOCs)
	h("DELETE /threat-intelligence/iocs", s.deleteIOCs)

	h("POST /dv/init-query", s.dvInitQuery)
	h("GET /dv/query-status", s.dvQueryStatus)
	h("GET /dv/events", s.dvEvents)
	h("GET /dv/events/{type}", s.dvEvents)
	h("POST /dv/cancel-query", s.dvCancel)
	h("POST /dv/events/pq", s.pqStart)
	h("GET /dv/events/pq-ping", s.pqPing)

	api.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) { notFound(w, "endpoint "+r.URL.Path) })

	root := http.NewServeMux()
	root.Handle(apiPrefix+"/", s.auth(s.rateLimit(api)))
	root.HandleFunc("GET "+vaultPrefix+"{token}", s.vaultDownload)
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w, "endpoint "+r.URL.Path) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.now().Format(http.TimeFormat))
		root.ServeHTTP(w, r)
	})
}

// actionRequest is the {"filter":{...},"data":{...}} body of actions.
type actionRequest struct {
	Filter map[string]json.RawMessage `json:"filter"`
	Data   json.RawMessage            `json:"data"`
}

// filterValues turns a JSON action filter into query values, so actions
// select objects exactly like the list endpoints.
func filterValues(f map[string]json.RawMessage) url.Values {
	q := url.Values{}
	for k, raw := range f {
		var list flexList
		if err := json.Unmarshal(raw, &list); err != nil {
			continue
		}
		q.Set(k, strings.Join(list, ","))
	}
	return q
}
