package vmraytest

import (
	"fmt"
	"slices"
	"strings"
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

// fileHashes are a file's digests.
type fileHashes struct {
	md5    [16]byte
	sha1   [20]byte
	sha256 [32]byte
}

// sampleFor finds the sample with h.sha256 or creates it.
func (s *Server) sampleFor(h fileHashes, name, typ string, size int64) *sampleRec {
	if found := s.st.samplesWith(h.sha256[:]); len(found) > 0 {
		return found[0]
	}
	if typ == "" {
		typ = "Windows Exe (x86-32)"
	}
	smp := &sampleRec{created: s.now().Unix(), size: size, name: name, typ: s.st.names.id(typ),
		md5: h.md5, sha1: h.sha1, sha256: h.sha256}
	smp.id = s.st.samples.add(smp)
	for _, b := range [][]byte{smp.md5[:], smp.sha1[:], smp.sha256[:]} {
		s.st.byHash.add(b, smp.id)
	}
	return smp
}

// newSubmission creates a queued submission with its jobs and charges quota.
func (s *Server) newSubmission(smp *sampleRec, key *keyRec, p submitParams, parent *submissionRec) *submissionRec {
	now := s.now()
	sub := &submissionRec{sampleID: smp.id, created: now.Unix(), filename: p.filename, comment: p.comment, key: key,
		run: &runState{phaseStart: now, changed: now.Unix()}, quota: 1, mode: s.st.names.id(string(p.analyzerMode)),
		caching: s.st.names.id(string(p.caching)), archive: s.st.names.id(string(p.archiveAction)),
		tags: s.st.names.id(strings.Join(p.tags, ",")), maxRec: uint8(p.maxRec), shareable: p.shareable, isURL: p.url != ""}
	sub.id = s.st.submissions.add(sub)
	if parent != nil {
		sub.parent = parent.id
	}
	key.used++
	sub.static = p.analyzerMode == vmray.AnalyzerStatic || p.analyzerMode == vmray.AnalyzerReputation || p.analyzerMode == vmray.AnalyzerReputationStatic
	n := min(max(p.maxJobs, 1), len(vms))
	if sub.static {
		n = 1
	}
	sub.jobs = uint8(n)
	for i := range n {
		id := s.st.id("job")
		if i == 0 {
			sub.firstJob = id
		}
		s.st.jobs[id] = sub.id
	}
	s.st.pending[sub.id] = sub
	smp.subs = append(smp.subs, sub.id)
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
		run := sub.run
		if run.phase == phaseQueued && run.polls >= t.QueuedPolls && now.Sub(run.phaseStart) >= t.QueuedFor {
			run.phase, run.phaseStart, run.phasePolls, run.changed = phaseInWork, now, run.polls, s.now().Unix()
		}
		if run.phase == phaseInWork && run.polls-run.phasePolls >= t.InWorkPolls && now.Sub(run.phaseStart) >= t.InWorkFor {
			s.finishLocked(sub)
		}
	}
}

// finishLocked turns the jobs of sub into analyses and applies its outcome.
func (s *Server) finishLocked(sub *submissionRec) {
	now := s.now()
	smp := s.st.samples.get(sub.sampleID)
	o := sub.outcome
	for i := range int64(sub.jobs) {
		delete(s.st.jobs, sub.firstJob+i)
		id := s.st.id("analysis")
		if i == 0 {
			sub.firstAnalysis = id
		}
		if sub.key.BillingType == vmray.BillingDetector {
			sub.locked |= 1 << i
		}
	}
	sub.failed = o.FailAnalysis != "" && !sub.static
	sub.run = nil
	sub.finishedAt = now.Unix()
	delete(s.st.pending, sub.id)
	s.st.finished = append(s.st.finished, sub.id)
	smp.shown = o
	if smp.outcome == nil || sub.parent == 0 {
		smp.outcome = o
	}
	children := o.Children[:min(len(o.Children), int(sub.maxRec))]
	for _, c := range children {
		child, err := s.seedLocked(c, sub.key, sub)
		if err != nil {
			continue
		}
		if !slices.Contains(smp.children(), child.id) {
			smp.extra().children = append(smp.extra().children, child.id)
		}
		if !slices.Contains(child.parents(), smp.id) {
			child.extra().parents = append(child.extra().parents, smp.id)
		}
		sub.quota++
	}
}

func (smp *sampleRec) children() []int64 {
	if smp.more == nil {
		return nil
	}
	return smp.more.children
}

func (smp *sampleRec) parents() []int64 {
	if smp.more == nil {
		return nil
	}
	return smp.more.parents
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
