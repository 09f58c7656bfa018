package vmrayconn

import (
	"strconv"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// Kind maps a VMRay verdict onto a connector verdict kind; not_available and
// anything unknown are connector.Unknown.
func Kind(v vmray.Verdict) connector.Kind {
	switch v {
	case vmray.VerdictClean:
		return connector.Clean
	case vmray.VerdictSuspicious:
		return connector.Suspicious
	case vmray.VerdictMalicious:
		return connector.Malicious
	}
	return connector.Unknown
}

// Severity maps a sample's VTI score onto 1-10 with the rule of the original
// Carbon Black connector: no score is 1, a score is floor(score/10) but at
// least 1. Old servers that sent the verdict word instead of a number decode
// as 50 ("suspicious", severity 5) and 100 ("malicious", severity 10).
func Severity(score *vmray.Score) int {
	if score == nil {
		return 1
	}
	return min(10, max(1, int(*score)/10))
}

// sampleVerdict maps the sample's own fields; VTIs, IOCs and unlocking are
// added by the analyzer for verdicts that are not clean.
func (a *Analyzer) sampleVerdict(s *vmray.Sample) connector.Verdict {
	v := connector.Verdict{
		Kind:            Kind(s.EffectiveVerdict()),
		Severity:        Severity(s.VTIScore),
		Classifications: nonEmpty(s.Classifications),
		ThreatNames:     nonEmpty(s.ThreatNames),
		ReportURL:       s.WebifURL,
		Analyzer:        a.opts.Name,
		AnalysisID:      strconv.FormatInt(s.ID, 10),
		SampleHashes:    connector.Hashes{SHA256: lower(s.SHA256), SHA1: lower(s.SHA1), MD5: lower(s.MD5)},
		Attributes:      map[string]string{"sample_id": strconv.FormatInt(s.ID, 10)},
	}
	if s.VTIScore != nil {
		v.Score = float64(*s.VTIScore)
	}
	if s.Type != "" {
		v.Attributes["sample_type"] = s.Type
	}
	if s.Filename != "" {
		v.Attributes["sample_filename"] = s.Filename
	}
	if s.Verdict != "" {
		v.Attributes["vmray_verdict"] = string(s.Verdict)
	}
	return v
}

// vtis converts VMRay Threat Identifiers.
func vtis(in []vmray.ThreatIndicator) []connector.VTI {
	out := make([]connector.VTI, 0, len(in))
	for _, t := range in {
		out = append(out, connector.VTI{Category: t.Category, Operation: t.Operation,
			Classifications: nonEmpty(t.Classifications), Score: t.Score})
	}
	return out
}

func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
