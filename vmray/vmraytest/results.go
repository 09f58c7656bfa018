package vmraytest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/soarkit/soarkit/vmray"
)

// resultStatus is "finished" once the sample's submissions finished and the
// configured unfinished reads are used up.
func (s *Server) resultStatus(smp *sampleRec, kind resultKind) string {
	smp.reads[kind]++
	if !s.st.allFinished(smp) || int(smp.reads[kind]) <= s.cfg.unfinished || smp.outcome == nil {
		return "in_progress"
	}
	return vmray.StatusFinished
}

func (s *Server) vtis(w http.ResponseWriter, smp *sampleRec) {
	res := vmray.VTIs{Status: s.resultStatus(smp, resultVTIs), ThreatIndicators: []vmray.ThreatIndicator{}}
	if res.Status == vmray.StatusFinished {
		res.ThreatIndicators = indicators(smp.outcome.VTIs, s.st.sampleAnalyses(smp))
	}
	ok(w, res)
}

// indicators copies VTIs, filling in ids and analysis ids the seed left out.
func indicators(in []vmray.ThreatIndicator, analyses []int64) []vmray.ThreatIndicator {
	out := make([]vmray.ThreatIndicator, len(in))
	for i, ti := range in {
		if ti.ID == 0 {
			ti.ID = int64(742000 + i)
		}
		if len(ti.AnalysisIDs) == 0 {
			ti.AnalysisIDs = orEmpty(analyses)
		}
		ti.Classifications = orEmpty(ti.Classifications)
		out[i] = ti
	}
	return out
}

func (s *Server) threatNames(w http.ResponseWriter, smp *sampleRec) {
	res := vmray.ThreatNames{Sample: []vmray.ThreatName{}, Children: []vmray.ThreatName{}}
	for _, n := range smp.shown.threatNames() {
		res.Sample = append(res.Sample, vmray.ThreatName{ThreatName: n, Sources: []string{"VTI"}})
	}
	for _, cid := range smp.children() {
		for _, n := range s.st.samples.get(cid).shown.threatNames() {
			res.Children = append(res.Children, vmray.ThreatName{ThreatName: n, Sources: []string{"VTI"}})
		}
	}
	ok(w, res)
}

func (s *Server) classifications(w http.ResponseWriter, smp *sampleRec) {
	res := vmray.Classifications{Sample: []vmray.Classification{}, Children: []vmray.Classification{}}
	for _, n := range smp.shown.classifications() {
		res.Sample = append(res.Sample, vmray.Classification{Name: n})
	}
	for _, cid := range smp.children() {
		for _, n := range s.st.samples.get(cid).shown.classifications() {
			res.Children = append(res.Children, vmray.Classification{Name: n})
		}
	}
	ok(w, res)
}

func (s *Server) mitre(w http.ResponseWriter, smp *sampleRec) {
	res := vmray.MitreAttack{Status: s.resultStatus(smp, resultMitre), Techniques: []vmray.MitreTechnique{}}
	if res.Status == vmray.StatusFinished {
		analyses := s.st.sampleAnalyses(smp)
		for _, t := range smp.outcome.MitreTechniques {
			if len(t.AnalysisIDs) == 0 {
				t.AnalysisIDs = orEmpty(analyses)
			}
			t.Tactics = orEmpty(t.Tactics)
			t.ThreatIndicators = indicators(t.ThreatIndicators, analyses)
			res.Techniques = append(res.Techniques, t)
		}
	}
	ok(w, res)
}

// iocFilter selects IOCs per the path suffix and query of an IOC request.
type iocFilter struct {
	typ          string
	verdict      string
	severity     string
	allArtifacts bool
}

