package carbonblacktest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// watchlist is a stored watchlist.
type watchlist struct {
	id, name, description      string
	tagsEnabled, alertsEnabled bool
	created, updated           int64
	reportIDs                  []string
	classifier                 *carbonblack.Classifier
}

// wire is the watchlist as the service answers it, to be encoded before the
// fake's lock is released: it shares the list of report ids (up to
// thousands) rather than copying it for each answer.
func (w *watchlist) wire() map[string]any {
	m := map[string]any{"name": w.name, "description": w.description, "id": w.id, "tags_enabled": w.tagsEnabled,
		"alerts_enabled": w.alertsEnabled, "create_timestamp": w.created, "last_update_timestamp": w.updated,
		"report_ids": nil, "classifier": nil}
	switch {
	case w.classifier != nil:
		m["classifier"] = w.classifier
	case w.reportIDs == nil:
		m["report_ids"] = []string{}
	default:
		m["report_ids"] = w.reportIDs
	}
	return m
}

// reportWire is a report as the service sends it: absent optional fields
// are null.
type reportWire struct {
	ID          string            `json:"id"`
	Timestamp   int64             `json:"timestamp"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Severity    int               `json:"severity"`
	Link        *string           `json:"link"`
	Tags        []string          `json:"tags"`
	IOCs        any               `json:"iocs"`
	IOCsV2      []carbonblack.IOC `json:"iocs_v2"`
	Visibility  *string           `json:"visibility"`
}

// reportIn is a report as a client sends it.
type reportIn struct {
	ID          *string           `json:"id"`
	Timestamp   *int64            `json:"timestamp"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Severity    *int              `json:"severity"`
	Link        *string           `json:"link"`
	Tags        []string          `json:"tags"`
	IOCsV2      []carbonblack.IOC `json:"iocs_v2"`
	Visibility  *string           `json:"visibility"`
}

// check validates a report like the service: title, description, severity
// 1-10, a positive timestamp, IOCs with ids and values, one value and no
// field for query IOCs.
func (in *reportIn) check(needID bool) (*reportWire, error) {
	switch {
	case needID && (in.ID == nil || *in.ID == ""):
		return nil, fmt.Errorf("report id is required")
	case strings.TrimSpace(in.Title) == "":
		return nil, fmt.Errorf("report title is required")
	case strings.TrimSpace(in.Description) == "":
		return nil, fmt.Errorf("report description is required")
	case in.Severity == nil || *in.Severity < 1 || *in.Severity > 10:
		return nil, fmt.Errorf("report severity must be between 1 and 10")
	case in.Timestamp == nil || *in.Timestamp <= 0:
		return nil, fmt.Errorf("report timestamp must be a positive epoch time in seconds")
	case len(in.IOCsV2) == 0:
		return nil, fmt.Errorf("report iocs_v2 must not be empty")
	}
	if in.Link != nil && *in.Link != "" {
		if u, err := url.Parse(*in.Link); err != nil || (u.Host == "" && !strings.Contains(*in.Link, ".")) {
			return nil, fmt.Errorf("report link must be a URL or domain")
		}
	}
	for _, ioc := range in.IOCsV2 {
		if err := ioc.Validate(); err != nil {
			return nil, err
		}
	}
	out := &reportWire{Timestamp: *in.Timestamp, Title: in.Title, Description: in.Description, Severity: *in.Severity,
		Link: in.Link, Tags: in.Tags, IOCsV2: in.IOCsV2, Visibility: in.Visibility}
	if in.ID != nil {
		out.ID = *in.ID
	}
	return out, nil
}

func (r *reportWire) typed() carbonblack.Report {
	out := carbonblack.Report{ID: r.ID, Timestamp: r.Timestamp, Title: r.Title, Description: r.Description, Severity: r.Severity,
		Tags: slices.Clone(r.Tags), IOCsV2: slices.Clone(r.IOCsV2)}
	for i := range out.IOCsV2 {
		out.IOCsV2[i].Values = slices.Clone(out.IOCsV2[i].Values)
	}
	if r.Link != nil {
		out.Link = *r.Link
	}
	if r.Visibility != nil {
		out.Visibility = *r.Visibility
	}
	return out
}

