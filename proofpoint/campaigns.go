package proofpoint

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// CampaignsService lists the campaigns active in an interval and reads
// their details.
type CampaignsService service

// Limits of campaign id queries.
const (
	// MaxCampaignWindow is the longest interval of one campaign ids call.
	MaxCampaignWindow = 24 * time.Hour
	// MaxPageSize is the largest page of campaign ids and people.
	MaxPageSize = 200
	// DefaultPageSize is TAP's page size when none is given.
	DefaultPageSize = 100
)

// CampaignRef is one entry of a campaign ids page.
type CampaignRef struct {
	ID string `json:"id"`
	// LastUpdatedAt is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	LastUpdatedAt Time `json:"lastUpdatedAt"`
}

// CampaignIDsQuery selects a page of campaign ids.
type CampaignIDsQuery struct {
	// Interval is 30 seconds to one day.
	Interval Interval
	// Size is the page size, 1 to 200; zero means TAP's default (100).
	Size int
	// Page is the 1-based page; zero means the first.
	Page int
}

// CampaignIDsPage is one page of campaign ids.
type CampaignIDsPage struct {
	Campaigns []CampaignRef `json:"campaigns"`
	// NextPage is the page to ask for next, or 0 when this page was the
	// last (it held fewer than Size entries, or TAP answered 404).
	NextPage int `json:"-"`
}

// Campaign is a campaign's details.
type Campaign struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// StartDate is the campaign start, ISO 8601 in UTC.
	StartDate  Time     `json:"startDate"`
	Notable    bool     `json:"notable"`
	Actors     []Entity `json:"actors"`
	Families   []Entity `json:"families"`
	Malware    []Entity `json:"malware"`
	Techniques []Entity `json:"techniques"`
	Brands     []Entity `json:"brands"`
	// CampaignMembers are the threats of the campaign.
	CampaignMembers []CampaignMember `json:"campaignMembers"`
}

// CampaignMember is one threat of a campaign.
type CampaignMember struct {
	// ID is the threat id.
	ID string `json:"id"`
	// Threat is the artefact: URL, SHA-256, address.
	Threat string `json:"threat"`
	// Type is "url", "attachment", ...; SubType for example "COMPLETE_URL"
	// or "ATTACHMENT".
	Type    string `json:"type"`
	SubType string `json:"subType"`
	// ThreatTime is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	ThreatTime   Time   `json:"threatTime"`
	ThreatStatus string `json:"threatStatus,omitempty"`
}

func (q CampaignIDsQuery) check() (size, page int, err error) {
	size, page = q.Size, q.Page
	if size == 0 {
		size = DefaultPageSize
	}
	if page == 0 {
		page = 1
	}
	if size < 1 || size > MaxPageSize {
		return 0, 0, fmt.Errorf("%w: size %d is outside 1..%d", ErrInvalidRequest, q.Size, MaxPageSize)
	}
	if page < 1 {
		return 0, 0, fmt.Errorf("%w: page %d is below 1", ErrInvalidRequest, q.Page)
	}
	return size, page, checkWindow(q.Interval, time.Time{}, 0, 0, MaxCampaignWindow)
}

// ListIDs returns one page of the ids of campaigns active in q.Interval.
// TAP answers 404 for an interval without campaigns; that is returned as an
// empty page, not an error. Counts against [PoolCampaignIDs] (50 a day).
//
// API: GET /v2/campaign/ids
func (s *CampaignsService) ListIDs(ctx context.Context, q CampaignIDsQuery) (*CampaignIDsPage, error) {
	req := &rest.Request{Op: "Campaigns.ListIDs", Path: "/v2/campaign/ids"}
	size, page, err := q.check()
	if err != nil {
		return nil, s.c.refused(req, err)
	}
	v := url.Values{"interval": {q.Interval.String()}}
	if q.Size != 0 {
		v.Set("size", strconv.Itoa(size))
	}
	if q.Page != 0 {
		v.Set("page", strconv.Itoa(page))
	}
	req.Query = v
	var out CampaignIDsPage
	if err := s.c.do(ctx, PoolCampaignIDs, req, &out); err != nil {
		if errors.Is(err, ErrNotFound) {
			return &CampaignIDsPage{Campaigns: []CampaignRef{}}, nil
		}
		return nil, err
	}
	if len(out.Campaigns) >= size {
		out.NextPage = page + 1
	}
	return &out, nil
}

// AllIDs iterates over every campaign id of q.Interval, page by page from
// q.Page, each page a call against the 50-a-day pool.
//
// API: GET /v2/campaign/ids (once per page)
func (s *CampaignsService) AllIDs(ctx context.Context, q CampaignIDsQuery) iter.Seq2[CampaignRef, error] {
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]CampaignRef, string, error) {
		pq := q
		if cursor != "" {
			pq.Page, _ = strconv.Atoi(cursor)
		}
		page, err := s.ListIDs(ctx, pq)
		if err != nil {
			return nil, "", err
		}
		return page.Campaigns, pageCursor(page.NextPage), nil
	})
}

func pageCursor(next int) string {
	if next == 0 {
		return ""
	}
	return strconv.Itoa(next)
}

// Get returns a campaign's details. Not throttled.
//
// API: GET /v2/campaign/{campaignId}
func (s *CampaignsService) Get(ctx context.Context, campaignID string) (*Campaign, error) {
	req := &rest.Request{Op: "Campaigns.Get", Path: "/v2/campaign/{}", PathArgs: []string{campaignID}}
	var out Campaign
	if err := s.c.do(ctx, "", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
