package vmray

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Verdict is VMRay's verdict ("VerdictTypeEnum"). Decoding lower-cases it,
// so casing variants compare equal to the constants.
type Verdict string

// Verdicts.
const (
	VerdictNotAvailable Verdict = "not_available"
	VerdictClean        Verdict = "clean"
	VerdictSuspicious   Verdict = "suspicious"
	VerdictMalicious    Verdict = "malicious"
)

// UnmarshalJSON lower-cases the verdict and maps null to "".
func (v *Verdict) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil {
		*v = ""
		return nil
	}
	*v = Verdict(strings.ToLower(strings.TrimSpace(*s)))
	return nil
}

// MarshalJSON writes "" as null, as VMRay does for a missing verdict.
func (v Verdict) MarshalJSON() ([]byte, error) { return nullableString(string(v)) }

// Known reports whether v is clean, suspicious or malicious.
func (v Verdict) Known() bool {
	return v == VerdictClean || v == VerdictSuspicious || v == VerdictMalicious
}

// Severity is VMRay's deprecated severity ("SeverityTypeEnum"), still sent
// next to the verdict and the only judgement of servers older than 4.0.
type Severity string

// Severities.
const (
	SeverityMalicious     Severity = "malicious"
	SeveritySuspicious    Severity = "suspicious"
	SeverityUnknown       Severity = "unknown"
	SeverityNotSuspicious Severity = "not_suspicious"
	SeverityWhitelisted   Severity = "whitelisted"
	SeverityBlacklisted   Severity = "blacklisted"
	// SeverityError marked failed analyses on older servers.
	SeverityError Severity = "error"
)

// UnmarshalJSON lower-cases the severity and maps null to "".
func (s *Severity) UnmarshalJSON(b []byte) error {
	var v Verdict
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*s = Severity(v)
	return nil
}

// MarshalJSON writes "" as null.
func (s Severity) MarshalJSON() ([]byte, error) { return nullableString(string(s)) }

func nullableString(s string) ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(s)
}

// VerdictFromSeverity maps a deprecated severity to a verdict the way VMRay's
// own client does for servers without verdicts: not_suspicious and
// whitelisted are clean, blacklisted is malicious, suspicious and malicious
// stay, anything else is not available.
func VerdictFromSeverity(s Severity) Verdict {
	switch Severity(strings.ToLower(string(s))) {
	case SeverityNotSuspicious, SeverityWhitelisted:
		return VerdictClean
	case SeveritySuspicious:
		return VerdictSuspicious
	case SeverityMalicious, SeverityBlacklisted:
		return VerdictMalicious
	}
	return VerdictNotAvailable
}

// VerdictFromScore maps a 0-100 score to a verdict: 0-24 clean, 25-74
// suspicious, 75-100 malicious.
func VerdictFromScore(score int) Verdict {
	switch {
	case score < 0:
		return VerdictNotAvailable
	case score < 25:
		return VerdictClean
	case score < 75:
		return VerdictSuspicious
	}
	return VerdictMalicious
}

// effectiveVerdict picks the verdict, else the severity's, else the score's.
func effectiveVerdict(v Verdict, sev Severity, score *Score) Verdict {
	if v != "" {
		return v
	}
	if sev != "" {
		if fv := VerdictFromSeverity(sev); fv != VerdictNotAvailable {
			return fv
		}
	}
	if score != nil {
		return VerdictFromScore(int(*score))
	}
	return VerdictNotAvailable
}

// Score is a 0-100 score. Servers send an integer; older ones sent a float,
// a numeric string or a verdict word, which decode as 0 (clean), 50
// (suspicious) and 100 (malicious).
type Score int

// UnmarshalJSON accepts the variants described on [Score].
func (s *Score) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		switch Verdict(strings.ToLower(strings.TrimSpace(text))) {
		case VerdictClean:
			*s = 0
			return nil
		case VerdictSuspicious:
			*s = 50
			return nil
		case VerdictMalicious:
			*s = 100
			return nil
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("vmray: score %s is not a number", b)
	}
	*s = Score(math.Floor(f))
	return nil
}
