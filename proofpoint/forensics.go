package proofpoint

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/soarkit/soarkit/internal/rest"
)

// ForensicsService reads the sandbox evidence TAP collected for a threat or
// a campaign.
type ForensicsService service

// Forensics is the body of /v2/forensics.
type Forensics struct {
	// Generated is when TAP generated the report, ISO 8601 in UTC.
	Generated Time     `json:"generated"`
	Reports   []Report `json:"reports"`
}

// Report is the evidence for one threat or campaign.
type Report struct {
	// Scope is "THREAT" or "CAMPAIGN" (casing varies).
	Scope string `json:"scope"`
	ID    string `json:"id"`
	// Name is the URL, the SHA-256 or the campaign name.
	Name string `json:"name"`
	// Type is deprecated by Proofpoint but still sent by some tenants.
	Type string `json:"type,omitempty"`
	// ThreatStatus is set for threat reports.
	ThreatStatus string     `json:"threatStatus,omitempty"`
	Forensics    []Evidence `json:"forensics"`
}

// GetByThreat returns the forensics of one threat. With includeCampaign,
// TAP aggregates the whole campaign the threat belongs to. Counts against
// [PoolForensicsThreat] (50 a day).
//
// API: GET /v2/forensics?threatId=
func (s *ForensicsService) GetByThreat(ctx context.Context, threatID string, includeCampaign bool) (*Forensics, error) {
	q := url.Values{"threatId": {threatID}}
	if includeCampaign {
		q.Set("includeCampaignForensics", strconv.FormatBool(includeCampaign))
	}
	return s.get(ctx, "Forensics.GetByThreat", PoolForensicsThreat, threatID, q)
}

// GetByCampaign returns the forensics of a campaign. Counts against
// [PoolForensicsCampaign].
//
// API: GET /v2/forensics?campaignId=
func (s *ForensicsService) GetByCampaign(ctx context.Context, campaignID string) (*Forensics, error) {
	return s.get(ctx, "Forensics.GetByCampaign", PoolForensicsCampaign, campaignID, url.Values{"campaignId": {campaignID}})
}

func (s *ForensicsService) get(ctx context.Context, op string, pool Pool, id string, q url.Values) (*Forensics, error) {
	req := &rest.Request{Op: op, Path: "/v2/forensics", Query: q}
	if id == "" {
		return nil, s.c.refused(req, fmt.Errorf("%w: an id is required", ErrInvalidRequest))
	}
	var out Forensics
	if err := s.c.do(ctx, pool, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
