package vmraytest

import (
	"fmt"
	"slices"
	"time"

	"github.com/soarkit/soarkit/vmray"
)

// submitParams are the parsed submit parameters the fake acts on.
type submitParams struct {
	filename      string
	url           string
	comment       string
	tags          []string
	shareable     bool
	maxJobs       int
	maxRec        int
	analyzerMode  vmray.AnalyzerMode
	caching       vmray.AnalysisCaching
	archiveAction vmray.ArchiveAction
	userConfig    string
	sampleType    string
}

func (s *Server) now() time.Time { return s.cfg.clock.Now().UTC().Truncate(time.Second) }

func (s *Server) webif(kind string, id int64) string {
	return fmt.Sprintf("%s/%s/%d", s.URL(), kind, id)
}

// sampleFor finds the sample with sha256h or creates it.
func (s *Server) sampleFor(md5h, sha1h, sha256h, name, typ string, size int64) *sampleRec {
	if id, found := s.st.byHash.first[sha256h]; found {
		return s.st.samples[id]
	}
	if typ == "" {
		typ = "Windows Exe (x86-32)"
	}
	id := s.st.id("sample")
	smp := &sampleRec{}
	smp.s = vmray.Sample{
		ID: id, Created: vmray.Time{Time: s.now()}, Filename: name, Filesize: size, Type: typ,
		MD5: md5h, SHA1: sha1h, SHA256: sha256h, WebifURL: s.webif("samples", id), Priority: 3,
		ChildSampleIDs: []int64{}, ParentSampleIDs: []int64{}, ChildRelations: nil, ParentRelations: nil,
		ChildRelationsTruncated: new(false), ParentRelationsTruncated: new(false),
	}
	s.st.samples[id] = smp
	for _, h := range []string{md5h, sha1h, sha256h} {
		s.st.byHash.add(h, id)
	}
	return smp
}

// newSubmission creates a queued submission with its jobs and charges quota.
func (s *Server) newSubmission(smp *sampleRec, key *keyRec, p submitParams, parent *submissionRec) *submissionRec {
	now := s.now()
	id := s.st.id("submission")
	tags := p.tags
	if tags == nil {
		tags = []string{}
	}
	sub := &submissionRec{key: key, phaseStart: now, maxRec: p.maxRec}
	sub.s = vmray.Submission{
		ID: id, SampleID: smp.s.ID, SampleMD5: smp.s.MD5, SampleSHA1: smp.s.SHA1, SampleSHA256: smp.s.SHA256,
		Created: vmray.Time{Time: now}, Status: vmray.SubmissionQueued, WebifURL: smp.s.WebifURL, // the sample's page, shared
		ConsumedQuota: 1, BillingType: key.BillingType, Type: "api", Filename: p.filename, Tags: tags,
		Shareable: p.shareable, AnalysisCacheIDs: []int64{}, JobCacheIDs: []int64{},
		AnalyzerMode: p.analyzerMode, AnalysisCaching: p.caching, ArchiveAction: p.archiveAction,
		MaxRecursiveSamples: new(p.maxRec), UserID: 1099, UserEmail: "analyst@example.com", Priority: 3,
		APIKeyID: new(key.id),
	}
	if p.comment != "" {
		sub.s.Comment = new(p.comment)
	}
	if p.url != "" {
		sub.s.OriginalURL = new(p.url)
	} else {
		sub.s.OriginalFilename = new(p.filename)
	}
	if parent != nil {
		sub.s.ParentSubmissionID = new(parent.s.ID)
		sub.s.Recursive = true
		sub.s.Type = parent.s.Type
	}
	key.used++
	static := p.analyzerMode == vmray.AnalyzerStatic || p.analyzerMode == vmray.AnalyzerReputation || p.analyzerMode == vmray.AnalyzerReputationStatic
	n := min(max(p.maxJobs, 1), len(vms))
	if static {
		n = 1
	}
	for i := range n {
		job := &vmray.Job{
			ID: s.st.id("job"), SampleID: smp.s.ID, SubmissionID: new(id), Status: vmray.JobQueued,
			TrackingState: "//waiting", Type: "full_analysis", Created: vmray.Time{Time: now},
			StatusChanged: vmray.Time{Time: now}, Priority: 3, AnalyzerID: 1, AnalyzerName: "vmray",
			VMID: new(vms[i].id), VMName: new(vms[i].name), JobruleSampleType: new(smp.s.Type),
			BillType: key.BillingType, SampleMD5: smp.s.MD5, SampleSHA1: smp.s.SHA1, SampleSHA256: smp.s.SHA256,
			UserID: new(int64(1099)), UserEmail: new("analyst@example.com"),
		}
		if static {
			job.Type, job.AnalyzerID, job.AnalyzerName, job.VMID, job.VMName = "only_static_analysis", 2, "static", nil, nil
		}
		s.st.jobs[job.ID] = job
		sub.jobs = append(sub.jobs, job)
	}
	sub.s.NumberCreatedJobs = len(sub.jobs)
	s.st.submissions[id] = sub
	s.st.pending[id] = sub
	s.st.bySample[sub.s.SampleID] = append(s.st.bySample[sub.s.SampleID], id)
	return sub
}

var vms = []struct {
	id   int64
	name string
}{{20, "win10_64_th2"}, {9, "win7_64_sp1"}, {17, "win7_32_sp1"}}

