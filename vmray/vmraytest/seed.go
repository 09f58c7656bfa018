package vmraytest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/vmray"
)

// AddAPIKey adds (or replaces) an accepted key.
func (s *Server) AddAPIKey(k APIKey) error {
	if strings.TrimSpace(k.Key) == "" || strings.ContainsAny(k.Key, " \t\r\n") {
		return fmt.Errorf("vmraytest: API key %q is empty or contains white space", k.Key)
	}
	if k.BillingType == "" {
		k.BillingType = vmray.BillingAnalyzer
	}
	if k.BillingType != vmray.BillingAnalyzer && k.BillingType != vmray.BillingDetector {
		return fmt.Errorf("vmraytest: billing type %q is neither analyzer nor detector", k.BillingType)
	}
	if k.QuotaLimit == 0 {
		k.QuotaLimit = 1000
	}
	if k.AnalysisCaching == "" {
		k.AnalysisCaching = vmray.CachingSmart
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.keys[k.Key] = &keyRec{APIKey: k, id: s.st.id("key")}
	return nil
}

// SetOutcome sets what analysing the file with this hash (MD5, SHA-1 or
// SHA-256) finds when it is submitted.
func (s *Server) SetOutcome(hash string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.outcomes[strings.ToLower(hash)] = &o
}

// SetDefaultOutcome sets the result for hashes without an outcome.
func (s *Server) SetDefaultOutcome(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.defaultOutcome = &o
}

// seedHashes fills and checks a seed's hashes.
func seedHashes(in Sample) (fileHashes, error) {
	var h fileHashes
	if in.Content != nil {
		h.md5, h.sha1, h.sha256 = md5.Sum(in.Content), sha1.Sum(in.Content), sha256.Sum256(in.Content)
		return h, nil
	}
	sha256h := strings.ToLower(in.SHA256)
	if len(sha256h) != 64 || !isHex(sha256h) {
		return h, fmt.Errorf("vmraytest: sample needs Content or a 64-digit SHA256, got %q", in.SHA256)
	}
	md5h, sha1h := strings.ToLower(in.MD5), strings.ToLower(in.SHA1)
	if md5h == "" {
		d := md5.Sum([]byte(sha256h))
		md5h = hex.EncodeToString(d[:])
	}
	if sha1h == "" {
		d := sha1.Sum([]byte(sha256h))
		sha1h = hex.EncodeToString(d[:])
	}
	if len(md5h) != 32 || !isHex(md5h) || len(sha1h) != 40 || !isHex(sha1h) {
		return h, fmt.Errorf("vmraytest: MD5 %q or SHA1 %q is not a hex digest", in.MD5, in.SHA1)
	}
	// Checked above: the digits decode.
	_, _ = hex.Decode(h.md5[:], []byte(md5h))
	_, _ = hex.Decode(h.sha1[:], []byte(sha1h))
	_, _ = hex.Decode(h.sha256[:], []byte(sha256h))
	return h, nil
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}

// AddSample seeds a sample as if it had been submitted and analysed before:
// the sample, one finished submission and its analyses exist, and lookups by
// any of its hashes find it. Recursive children in its outcome are seeded as
// well. It returns the sample as the API shows it.
func (s *Server) AddSample(in Sample) (vmray.Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.st.seedKeys[0]
	if in.Locked {
		key = s.st.seedKeys[1]
	}
	smp, err := s.seedLocked(in, key, nil)
	if err != nil {
		return vmray.Sample{}, err
	}
	return s.sampleView(smp), nil
}

// seedLocked creates a sample with a finished submission (child of parent
// when set).
func (s *Server) seedLocked(in Sample, key *keyRec, parent *submissionRec) (*sampleRec, error) {
	h, err := seedHashes(in)
	if err != nil {
		return nil, err
	}
	name := in.Filename
	if name == "" {
		name = hex.EncodeToString(h.sha256[:])
	}
	smp := s.sampleFor(h, name, in.Type, int64(len(in.Content)))
	if in.Content != nil && int64(len(in.Content)) <= s.cfg.storeLimit {
		smp.content, smp.stored = in.Content, true
	}
	o := in.Outcome
	smp.outcome = &o
	sub := s.newSubmission(smp, key, submitParams{filename: name, maxRec: 50}, parent)
	sub.outcome = &o
	s.finishLocked(sub)
	return smp, nil
}

// Samples returns every sample, in id order.
func (s *Server) Samples() []vmray.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]vmray.Sample, 0, len(s.st.samples.list))
	for _, smp := range s.st.samples.list {
		out = append(out, s.sampleView(smp))
	}
	return out
}

// SampleByHash returns the sample with this MD5, SHA-1 or SHA-256.
func (s *Server) SampleByHash(hash string) (vmray.Sample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := parseHash(strings.ToLower(hash))
	if !ok {
		return vmray.Sample{}, false
	}
	found := s.st.samplesWith(h)
	if len(found) == 0 {
		return vmray.Sample{}, false
	}
	return s.sampleView(found[0]), true
}

// SubmissionsFor returns the submissions made for the file with this hash,
// oldest first (seeded ones included).
func (s *Server) SubmissionsFor(hash string) []vmray.Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := parseHash(strings.ToLower(hash))
	if !ok {
		return nil
	}
	var ids []int64
	for _, smp := range s.st.samplesWith(h) {
		ids = append(ids, smp.subs...)
	}
	slices.Sort(ids)
	var out []vmray.Submission
	for _, id := range ids {
		out = append(out, s.submissionView(s.st.submissions.get(id)))
	}
	return out
}

// Unlocks returns the unlock_reports calls that unlocked something.
func (s *Server) Unlocks() []Unlock {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.unlocks)
	for i := range out {
		out[i].AnalysisIDs = slices.Clone(out[i].AnalysisIDs)
	}
	return out
}

// UsedQuota returns the quota a key consumed.
func (s *Server) UsedQuota(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.st.keys[key]; ok {
		return k.used
	}
	return 0
}
