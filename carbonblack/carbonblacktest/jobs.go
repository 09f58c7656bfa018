package carbonblacktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// job is a search or detail job.
type job struct {
	kind    string
	summary map[string]any
	// results are the stored records themselves, shared (never modified):
	// fields, when set, is applied as each page is served, so a job costs a
	// pointer per result rather than a copy.
	results   []*crec
	fields    []string
	numFound  int
	polls     int
	created   time.Time
	noData    bool
	contacted int
}

// contactedShards is the number of search shards a job reports.
const contactedShards = 46

// AddProcess stores a process for process searches; the device name, OS
// and policy are taken from the seeded device when left empty. When p.Raw is set (a
// record decoded from a real payload) it is stored as is; otherwise the
// typed fields are. process_sha256 is only returned when a job asks for it
// in fields, like the service.
func (s *Server) AddProcess(p carbonblack.Process) {
	var r record
	if len(p.Raw) > 0 {
		r = toRecord(p.Raw)
	} else {
		if p.ProcessGUID == "" {
			p.ProcessGUID = processGUID(s.opts.orgKey, int64(p.DeviceID), p.PID(), s.now())
		}
		if p.DeviceTimestamp.IsZero() {
			p.DeviceTimestamp.Time = s.now()
		}
		if p.BackendTimestamp.IsZero() {
			p.BackendTimestamp.Time = s.now()
		}
		if p.OrgID == "" {
			p.OrgID = s.opts.orgKey
		}
		if d, ok := s.Device(int64(p.DeviceID)); ok {
			if p.DeviceName == "" {
				p.DeviceName = d.Name
			}
			if p.DeviceOS == "" {
				p.DeviceOS = d.OS
			}
			if p.DevicePolicyID == 0 {
				p.DevicePolicyID = carbonblack.FlexInt(d.PolicyID)
			}
		}
		if h := p.SHA256(); h != "" && !slices.Contains(p.ProcessHash, h) {
			p.ProcessHash = append(p.ProcessHash, h)
		}
		r = toRecord(p)
		if p.SHA256() != "" {
			r["process_sha256"] = p.SHA256()
		}
	}
	s.mu.Lock()
	s.st.processes = append(s.st.processes, s.st.intern.compact(r))
	s.st.indexProcessLocked(len(s.st.processes) - 1)
	s.mu.Unlock()
}

// AddObservation stores an observation for observation searches (Raw is
// stored as is when set).
func (s *Server) AddObservation(o carbonblack.Observation) {
	var r record
	if len(o.Raw) > 0 {
		r = toRecord(o.Raw)
	} else {
		if o.ObservationID == "" {
			o.ObservationID = randomHex(16) + ":" + carbonblack.NewID()
		}
		if o.DeviceTimestamp.IsZero() {
			o.DeviceTimestamp.Time = s.now()
		}
		if o.BackendTimestamp.IsZero() {
			o.BackendTimestamp.Time = s.now()
		}
		r = toRecord(o)
	}
	s.mu.Lock()
	s.st.observations = append(s.st.observations, s.st.intern.compact(r))
	s.st.indexObservationLocked(len(s.st.observations) - 1)
	s.mu.Unlock()
}

// processGUID builds a GUID in Carbon Black's shape:
// <org>-<device hex8>-<pid hex8>-00000000-<start FILETIME hex>.
func processGUID(org string, device, pid int64, start time.Time) string {
	filetime := (start.UnixNano() / 100) + 116444736000000000
	return org + "-" + hex8(device) + "-" + hex8(pid) + "-00000000-" + strconv.FormatInt(filetime, 16)
}

func hex8(n int64) string {
	s := strconv.FormatInt(n, 16)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

func (s *Server) records(kind string) ([]*crec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	// The lists only grow and their records never change: a clipped view
	// is a snapshot.
	case "processes":
		return slices.Clip(s.st.processes), true
	case "observations":
		return slices.Clip(s.st.observations), true
	}
	return nil, false
}

func validation(q string) map[string]any {
	if _, err := parseQuery(q); err != nil {
		return map[string]any{"valid": false, "value_search_query": false, "invalid_message": err.Error(), "invalid_trigger_offset": 0}
	}
	return map[string]any{"valid": true, "value_search_query": false}
}

