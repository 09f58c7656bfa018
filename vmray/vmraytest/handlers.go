package vmraytest

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/vmray"
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /rest/system_info", s.handle(s.systemInfo))
	m.HandleFunc("GET /rest/download_password", s.handle(func(w http.ResponseWriter, _ *http.Request, _ *keyRec) {
		ok(w, s.cfg.downloadPW)
	}))
	m.HandleFunc("GET /rest/api_key/quota", s.handle(func(w http.ResponseWriter, _ *http.Request, k *keyRec) {
		ok(w, vmray.APIKeyQuota{QuotaLimit: k.QuotaLimit, UsedQuota: k.used})
	}))
	m.HandleFunc("GET /rest/billing_info", s.handle(s.billingInfo))
	m.HandleFunc("POST /rest/sample/submit", s.handleSubmit)
	m.HandleFunc("GET /rest/sample/{id}", s.handle(s.getSample))
	m.HandleFunc("GET /rest/sample/{a}/{rest...}", s.handle(s.sampleSub))
	m.HandleFunc("POST /rest/sample/{id}/unlock_reports", s.handle(s.unlockReports))
	m.HandleFunc("GET /rest/sample_relation/sample/{id}", s.handle(s.sampleRelations))
	m.HandleFunc("GET /rest/submission", s.handle(s.listSubmissions))
	m.HandleFunc("GET /rest/submission/{id}", s.handle(s.getSubmission))
	m.HandleFunc("GET /rest/submission/sample/{id}", s.handle(s.listSubmissions))
	m.HandleFunc("GET /rest/job/{id}", s.handle(s.getJob))
	m.HandleFunc("GET /rest/job/submission/{id}", s.handle(s.listJobs))
	m.HandleFunc("GET /rest/job/sample/{id}", s.handle(s.listJobs))
	m.HandleFunc("GET /rest/analysis", s.handle(s.listAnalyses))
	m.HandleFunc("GET /rest/analysis/{id}", s.handle(s.getAnalysis))
	m.HandleFunc("GET /rest/analysis/submission/{id}", s.handle(s.listAnalyses))
	m.HandleFunc("GET /rest/analysis/sample/{id}", s.handle(s.listAnalyses))
	m.HandleFunc("GET /rest/continuation/{id}", s.handle(s.continuation))
	m.HandleFunc("/", s.handle(func(w http.ResponseWriter, _ *http.Request, _ *keyRec) { notFound(w) }))
}

func (s *Server) systemInfo(w http.ResponseWriter, _ *http.Request, _ *keyRec) {
	ok(w, vmray.SystemInfo{
		Version: "2026.2.1", VersionMajor: 2026, VersionMinor: 2, VersionRevision: 1,
		APIItemsPerRequest: s.cfg.pageSize, MaxAPIItems: 10000, WebifAlias: "fake", WebifBaseURL: s.URL(),
		WebifMaxSampleSize: 4 << 30, WebifMaxUploadSize: 4 << 30,
	})
}

func (s *Server) billingInfo(w http.ResponseWriter, _ *http.Request, k *keyRec) {
	var verdictUsed, reportUsed int
	for _, key := range s.st.keys {
		if key.BillingType == vmray.BillingDetector {
			verdictUsed += key.used
		} else {
			reportUsed += key.used
		}
	}
	const quota = 10000
	today := s.now()
	ok(w, vmray.BillingInfo{
		BillingPeriod: "monthly", DetectorQuota: quota, DetectorRemaining: quota - verdictUsed,
		EndDate: today.AddDate(1, 0, 0).Format("2006-01-02"), ProductPlanName: "Fake Platform",
		Quota: 2 * quota, Remaining: 2*quota - verdictUsed - reportUsed, ReportQuota: quota,
		ReportRemaining: quota - reportUsed, TodayDate: today.Format("2006-01-02"), UserEmail: "analyst@example.com",
		VerdictQuota: quota, VerdictRemaining: quota - verdictUsed,
	})
}

// sampleByPath finds the sample named by the {id} or {a} path value.
func (s *Server) sampleByPath(w http.ResponseWriter, r *http.Request, name string) (*sampleRec, bool) {
	id, good := pathID(w, r, name)
	if !good {
		return nil, false
	}
	smp := s.st.samples.get(id)
	if smp == nil {
		notFound(w)
		return nil, false
	}
	return smp, true
}

func (s *Server) getSample(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	if smp, good := s.sampleByPath(w, r, "id"); good {
		ok(w, s.sampleView(smp))
	}
}

// sampleSub dispatches /rest/sample/{a}/{rest...}: hash lookups and the
// per-sample resources.
func (s *Server) sampleSub(w http.ResponseWriter, r *http.Request, key *keyRec) {
	a, rest := r.PathValue("a"), r.PathValue("rest")
	switch a {
	case "md5", "sha1", "sha256":
		s.lookup(w, a, rest)
		return
	}
	smp, good := s.sampleByPath(w, r, "a")
	if !good {
		return
	}
	switch sub, tail, _ := strings.Cut(rest, "/"); {
	case sub == "vtis" && tail == "", sub == "threat_indicators" && tail == "":
		s.vtis(w, smp)
	case sub == "iocs":
		s.iocs(w, r, smp, tail)
	case sub == "threat_names" && tail == "":
		s.threatNames(w, smp)
	case sub == "classifications" && tail == "":
		s.classifications(w, smp)
	case sub == "mitre_attack" && tail == "":
		s.mitre(w, smp)
	case sub == "file" && tail == "":
		s.file(w, r, smp)
	case sub == "report" && tail == "":
		s.report(w, smp, key)
	default:
		notFound(w)
	}
}

