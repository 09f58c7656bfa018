package proofpoint

import "github.com/soarkit/soarkit/internal/rest"

// SkippedItem is one event that did not decode and was left out of its
// window (see "Malformed items" in the package documentation).
type SkippedItem = rest.SkippedItem

// WithSkipHandler calls h for every event the client leaves out because it
// does not decode, from single windows and polls alike. Skipped events are
// also logged at warning level and listed in Events.SkippedItems and
// Batch.SkippedItems.
func WithSkipHandler(h func(SkippedItem)) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.onSkip = h }
}
