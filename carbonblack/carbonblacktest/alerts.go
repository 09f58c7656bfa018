package carbonblacktest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// AddAlert stores an alert. Zero timestamps become now; an empty id gets a
// UUID; the org key is the fake's. It returns the stored alert.
func (s *Server) AddAlert(a carbonblack.Alert) carbonblack.Alert {
	now := s.now()
	if a.ID == "" {
		a.ID = carbonblack.NewID()
	}
	a.OrgKey = s.opts.orgKey
	for _, ts := range []*carbonblack.Timestamp{&a.BackendTimestamp, &a.BackendUpdateTimestamp, &a.DetectionTimestamp, &a.FirstEventTimestamp, &a.LastEventTimestamp} {
		if ts.IsZero() {
			ts.Time = now
		}
	}
	if a.Type == "" {
		a.Type = "CB_ANALYTICS"
	}
	if a.Workflow == nil {
		a.Workflow = &carbonblack.Workflow{ChangeTimestamp: a.BackendTimestamp, ChangedByType: "SYSTEM", ChangedBy: "ALERT_CREATION", ClosureReason: "NO_REASON", Status: "OPEN"}
	}
	s.mu.Lock()
	s.st.alerts = append(s.st.alerts, s.st.intern.compact(toRecord(a)))
	s.st.indexAlertLocked(len(s.st.alerts) - 1)
	s.mu.Unlock()
	return a
}

// Alerts returns the stored alerts.
func (s *Server) Alerts() []carbonblack.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return decodeAll[carbonblack.Alert](s.st.alerts)
}

// defaultAlertWindow is the search window when no time filter is given.
const defaultAlertWindow = 14 * 24 * time.Hour

func (s *Server) searchAlerts(w http.ResponseWriter, r *http.Request) {
	var body searchBody
	if !decodeBody(w, r, &body) {
		return
	}
	start, rows, ok := pageParams(w, &body, 20, 1)
	if !ok {
		return
	}
	if start+rows-1 > s.opts.resultWindow {
		badRequest(w, "start + rows must not exceed %d; narrow the time range", s.opts.resultWindow)
		return
	}
	now := s.now()
	hasTime := body.TimeRange != nil
	for k := range body.Criteria {
		if strings.HasSuffix(k, "_timestamp") {
			hasTime = true
		}
	}
	if !hasTime {
		body.TimeRange = map[string]any{"start": carbonblack.FormatTime(now.Add(-defaultAlertWindow)), "end": carbonblack.FormatTime(now)}
	}
	s.mu.Lock()
	all := slices.Clip(s.st.alerts)
	s.mu.Unlock()
	matched, ok := filterOrFail(&body, w, all, "backend_timestamp", now)
	if !ok {
		return
	}
	if len(body.Sort) == 0 {
		body.Sort = []carbonblack.SortField{{Field: "backend_timestamp", Order: "DESC"}}
	}
	sortRecords(matched, body.Sort)
	page := pageOf(matched, start-1, rows)
	writeJSON(w, http.StatusOK, map[string]any{"results": page, "num_found": len(matched), "num_available": min(len(matched), s.opts.resultWindow)})
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if pos, ok := s.st.ix.alertByID[id]; ok {
		s.st.ix.examined++
		writeJSON(w, http.StatusOK, s.st.alerts[pos])
		return
	}
	notFound(w, "Alert %s not found", id)
}

// pageOf returns rs[off:off+n] clipped, never nil.
func pageOf[R any](rs []R, off, n int) []R {
	if off >= len(rs) || n == 0 {
		return []R{}
	}
	return rs[off:min(len(rs), off+n)]
}
