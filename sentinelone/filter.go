package sentinelone

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// Scope restricts a request to accounts, sites or groups, or asks for the
// whole tenant. It is embedded in every filter; in query strings the lists
// are comma-separated, in action bodies they are JSON arrays.
type Scope struct {
	AccountIDs []string `json:"accountIds,omitempty" url:"accountIds,comma,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty" url:"siteIds,comma,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty" url:"groupIds,comma,omitempty"`
	Tenant     bool     `json:"tenant,omitempty" url:"tenant,omitempty"`
}

// actionBody is the {"filter":{...},"data":{...}} body of bulk actions.
type actionBody struct {
	Filter any `json:"filter"`
	Data   any `json:"data"`
}

// scopeKeys are filter keys that only widen or narrow the scope and do not
// select objects by themselves.
var scopeKeys = map[string]bool{"accountIds": true, "siteIds": true, "tenant": true}

// checkSelective refuses a filter whose only keys are scope keys: the console
// applies such a filter to every object in the scope.
func checkSelective(op string, filter any) error {
	data, err := json.Marshal(filter)
	if err != nil {
		return fmt.Errorf("sentinelone: %s: encoding filter: %w", op, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("sentinelone: %s: encoding filter: %w", op, err)
	}
	for k, v := range m {
		if !scopeKeys[k] && string(v) != "[]" && string(v) != `""` && string(v) != "null" {
			return nil
		}
	}
	return fmt.Errorf("sentinelone: %s: %w", op, ErrEmptyFilter)
}

// all iterates over every page of a list call, starting at the options'
// cursor. A zero Limit becomes MaxLimit; Skip applies to the first page only.
func all[T any, O any, PO interface {
	*O
	pager
}](ctx context.Context, opts O, fetch func(context.Context, O) (*Page[T], error)) iter.Seq2[T, error] {
	lo := PO(&opts).listOptions()
	if lo.Limit == 0 {
		lo.Limit = MaxLimit
	}
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]T, string, error) {
		o := opts
		if cursor != "" { // a later page; the first one keeps the caller's cursor
			po := PO(&o).listOptions()
			po.Cursor, po.Skip = cursor, 0
		}
		p, err := fetch(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return p.Items, p.NextCursor, nil
	})
}

// invalidf reports a request refused before sending.
func invalidf(op, format string, args ...any) error {
	return fmt.Errorf("sentinelone: %s: %w: %s", op, ErrInvalidRequest, fmt.Sprintf(format, args...))
}
