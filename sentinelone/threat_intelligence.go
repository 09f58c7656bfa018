package sentinelone

import (
	"context"
	"iter"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// ThreatIntelligenceService covers /threat-intelligence/iocs. The console
// needs a token scoped to a single account (or site) for these calls and
// limits them to 30 per minute.
type ThreatIntelligenceService service

// IOC types as the console spells them.
const (
	IOCTypeDNS    = "DNS"
	IOCTypeIPv4   = "IPV4"
	IOCTypeIPv6   = "IPV6"
	IOCTypeMD5    = "MD5"
	IOCTypeSHA1   = "SHA1"
	IOCTypeSHA256 = "SHA256"
	IOCTypeURL    = "URL"
)

// IOC is an indicator to create (the required fields are Type, Value and
// Source) and, with the output fields filled, one the console returns.
type IOC struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	Source string `json:"source"`
	// Method is EQUALS (the default and only value).
	Method      string `json:"method,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	ExternalID  string `json:"externalId,omitempty"`
	// ValidUntil is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ValidUntil Time `json:"validUntil,omitzero"`
	// CreationTime is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreationTime      Time     `json:"creationTime,omitzero"`
	Reference         []string `json:"reference,omitempty"`
	Category          []string `json:"category,omitempty"`
	Metadata          string   `json:"metadata,omitempty"`
	Severity          *int     `json:"severity,omitempty"`
	OriginalRiskScore *int     `json:"originalRiskScore,omitempty"`
	Labels            []string `json:"labels,omitempty"`
	MitreTactic       []string `json:"mitreTactic,omitempty"`
	ThreatActors      []string `json:"threatActors,omitempty"`
	ThreatActorTypes  []string `json:"threatActorTypes,omitempty"`
	IntrusionSets     []string `json:"intrusionSets,omitempty"`
	CampaignNames     []string `json:"campaignNames,omitempty"`
	MalwareNames      []string `json:"malwareNames,omitempty"`
	Pattern           string   `json:"pattern,omitempty"`
	PatternType       string   `json:"patternType,omitempty"`
	Creator           string   `json:"creator,omitempty"`

	// Output fields, set by the console.
	UUID    string `json:"uuid,omitempty"`
	BatchID string `json:"batchId,omitempty"`
	Scope   string `json:"scope,omitempty"`
	ScopeID String `json:"scopeId,omitempty"`
	// UploadTime is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UploadTime Time `json:"uploadTime,omitzero"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt Time `json:"updatedAt,omitzero"`
}

// IOCListOptions are the parameters of GET /threat-intelligence/iocs.
type IOCListOptions struct {
	Scope
	UUIDs               []string `url:"uuids,comma,omitempty"`
	Type                string   `url:"type,omitempty"`
	Value               string   `url:"value,omitempty"`
	Source              string   `url:"source,omitempty"`
	BatchID             string   `url:"batchId,omitempty"`
	ExternalID          string   `url:"externalId,omitempty"`
	NameContains        string   `url:"name__contains,omitempty"`
	DescriptionContains string   `url:"description__contains,omitempty"`
	CreatorContains     string   `url:"creator__contains,omitempty"`
	UploadTimeGt        Time     `url:"uploadTime__gt,omitempty"`
	UploadTimeLt        Time     `url:"uploadTime__lt,omitempty"`
	ListOptions
}

// ListIOCs returns one page of indicators.
//
// API: GET /threat-intelligence/iocs
func (s *ThreatIntelligenceService) ListIOCs(ctx context.Context, opts IOCListOptions) (*Page[IOC], error) {
	return list[IOC](ctx, s.c, &rest.Request{Op: "ThreatIntelligence.ListIOCs", Path: "/threat-intelligence/iocs", Query: opts})
}

// AllIOCs iterates over every matching indicator.
//
// API: GET /threat-intelligence/iocs
func (s *ThreatIntelligenceService) AllIOCs(ctx context.Context, opts IOCListOptions) iter.Seq2[IOC, error] {
	return all(ctx, opts, s.ListIOCs)
}

// CreateIOCs creates all iocs in one request (the console takes a batch; a
// report's indicators should not be sent one by one) in scope and returns
// them as created. Method defaults to EQUALS.
//
// API: POST /threat-intelligence/iocs
func (s *ThreatIntelligenceService) CreateIOCs(ctx context.Context, scope Scope, iocs []IOC) ([]IOC, error) {
	if len(iocs) == 0 {
		return nil, invalidf("ThreatIntelligence.CreateIOCs", "no indicators")
	}
	if !scope.Tenant && len(scope.AccountIDs)+len(scope.SiteIDs)+len(scope.GroupIDs) == 0 {
		return nil, invalidf("ThreatIntelligence.CreateIOCs", "a scope is required (tenant, accounts, sites or groups)")
	}
	batch := make([]IOC, len(iocs))
	for i, ioc := range iocs {
		if ioc.Type == "" || ioc.Value == "" || ioc.Source == "" {
			return nil, invalidf("ThreatIntelligence.CreateIOCs", "indicator %d lacks type, value or source", i)
		}
		if ioc.Method == "" {
			ioc.Method = "EQUALS"
		}
		batch[i] = ioc
	}
	var out []IOC
	_, _, err := s.c.do(ctx, &rest.Request{Op: "ThreatIntelligence.CreateIOCs", Method: http.MethodPost, Path: "/threat-intelligence/iocs",
		Body: rest.JSONBody(actionBody{Filter: scope, Data: batch})}, &out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IOCDeleteFilter selects indicators to delete; UUIDs (or another selecting
// field) is required besides the scope.
type IOCDeleteFilter struct {
	Scope
	UUIDs  []string `json:"uuids,omitempty"`
	Value  string   `json:"value,omitempty"`
	Type   string   `json:"type,omitempty"`
	Source string   `json:"source,omitempty"`
}

// DeleteIOCs deletes the selected indicators and returns how many went.
//
// API: DELETE /threat-intelligence/iocs
func (s *ThreatIntelligenceService) DeleteIOCs(ctx context.Context, filter IOCDeleteFilter) (int, error) {
	const op = "ThreatIntelligence.DeleteIOCs"
	if err := checkSelective(op, filter); err != nil {
		return 0, err
	}
	var out affectedResult
	_, _, err := s.c.do(ctx, &rest.Request{Op: op, Method: http.MethodDelete, Path: "/threat-intelligence/iocs",
		Body: rest.JSONBody(map[string]any{"filter": filter})}, &out)
	return out.Affected, err
}
