package sentinelone

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// UnmarshalJSON reads an engine in both shapes consoles send: an object
// {"key": "...", "title": "..."} or a bare string, which becomes both Key
// and Title.
func (e *DetectionEngine) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = DetectionEngine{Key: s, Title: s}
		return nil
	}
	type plain DetectionEngine
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("sentinelone: detection engine: %w", err)
	}
	*e = DetectionEngine(p)
	return nil
}

// MitigationStatuses is a threat's per-action mitigation list. Consoles send
// it as a list of objects; older ones send one object, a status string or a
// list of strings, each read as entries with only Status set.
type MitigationStatuses []MitigationStatus

// UnmarshalJSON accepts a list of objects or strings, one object, a string
// or null.
func (m *MitigationStatuses) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*m = nil
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = MitigationStatuses{{Status: s}}
		return nil
	case b[0] == '{':
		var one MitigationStatus
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("sentinelone: mitigation status: %w", err)
		}
		*m = MitigationStatuses{one}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return fmt.Errorf("sentinelone: mitigation status: %w", err)
	}
	out := make(MitigationStatuses, 0, len(items))
	for _, it := range items {
		var one MitigationStatuses
		if err := one.UnmarshalJSON(it); err != nil {
			return err
		}
		out = append(out, one...)
	}
	*m = out
	return nil
}

// UnmarshalJSON decodes threat details, reading mitigationStatus as a string
// or a list (its first entry) and fileSize as a number or a numeric string.
func (t *ThreatInfo) UnmarshalJSON(b []byte) error {
	type plain ThreatInfo
	var aux struct {
		plain
		MitigationStatus MitigationStatuses `json:"mitigationStatus"`
		FileSize         Int                `json:"fileSize"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*t = ThreatInfo(aux.plain)
	t.FileSize = int64(aux.FileSize)
	if len(aux.MitigationStatus) > 0 {
		t.MitigationStatus = aux.MitigationStatus[0].Status
	}
	return nil
}
