package sentineloneconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/sentinelone"
)

// Scope resolves, once, the account and the sites the connector works in,
// the way the original did: the configured account id (checked to exist) or
// else the first account the token sees, and the configured site ids (each
// checked to belong to the account) or else every site of the account. It
// is shared by the sources and the responders; a failed resolution is tried
// again on the next call.
type Scope struct {
	c         *sentinelone.Client
	accountID string
	siteIDs   []string

	mu       sync.Mutex
	resolved *Resolved
}

// Resolved is a resolved scope.
type Resolved struct {
	// AccountID is the account's id.
	AccountID string
	// SiteIDs are the site ids in use: the configured ones, or all of the
	// account's.
	SiteIDs []string
	// SiteNames maps site ids to names.
	SiteNames map[string]string
	// Configured is true when the site ids were configured, false when they
	// are all of the account's.
	Configured bool
}

// Filter is the scope as the console's filters take it: the account and,
// when configured, the sites. Without configured sites the account alone
// selects all of them, also sites created after the resolution.
func (r *Resolved) Filter() sentinelone.Scope {
	s := sentinelone.Scope{AccountIDs: []string{r.AccountID}}
	if r.Configured {
		s.SiteIDs = slices.Clone(r.SiteIDs)
	}
	return s
}

// NewScope returns a scope for accountID (empty: the first account) and
// siteIDs (empty: all sites of the account).
func NewScope(c *sentinelone.Client, accountID string, siteIDs []string) (*Scope, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	var ids []string
	for _, id := range siteIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return &Scope{c: c, accountID: strings.TrimSpace(accountID), siteIDs: ids}, nil
}

// Resolve returns the resolved scope, reading the console on the first
// call. An account or site that does not exist is a permanent error.
func (s *Scope) Resolve(ctx context.Context) (*Resolved, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resolved != nil {
		return s.resolved, nil
	}
	opts := sentinelone.AccountListOptions{ListOptions: sentinelone.ListOptions{Limit: 1}}
	if s.accountID != "" {
		opts.AccountIDs = []string{s.accountID}
	}
	page, err := s.c.Accounts.List(ctx, opts)
	if err != nil {
		return nil, classify("listing accounts", err)
	}
	if len(page.Items) == 0 {
		what := "the token sees no account"
		if s.accountID != "" {
			what = fmt.Sprintf("account %s does not exist or is not visible to the token", s.accountID)
		}
		return nil, connector.Permanent(fmt.Errorf("sentineloneconn: %s", what))
	}
	r := &Resolved{AccountID: page.Items[0].ID, SiteNames: map[string]string{}, Configured: len(s.siteIDs) > 0}
	for site, err := range s.c.Sites.All(ctx, sentinelone.SiteListOptions{AccountID: r.AccountID}) {
		if err != nil {
			return nil, classify("listing sites", err)
		}
		r.SiteNames[site.ID] = site.Name
		if !r.Configured {
			r.SiteIDs = append(r.SiteIDs, site.ID)
		}
	}
	for _, id := range s.siteIDs {
		if _, ok := r.SiteNames[id]; !ok {
			return nil, connector.Permanent(fmt.Errorf("sentineloneconn: site %s is not a site of account %s", id, r.AccountID))
		}
		r.SiteIDs = append(r.SiteIDs, id)
	}
	s.resolved = r
	return r, nil
}
