package sentinelone

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// AccountsService covers /accounts.
type AccountsService service

// Account is one account of the tenant.
type Account struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	AccountType         string `json:"accountType"`
	State               string `json:"state"`
	UsageType           string `json:"usageType"`
	BillingMode         string `json:"billingMode"`
	ActiveAgents        int    `json:"activeAgents"`
	NumberOfSites       int    `json:"numberOfSites"`
	TotalLicenses       int    `json:"totalLicenses"`
	UnlimitedExpiration bool   `json:"unlimitedExpiration"`
	// Expiration is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	Expiration Time `json:"expiration"`
	IsDefault  bool `json:"isDefault"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt  Time            `json:"updatedAt"`
	Creator    string          `json:"creator"`
	CreatorID  string          `json:"creatorId"`
	ExternalID string          `json:"externalId"`
	Licenses   json.RawMessage `json:"licenses,omitempty"`
}

// AccountListOptions are the parameters of GET /accounts.
type AccountListOptions struct {
	AccountIDs []string `url:"accountIds,comma,omitempty"`
	Name       string   `url:"name,omitempty"`
	States     []string `url:"states,comma,omitempty"`
	Query      string   `url:"query,omitempty"`
	ListOptions
}

// List returns one page of accounts. A call with no options is also the
// usual token check.
//
// API: GET /accounts
func (s *AccountsService) List(ctx context.Context, opts AccountListOptions) (*Page[Account], error) {
	return list[Account](ctx, s.c, &rest.Request{Op: "Accounts.List", Path: "/accounts", Query: opts})
}

// All iterates over every matching account.
//
// API: GET /accounts
func (s *AccountsService) All(ctx context.Context, opts AccountListOptions) iter.Seq2[Account, error] {
	return all(ctx, opts, s.List)
}

// Get returns one account.
//
// API: GET /accounts/{account_id}
func (s *AccountsService) Get(ctx context.Context, accountID string) (*Account, error) {
	var out Account
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "Accounts.Get", Path: "/accounts/{}", PathArgs: []string{accountID}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
