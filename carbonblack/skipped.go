package carbonblack

import (
	"context"
	"encoding/json"

	"github.com/soarkit/soarkit/internal/rest"
)

// SkippedItem is one search result that did not decode and was left out of
// its page (see "Malformed items" in the package documentation).
type SkippedItem = rest.SkippedItem

// WithSkipHandler calls h for every search result the client leaves out
// because it does not decode, from single pages and iterators alike.
// Skipped results are also logged at warning level and listed in the page's
// SkippedItems.
func WithSkipHandler(h func(SkippedItem)) Option {
	return func(s *rest.Settings[vendorSettings]) { s.Vendor.onSkip = h }
}

// decodeResults reads a page's "results" member item by item into results,
// keeping the items that do not decode in skipped. A skipped item's ID is
// the first of the result kinds' id fields it carries.
func decodeResults[T any](raw json.RawMessage, results *[]T, skipped *[]SkippedItem) error {
	items, sk, err := rest.DecodeItems[T](raw, "id", "process_guid", "observation_id", "event_id", "sha256_hash")
	if err != nil {
		return err
	}
	*results, *skipped = items, sk
	return nil
}

// skippingPage is a page type that records the results it skipped.
type skippingPage interface{ skipped() *[]SkippedItem }

// reportSkipped logs the results a decoded page skipped, passes them to
// the client's handler and redacts them in place.
func (c *Client) reportSkipped(ctx context.Context, op string, out any) {
	if p, ok := out.(skippingPage); ok {
		sk := p.skipped()
		*sk = c.rest.ReportSkipped(ctx, op, *sk, c.cfg.onSkip)
	}
}

func (p *AlertPage) skipped() *[]SkippedItem     { return &p.SkippedItems }
func (p *DevicePage) skipped() *[]SkippedItem    { return &p.SkippedItems }
func (p *OverridePage) skipped() *[]SkippedItem  { return &p.SkippedItems }
func (r *JobResults[T]) skipped() *[]SkippedItem { return &r.SkippedItems }

// UnmarshalJSON decodes the page, results one by one (see [SkippedItem]).
func (p *AlertPage) UnmarshalJSON(b []byte) error {
	type plain AlertPage
	var aux struct {
		plain
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = AlertPage(aux.plain)
	return decodeResults(aux.Results, &p.Results, &p.SkippedItems)
}

// UnmarshalJSON decodes the page, results one by one (see [SkippedItem]).
func (p *DevicePage) UnmarshalJSON(b []byte) error {
	type plain DevicePage
	var aux struct {
		plain
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = DevicePage(aux.plain)
	return decodeResults(aux.Results, &p.Results, &p.SkippedItems)
}

// UnmarshalJSON decodes the page, results one by one (see [SkippedItem]).
func (p *OverridePage) UnmarshalJSON(b []byte) error {
	type plain OverridePage
	var aux struct {
		plain
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = OverridePage(aux.plain)
	return decodeResults(aux.Results, &p.Results, &p.SkippedItems)
}

// UnmarshalJSON decodes the page, results one by one (see [SkippedItem]).
func (r *JobResults[T]) UnmarshalJSON(b []byte) error {
	type plain JobResults[T]
	var aux struct {
		plain
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = JobResults[T](aux.plain)
	return decodeResults(aux.Results, &r.Results, &r.SkippedItems)
}
