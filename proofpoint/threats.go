package proofpoint

import (
	"context"
	"encoding/json"

	"github.com/soarkit/soarkit/internal/rest"
)

// ThreatsService reads threat summaries.
type ThreatsService service

// ThreatSummary describes one threat. TAP's documentation and recorded
// payloads disagree on three names (severityScore/severity,
// verticallyTargeted/verticals, geoTargeted/geographies); both decode.
type ThreatSummary struct {
	ID string `json:"id"`
	// IdentifiedAt is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	IdentifiedAt Time   `json:"identifiedAt"`
	Name         string `json:"name"`
	// Type is "attachment", "url" or "message text".
	Type string `json:"type"`
	// Category is "impostor", "malware", "phish" or "spam".
	Category string `json:"category"`
	// Status is "active", "cleared" or "falsePositive".
	Status        string `json:"status"`
	DetectionType string `json:"detectionType,omitempty"`
	// SeverityScore is 0-1000.
	SeverityScore int64 `json:"severityScore"`
	// AttackSpread is the number of customers attacked.
	AttackSpread       int64    `json:"attackSpread"`
	Notable            bool     `json:"notable"`
	VerticallyTargeted bool     `json:"verticallyTargeted"`
	GeoTargeted        bool     `json:"geoTargeted"`
	Actors             []Entity `json:"actors"`
	Families           []Entity `json:"families"`
	Malware            []Entity `json:"malware"`
	Techniques         []Entity `json:"techniques"`
	Brands             []Entity `json:"brands"`
}

// UnmarshalJSON decodes both spellings of the disputed fields.
func (t *ThreatSummary) UnmarshalJSON(b []byte) error {
	type plain ThreatSummary
	var aux struct {
		plain
		Severity    *int64 `json:"severity"`
		Verticals   *bool  `json:"verticals"`
		Geographies *bool  `json:"geographies"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*t = ThreatSummary(aux.plain)
	var has struct {
		SeverityScore      *json.RawMessage `json:"severityScore"`
		VerticallyTargeted *json.RawMessage `json:"verticallyTargeted"`
		GeoTargeted        *json.RawMessage `json:"geoTargeted"`
	}
	_ = json.Unmarshal(b, &has)
	if has.SeverityScore == nil && aux.Severity != nil {
		t.SeverityScore = *aux.Severity
	}
	if has.VerticallyTargeted == nil && aux.Verticals != nil {
		t.VerticallyTargeted = *aux.Verticals
	}
	if has.GeoTargeted == nil && aux.Geographies != nil {
		t.GeoTargeted = *aux.Geographies
	}
	return nil
}

// GetSummary returns a threat's summary. Not throttled.
//
// API: GET /v2/threat/summary/{threatId}
func (s *ThreatsService) GetSummary(ctx context.Context, threatID string) (*ThreatSummary, error) {
	req := &rest.Request{Op: "Threats.GetSummary", Path: "/v2/threat/summary/{}", PathArgs: []string{threatID}}
	var out ThreatSummary
	if err := s.c.do(ctx, "", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