func (s *Server) validatePOST(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query string `json:"query"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	writeJSON(w, http.StatusOK, validation(body.Query))
}

func (s *Server) validateGET(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, validation(r.URL.Query().Get("q")))
}

func (s *Server) startJob(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.startJobOf(kind, w, r) }
}

func (s *Server) startJobOf(kind string, w http.ResponseWriter, r *http.Request) {
	all, ok := s.records(kind)
	if !ok {
		notFound(w, "No search jobs for %q", kind)
		return
	}
	var body searchBody
	if !decodeBody(w, r, &body) {
		return
	}
	start, rows, ok := pageParams(w, &body, 500, 0)
	if !ok {
		return
	}
	matched, ok := filterOrFail(&body, w, all, "device_timestamp", s.now())
	if !ok {
		return
	}
	sortRecords(matched, body.Sort)
	// The matches beyond the page are dropped (clipped, so the backing array goes too when small).
	kept := slices.Clip(pageOf(matched, start, rows))
	if len(kept) < cap(matched)/2 {
		kept = slices.Clone(kept)
	}
	s.addJob(w, &job{kind: kind, results: kept, fields: selectionOf(body.Fields), numFound: len(matched), created: s.now(),
		noData: len(all) == 0, contacted: contactedShards})
}

// selectionOf is the fields list a search job applies to its results: never
// nil, so that a job with one (every search job) is told from a detail job,
// which returns whole records.
func selectionOf(fields []string) []string {
	if len(fields) == 0 {
		return []string{"*"}
	}
	return slices.Clone(fields)
}

// selectFields applies a job's fields list: the default set ("*" or none)
// leaves out process_sha256, which the service only returns on request.
func selectFields(r *crec, fields []string, kind string) record {
	out := make(record, len(r.sh.keys))
	star := len(fields) == 0 || slices.Contains(fields, "*")
	for i, k := range r.sh.keys {
		if star && !(kind == "processes" && k == "process_sha256") || slices.Contains(fields, k) {
			out[k] = r.at(i)
		}
	}
	for _, k := range []string{"process_guid", "device_id"} {
		if v, ok := r.field(k); ok {
			out[k] = v
		}
	}
	return out
}

func (s *Server) startDetailJob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ProcessGUIDs []string `json:"process_guids"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if len(body.ProcessGUIDs) == 0 {
		badRequest(w, "process_guids must not be empty")
		return
	}
	s.mu.Lock()
	found := lookupLocked(&s.st, s.st.processes, s.st.ix.processByGUID, body.ProcessGUIDs...)
	s.mu.Unlock()
	s.addJob(w, &job{kind: "processes", results: found, numFound: len(found), created: s.now(), contacted: 1})
}

