package vmraytest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
)

type keyRec struct {
	APIKey
	id   int64
	used int
}

// The records below hold what the fake must remember of each sample and
// submission and nothing it can derive: hashes as bytes, times as Unix
// seconds, repeated strings as indexes into the state's names, jobs and
// analyses as id ranges of their submission. The wire form is built from
// them when a request reads it (see views.go), so an analysed file costs
// well under a KB (TestRetainedMemoryPerFile).

// sampleRec is one sample.
type sampleRec struct {
	id      int64
	created int64 // Unix seconds
	size    int64
	name    string
	typ     uint32 // in state.names
	stored  bool   // content holds the file (uploads over the store limit and hash-only seeds do not)
	reads   [numResultKinds]int32
	md5     [md5.Size]byte
	sha1    [sha1.Size]byte
	sha256  [sha256.Size]byte
	content []byte
	// outcome is what result reads (VTIs, IOCs...) serve, nil until the
	// sample has one; shown is the outcome of the latest finished
	// submission, which sets the sample's verdict, score, classifications
	// and threat names (nil before). Both are shared with the submissions
	// and samples of the same outcome: never modified.
	outcome, shown *Outcome
	subs           []int64 // its submissions, in id order
	more           *sampleMore
}

// sampleMore holds what few samples have.
type sampleMore struct {
	url               string
	children, parents []int64
}

