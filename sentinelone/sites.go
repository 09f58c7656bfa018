package sentinelone

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// SitesService covers /sites.
type SitesService service

// Site is one site.
type Site struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	AccountID           string `json:"accountId"`
	AccountName         string `json:"accountName"`
	SiteType            string `json:"siteType"`
	State               string `json:"state"`
	SKU                 string `json:"sku"`
	Suite               string `json:"suite"`
	IsDefault           bool   `json:"isDefault"`
	HealthStatus        bool   `json:"healthStatus"`
	ActiveLicenses      int    `json:"activeLicenses"`
	TotalLicenses       int    `json:"totalLicenses"`
	UnlimitedLicenses   bool   `json:"unlimitedLicenses"`
	UnlimitedExpiration bool   `json:"unlimitedExpiration"`
	// Expiration is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	Expiration Time `json:"expiration"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt   Time            `json:"updatedAt"`
	Creator     string          `json:"creator"`
	CreatorID   string          `json:"creatorId"`
	Description string          `json:"description"`
	ExternalID  string          `json:"externalId"`
	UsageType   string          `json:"usageType"`
	Licenses    json.RawMessage `json:"licenses,omitempty"`
}

// SitesPage is one page of GET /sites. The console wraps the sites in an
// object with license totals instead of returning a list.
type SitesPage struct {
	Page[Site]
	AllSites LicenseTotals
}

// LicenseTotals is the allSites summary of GET /sites.
type LicenseTotals struct {
	ActiveLicenses int `json:"activeLicenses"`
	TotalLicenses  int `json:"totalLicenses"`
}

// SiteListOptions are the parameters of GET /sites.
type SiteListOptions struct {
	AccountID    string   `url:"accountId,omitempty"`
	AccountIDs   []string `url:"accountIds,comma,omitempty"`
	SiteIDs      []string `url:"siteIds,comma,omitempty"`
	Name         string   `url:"name,omitempty"`
	NameContains string   `url:"name__contains,omitempty"`
	State        string   `url:"state,omitempty"`
	States       []string `url:"states,comma,omitempty"`
	Query        string   `url:"query,omitempty"`
	ListOptions
}

// List returns one page of sites.
//
// API: GET /sites
func (s *SitesService) List(ctx context.Context, opts SiteListOptions) (*SitesPage, error) {
	var data struct {
		AllSites LicenseTotals `json:"allSites"`
		Sites    []Site        `json:"sites"`
	}
	p, _, err := s.c.do(ctx, &rest.Request{Op: "Sites.List", Path: "/sites", Query: opts}, &data)
	if err != nil {
		return nil, err
	}
	return &SitesPage{Page: Page[Site]{Items: data.Sites, NextCursor: p.NextCursor, TotalItems: p.TotalItems}, AllSites: data.AllSites}, nil
}

// All iterates over every matching site.
//
// API: GET /sites
func (s *SitesService) All(ctx context.Context, opts SiteListOptions) iter.Seq2[Site, error] {
	return all(ctx, opts, func(ctx context.Context, o SiteListOptions) (*Page[Site], error) {
		p, err := s.List(ctx, o)
		if err != nil {
			return nil, err
		}
		return &p.Page, nil
	})
}

// Get returns one site.
//
// API: GET /sites/{site_id}
func (s *SitesService) Get(ctx context.Context, siteID string) (*Site, error) {
	var out Site
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "Sites.Get", Path: "/sites/{}", PathArgs: []string{siteID}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
