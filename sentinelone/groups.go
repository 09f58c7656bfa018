package sentinelone

import (
	"context"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// GroupsService covers /groups.
type GroupsService service

// Group is an agent group.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SiteID      string `json:"siteId"`
	IsDefault   bool   `json:"isDefault"`
	Inherits    bool   `json:"inherits"`
	Rank        int    `json:"rank"`
	TotalAgents int    `json:"totalAgents"`
	FilterID    string `json:"filterId"`
	FilterName  string `json:"filterName"`
	Creator     string `json:"creator"`
	CreatorID   string `json:"creatorId"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt Time `json:"updatedAt"`
}

// GroupListOptions are the parameters of GET /groups.
type GroupListOptions struct {
	GroupIDs  []string `url:"groupIds,comma,omitempty"`
	SiteIDs   []string `url:"siteIds,comma,omitempty"`
	Type      string   `url:"type,omitempty"`
	Name      string   `url:"name,omitempty"`
	IsDefault *bool    `url:"isDefault,omitempty"`
	Query     string   `url:"query,omitempty"`
	ListOptions
}

// List returns one page of groups.
//
// API: GET /groups
func (s *GroupsService) List(ctx context.Context, opts GroupListOptions) (*Page[Group], error) {
	return list[Group](ctx, s.c, &rest.Request{Op: "Groups.List", Path: "/groups", Query: opts})
}

// All iterates over every matching group.
//
// API: GET /groups
func (s *GroupsService) All(ctx context.Context, opts GroupListOptions) iter.Seq2[Group, error] {
	return all(ctx, opts, s.List)
}