// parseIOCFilter reads "type/{t}", "verdict/{v}" and "severity/{s}" path
// pairs and the ioc_type, ioc_verdict, ioc_severity and all_artifacts query
// parameters.
func parseIOCFilter(tail string, q url.Values) (iocFilter, bool) {
	f := iocFilter{typ: q.Get("ioc_type"), verdict: q.Get("ioc_verdict"), severity: q.Get("ioc_severity"),
		allArtifacts: strings.EqualFold(q.Get("all_artifacts"), "true")}
	if tail != "" {
		parts := strings.Split(tail, "/")
		if len(parts)%2 != 0 {
			return f, false
		}
		for i := 0; i < len(parts); i += 2 {
			switch parts[i] {
			case "type":
				f.typ = parts[i+1]
			case "verdict":
				f.verdict = parts[i+1]
			case "severity":
				f.severity = parts[i+1]
			default:
				return f, false
			}
		}
	}
	if f.typ != "" {
		known := false
		for _, t := range vmray.IOCTypes() {
			known = known || string(t) == f.typ
		}
		if !known {
			return f, false
		}
	}
	return f, true
}

func (f iocFilter) keep(typ vmray.IOCType, c *vmray.IOCCommon) bool {
	if f.typ != "" && f.typ != string(typ) {
		return false
	}
	if !f.allArtifacts && c.IOC != nil && !*c.IOC {
		return false
	}
	if f.verdict != "" && !(f.verdict == "null" && c.Verdict == "") && !strings.EqualFold(f.verdict, string(c.Verdict)) {
		return false
	}
	return f.severity == "" || strings.EqualFold(f.severity, string(c.Severity))
}

// pick filters one IOC list and fills analysis ids the seed left out.
func pick[T any](f iocFilter, typ vmray.IOCType, in []T, common func(*T) *vmray.IOCCommon, analyses []int64) []T {
	out := []T{}
	for _, it := range in {
		c := common(&it)
		fillIOC(typ, &it, c)
		if !f.keep(typ, c) {
			continue
		}
		if len(c.AnalysisIDs) == 0 {
			c.AnalysisIDs = orEmpty(analyses)
		}
		out = append(out, it)
	}
	return out
}

func (s *Server) iocs(w http.ResponseWriter, r *http.Request, smp *sampleRec, tail string) {
	f, good := parseIOCFilter(tail, r.URL.Query())
	if !good {
		notFound(w)
		return
	}
	res := vmray.IOCResult{Status: s.resultStatus(smp, resultIOCs)}
	in := vmray.IOCs{}
	if res.Status == vmray.StatusFinished {
		in = smp.outcome.IOCs
	}
	a := s.st.sampleAnalyses(smp)
	res.IOCs = vmray.IOCs{
		Files:          pick(f, vmray.IOCFiles, in.Files, func(x *vmray.FileIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Filenames:      pick(f, vmray.IOCFilenames, in.Filenames, func(x *vmray.FilenameIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Mutexes:        pick(f, vmray.IOCMutexes, in.Mutexes, func(x *vmray.MutexIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Registry:       pick(f, vmray.IOCRegistry, in.Registry, func(x *vmray.RegistryIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		IPs:            pick(f, vmray.IOCIPs, in.IPs, func(x *vmray.IPIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		URLs:           pick(f, vmray.IOCURLs, in.URLs, func(x *vmray.URLIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Domains:        pick(f, vmray.IOCDomains, in.Domains, func(x *vmray.DomainIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		EmailAddresses: pick(f, vmray.IOCEmailAddresses, in.EmailAddresses, func(x *vmray.EmailAddressIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Emails:         pick(f, vmray.IOCEmails, in.Emails, func(x *vmray.EmailIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
		Processes:      pick(f, vmray.IOCProcesses, in.Processes, func(x *vmray.ProcessIOC) *vmray.IOCCommon { return &x.IOCCommon }, a),
	}
	ok(w, res)
}

// threatNames are the threat names a sample shows once o, its latest outcome, applies (none before).
func (o *Outcome) threatNames() []string {
	if o == nil {
		return nil
	}
	return o.ThreatNames
}

// classifications are the classifications a sample shows once o applies.
func (o *Outcome) classifications() []string {
	if o == nil {
		return nil
	}
	return o.Classifications
}
