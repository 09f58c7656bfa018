package proofpoint

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/soarkit/soarkit/internal/rest"
)

// PeopleService reads TAP's people reports: very attacked people (VAP) and
// top clickers.
type PeopleService service

// PeopleQuery selects a page of a people report.
type PeopleQuery struct {
	// Window is the report period in days: 14, 30 or 90.
	Window int
	// Size is the page size, 1 to 200; zero means TAP's default.
	Size int
	// Page is the 1-based page; zero means the first.
	Page int
}

// Identity describes a person.
type Identity struct {
	GUID           string   `json:"guid"`
	CustomerUserID string   `json:"customerUserId"`
	Emails         []string `json:"emails"`
	Name           string   `json:"name"`
	Department     string   `json:"department"`
	Location       string   `json:"location"`
	Title          string   `json:"title"`
	VIP            bool     `json:"vip"`
}

// VAPUser is a very attacked person.
type VAPUser struct {
	Identity         Identity         `json:"identity"`
	ThreatStatistics ThreatStatistics `json:"threatStatistics"`
}

// ThreatStatistics scores the attacks on a person.
type ThreatStatistics struct {
	AttackIndex int64         `json:"attackIndex"`
	Families    []FamilyScore `json:"families"`
}

// FamilyScore is a threat family's share of an attack index.
type FamilyScore struct {
	Name  string `json:"name"`
	Score int64  `json:"score"`
}

// VAPPage is one page of very attacked people.
type VAPPage struct {
	Users         []VAPUser `json:"users"`
	TotalVAPUsers int       `json:"totalVapUsers"`
	// Interval is the report period as TAP writes it ("start/end").
	Interval                string  `json:"interval"`
	AverageAttackIndex      float64 `json:"averageAttackIndex"`
	VAPAttackIndexThreshold float64 `json:"vapAttackIndexThreshold"`
	// NextPage is the page to ask for next, or 0 after the last.
	NextPage int `json:"-"`
}

// TopClicker is a person who clicked malicious URLs.
type TopClicker struct {
	Identity        Identity        `json:"identity"`
	ClickStatistics ClickStatistics `json:"clickStatistics"`
}

// ClickStatistics counts a person's clicks.
type ClickStatistics struct {
	ClickCount int64         `json:"clickCount"`
	Families   []FamilyClick `json:"families"`
}

// FamilyClick counts clicks per threat family.
type FamilyClick struct {
	Name   string `json:"name"`
	Clicks int64  `json:"clicks"`
}

// TopClickersPage is one page of top clickers.
type TopClickersPage struct {
	Users            []TopClicker `json:"users"`
	TotalTopClickers int          `json:"totalTopClickers"`
	// Interval is the report period as TAP writes it ("start/end").
	Interval string `json:"interval"`
	// NextPage is the page to ask for next, or 0 after the last.
	NextPage int `json:"-"`
}

func (q PeopleQuery) values() (url.Values, int, int, error) {
	switch q.Window {
	case 14, 30, 90:
	default:
		return nil, 0, 0, fmt.Errorf("%w: window %d is not 14, 30 or 90", ErrInvalidRequest, q.Window)
	}
	size, page := q.Size, q.Page
	if size == 0 {
		size = DefaultPageSize
	}
	if page == 0 {
		page = 1
	}
	if size < 1 || size > MaxPageSize || page < 1 {
		return nil, 0, 0, fmt.Errorf("%w: size %d must be 1..%d and page %d at least 1", ErrInvalidRequest, q.Size, MaxPageSize, q.Page)
	}
	v := url.Values{"window": {strconv.Itoa(q.Window)}}
	if q.Size != 0 {
		v.Set("size", strconv.Itoa(size))
	}
	if q.Page != 0 {
		v.Set("page", strconv.Itoa(page))
	}
	return v, size, page, nil
}

// nextPage decides whether another page follows: the page was full and the
// total (when sent) is not reached yet.
func nextPage(page, size, got, total int) int {
	if got < size || (total > 0 && page*size >= total) {
		return 0
	}
	return page + 1
}

// list fetches one page of a people report into out and returns the page
// size and number it asked for.
func (s *PeopleService) list(ctx context.Context, op, path string, pool Pool, q PeopleQuery, out any) (size, page int, err error) {
	req := &rest.Request{Op: op, Path: path}
	v, size, page, err := q.values()
	if err != nil {
		return 0, 0, s.c.refused(req, err)
	}
	req.Query = v
	return size, page, s.c.do(ctx, pool, req, out)
}

// allPages iterates over a people report page by page from q.Page.
func allPages[T any](ctx context.Context, q PeopleQuery, fetch func(context.Context, PeopleQuery) ([]T, int, error)) iter.Seq2[T, error] {
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]T, string, error) {
		pq := q
		if cursor != "" {
			pq.Page, _ = strconv.Atoi(cursor)
		}
		items, next, err := fetch(ctx, pq)
		return items, pageCursor(next), err
	})
}

// ListVAP returns one page of very attacked people. Counts against
// [PoolPeopleVAP] (50 a day).
//
// API: GET /v2/people/vap
func (s *PeopleService) ListVAP(ctx context.Context, q PeopleQuery) (*VAPPage, error) {
	var out VAPPage
	size, page, err := s.list(ctx, "People.ListVAP", "/v2/people/vap", PoolPeopleVAP, q, &out)
	if err != nil {
		return nil, err
	}
	out.NextPage = nextPage(page, size, len(out.Users), out.TotalVAPUsers)
	return &out, nil
}

// AllVAP iterates over every very attacked person, page by page from
// q.Page.
//
// API: GET /v2/people/vap (once per page)
func (s *PeopleService) AllVAP(ctx context.Context, q PeopleQuery) iter.Seq2[VAPUser, error] {
	return allPages(ctx, q, func(ctx context.Context, q PeopleQuery) ([]VAPUser, int, error) {
		page, err := s.ListVAP(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		return page.Users, page.NextPage, nil
	})
}

// ListTopClickers returns one page of top clickers. Counts against
// [PoolPeopleTopClickers] (50 a day).
//
// API: GET /v2/people/top-clickers
func (s *PeopleService) ListTopClickers(ctx context.Context, q PeopleQuery) (*TopClickersPage, error) {
	var out TopClickersPage
	size, page, err := s.list(ctx, "People.ListTopClickers", "/v2/people/top-clickers", PoolPeopleTopClickers, q, &out)
	if err != nil {
		return nil, err
	}
	out.NextPage = nextPage(page, size, len(out.Users), out.TotalTopClickers)
	return &out, nil
}

// AllTopClickers iterates over every top clicker, page by page from q.Page.
//
// API: GET /v2/people/top-clickers (once per page)
func (s *PeopleService) AllTopClickers(ctx context.Context, q PeopleQuery) iter.Seq2[TopClicker, error] {
	return allPages(ctx, q, func(ctx context.Context, q PeopleQuery) ([]TopClicker, int, error) {
		page, err := s.ListTopClickers(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		return page.Users, page.NextPage, nil
	})
}