// Watchlists returns the stored watchlists, in creation order.
func (s *Server) Watchlists() []carbonblack.Watchlist {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []carbonblack.Watchlist
	for _, id := range s.st.watchlistOrder {
		w := s.st.watchlists[id]
		out = append(out, carbonblack.Watchlist{ID: w.id, Name: w.name, Description: w.description, TagsEnabled: w.tagsEnabled,
			AlertsEnabled: w.alertsEnabled, CreateTimestamp: w.created, LastUpdateTimestamp: w.updated,
			ReportIDs: slices.Clone(w.reportIDs), Classifier: w.classifier})
	}
	return out
}

// Reports returns the watchlist reports created, in creation order.
func (s *Server) Reports() []carbonblack.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []carbonblack.Report
	for _, sr := range s.st.reportOrder {
		out = append(out, sr.wire(&s.st.reportTables).typed())
	}
	return out
}

// Feed returns a feed and its reports.
func (s *Server) Feed(id string) (carbonblack.Feed, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.st.feeds[id]
	if !ok {
		return carbonblack.Feed{}, false
	}
	out := carbonblack.Feed{FeedInfo: f.info}
	for _, r := range f.reports {
		out.Reports = append(out.Reports, r.typed())
	}
	return out, true
}

// AddPublicFeed stores one of Carbon Black's public feeds, listed only with
// include_public=true.
func (s *Server) AddPublicFeed(info carbonblack.FeedInfo, reports ...carbonblack.Report) carbonblack.FeedInfo {
	info.ID, info.Access, info.Owner = randomID(22), "public", "cb"
	f := &feed{info: info}
	for _, r := range reports {
		f.reports = append(f.reports, reportFromTyped(r))
	}
	s.mu.Lock()
	s.st.feeds[info.ID] = f
	s.st.feedOrder = append(s.st.feedOrder, info.ID)
	s.mu.Unlock()
	return info
}

func reportFromTyped(r carbonblack.Report) *reportWire {
	w := &reportWire{ID: r.ID, Timestamp: r.Timestamp, Title: r.Title, Description: r.Description, Severity: r.Severity, Tags: r.Tags, IOCsV2: r.IOCsV2}
	if r.ID == "" {
		w.ID = carbonblack.NewID()
	}
	if r.Link != "" {
		w.Link = &r.Link
	}
	if r.Visibility != "" {
		w.Visibility = &r.Visibility
	}
	return w
}

