package vmraytest

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/soarkit/soarkit/vmray"
)

// The wire form of each record, built when a request reads it.

func unixTime(sec int64) vmray.Time { return vmray.Time{Time: time.Unix(sec, 0).UTC()} }

// sampleHashes are a sample's hashes as VMRay writes them.
func (smp *sampleRec) hashes() (md5h, sha1h, sha256h string) {
	return hex.EncodeToString(smp.md5[:]), hex.EncodeToString(smp.sha1[:]), hex.EncodeToString(smp.sha256[:])
}

// sampleView is a sample for the wire or a caller.
func (s *Server) sampleView(smp *sampleRec) vmray.Sample {
	md5h, sha1h, sha256h := smp.hashes()
	v := vmray.Sample{
		ID: smp.id, Created: unixTime(smp.created), Filename: smp.name, Filesize: smp.size, Type: s.st.names.name(smp.typ),
		MD5: md5h, SHA1: sha1h, SHA256: sha256h, WebifURL: s.webif("samples", smp.id), Priority: 3,
		ChildSampleIDs: orEmpty(smp.children()), ParentSampleIDs: orEmpty(smp.parents()),
		ChildRelations: []json.RawMessage{}, ParentRelations: []json.RawMessage{},
		ChildRelationsTruncated: new(false), ParentRelationsTruncated: new(false),
		Classifications: []string{}, ThreatNames: []string{},
	}
	if smp.more != nil && smp.more.url != "" {
		v.URL, v.DisplayURL = new(smp.more.url), new(smp.more.url)
	}
	if o := smp.shown; o != nil {
		verdict := o.verdict()
		v.Verdict, v.VTIScore, v.Score, v.Severity = verdict, new(vmray.Score(o.Score)), new(vmray.Score(o.Score)), severityOf(verdict)
		v.HighestVTIScore, v.HighestVTISeverity = new(vmray.Score(o.Score)), severityOf(verdict)
		v.Classifications, v.ThreatNames = orEmpty(o.Classifications), orEmpty(o.ThreatNames)
	}
	return v
}

// submissionView is a submission for the wire or a caller.
func (s *Server) submissionView(sub *submissionRec) vmray.Submission {
	smp := s.st.samples.get(sub.sampleID)
	md5h, sha1h, sha256h := smp.hashes()
	v := vmray.Submission{
		ID: sub.id, SampleID: smp.id, SampleMD5: md5h, SampleSHA1: sha1h, SampleSHA256: sha256h,
		Created: unixTime(sub.created), Status: vmray.SubmissionQueued, WebifURL: s.webif("samples", smp.id), // the sample's page
		ConsumedQuota: int(sub.quota), BillingType: sub.key.BillingType, Type: "api", Filename: sub.filename, Tags: []string{},
		Shareable: sub.shareable, AnalysisCacheIDs: []int64{}, JobCacheIDs: []int64{},
		AnalyzerMode:        vmray.AnalyzerMode(s.st.names.name(sub.mode)),
		AnalysisCaching:     vmray.AnalysisCaching(s.st.names.name(sub.caching)),
		ArchiveAction:       vmray.ArchiveAction(s.st.names.name(sub.archive)),
		MaxRecursiveSamples: new(int(sub.maxRec)), UserID: 1099, UserEmail: "analyst@example.com", Priority: 3,
		APIKeyID: new(sub.key.id), NumberCreatedJobs: int(sub.jobs),
	}
	if tags := s.st.names.name(sub.tags); tags != "" {
		v.Tags = strings.Split(tags, ",")
	}
	if sub.comment != "" {
		v.Comment = new(sub.comment)
	}
	if sub.isURL {
		v.OriginalURL = new(sub.filename)
	} else {
		v.OriginalFilename = new(sub.filename)
	}
	if sub.parent != 0 {
		v.ParentSubmissionID, v.Recursive = new(sub.parent), true
	}
	switch {
	case sub.run == nil:
		verdict := sub.outcome.verdict()
		v.Finished, v.FinishTime = true, unixTime(sub.finishedAt)
		v.Verdict, v.SampleVerdict, v.Score, v.Severity = verdict, verdict, new(vmray.Score(sub.outcome.Score)), severityOf(verdict)
		v.HasErrors, v.HasRecursiveErrors = new(sub.failed), new(false)
		v.Status = vmray.SubmissionSuccess
		if sub.failed {
			v.Status = vmray.SubmissionError
		}
	case sub.run.phase == phaseInWork:
		v.Status = vmray.SubmissionInProgress
	}
	return v
}

