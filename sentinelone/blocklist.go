package sentinelone

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// BlocklistService covers /restrictions, the hash blocklist.
type BlocklistService service

// RestrictionBlackHash is the restriction type of a blocked hash.
const RestrictionBlackHash = "black_hash"

// Restriction is one blocklist entry.
type Restriction struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	Value       string           `json:"value"`
	OSType      string           `json:"osType"`
	Description string           `json:"description"`
	Source      string           `json:"source"`
	UserID      string           `json:"userId"`
	UserName    string           `json:"userName"`
	ScopeName   string           `json:"scopeName"`
	ScopePath   string           `json:"scopePath"`
	Scope       RestrictionScope `json:"scope"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt       Time   `json:"updatedAt"`
	NotRecommended  String `json:"notRecommended"`
	Imported        bool   `json:"imported"`
	IncludeChildren bool   `json:"includeChildren"`
	IncludeParents  bool   `json:"includeParents"`
}

// RestrictionScope is where an entry applies.
type RestrictionScope struct {
	AccountIDs []string `json:"accountIds,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty"`
	Tenant     bool     `json:"tenant,omitempty"`
}

// RestrictionListOptions are the parameters of GET /restrictions.
type RestrictionListOptions struct {
	Scope
	// Type defaults to black_hash on the console.
	Type string   `url:"type,omitempty"`
	IDs  []string `url:"ids,comma,omitempty"`
	// Value matches exactly and is case-sensitive; ValueContains is not.
	Value           string   `url:"value,omitempty"`
	ValueContains   string   `url:"value__contains,omitempty"`
	OSTypes         []string `url:"osTypes,comma,omitempty"`
	IncludeChildren bool     `url:"includeChildren,omitempty"`
	IncludeParents  bool     `url:"includeParents,omitempty"`
	Query           string   `url:"query,omitempty"`
	ListOptions
}

// List returns one page of blocklist entries.
//
// API: GET /restrictions
func (s *BlocklistService) List(ctx context.Context, opts RestrictionListOptions) (*Page[Restriction], error) {
	return list[Restriction](ctx, s.c, &rest.Request{Op: "Blocklist.List", Path: "/restrictions", Query: opts})
}

// All iterates over every matching entry.
//
// API: GET /restrictions
func (s *BlocklistService) All(ctx context.Context, opts RestrictionListOptions) iter.Seq2[Restriction, error] {
	return all(ctx, opts, s.List)
}

// NewRestriction is the data of one blocklist entry to create.
type NewRestriction struct {
	// Type defaults to black_hash.
	Type string `json:"type"`
	// Value is the SHA1 (some consoles also take SHA256).
	Value string `json:"value"`
	// OSType is windows, macos, linux or windows_legacy; one entry covers
	// one OS.
	OSType      string `json:"osType"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source,omitempty"`
}

// CreateResult is the outcome of Create: the created entry, or
// AlreadyExists when the console reported the hash as already blocked in that
// scope (code 4000030), which is not a failure.
type CreateResult struct {
	Restriction   *Restriction
	AlreadyExists bool
}

// Create adds a hash to the blocklist for one OS type in scope (tenant, or
// account, site or group ids; an empty scope is refused because the console
// needs one).
//
// API: POST /restrictions
func (s *BlocklistService) Create(ctx context.Context, scope Scope, r NewRestriction) (*CreateResult, error) {
	if r.Type == "" {
		r.Type = RestrictionBlackHash
	}
	if r.Value == "" || r.OSType == "" {
		return nil, invalidf("Blocklist.Create", "value and osType are required")
	}
	if !scope.Tenant && len(scope.AccountIDs)+len(scope.SiteIDs)+len(scope.GroupIDs) == 0 {
		return nil, invalidf("Blocklist.Create", "a scope is required (tenant, accounts, sites or groups)")
	}
	var out []Restriction
	_, _, err := s.c.do(ctx, &rest.Request{Op: "Blocklist.Create", Method: http.MethodPost, Path: "/restrictions",
		Body: rest.JSONBody(actionBody{Filter: scope, Data: r})}, &out)
	if errors.Is(err, ErrAlreadyExists) {
		return &CreateResult{AlreadyExists: true}, nil
	}
	if err != nil {
		return nil, err
	}
	res := &CreateResult{}
	if len(out) > 0 {
		res.Restriction = &out[0]
	}
	return res, nil
}

// CreateForOSTypes creates the same entry for each OS type (the console keeps
// one entry per value, OS and scope) and returns the results in order.
//
// API: POST /restrictions
func (s *BlocklistService) CreateForOSTypes(ctx context.Context, scope Scope, r NewRestriction, osTypes ...string) ([]CreateResult, error) {
	out := make([]CreateResult, 0, len(osTypes))
	for _, os := range osTypes {
		r.OSType = os
		res, err := s.Create(ctx, scope, r)
		if err != nil {
			return out, err
		}
		out = append(out, *res)
	}
	return out, nil
}

// Delete removes blocklist entries by id and returns how many went, or -1
// when the console answers without a count (some answer {"data":[]}).
//
// API: DELETE /restrictions
func (s *BlocklistService) Delete(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, invalidf("Blocklist.Delete", "no ids")
	}
	body := map[string]any{"data": map[string]any{"ids": ids, "type": RestrictionBlackHash}}
	var out struct {
		Affected int `json:"affected"`
	}
	// Some consoles answer {"data":[]}; only an object carries a count.
	var raw rawData
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "Blocklist.Delete", Method: http.MethodDelete, Path: "/restrictions", Body: rest.JSONBody(body)}, &raw); err != nil {
		return 0, err
	}
	if raw.object(&out) {
		return out.Affected, nil
	}
	return -1, nil
}

// rawData captures a data member whose shape varies.
type rawData []byte

// UnmarshalJSON keeps the raw bytes.
func (r *rawData) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// object decodes r into out when it is a JSON object.
func (r rawData) object(out any) bool {
	if len(r) == 0 || r[0] != '{' {
		return false
	}
	return json.Unmarshal(r, out) == nil
}
