package vmray

import "github.com/soarkit/soarkit/internal/rest"

// SkippedItem is one list item that did not decode and was left out of its
// chunk (see "Malformed items" in the package documentation).
type SkippedItem = rest.SkippedItem

// WithSkipHandler calls h for every list item the client leaves out because
// it does not decode, from single chunks and iterators alike. Skipped items
// are also logged at warning level and listed in Page.SkippedItems.
func WithSkipHandler(h func(SkippedItem)) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.onSkip = h }
}
