package connector

import (
	"fmt"
	"strings"
	"time"
)

// Kind is the class of a verdict. Kinds are ordered by severity: Unknown < Clean < Suspicious < Malicious.
type Kind uint8

// The verdict kinds. The zero value is Unknown.
const (
	Unknown Kind = iota
	Clean
	Suspicious
	Malicious
)

var kindNames = [...]string{"unknown", "clean", "suspicious", "malicious"}

// String returns "unknown", "clean", "suspicious" or "malicious".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind parses a kind name (case-insensitive; "n/a" and "" mean unknown).
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "unknown", "n/a":
		return Unknown, nil
	case "clean", "benign":
		return Clean, nil
	case "suspicious":
		return Suspicious, nil
	case "malicious":
		return Malicious, nil
	}
	return Unknown, fmt.Errorf("connector: unknown verdict kind %q", s)
}

// MarshalText encodes the kind by name.
func (k Kind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, fmt.Errorf("connector: verdict kind %d out of range", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	parsed, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = parsed
	return nil
}

// KindSet is a set of verdict kinds, used by gates and by the resubmission policy. The zero value is empty.
type KindSet uint8

// Kinds returns the set of the given kinds.
func Kinds(kinds ...Kind) KindSet {
	var s KindSet
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// ParseKinds parses kind names (see ParseKind) into a set.
func ParseKinds(names ...string) (KindSet, error) {
	var s KindSet
	for _, n := range names {
		k, err := ParseKind(n)
		if err != nil {
			return 0, err
		}
		s |= Kinds(k)
	}
	return s, nil
}

// Has reports whether k is in the set.
func (s KindSet) Has(k Kind) bool { return k <= Malicious && s&(1<<k) != 0 }

// String lists the kinds in the set, for example "suspicious,malicious".
func (s KindSet) String() string {
	var names []string
	for k := Unknown; k <= Malicious; k++ {
		if s.Has(k) {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, ",")
}

// Verdict is what an analyzer (or a source) concluded about a file.
type Verdict struct {
	// Kind is the verdict class.
	Kind Kind `json:"kind"`
	// Score is the analyzer's own score (VMRay VTI score 0-100, TAP malware score 0-100); 0 when it has none.
	Score float64 `json:"score,omitempty"`
	// Severity is 1 (lowest) to 10 (highest), or 0 when unknown; adapters map their vendor's scale onto it.
	Severity int `json:"severity,omitempty"`
	// Classifications are malware families or categories ("Ransomware", "Downloader").
	Classifications []string `json:"classifications,omitempty"`
	// ThreatNames are the analyzer's threat names.
	ThreatNames []string `json:"threat_names,omitempty"`
	// VTIs are the behaviour indicators the analysis observed.
	VTIs []VTI `json:"vtis,omitempty"`
	// IOCs are the indicators of compromise the analysis extracted.
	IOCs []IOC `json:"iocs,omitempty"`
	// ReportURL links to the analysis report.
	ReportURL string `json:"report_url,omitempty"`
	// Analyzer names the analyzer (or source) that produced the verdict.
	Analyzer string `json:"analyzer,omitempty"`
	// AnalysisID is the analyzer's id for the analysed sample or analysis (for example the VMRay sample id).
	AnalysisID string `json:"analysis_id,omitempty"`
	// SampleHashes are the hashes of the analysed sample as the analyzer reports them. For a full sample they are
	// hashes of the same file and the engine records them as aliases; for a truncated sample they differ.
	SampleHashes Hashes `json:"sample_hashes,omitzero"`
	// Time is when the verdict was reached, if the analyzer says.
	Time time.Time `json:"time,omitzero"`
	// Attributes hold further analyzer facts (for example "sample_type": "Windows Exe (x86-32)").
	Attributes map[string]string `json:"attributes,omitempty"`
}

// IOCsOf returns the values of the IOCs of type t, in order, without duplicates.
func (v Verdict) IOCsOf(t IOCType) []string {
	var out []string
	seen := map[string]bool{}
	for _, ioc := range v.IOCs {
		if ioc.Type == t && !seen[ioc.Value] {
			seen[ioc.Value] = true
			out = append(out, ioc.Value)
		}
	}
	return out
}

// VTI is one behaviour indicator of an analysis (a VMRay Threat Identifier).
type VTI struct {
	Category        string   `json:"category,omitempty"`
	Operation       string   `json:"operation,omitempty"`
	Classifications []string `json:"classifications,omitempty"`
	// Score is the indicator's weight on the analyzer's scale (VMRay: 1-5), 0 when unknown.
	Score int `json:"score,omitempty"`
}

// IOCType is the type of an indicator of compromise.
type IOCType string

// The IOC types. IP addresses of both families use IOCIP; tell them apart with net/netip.
const (
	IOCSHA256      IOCType = "sha256"
	IOCSHA1        IOCType = "sha1"
	IOCMD5         IOCType = "md5"
	IOCIP          IOCType = "ip"
	IOCDomain      IOCType = "domain"
	IOCURL         IOCType = "url"
	IOCFileName    IOCType = "file_name"
	IOCRegistryKey IOCType = "registry_key"
	IOCCommandLine IOCType = "command_line"
	IOCProcessName IOCType = "process_name"
	IOCMutex       IOCType = "mutex"
	IOCEmail       IOCType = "email"
)

// IOC is one indicator of compromise.
type IOC struct {
	Type  IOCType `json:"type"`
	Value string  `json:"value"`
	// Verdict is the analyzer's verdict on this indicator, when it gives one.
	Verdict Kind `json:"verdict,omitempty"`
	// Classifications of the indicator (a file IOC classified "Ransomware" is usually a victim file, not malware).
	Classifications []string `json:"classifications,omitempty"`
}

// Finding is what a Responder acts on: the evidence (with every sighting known so far) and its verdict.
type Finding struct {
	// Key is the evidence's durable identity in the engine.
	Key Key `json:"key"`
	// Evidence is the merged evidence of the file.
	Evidence Evidence `json:"evidence"`
	// Verdict is the verdict the engine holds for the file.
	Verdict Verdict `json:"verdict"`
	// Sighting is the sighting this action is for when the responder's scope is ScopeSighting or ScopeDevice; nil
	// for ScopeEvidence.
	Sighting *Sighting `json:"sighting,omitempty"`
	// Target is the action's key within the evidence: "" for ScopeEvidence, the sighting key for ScopeSighting and
	// the device key for ScopeDevice. Together with the responder name and Key it identifies the action.
	Target string `json:"target,omitempty"`
	// EarlierAttempt is when the engine started an earlier attempt of this action that did not finish, or the latest
	// attempt of the same responder on the same target for another file (a device that saw two files); zero when
	// none is recorded. The engine records an attempt's start in the Store before it calls the responder, so the time
	// survives a crash. A responder whose vendor applies requests late (device actions, list writes) reads it: when
	// the target does not show the effect yet and the attempt is within the responder's settle window, it returns
	// RetryLater(fmt.Errorf("...: %w", ErrActionSettling), rest of the window) instead of sending a second request.
	EarlierAttempt time.Time `json:"earlier_attempt,omitzero"`
}