func (smp *sampleRec) extra() *sampleMore {
	if smp.more == nil {
		smp.more = &sampleMore{}
	}
	return smp.more
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

// submissionRec is one submission. Its jobs are the ids firstJob to
// firstJob+jobs-1, and once it finished its analyses are firstAnalysis to
// firstAnalysis+jobs-1, analysis i made by job i.
type submissionRec struct {
	id, sampleID  int64
	created       int64 // Unix seconds
	finishedAt    int64 // Unix seconds, set when it finished (run is nil)
	firstJob      int64
	firstAnalysis int64
	parent        int64 // the parent submission of a recursive one, else 0
	filename      string
	comment       string
	key           *keyRec
	outcome       *Outcome  // shared, never modified
	run           *runState // nil once finished
	quota         int32
	mode          uint32 // analyzer mode, in state.names
	caching       uint32 // analysis caching, in state.names
	archive       uint32 // archive action, in state.names
	tags          uint32 // the tags joined by commas, in state.names
	maxRec        uint8
	jobs          uint8
	locked        uint8 // bit i: analysis i is locked
	static        bool  // one static job instead of dynamic ones
	shareable     bool
	isURL         bool // filename is the submitted URL
	failed        bool
}

// runState is the progress of an unfinished submission.
type runState struct {
	phase      phase
	polls      int
	phasePolls int
	phaseStart time.Time
	// changed is when its jobs last changed status (Unix seconds).
	changed int64
}

// Unlock records one unlock_reports call.
type Unlock struct {
	SampleID    int64
	AnalysisIDs []int64
	// Key is the API key that unlocked.
	Key string
	At  time.Time
}

// First ids: every id is one more than the previous of its kind.
const (
	firstSampleID     = 7623401
	firstSubmissionID = 10457201
)

type state struct {
	keys map[string]*keyRec
	// seedKeys stand for the analyzer (0) and detector (1) keys that made
	// the seeded samples' submissions.
	seedKeys    [2]*keyRec
	samples     records[sampleRec]
	byHash      hashIndex
	submissions records[submissionRec]
	// finished lists the finished submissions in the order they finished,
	// which is the order of their analysis ids; pending holds the
	// unfinished ones and jobs their jobs' submissions: the indexes that
	// keep a request's cost independent of how many submissions the fake
	// holds.
	finished      []int64
	pending       map[int64]*submissionRec
	jobs          map[int64]int64
	continuations map[int64][]any
	outcomes      map[string]*Outcome
	names         names
	unlocks       []Unlock
	nextID        map[string]int64
}

func (st *state) init() {
	st.keys = map[string]*keyRec{}
	st.seedKeys = [2]*keyRec{{APIKey: APIKey{Key: "seed", BillingType: vmray.BillingAnalyzer}},
		{APIKey: APIKey{Key: "seed", BillingType: vmray.BillingDetector}}}
	st.samples = records[sampleRec]{base: firstSampleID}
	st.byHash = hashIndex{first: map[uint64]int64{}, more: map[uint64][]int64{}}
	st.submissions = records[submissionRec]{base: firstSubmissionID}
	st.pending = map[int64]*submissionRec{}
	st.jobs = map[int64]int64{}
	st.continuations = map[int64][]any{}
	st.outcomes = map[string]*Outcome{}
	st.names = names{ids: map[string]uint32{"": 0}, list: []string{""}}
	st.nextID = map[string]int64{"job": 3908300, "analysis": 8961000, "continuation": 1000, "key": 10}
}

func (st *state) id(kind string) int64 {
	st.nextID[kind]++
	return st.nextID[kind]
}

// records holds records whose ids are handed out in turn from base on: an
// id is its record's position, so no map is needed.
type records[T any] struct {
	base int64
	list []*T
}

// add stores rec and returns its id.
func (r *records[T]) add(rec *T) int64 {
	r.list = append(r.list, rec)
	return r.base + int64(len(r.list)) - 1
}

// get returns the record with id, nil if there is none.
func (r *records[T]) get(id int64) *T {
	if id < r.base || id-r.base >= int64(len(r.list)) {
		return nil
	}
	return r.list[id-r.base]
}

// names interns the strings many records repeat (sample types, analyzer
// settings, tag lists): a record keeps the index.
type names struct {
	ids  map[string]uint32
	list []string
}

func (n *names) id(s string) uint32 {
	if id, found := n.ids[s]; found {
		return id
	}
	id := uint32(len(n.list))
	n.list = append(n.list, s)
	n.ids[s] = id
	return id
}

func (n *names) name(id uint32) string { return n.list[id] }

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
func (st *state) allFinished(smp *sampleRec) bool {
	for _, id := range smp.subs {
		if st.submissions.get(id).run != nil {
			return false
		}
	}
	return true
}

// sampleAnalyses returns the ids of a sample's analyses in ascending order,
// which is the order they were made in.
func (st *state) sampleAnalyses(smp *sampleRec) []int64 {
	var ids []int64
	for _, id := range smp.subs {
		sub := st.submissions.get(id)
		if sub.run == nil {
			for i := range int64(sub.jobs) {
				ids = append(ids, sub.firstAnalysis+i)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// analysis finds the submission that made the analysis with id and its
// index among the submission's analyses.
func (st *state) analysis(id int64) (*submissionRec, int, bool) {
	// The last finished submission whose first analysis is not after id.
	i, _ := slices.BinarySearchFunc(st.finished, id, func(subID, id int64) int {
		if st.submissions.get(subID).firstAnalysis > id {
			return 1
		}
		return -1
	})
	if i == 0 {
		return nil, 0, false
	}
	sub := st.submissions.get(st.finished[i-1])
	if n := id - sub.firstAnalysis; n < int64(sub.jobs) {
		return sub, int(n), true
	}
	return nil, 0, false
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

// parseHash decodes a hex MD5, SHA-1 or SHA-256; ok is false for anything
// else.
func parseHash(s string) ([]byte, bool) {
	switch len(s) {
	case 2 * md5.Size, 2 * sha1.Size, 2 * sha256.Size:
	default:
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// hasHash reports whether h (decoded) is one of the sample's hashes.
func (smp *sampleRec) hasHash(h []byte) bool {
	switch len(h) {
	case md5.Size:
		return bytes.Equal(h, smp.md5[:])
	case sha1.Size:
		return bytes.Equal(h, smp.sha1[:])
	case sha256.Size:
		return bytes.Equal(h, smp.sha256[:])
	}
	return false
}

// hashIndex maps the first 8 bytes of a hash (MD5, SHA-1 or SHA-256) to
// the samples that have a hash starting with them, in id order; a caller
// checks the whole hash. Nearly every key has one sample: it is kept
// without a slice of its own.
type hashIndex struct {
	first map[uint64]int64   // the first sample with the key
	more  map[uint64][]int64 // any later ones
}

func hashKey(h []byte) uint64 { return binary.BigEndian.Uint64(h) }

func (ix hashIndex) add(h []byte, id int64) {
	k := hashKey(h)
	if _, found := ix.first[k]; !found {
		ix.first[k] = id
		return
	}
	ix.more[k] = append(ix.more[k], id)
}

// samplesWith returns the samples with the decoded hash h, in id order.
func (st *state) samplesWith(h []byte) []*sampleRec {
	k := hashKey(h)
	id, found := st.byHash.first[k]
	if !found {
		return nil
	}
	var out []*sampleRec
	for _, id := range append([]int64{id}, st.byHash.more[k]...) {
		if smp := st.samples.get(id); smp.hasHash(h) && (len(out) == 0 || out[len(out)-1] != smp) {
			out = append(out, smp)
		}
	}
	return out
}
