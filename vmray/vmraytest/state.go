package vmraytest

import (
	"slices"
	"time"

	"github.com/soarkit/soarkit/vmray"
)

// Outcome is what an analysis of a sample finds.
type Outcome struct {
	// Verdict is the sample's verdict (default clean).
	Verdict vmray.Verdict
	// Score is the 0-100 VTI score ("sample_vti_score").
	Score int
	// Classifications and ThreatNames, for example ["Downloader"] and
	// ["Emotet"].
	Classifications []string
	ThreatNames     []string
	// VTIs are the VMRay Threat Identifiers (score 1-5).
	VTIs []vmray.ThreatIndicator
	// IOCs are served by /rest/sample/{id}/iocs; analysis ids are filled in.
	IOCs vmray.IOCs
	// MitreTechniques are served by /rest/sample/{id}/mitre_attack.
	MitreTechniques []vmray.MitreTechnique
	// Children are recursive child samples (dropped files, archive members)
	// analysed with the sample, each with a child submission; capped by the
	// submission's max_recursive_samples.
	Children []Sample
	// FailAnalysis, when set, makes the dynamic analysis fail with this
	// "analysis_result_str" (result code 2) and the submission end with
	// status "error".
	FailAnalysis string
}

// Sample seeds a sample the fake knows, as if analysed before.
type Sample struct {
	// Filename defaults to the SHA-256.
	Filename string
	// Type defaults to "Windows Exe (x86-32)".
	Type string
	// Content, when set, gives the hashes and is served by the file
	// endpoint. Otherwise SHA256 is required, and MD5 and SHA1 are derived
	// from it when empty.
	Content []byte
	MD5     string
	SHA1    string
	SHA256  string
	// Outcome is the analysis result (the sample's verdict, VTIs, IOCs...);
	// a zero Verdict means clean.
	Outcome
	// Locked seeds the analyses as made with a Verdict (detector) key:
	// their reports are locked until unlock_reports.
	Locked bool
}

type phase int

const (
	phaseQueued phase = iota
	phaseInWork
	phaseFinished
)

type keyRec struct {
	APIKey
	id   int64
	used int
}

type sampleRec struct {
	s       vmray.Sample
	content []byte
	stored  bool
	// outcome is shared with the submission that set it and with every
	// sample of the same outcome (the default one, or one set per hash):
	// never modified.
	outcome  *Outcome
	reads    [numResultKinds]int32 // reads of each result kind
	analyses []int64
}

// resultKind is a result endpoint whose first reads can answer
// "in_progress" (see WithUnfinishedReads).
type resultKind int

const (
	resultVTIs resultKind = iota
	resultMitre
	resultIOCs
	numResultKinds
)

type submissionRec struct {
	s          vmray.Submission
	key        *keyRec
	phase      phase
	polls      int
	phasePolls int
	phaseStart time.Time
	jobs       []*vmray.Job
	outcome    *Outcome // shared, never modified
	maxRec     int
	analyses   []int64 // the analyses its jobs became, in id order
}

// Unlock records one unlock_reports call.
type Unlock struct {
	SampleID    int64
	AnalysisIDs []int64
	// Key is the API key that unlocked.
	Key string
	At  time.Time
}

type state struct {
	keys        map[string]*keyRec
	samples     map[int64]*sampleRec
	byHash      hashIndex
	submissions map[int64]*submissionRec
	// pending holds the unfinished submissions and bySample each sample's submissions in id order: the indexes
	// that keep a request's cost independent of how many submissions the fake holds.
	pending       map[int64]*submissionRec
	bySample      map[int64][]int64
	jobs          map[int64]*vmray.Job
	analyses      map[int64]*vmray.Analysis
	continuations map[int64][]any
	outcomes      map[string]*Outcome
	unlocks       []Unlock
	nextID        map[string]int64
}

func (st *state) init() {
	st.keys = map[string]*keyRec{}
	st.samples = map[int64]*sampleRec{}
	st.byHash = hashIndex{first: map[string]int64{}, more: map[string][]int64{}}
	st.submissions = map[int64]*submissionRec{}
	st.pending = map[int64]*submissionRec{}
	st.bySample = map[int64][]int64{}
	st.jobs = map[int64]*vmray.Job{}
	st.analyses = map[int64]*vmray.Analysis{}
	st.continuations = map[int64][]any{}
	st.outcomes = map[string]*Outcome{}
	st.nextID = map[string]int64{"sample": 7623400, "submission": 10457200, "job": 3908300, "analysis": 8961000,
		"continuation": 1000, "key": 10, "ti": 742000}
}

func (st *state) id(kind string) int64 {
	st.nextID[kind]++
	return st.nextID[kind]
}

// severityOf maps a verdict to the deprecated severity VMRay still sends.
func severityOf(v vmray.Verdict) vmray.Severity {
	switch v {
	case vmray.VerdictMalicious:
		return vmray.SeverityMalicious
	case vmray.VerdictSuspicious:
		return vmray.SeveritySuspicious
	case vmray.VerdictClean:
		return vmray.SeverityNotSuspicious
	}
	return vmray.SeverityUnknown
}

// allFinished reports whether every submission of a sample is finished.
func (st *state) allFinished(sampleID int64) bool {
	for _, id := range st.bySample[sampleID] {
		if st.submissions[id].phase != phaseFinished {
			return false
		}
	}
	return true
}

// sortedIDs returns map keys in ascending order.
func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// hashIndex maps a hash (MD5, SHA-1 or SHA-256) to the samples that have
// it, in id order. Nearly every hash has one sample: it is kept without a
// slice of its own.
type hashIndex struct {
	first map[string]int64   // the first sample with the hash
	more  map[string][]int64 // any later ones
}

func (ix hashIndex) add(hash string, id int64) {
	if _, found := ix.first[hash]; !found {
		ix.first[hash] = id
		return
	}
	ix.more[hash] = append(ix.more[hash], id)
}

// ids returns the samples with hash, in id order.
func (ix hashIndex) ids(hash string) []int64 {
	id, found := ix.first[hash]
	if !found {
		return nil
	}
	return append([]int64{id}, ix.more[hash]...)
}