// analyzer is the analyzer of a submission's jobs and analyses.
func (sub *submissionRec) analyzer() (jobType string, id int64, name string) {
	if sub.static {
		return "only_static_analysis", 2, "static"
	}
	return "full_analysis", 1, "vmray"
}

// vm is the VM of job i, nil for static jobs.
func (sub *submissionRec) vm(i int) (*int64, *string) {
	if sub.static {
		return nil, nil
	}
	return new(vms[i].id), new(vms[i].name)
}

// jobView is job i of an unfinished submission.
func (s *Server) jobView(sub *submissionRec, i int) vmray.Job {
	smp := s.st.samples.get(sub.sampleID)
	md5h, sha1h, sha256h := smp.hashes()
	typ, analyzerID, analyzerName := sub.analyzer()
	j := vmray.Job{
		ID: sub.firstJob + int64(i), SampleID: smp.id, SubmissionID: new(sub.id), Status: vmray.JobQueued,
		TrackingState: "//waiting", Type: typ, Created: unixTime(sub.created), StatusChanged: unixTime(sub.run.changed),
		Priority: 3, AnalyzerID: analyzerID, AnalyzerName: analyzerName, JobruleSampleType: new(s.st.names.name(smp.typ)),
		BillType: sub.key.BillingType, SampleMD5: md5h, SampleSHA1: sha1h, SampleSHA256: sha256h,
		UserID: new(int64(1099)), UserEmail: new("analyst@example.com"),
	}
	j.VMID, j.VMName = sub.vm(i)
	if sub.run.phase == phaseInWork {
		j.Status, j.TrackingState = vmray.JobInWork, "//running/vm/executing/sample"
	}
	return j
}

// analysisView is analysis i of a finished submission.
func (s *Server) analysisView(sub *submissionRec, i int) vmray.Analysis {
	smp := s.st.samples.get(sub.sampleID)
	md5h, sha1h, sha256h := smp.hashes()
	typ, analyzerID, analyzerName := sub.analyzer()
	id := sub.firstAnalysis + int64(i)
	verdict := sub.outcome.verdict()
	a := vmray.Analysis{
		ID: id, SampleID: smp.id, SampleMD5: md5h, SampleSHA1: sha1h, SampleSHA256: sha256h,
		SubmissionID: new(sub.id), SubmissionIDs: []int64{sub.id}, JobID: sub.firstJob + int64(i), JobStarted: unixTime(sub.created),
		JobType: typ, Created: unixTime(sub.finishedAt), AnalyzerID: analyzerID, AnalyzerName: analyzerName,
		BillingType: sub.key.BillingType, LockStatus: vmray.LockUnlocked, ResultCode: new(vmray.ResultOK),
		ResultStr: "Operation completed successfully", Verdict: verdict, Severity: severityOf(verdict),
		VTIScore: new(vmray.Score(sub.outcome.Score)), Tags: []string{}, WebifURL: new(s.webif("analyses", id)), Priority: 3,
	}
	a.VMID, a.VMName = sub.vm(i)
	if sub.locked&(1<<i) != 0 {
		a.LockStatus = vmray.LockLocked
	}
	if sub.failed {
		a.ResultCode, a.ResultStr, a.Verdict, a.Severity, a.VTIScore = new(2), sub.outcome.FailAnalysis, vmray.VerdictNotAvailable, vmray.SeverityError, nil
	}
	return a
}