func (s *Server) listWatchlists(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range s.st.watchlistOrder {
		out = append(out, s.st.watchlists[id].wire())
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

type watchlistIn struct {
	Name          *string                 `json:"name"`
	Description   *string                 `json:"description"`
	TagsEnabled   *bool                   `json:"tags_enabled"`
	AlertsEnabled *bool                   `json:"alerts_enabled"`
	ReportIDs     []string                `json:"report_ids"`
	Classifier    *carbonblack.Classifier `json:"classifier"`
}

func (s *Server) createWatchlist(w http.ResponseWriter, r *http.Request) {
	var in watchlistIn
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		badRequest(w, "watchlist name is required")
		return
	}
	if in.Classifier != nil && in.ReportIDs != nil {
		badRequest(w, "request must specify report or classifier but not both")
		return
	}
	if in.Classifier == nil && in.ReportIDs == nil {
		badRequest(w, "request must specify report or classifier")
		return
	}
	now := s.now().Unix()
	wl := &watchlist{id: randomID(20), name: *in.Name, created: now, updated: now, classifier: in.Classifier, reportIDs: in.ReportIDs,
		tagsEnabled: deref(in.TagsEnabled, true), alertsEnabled: deref(in.AlertsEnabled, false)}
	if in.Description != nil {
		wl.description = *in.Description
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Classifier != nil {
		if _, ok := s.st.feeds[in.Classifier.Value]; in.Classifier.Key != "feed_id" || !ok {
			badRequest(w, "classifier must be {key: feed_id, value: <existing feed id>}")
			return
		}
	}
	s.st.watchlists[wl.id] = wl
	s.st.watchlistOrder = append(s.st.watchlistOrder, wl.id)
	writeJSON(w, http.StatusOK, wl.wire())
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func (s *Server) getWatchlist(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wl, ok := s.st.watchlists[r.PathValue("id")]
	if !ok {
		notFound(w, "Watchlist %s not found", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, wl.wire())
}

// updateWatchlist replaces the fields the body carries; absent or null
// fields are left unchanged.
func (s *Server) updateWatchlist(w http.ResponseWriter, r *http.Request) {
	var in watchlistIn
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wl, ok := s.st.watchlists[r.PathValue("id")]
	if !ok {
		notFound(w, "Watchlist %s not found", r.PathValue("id"))
		return
	}
	if in.Classifier != nil && in.ReportIDs != nil {
		badRequest(w, "request must specify report or classifier but not both")
		return
	}
	if in.ReportIDs != nil && wl.classifier == nil && len(in.ReportIDs) == 0 {
		badRequest(w, "report_ids must not be empty for a report watchlist")
		return
	}
	if in.Name != nil {
		wl.name = *in.Name
	}
	if in.Description != nil {
		wl.description = *in.Description
	}
	wl.tagsEnabled = deref(in.TagsEnabled, wl.tagsEnabled)
	wl.alertsEnabled = deref(in.AlertsEnabled, wl.alertsEnabled)
	if in.ReportIDs != nil {
		wl.reportIDs, wl.classifier = slices.Clone(in.ReportIDs), nil
	}
	if in.Classifier != nil {
		wl.classifier, wl.reportIDs = in.Classifier, nil
	}
	wl.updated = s.now().Unix()
	writeJSON(w, http.StatusOK, wl.wire())
}

func (s *Server) deleteWatchlist(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !deleteOrdered(s.st.watchlists, &s.st.watchlistOrder, id) {
		notFound(w, "Watchlist %s not found", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) watchlistAlert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wl, ok := s.st.watchlists[r.PathValue("id")]
	if !ok {
		notFound(w, "Watchlist %s not found", r.PathValue("id"))
		return
	}
	switch r.Method {
	case http.MethodPut:
		wl.alertsEnabled = true
	case http.MethodDelete:
		wl.alertsEnabled = false
	}
	writeJSON(w, http.StatusOK, map[string]bool{"alert": wl.alertsEnabled})
}

func (s *Server) createReport(w http.ResponseWriter, r *http.Request) {
	rep, ok := readReport(w, r, "")
	if !ok {
		return
	}
	if rep.ID == "" {
		rep.ID = carbonblack.NewID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.putReportLocked(rep)
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr, ok := s.st.reportLocked(r.PathValue("id"))
	if !ok {
		notFound(w, "Report %s not found", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, sr.wire(&s.st.reportTables))
}

func (s *Server) updateReport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rep, ok := readReport(w, r, id)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.reportLocked(id); !ok {
		notFound(w, "Report %s not found", id)
		return
	}
	s.st.putReportLocked(rep)
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) deleteReport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	sr, ok := s.st.reportLocked(id)
	if !ok {
		notFound(w, "Report %s not found", id)
		return
	}
	s.st.deleteReportLocked(sr)
	w.WriteHeader(http.StatusNoContent)
}

// reportKnown accepts watchlist report ids and "<feed id>-<report id>".
func (s *Server) reportKnown(id string) bool {
	if _, ok := s.st.reportLocked(id); ok {
		return true
	}
	for fid, f := range s.st.feeds {
		if rid, ok := strings.CutPrefix(id, fid+"-"); ok {
			for _, r := range f.reports {
				if r.ID == rid {
					return true
				}
			}
		}
	}
	return false
}

func (s *Server) reportIgnore(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.reportKnown(id) {
		notFound(w, "Report %s not found", id)
		return
	}
	switch r.Method {
	case http.MethodPut:
		s.st.ignored[id] = true
	case http.MethodDelete:
		delete(s.st.ignored, id)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ignored": s.st.ignored[id]})
}

// Feeds.

type feed struct {
	info    carbonblack.FeedInfo
	reports []*reportWire
}

func (f *feed) infoWire() map[string]any {
	m := map[string]any{"name": f.info.Name, "owner": f.info.Owner, "provider_url": f.info.ProviderURL, "summary": f.info.Summary,
		"category": f.info.Category, "source_label": f.info.SourceLabel, "access": f.info.Access, "id": f.info.ID}
	return m
}

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	public := r.URL.Query().Get("include_public") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range s.st.feedOrder {
		f := s.st.feeds[id]
		if f.info.Access == "public" && !public {
			continue
		}
		out = append(out, f.infoWire())
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func checkReports(in []reportIn) ([]*reportWire, error) {
	out := make([]*reportWire, 0, len(in))
	seen := map[string]bool{}
	for i := range in {
		rep, err := in[i].check(true)
		if err != nil {
			return nil, fmt.Errorf("reports[%d]: %w", i, err)
		}
		if seen[rep.ID] {
			return nil, fmt.Errorf("reports[%d]: duplicate report id %s", i, rep.ID)
		}
		seen[rep.ID] = true
		out = append(out, rep)
	}
	return out, nil
}

func (s *Server) createFeed(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FeedInfo *carbonblack.FeedInfo `json:"feedinfo"`
		Reports  []reportIn            `json:"reports"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	fi := in.FeedInfo
	if fi == nil || fi.Name == "" || fi.Summary == "" || fi.Category == "" {
		badRequest(w, "feedinfo needs name, provider_url, summary and category")
		return
	}
	if u, err := url.Parse(fi.ProviderURL); err != nil || u.Scheme == "" || u.Host == "" {
		badRequest(w, "feedinfo.provider_url must be a URL")
		return
	}
	reports, err := checkReports(in.Reports)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	info := *fi
	info.ID, info.Owner = randomID(22), s.opts.orgKey
	if info.Access == "" {
		info.Access = "private"
	}
	f := &feed{info: info, reports: reports}
	s.mu.Lock()
	s.st.feeds[info.ID] = f
	s.st.feedOrder = append(s.st.feedOrder, info.ID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f.infoWire())
}

func (s *Server) withFeed(w http.ResponseWriter, r *http.Request, fn func(f *feed)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.st.feeds[r.PathValue("id")]
	if !ok {
		notFound(w, "Feed %s not found", r.PathValue("id"))
		return
	}
	fn(f)
}

func (s *Server) getFeed(w http.ResponseWriter, r *http.Request) {
	s.withFeed(w, r, func(f *feed) {
		writeJSON(w, http.StatusOK, map[string]any{"feedinfo": f.infoWire(), "reports": nonNil(f.reports)})
	})
}

func nonNil(rs []*reportWire) []*reportWire {
	if rs == nil {
		return []*reportWire{}
	}
	return rs
}

func (s *Server) deleteFeed(w http.ResponseWriter, r *http.Request) {
	s.withFeed(w, r, func(f *feed) {
		deleteOrdered(s.st.feeds, &s.st.feedOrder, f.info.ID)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) updateFeedInfo(w http.ResponseWriter, r *http.Request) {
	var in carbonblack.FeedInfo
	if !decodeBody(w, r, &in) {
		return
	}
	s.withFeed(w, r, func(f *feed) {
		id, owner, access := f.info.ID, f.info.Owner, f.info.Access
		f.info = in
		f.info.ID, f.info.Owner = id, owner
		if f.info.Access == "" {
			f.info.Access = access
		}
		writeJSON(w, http.StatusOK, f.infoWire())
	})
}

func (s *Server) feedReports(w http.ResponseWriter, r *http.Request) {
	s.withFeed(w, r, func(f *feed) { writeJSON(w, http.StatusOK, map[string]any{"results": nonNil(f.reports)}) })
}

func (s *Server) replaceFeedReports(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reports []reportIn `json:"reports"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	reports, err := checkReports(in.Reports)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	s.withFeed(w, r, func(f *feed) {
		f.reports = reports
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
}

func (s *Server) updateFeedReport(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	rep, ok := readReport(w, r, rid)
	if !ok {
		return
	}
	s.withFeed(w, r, func(f *feed) {
		for i, old := range f.reports {
			if old.ID == rid {
				f.reports[i] = rep
				writeJSON(w, http.StatusOK, rep)
				return
			}
		}
		notFound(w, "Report %s not found in feed %s", rid, f.info.ID)
	})
}

func (s *Server) deleteFeedReport(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	s.withFeed(w, r, func(f *feed) {
		n := len(f.reports)
		f.reports = slices.DeleteFunc(f.reports, func(x *reportWire) bool { return x.ID == rid })
		if len(f.reports) == n {
			notFound(w, "Report %s not found in feed %s", rid, f.info.ID)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// deleteOrdered removes id from a map and its insertion order; false means
// there was no such id.
func deleteOrdered[V any](m map[string]V, order *[]string, id string) bool {
	if _, ok := m[id]; !ok {
		return false
	}
	delete(m, id)
	*order = slices.DeleteFunc(*order, func(x string) bool { return x == id })
	return true
}

// readReport decodes and validates a report body, answering 400 when it is
// invalid. A non-empty id (from the path of an update) replaces the body's id
// and makes it required.
func readReport(w http.ResponseWriter, r *http.Request, id string) (*reportWire, bool) {
	var in reportIn
	if !decodeBody(w, r, &in) {
		return nil, false
	}
	if id != "" {
		in.ID = &id
	}
	rep, err := in.check(id != "")
	if err != nil {
		badRequest(w, "%v", err)
		return nil, false
	}
	return rep, true
}
