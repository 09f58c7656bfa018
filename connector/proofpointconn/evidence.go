package proofpointconn

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/proofpoint"
)

// Severity maps TAP's malwareScore (0-100) onto 1-10: score/10 rounded half
// up, never below 1 (the original rounded half to even, giving 0 for scores up
// to 5, which Carbon Black rejects: seed bug D.4) and never above 10.
func Severity(malwareScore float64) int {
	return int(min(10, max(1, math.Floor(malwareScore/10+0.5))))
}

// condemned returns the threats TAP recorded against one attached part: an
// attachment threat whose artefact or id is the part's SHA-256, with an
// accepted classification and status.
func (s *Source) condemned(m *proofpoint.Message, p proofpoint.MessagePart) (proofpoint.ThreatInfo, bool) {
	for _, t := range m.ThreatsInfoMap {
		if !strings.EqualFold(t.ThreatType, proofpoint.ThreatTypeAttachment) {
			continue
		}
		if !strings.EqualFold(t.Threat, p.SHA256) && !strings.EqualFold(t.ThreatID, p.SHA256) {
			continue
		}
		if slices.Contains(s.classes, strings.ToLower(t.Classification)) &&
			(t.ThreatStatus == "" || slices.Contains(s.statuses, strings.ToLower(t.ThreatStatus))) {
			return t, true
		}
	}
	return proofpoint.ThreatInfo{}, false
}

// evidence turns the messages of a batch into one Evidence per condemned
// attachment, with a sighting per (message, recipient). Parts TAP did not
// condemn, inline parts and parts without a SHA-256 are not evidence, however
// malicious the message's other parts are.
func (s *Source) evidence(b *proofpoint.Batch) []connector.Evidence {
	byHash := map[string]*connector.Evidence{}
	var order []string
	add := func(stream string, ms []proofpoint.Message) {
		for i := range ms {
			m := &ms[i]
			for _, p := range m.MessageParts {
				if !strings.EqualFold(p.Disposition, "attached") || p.SHA256 == "" {
					continue
				}
				t, ok := s.condemned(m, p)
				if !ok {
					continue
				}
				hash := strings.ToLower(p.SHA256)
				md5 := strings.ToLower(p.MD5)
				if s.opts.DebugSHA256 != "" {
					hash, md5 = s.opts.DebugSHA256, ""
				}
				if !isSHA256(hash) {
					s.log.Warn("proofpointconn: attachment with a malformed SHA-256 skipped", "source", s.opts.Name, "guid", m.GUID, "sha256", p.SHA256)
					continue
				}
				ev := byHash[hash]
				if ev == nil {
					ev = &connector.Evidence{Hashes: connector.Hashes{SHA256: hash, MD5: md5}, FileName: p.Filename, Source: s.opts.Name}
					byHash[hash] = ev
					order = append(order, hash)
				}
				ev.Sightings = append(ev.Sightings, s.sightings(stream, m, p, t)...)
				if v := s.verdict(m, t); ev.SourceVerdict == nil || v.Score > ev.SourceVerdict.Score {
					ev.SourceVerdict = &v
				}
			}
		}
	}
	add("delivered", b.MessagesDelivered)
	add("blocked", b.MessagesBlocked)
	out := make([]connector.Evidence, 0, len(order))
	for _, h := range order {
		out = append(out, *byHash[h])
	}
	return out
}

// verdict is TAP's own verdict on the attachment.
func (s *Source) verdict(m *proofpoint.Message, t proofpoint.ThreatInfo) connector.Verdict {
	v := connector.Verdict{
		Kind:       connector.Malicious,
		Score:      m.MalwareScore,
		Severity:   Severity(m.MalwareScore),
		ReportURL:  t.ThreatURL,
		Analyzer:   s.opts.Name,
		AnalysisID: t.ThreatID,
		Time:       t.ThreatTime.Time.UTC(),
		Attributes: nonEmptyAttrs(map[string]string{"threat_status": t.ThreatStatus, "threat_type": t.ThreatType,
			"campaign_id": t.CampaignID, "detection_type": t.DetectionType}),
	}
	if t.Classification != "" {
		v.Classifications = []string{t.Classification}
	}
	return v
}

// sightings returns one sighting per recipient of the message (one without a
// recipient when TAP lists none).
func (s *Source) sightings(stream string, m *proofpoint.Message, p proofpoint.MessagePart, t proofpoint.ThreatInfo) []connector.Sighting {
	guid := m.GUID
	if guid == "" {
		guid = m.ID
	}
	recipients := uniqueLower(m.Recipient)
	sender := m.Sender
	if len(m.FromAddress) > 0 && m.FromAddress[0] != "" {
		sender = m.FromAddress[0]
	}
	attrs := nonEmptyAttrs(map[string]string{
		"stream":            stream,
		"subject":           m.Subject,
		"recipients":        strings.Join(recipients, ","),
		"sender":            m.Sender,
		"sender_ip":         m.SenderIP,
		"header_from":       m.HeaderFrom,
		"message_id_header": m.MessageID,
		"qid":               m.QID,
		"cluster":           m.Cluster,
		"malware_score":     strconv.FormatFloat(m.MalwareScore, 'f', -1, 64),
		"quarantine_folder": m.QuarantineFolder,
		"quarantine_rule":   m.QuarantineRule,
		"threat_id":         t.ThreatID,
		"threat_url":        t.ThreatURL,
		"threat_status":     t.ThreatStatus,
		"classification":    t.Classification,
		"file_name":         p.Filename,
		"content_type":      p.ContentType,
		"sandbox_status":    p.SandboxStatus,
	})
	if len(recipients) == 0 {
		recipients = []string{""}
	}
	out := make([]connector.Sighting, 0, len(recipients))
	for _, r := range recipients {
		out = append(out, connector.Sighting{
			Source:     s.opts.Name,
			ID:         "message:" + guid + "/" + r,
			Time:       m.MessageTime.Time.UTC(),
			MessageID:  guid,
			Recipient:  r,
			Sender:     sender,
			Attributes: attrs,
		})
	}
	return out
}

func uniqueLower(in []string) []string {
	var out []string
	for _, v := range in {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func nonEmptyAttrs(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewAnalyzer returns the analyzer of the Proofpoint flow: TAP has already
// judged every attachment the Source reports, so connector.PassThrough hands
// the evidence's SourceVerdict (malicious, with TAP's score and severity) to
// the responders and nothing is uploaded anywhere.
func NewAnalyzer(name string) connector.Analyzer {
	if name == "" {
		name = DefaultName
	}
	return connector.PassThrough(name)
}