// advance moves every unfinished submission along per the Timing.
func (s *Server) advance() {
	t := s.cfg.timing
	now := s.cfg.clock.Now()
	for _, id := range sortedIDs(s.st.pending) {
		sub := s.st.pending[id]
		if sub.phase == phaseQueued && sub.polls >= t.QueuedPolls && now.Sub(sub.phaseStart) >= t.QueuedFor {
			sub.phase, sub.phaseStart, sub.phasePolls = phaseInWork, now, sub.polls
			sub.s.Status = vmray.SubmissionInProgress
			for _, j := range sub.jobs {
				j.Status, j.TrackingState, j.StatusChanged = vmray.JobInWork, "//running/vm/executing/sample", vmray.Time{Time: s.now()}
			}
		}
		if sub.phase == phaseInWork && sub.polls-sub.phasePolls >= t.InWorkPolls && now.Sub(sub.phaseStart) >= t.InWorkFor {
			s.finishLocked(sub)
		}
	}
}

// finishLocked turns the jobs of sub into analyses and applies its outcome.
func (s *Server) finishLocked(sub *submissionRec) {
	now := s.now()
	smp := s.st.samples[sub.s.SampleID]
	o := *sub.outcome
	lock := vmray.LockUnlocked
	if sub.key.BillingType == vmray.BillingDetector {
		lock = vmray.LockLocked
	}
	jobs := sub.jobs
	if len(jobs) == 0 {
		jobs = []*vmray.Job{{ID: s.st.id("job"), Type: "full_analysis", AnalyzerID: 1, AnalyzerName: "vmray", VMID: new(vms[0].id), VMName: new(vms[0].name)}}
	}
	failed := false
	for _, j := range jobs {
		delete(s.st.jobs, j.ID)
		id := s.st.id("analysis")
		a := &vmray.Analysis{
			ID: id, SampleID: smp.s.ID, SampleMD5: smp.s.MD5, SampleSHA1: smp.s.SHA1, SampleSHA256: smp.s.SHA256,
			SubmissionID: new(sub.s.ID), SubmissionIDs: []int64{sub.s.ID}, JobID: j.ID, JobStarted: sub.s.Created,
			JobType: j.Type, Created: vmray.Time{Time: now}, AnalyzerID: j.AnalyzerID, AnalyzerName: j.AnalyzerName,
			BillingType: sub.key.BillingType, LockStatus: lock, ResultCode: new(vmray.ResultOK),
			ResultStr: "Operation completed successfully", Verdict: o.verdict(), Severity: severityOf(o.verdict()),
			VTIScore: new(vmray.Score(o.Score)), VMID: j.VMID, VMName: j.VMName, Tags: []string{},
			WebifURL: new(s.webif("analyses", id)), Priority: 3,
		}
		if o.FailAnalysis != "" && j.AnalyzerName == "vmray" {
			failed = true
			a.ResultCode, a.ResultStr, a.Verdict, a.Severity, a.VTIScore = new(2), o.FailAnalysis, vmray.VerdictNotAvailable, vmray.SeverityError, nil
		}
		s.st.analyses[id] = a
		smp.analyses = append(smp.analyses, id)
		sub.analyses = append(sub.analyses, id)
	}
	sub.jobs = nil
	sub.phase = phaseFinished
	delete(s.st.pending, sub.s.ID)
	v := o.verdict()
	sm := &smp.s
	sm.Verdict, sm.VTIScore, sm.Score, sm.Severity = v, new(vmray.Score(o.Score)), new(vmray.Score(o.Score)), severityOf(v)
	sm.HighestVTIScore, sm.HighestVTISeverity = new(vmray.Score(o.Score)), severityOf(v)
	sm.Classifications, sm.ThreatNames = orEmpty(o.Classifications), orEmpty(o.ThreatNames)
	if smp.outcome == nil || sub.s.ParentSubmissionID == nil {
		smp.outcome = sub.outcome
	}
	children := o.Children[:min(len(o.Children), sub.maxRec)]
	for _, c := range children {
		child, err := s.seedLocked(c, sub.key, sub)
		if err != nil {
			continue
		}
		if !slices.Contains(sm.ChildSampleIDs, child.s.ID) {
			sm.ChildSampleIDs = append(sm.ChildSampleIDs, child.s.ID)
		}
		if !slices.Contains(child.s.ParentSampleIDs, sm.ID) {
			child.s.ParentSampleIDs = append(child.s.ParentSampleIDs, sm.ID)
		}
		sub.s.ConsumedQuota++
	}
	ss := &sub.s
	ss.Finished, ss.FinishTime = true, vmray.Time{Time: now}
	ss.Verdict, ss.SampleVerdict, ss.Score, ss.Severity = v, v, new(vmray.Score(o.Score)), severityOf(v)
	ss.HasErrors, ss.HasRecursiveErrors = new(failed), new(false)
	ss.Status = vmray.SubmissionSuccess
	if failed {
		ss.Status = vmray.SubmissionError
	}
}

func (o Outcome) verdict() vmray.Verdict {
	if o.Verdict == "" {
		return vmray.VerdictClean
	}
	return o.Verdict
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// sampleView copies a sample for the wire or a caller.
func (s *Server) sampleView(r *sampleRec) vmray.Sample {
	v := r.s
	v.ChildSampleIDs, v.ParentSampleIDs = orEmpty(v.ChildSampleIDs), orEmpty(v.ParentSampleIDs)
	v.Classifications, v.ThreatNames = orEmpty(v.Classifications), orEmpty(v.ThreatNames)
	v.ChildRelations, v.ParentRelations = orEmpty(v.ChildRelations), orEmpty(v.ParentRelations)
	return v
}

func (s *Server) submissionView(r *submissionRec) vmray.Submission {
	v := r.s
	v.Tags, v.AnalysisCacheIDs, v.JobCacheIDs = orEmpty(v.Tags), orEmpty(v.AnalysisCacheIDs), orEmpty(v.JobCacheIDs)
	return v
}
