package carbonblack

import (
	"context"
	"iter"
	"net/http"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// ReputationsService manages reputation overrides: the organisation's ban
// (BLACK_LIST) and allow (WHITE_LIST) lists.
type ReputationsService service

// Override lists and types.
const (
	OverrideBlackList = "BLACK_LIST"
	OverrideWhiteList = "WHITE_LIST"
	OverrideSHA256    = "SHA256"
	OverrideCert      = "CERT"
	OverrideITTool    = "IT_TOOL"
)

// ReputationOverride is one override. SHA256 overrides carry SHA256Hash
// (and optionally Filename); CERT overrides SignedBy; IT_TOOL overrides Path.
type ReputationOverride struct {
	ID        string `json:"id,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	// CreateTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	CreateTime            Timestamp `json:"create_time,omitzero"`
	Description           string    `json:"description,omitempty"`
	OverrideList          string    `json:"override_list"`
	OverrideType          string    `json:"override_type"`
	SHA256Hash            string    `json:"sha256_hash,omitempty"`
	Filename              string    `json:"filename,omitempty"`
	SignedBy              string    `json:"signed_by,omitempty"`
	CertificateAuthority  string    `json:"certificate_authority,omitempty"`
	Path                  string    `json:"path,omitempty"`
	IncludeChildProcesses *bool     `json:"include_child_processes,omitempty"`
}

// Create creates an override and returns it with its id.
//
// API: POST /appservices/v6/orgs/{org_key}/reputations/overrides
func (s *ReputationsService) Create(ctx context.Context, o ReputationOverride) (*ReputationOverride, error) {
	o.ID, o.CreatedBy, o.CreateTime = "", "", Timestamp{}
	return call[ReputationOverride](ctx, s.c, &rest.Request{
		Op: "Reputations.Create", Method: http.MethodPost, Path: "/appservices/v6/orgs/{}/reputations/overrides",
		PathArgs: s.c.org(), Body: rest.JSONBody(o),
	})
}

// Ban puts a SHA-256 on the organisation's ban list, unless a BLACK_LIST
// override for it exists already (then that one is returned): Carbon Black
// does not document what a duplicate create does, so search first.
//
// API: POST /appservices/v6/orgs/{org_key}/reputations/overrides/_search, then POST .../overrides
func (s *ReputationsService) Ban(ctx context.Context, sha256, filename, description string) (*ReputationOverride, error) {
	sha256 = strings.ToLower(strings.TrimSpace(sha256))
	existing, err := s.FindSHA256(ctx, OverrideBlackList, sha256)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return existing, nil
	}
	return s.Create(ctx, ReputationOverride{Description: description, OverrideList: OverrideBlackList, OverrideType: OverrideSHA256,
		SHA256Hash: sha256, Filename: filename})
}

// FindSHA256 returns the override of the list for a hash, or nil.
//
// API: POST /appservices/v6/orgs/{org_key}/reputations/overrides/_search
func (s *ReputationsService) FindSHA256(ctx context.Context, list, sha256 string) (*ReputationOverride, error) {
	q := OverrideSearch{Criteria: Criteria{"override_list": list, "override_type": OverrideSHA256}, Query: sha256, Rows: 100}
	for o, err := range s.All(ctx, q) {
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(o.SHA256Hash, sha256) {
			return &o, nil
		}
	}
	return nil, nil
}

// OverrideSearch is the body of an override search. Criteria values are
// scalars here (override_list, override_type), not lists.
type OverrideSearch struct {
	Criteria  Criteria `json:"criteria,omitempty"`
	Query     string   `json:"query,omitempty"`
	SortField string   `json:"sort_field,omitempty"`
	SortOrder string   `json:"sort_order,omitempty"`
	// Start is the 0-based offset.
	Start int `json:"start"`
	Rows  int `json:"rows,omitempty"`
}

// OverridePage is one page of override search results.
type OverridePage struct {
	Results  []ReputationOverride `json:"results"`
	NumFound int                  `json:"num_found"`
	// SkippedItems lists the results of this page that did not decode and
	// are not in Results; each was also logged and passed to the skip
	// handler.
	SkippedItems []SkippedItem `json:"-"`
}

// Search returns one page of overrides.
//
// API: POST /appservices/v6/orgs/{org_key}/reputations/overrides/_search
func (s *ReputationsService) Search(ctx context.Context, q OverrideSearch) (*OverridePage, error) {
	return call[OverridePage](ctx, s.c, &rest.Request{
		Op: "Reputations.Search", Method: http.MethodPost, Path: "/appservices/v6/orgs/{}/reputations/overrides/_search",
		PathArgs: s.c.org(), Body: rest.JSONBody(q), Idempotent: true,
	})
}

// All iterates over every override matching q (0-based paging, q.Rows per
// page, default 100).
//
// API: POST /appservices/v6/orgs/{org_key}/reputations/overrides/_search
func (s *ReputationsService) All(ctx context.Context, q OverrideSearch) iter.Seq2[ReputationOverride, error] {
	if q.Rows <= 0 {
		q.Rows = 100
	}
	if q.SortField == "" {
		q.SortField, q.SortOrder = "create_time", "asc"
	}
	return offsetPages(ctx, 0, q.Rows, 0, func(ctx context.Context, start int) ([]ReputationOverride, int, int, error) {
		q.Start = start
		page, err := s.Search(ctx, q)
		if err != nil {
			return nil, 0, 0, err
		}
		return page.Results, len(page.Results) + len(page.SkippedItems), page.NumFound, nil
	})
}

// Get returns one override.
//
// API: GET /appservices/v6/orgs/{org_key}/reputations/overrides/{id}
func (s *ReputationsService) Get(ctx context.Context, id string) (*ReputationOverride, error) {
	return call[ReputationOverride](ctx, s.c, &rest.Request{Op: "Reputations.Get", Path: "/appservices/v6/orgs/{}/reputations/overrides/{}", PathArgs: s.c.org(id)})
}

// Delete removes an override.
//
// API: DELETE /appservices/v6/orgs/{org_key}/reputations/overrides/{id}
func (s *ReputationsService) Delete(ctx context.Context, id string) error {
	_, err := s.c.do(ctx, &rest.Request{Op: "Reputations.Delete", Method: http.MethodDelete, Path: "/appservices/v6/orgs/{}/reputations/overrides/{}", PathArgs: s.c.org(id)}, nil)
	return err
}
