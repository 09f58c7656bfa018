package sentinelone

import (
	"context"

	"github.com/soarkit/soarkit/internal/rest"
)

// SkippedItem is one list item that did not decode and was left out of its
// page (see "Malformed items" in the package documentation).
type SkippedItem = rest.SkippedItem

// WithSkipHandler calls h for every list item the client leaves out because
// it does not decode, from single pages and iterators alike. Skipped items
// are also logged at warning level and listed in Page.SkippedItems.
func WithSkipHandler(h func(SkippedItem)) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.onSkip = h }
}

// decodeItems decodes a list item by item, reporting the items it skips.
func decodeItems[T any](ctx context.Context, c *Client, op string, raw []byte) ([]T, []SkippedItem, error) {
	items, skipped, err := rest.DecodeItems[T](raw, "id", "uuid")
	if err != nil {
		return nil, nil, err
	}
	return items, c.rest.ReportSkipped(ctx, op, skipped, c.onSkip), nil
}