func (s *Server) lookup(w http.ResponseWriter, kind, hash string) {
	hash = strings.ToLower(hash)
	want := map[string]int{"md5": 32, "sha1": 40, "sha256": 64}[kind]
	if len(hash) != want || !isHex(hash) {
		fail(w, http.StatusBadRequest, "Invalid "+kind+" hash")
		return
	}
	out := []vmray.Sample{}
	h, _ := parseHash(hash)
	for _, smp := range s.st.samplesWith(h) {
		out = append(out, s.sampleView(smp))
	}
	ok(w, out)
}

func (s *Server) sampleRelations(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	smp, good := s.sampleByPath(w, r, "id")
	if !good {
		return
	}
	var rels []vmray.SampleRelation
	for i, cid := range smp.children() {
		c := s.st.samples.get(cid)
		md5h, sha1h, sha256h := c.hashes()
		rels = append(rels, vmray.SampleRelation{
			ID: smp.id*100 + int64(i), Created: unixTime(c.created), Relation: "Dropped File", SampleID: c.id,
			SampleMD5: md5h, SampleSHA1: sha1h, SampleSHA256: sha256h,
		})
	}
	list(s, w, r, rels, func(x *vmray.SampleRelation) int64 { return x.ID })
}

func (s *Server) report(w http.ResponseWriter, smp *sampleRec, key *keyRec) {
	if key.BillingType == vmray.BillingDetector {
		for _, id := range smp.subs {
			if s.st.submissions.get(id).locked != 0 {
				fail(w, http.StatusForbidden, "The report of this sample is locked. Unlock it to access the report.")
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/pdf")
	var verdict vmray.Verdict
	if smp.shown != nil {
		verdict = smp.shown.verdict()
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n% VMRay report for sample " + strconv.FormatInt(smp.id, 10) + " (" + hex.EncodeToString(smp.sha256[:]) + ")\n")
	b.WriteString("% verdict " + string(verdict) + "\n%%EOF\n")
	_, _ = w.Write(b.Bytes())
}

func (s *Server) unlockReports(w http.ResponseWriter, r *http.Request, key *keyRec) {
	smp, good := s.sampleByPath(w, r, "id")
	if !good {
		return
	}
	ids := []int64{}
	for _, id := range smp.subs {
		sub := s.st.submissions.get(id)
		for i := range int64(sub.jobs) {
			if sub.locked&(1<<i) != 0 {
				ids = append(ids, sub.firstAnalysis+i)
			}
		}
		sub.locked = 0
	}
	slices.Sort(ids)
	if len(ids) > 0 {
		s.st.unlocks = append(s.st.unlocks, Unlock{SampleID: smp.id, AnalysisIDs: ids, Key: key.Key, At: s.cfg.clock.Now()})
	}
	ok(w, vmray.UnlockResult{UnlockedAnalysisIDs: ids})
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, smp *sampleRec) {
	if !smp.stored {
		fail(w, http.StatusNotFound, "Sample file is not available")
		return
	}
	pw := r.URL.Query().Get("encryption_password")
	if pw == "" {
		pw = s.cfg.downloadPW
	}
	var b bytes.Buffer
	name := hex.EncodeToString(smp.sha256[:])
	if err := writeEncryptedZip(&b, name, smp.content, pw, time.Unix(smp.created, 0).UTC()); err != nil {
		fail(w, http.StatusInternalServerError, "Could not create archive")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

func (s *Server) getSubmission(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	id, good := pathID(w, r, "id")
	if !good {
		return
	}
	sub := s.st.submissions.get(id)
	if sub == nil {
		notFound(w)
		return
	}
	if sub.run != nil {
		sub.run.polls++
	}
	s.advance()
	ok(w, s.submissionView(sub))
}

// listSubmissions serves /rest/submission (with field filters) and
// /rest/submission/sample/{id}. With _last_id it is VMRay's feed: finished
// submissions only.
func (s *Server) listSubmissions(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	q := r.URL.Query()
	sampleFilter, parentFilter := r.PathValue("id"), q.Get("submission_parent_submission_id")
	if sampleFilter == "" {
		sampleFilter = q.Get("submission_sample_id")
	}
	feed := q.Get("_last_id") != ""
	subs := s.submissionsOf(sampleFilter)
	var out []vmray.Submission
	for sub := range subs {
		if feed && sub.run != nil {
			continue
		}
		if sampleFilter != "" && strconv.FormatInt(sub.sampleID, 10) != sampleFilter {
			continue
		}
		if parentFilter != "" && (sub.parent == 0 || strconv.FormatInt(sub.parent, 10) != parentFilter) {
			continue
		}
		out = append(out, s.submissionView(sub))
	}
	list(s, w, r, out, func(x *vmray.Submission) int64 { return x.ID })
}

// submissionsOf yields, in id order, the submissions of the sample named by sampleFilter (from the index), or every
// submission when the filter is empty or not a number.
func (s *Server) submissionsOf(sampleFilter string) iter.Seq[*submissionRec] {
	return func(yield func(*submissionRec) bool) {
		if id, err := strconv.ParseInt(sampleFilter, 10, 64); err == nil && strconv.FormatInt(id, 10) == sampleFilter {
			if smp := s.st.samples.get(id); smp != nil {
				for _, id := range smp.subs {
					if !yield(s.st.submissions.get(id)) {
						return
					}
				}
			}
			return
		}
		for _, sub := range s.st.submissions.list {
			if !yield(sub) {
				return
			}
		}
	}
}

// analysisRef names analysis i of a finished submission.
type analysisRef struct {
	sub *submissionRec
	i   int
}

// analysesOf returns, in id order, the analyses of the submission or sample named by the filters (from the
// indexes), or every analysis.
func (s *Server) analysesOf(sampleFilter, subFilter string) []analysisRef {
	var out []analysisRef
	addAll := func(sub *submissionRec) {
		if sub != nil && sub.run == nil {
			for i := range int(sub.jobs) {
				out = append(out, analysisRef{sub, i})
			}
		}
	}
	if id, err := strconv.ParseInt(subFilter, 10, 64); err == nil && strconv.FormatInt(id, 10) == subFilter {
		addAll(s.st.submissions.get(id))
		return out
	}
	if id, err := strconv.ParseInt(sampleFilter, 10, 64); err == nil && strconv.FormatInt(id, 10) == sampleFilter {
		if smp := s.st.samples.get(id); smp != nil {
			for _, id := range smp.subs {
				addAll(s.st.submissions.get(id))
			}
		}
		slices.SortFunc(out, func(a, b analysisRef) int {
			return cmp.Compare(a.sub.firstAnalysis+int64(a.i), b.sub.firstAnalysis+int64(b.i))
		})
		return out
	}
	for _, id := range s.st.finished {
		addAll(s.st.submissions.get(id))
	}
	return out
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	id, good := pathID(w, r, "id")
	if !good {
		return
	}
	if subID, found := s.st.jobs[id]; found {
		sub := s.st.submissions.get(subID)
		ok(w, s.jobView(sub, int(id-sub.firstJob)))
		return
	}
	notFound(w)
}

// listJobs serves the jobs of a submission or sample: the unfinished submissions' (a finished submission's jobs
// became its analyses).
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	bySubmission := strings.HasPrefix(r.URL.Path, "/rest/job/submission/")
	var out []vmray.Job
	for _, id := range sortedIDs(s.st.jobs) {
		sub := s.st.submissions.get(s.st.jobs[id])
		match := strconv.FormatInt(sub.sampleID, 10)
		if bySubmission {
			match = strconv.FormatInt(sub.id, 10)
		}
		if match == r.PathValue("id") {
			out = append(out, s.jobView(sub, int(id-sub.firstJob)))
		}
	}
	list(s, w, r, out, func(x *vmray.Job) int64 { return x.ID })
}

func (s *Server) getAnalysis(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	id, good := pathID(w, r, "id")
	if !good {
		return
	}
	if sub, i, found := s.st.analysis(id); found {
		ok(w, s.analysisView(sub, i))
		return
	}
	notFound(w)
}

// listAnalyses serves /rest/analysis (with field filters) and the by-sample
// and by-submission paths.
func (s *Server) listAnalyses(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	q := r.URL.Query()
	sampleFilter, subFilter := q.Get("analysis_sample_id"), q.Get("analysis_submission_id")
	switch {
	case strings.HasPrefix(r.URL.Path, "/rest/analysis/sample/"):
		sampleFilter = r.PathValue("id")
	case strings.HasPrefix(r.URL.Path, "/rest/analysis/submission/"):
		subFilter = r.PathValue("id")
	}
	var out []vmray.Analysis
	for _, a := range s.analysesOf(sampleFilter, subFilter) {
		if sampleFilter != "" && strconv.FormatInt(a.sub.sampleID, 10) != sampleFilter {
			continue
		}
		if subFilter != "" && strconv.FormatInt(a.sub.id, 10) != subFilter {
			continue
		}
		out = append(out, s.analysisView(a.sub, a.i))
	}
	list(s, w, r, out, func(x *vmray.Analysis) int64 { return x.ID })
}

// writeEncryptedZip writes a ZIP archive holding one deflated entry named
// name, encrypted with ZipCrypto under password, as VMRay serves samples.
func writeEncryptedZip(w io.Writer, name string, content []byte, password string, modified time.Time) error {
	zw := zipx.NewWriter(w)
	fw, err := zw.Create(name, zipx.WriteOptions{Method: zipx.MethodDeflate, Encryption: zipx.EncryptionZipCrypto, Password: password, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := fw.Write(content); err != nil {
		return err
	}
	return zw.Close()
}
