package sentinelonetest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
)

// flexTime decodes an ISO timestamp or epoch milliseconds, as DV clients
// send both.
type flexTime struct{ time.Time }

// UnmarshalJSON accepts what sentinelone.Time accepts.
func (f *flexTime) UnmarshalJSON(b []byte) error {
	var t sentinelone.Time
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	f.Time = t.Time
	return nil
}

func (s *Server) dvInitQuery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query    string   `json:"query"`
		FromDate flexTime `json:"fromDate"`
		ToDate   flexTime `json:"toDate"`
		Limit    int      `json:"limit"`
	}
	if !readBody(w, r, &req) {
		return
	}
	var errs []string
	if strings.TrimSpace(req.Query) == "" {
		errs = append(errs, "query: Missing data for required field.")
	}
	if req.FromDate.IsZero() || req.ToDate.IsZero() || !req.FromDate.Before(req.ToDate.Time) {
		errs = append(errs, "fromDate, toDate: Both are required and fromDate must be before toDate.")
	}
	if req.Limit < 0 || req.Limit > 100000 {
		errs = append(errs, "limit: Must be between 1 and 100000.")
	}
	if len(errs) > 0 {
		validation(w, errs...)
		return
	}
	limit := req.Limit
	if limit == 0 {
		limit = 1000
	}
	s.mu.Lock()
	q := &dvQuery{id: "q" + s.st.hexID(""), state: sentinelone.DVStateRunning, created: s.now()}
	for _, e := range s.st.dvEvents {
		if len(q.events) < limit && !e.CreatedAt.Before(req.FromDate.Time) && !e.CreatedAt.After(req.ToDate.Time) {
			q.events = append(q.events, e)
		}
	}
	s.st.dvQueries[q.id] = q
	s.mu.Unlock()
	writeData(w, map[string]any{"queryId": q.id, "queryModeInfo": map[string]any{"mode": "scalyr", "lastActivatedAt": q.created.Format(time.RFC3339)}})
}

// queryID reads queryId (or the snake_case alias some clients send).
func queryID(r *http.Request) string {
	q := r.URL.Query()
	return orDefault(q.Get("queryId"), q.Get("query_id"))
}

func (s *Server) dvQueryStatus(w http.ResponseWriter, r *http.Request) {
	id := queryID(r)
	s.mu.Lock()
	q := s.st.dvQueries[id]
	if q == nil {
		s.mu.Unlock()
		writeData(w, map[string]any{"responseState": "QUERY_NOT_FOUND", "progressStatus": 0, "responseError": "Query not found", "warnings": nil})
		return
	}
	q.polls++
	if q.state == sentinelone.DVStateRunning && q.polls > s.cfg.dvPolls {
		q.state = sentinelone.DVStateFinished
		if len(q.events) == 0 {
			q.state = sentinelone.DVStateEmptyResults
		}
	}
	progress := 100
	if q.state == sentinelone.DVStateRunning {
		progress = 100 * q.polls / (s.cfg.dvPolls + 1)
	}
	state, created := q.state, q.created
	s.mu.Unlock()
	writeData(w, map[string]any{"responseState": state, "progressStatus": progress, "responseError": nil, "warnings": nil,
		"queryModeInfo": map[string]any{"mode": "scalyr", "lastActivatedAt": created.Format(time.RFC3339)}})
}

func (s *Server) dvEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := parsePage(w, r.URL.Query())
	if !ok {
		return
	}
	id := queryID(r)
	if id == "" {
		validation(w, "queryId: Missing data for required field.")
		return
	}
	s.mu.Lock()
	q := s.st.dvQueries[id]
	if q == nil {
		s.mu.Unlock()
		validation(w, "queryId: Query not found or expired.")
		return
	}
	if q.state == sentinelone.DVStateRunning {
		s.mu.Unlock()
		validation(w, "queryId: Query is still running.")
		return
	}
	var out []sentinelone.DVEvent
	typ := r.PathValue("type")
	for _, e := range q.events {
		if typ == "" || strings.EqualFold(e.ObjectType, typ) || strings.EqualFold(e.EventType, typ) {
			out = append(out, e)
		}
	}
	s.mu.Unlock()
	writePage(w, out, p)
}

func (s *Server) dvCancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		QueryID string `json:"queryId"`
		Alt     string `json:"queryID"`
	}
	if !readBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	q := s.st.dvQueries[orDefault(req.QueryID, req.Alt)]
	if q != nil {
		q.state = sentinelone.DVStateCancelled
	}
	s.mu.Unlock()
	if q == nil {
		validation(w, "queryId: Query not found or expired.")
		return
	}
	writeData(w, map[string]bool{"success": true})
}

func (s *Server) pqView(q *pqQuery) map[string]any {
	res := q.result
	out := map[string]any{"queryId": q.id, "status": res.Status, "progress": res.Progress, "columns": []any{}, "data": []any{},
		"recommendations": []string{}, "externalId": nil}
	if res.Status == sentinelone.DVStateFinished {
		b, _ := json.Marshal(res)
		var full map[string]any
		if json.Unmarshal(b, &full) == nil {
			out["columns"], out["data"] = orEmpty(full["columns"]), orEmpty(full["data"])
		}
		if len(res.Data) >= 1000 {
			out["recommendations"] = []string{`Result set limited to 1000 rows by default. To display more rows, add a command like "| limit 10000".`}
		}
	}
	return out
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

func (s *Server) pqStart(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query    string   `json:"query"`
		FromDate flexTime `json:"fromDate"`
		ToDate   flexTime `json:"toDate"`
	}
	if !readBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Query) == "" || req.FromDate.IsZero() || req.ToDate.IsZero() {
		validation(w, "query, fromDate, toDate: Missing data for required field.")
		return
	}
	s.mu.Lock()
	q := &pqQuery{id: "pq" + s.st.hexID(""), result: s.st.pqResults[req.Query]}
	q.result.Status, q.result.Progress = sentinelone.DVStateRunning, 0
	if s.cfg.pqPings == 0 {
		q.result.Status, q.result.Progress = sentinelone.DVStateFinished, 100
	}
	s.st.pqQueries[q.id] = q
	view := s.pqView(q)
	s.mu.Unlock()
	writeData(w, view)
}

func (s *Server) pqPing(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	q := s.st.pqQueries[queryID(r)]
	if q == nil {
		s.mu.Unlock()
		validation(w, "queryId: Query not found or expired.")
		return
	}
	q.pings++
	if q.result.Status == sentinelone.DVStateRunning {
		if q.pings >= s.cfg.pqPings {
			q.result.Status, q.result.Progress = sentinelone.DVStateFinished, 100
		} else {
			q.result.Progress = float64(100 * q.pings / s.cfg.pqPings)
		}
	}
	view := s.pqView(q)
	s.mu.Unlock()
	writeData(w, view)
}