func (s *Server) startObservationDetailJob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AlertID        string              `json:"alert_id"`
		ObservationIDs []string            `json:"observation_ids"`
		ProcessHash    string              `json:"process_hash"`
		DeviceID       carbonblack.FlexInt `json:"device_id"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	n := 0
	for _, set := range []bool{body.AlertID != "", len(body.ObservationIDs) > 0, body.ProcessHash != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		badRequest(w, "exactly one of alert_id, observation_ids or process_hash is required")
		return
	}
	// The candidates come from the indexes; the test below is the one a scan of every observation would make.
	s.mu.Lock()
	var all []*crec
	switch {
	case body.AlertID != "":
		all = lookupLocked(&s.st, s.st.observations, s.st.ix.obsByAlert, body.AlertID)
	case len(body.ObservationIDs) > 0:
		all = lookupLocked(&s.st, s.st.observations, s.st.ix.obsByID, body.ObservationIDs...)
	default:
		all = lookupLocked(&s.st, s.st.observations, s.st.ix.obsByHash, strings.ToLower(body.ProcessHash))
	}
	s.mu.Unlock()
	var found []*crec
	for _, rec := range all {
		switch {
		case body.DeviceID != 0 && joined(rec, "device_id") != strconv.FormatInt(int64(body.DeviceID), 10):
		case body.AlertID != "" && slices.Contains(strs(get(rec, "alert_id")), body.AlertID),
			len(body.ObservationIDs) > 0 && slices.Contains(body.ObservationIDs, joined(rec, "observation_id")),
			body.ProcessHash != "" && slices.ContainsFunc(append(strs(get(rec, "process_hash")), strs(get(rec, "process_sha256"))...),
				func(h string) bool { return strings.EqualFold(h, body.ProcessHash) }):
			found = append(found, rec)
		}
	}
	s.addJob(w, &job{kind: "observations", results: found, numFound: len(found), created: s.now(), contacted: 1})
}

// addJob stores a job and answers its id.
func (s *Server) addJob(w http.ResponseWriter, j *job) {
	id := carbonblack.NewID()
	s.mu.Lock()
	s.st.jobs[id] = j
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"job_id": id})
}

func (s *Server) jobResults(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.jobResultsOf(kind, w, r) }
}

func (s *Server) jobResultsOf(kind string, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	start, err1 := strconv.Atoi(defaultString(q.Get("start"), "0"))
	rows, err2 := strconv.Atoi(defaultString(q.Get("rows"), "10"))
	if err1 != nil || err2 != nil || start < 0 || rows < 0 || rows > 10_000 {
		badRequest(w, "start and rows must be non-negative integers (rows at most 10000)")
		return
	}
	s.mu.Lock()
	j, ok := s.st.jobs[id]
	if ok && s.now().Sub(j.created) > s.opts.jobTTL {
		delete(s.st.jobs, id)
		ok = false
	}
	if !ok || j.kind != kind {
		s.mu.Unlock()
		notFound(w, "Search job %s not found", id)
		return
	}
	j.polls++
	done := j.polls > s.opts.jobPolls
	resp := map[string]any{"num_found": 0, "num_available": 0, "contacted": j.contacted, "completed": 0, "results": []record{}}
	switch {
	case j.noData:
		resp["contacted"] = 0
		resp["message"] = "No data available, verify your endpoint communications or try again later"
	case done:
		resp["completed"] = j.contacted
		resp["num_found"] = j.numFound
		resp["num_available"] = len(j.results)
		page := pageOf(j.results, start, rows)
		selected := make([]record, len(page))
		for i, rec := range page {
			if j.fields != nil {
				selected[i] = selectFields(rec, j.fields, j.kind)
			} else {
				selected[i] = rec.record()
			}
		}
		resp["results"] = selected
	default:
		resp["completed"] = j.contacted * j.polls / (s.opts.jobPolls + 1)
	}
	if j.kind == "observations" {
		resp["approximate_unaggregated"] = resp["num_found"]
		resp["num_aggregated"] = resp["num_available"]
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) startSummaryJob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ProcessGUID string `json:"process_guid"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.ProcessGUID == "" {
		badRequest(w, "process_guid is required")
		return
	}
	guid := func(rec *crec) string { return joined(rec, "process_guid") }
	parentOf := func(rec *crec) string { return joined(rec, "parent_guid") }
	summary := map[string]any{"process": nil, "parent": nil, "siblings": []record{}, "children": []record{}}
	var proc *crec
	s.mu.Lock()
	if same := lookupLocked(&s.st, s.st.processes, s.st.ix.processByGUID, body.ProcessGUID); len(same) > 0 {
		proc = same[len(same)-1]
	}
	// Every record the loop below can pick is the parent, a sibling or a child: the indexes give them, in stored order.
	var all []*crec
	if proc != nil {
		all = s.st.recordsAtLocked(s.st.processes, slices.Concat(s.st.ix.processByGUID.positions(parentOf(proc)),
			s.st.ix.processByParent.positions(parentOf(proc), body.ProcessGUID)))
	}
	s.mu.Unlock()
	if proc != nil {
		summary["process"] = proc
		var siblings, children []*crec
		for _, rec := range all {
			switch {
			case guid(rec) == parentOf(proc) && parentOf(proc) != "":
				summary["parent"] = rec
			case guid(rec) != body.ProcessGUID && parentOf(rec) == parentOf(proc) && parentOf(proc) != "":
				siblings = append(siblings, rec)
			case parentOf(rec) == body.ProcessGUID:
				children = append(children, rec)
			}
		}
		if siblings != nil {
			summary["siblings"] = siblings
		}
		if children != nil {
			summary["children"] = children
		}
	}
	s.addJob(w, &job{kind: "summary", summary: summary, created: s.now(), contacted: contactedShards})
}

func (s *Server) summaryResults(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.st.jobs[id]
	if !ok || j.kind != "summary" || s.now().Sub(j.created) > s.opts.jobTTL {
		notFound(w, "Summary job %s not found", id)
		return
	}
	j.polls++
	resp := map[string]any{"exception": nil, "contacted": j.contacted, "completed": 0,
		"summary": map[string]any{"process": nil, "parent": nil, "siblings": nil, "children": nil}}
	if j.polls > s.opts.jobPolls {
		resp["completed"] = j.contacted
		resp["summary"] = j.summary
	}
	writeJSON(w, http.StatusOK, resp)
}
