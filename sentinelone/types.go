package sentinelone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/wire"
)

// Time is a timestamp that decodes every form the console sends: RFC 3339
// with or without fraction or offset, no zone at all (read as UTC), epoch
// milliseconds, and the placeholders null, "", "None" and booleans (which
// read as the zero time). It encodes as RFC 3339 UTC with microseconds, the
// console's own format, in JSON bodies and query strings alike.
type Time struct{ time.Time }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

// wireLayout is how the console writes timestamps.
const wireLayout = "2006-01-02T15:04:05.000000Z"

// ParseTime parses a console timestamp in any form [Time] accepts; the
// placeholders "", "None", "null" and "N/A" are the zero time.
func ParseTime(s string) (time.Time, error) {
	if t, ok := wire.ParseEpochMillis(s); ok {
		return t, nil
	}
	t, err := wire.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sentinelone: unrecognised timestamp %q", strings.TrimSpace(s))
	}
	return t, nil
}

// UnmarshalJSON decodes leniently; unparseable text reads as the zero time
// rather than failing the whole response.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' || b[0] == 't' || b[0] == 'f' {
		t.Time = time.Time{}
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		t.Time, _ = ParseTime(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if ms, err := n.Int64(); err == nil {
		t.Time = time.UnixMilli(ms).UTC()
	}
	return nil
}

// MarshalJSON writes the console's format, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(wireLayout))
}

// EncodeValues writes the console's format into a query string.
func (t Time) EncodeValues(key string, v *url.Values) error {
	if !t.IsZero() {
		v.Set(key, t.UTC().Format(wireLayout))
	}
	return nil
}

// FlexBool decodes JSON booleans and the strings "True"/"False" (in any case,
// or "1"/"0") that some console fields carry; null and other text read as
// false.
type FlexBool bool

// UnmarshalJSON decodes leniently.
func (b *FlexBool) UnmarshalJSON(data []byte) error {
	s, _, _ := wire.Scalar(data)
	v, _ := wire.ParseBool(s)
	*b = FlexBool(v)
	return nil
}

// FlexString decodes a JSON string or number (some ids inside activity data are
// numbers) into text; null reads as "", and an array (the IOC scopeId is
// sometimes one) reads as its first element. It encodes as a JSON string.
type FlexString string

// UnmarshalJSON decodes a string, number or null.
func (s *FlexString) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		*s = ""
	case data[0] == '"':
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = FlexString(v)
	case data[0] == '[':
		var list []FlexString
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		*s = ""
		if len(list) > 0 {
			*s = list[0]
		}
	default:
		*s = FlexString(data)
	}
	return nil
}

// FlexInt decodes a JSON number or a numeric string (free-form activity data
// carries both); null and other text read as 0.
type FlexInt int64

// UnmarshalJSON decodes leniently.
func (n *FlexInt) UnmarshalJSON(data []byte) error {
	s, _, _ := wire.Scalar(data)
	v, err := wire.ParseInt(s)
	if err != nil {
		v = 0
	}
	*n = FlexInt(v)
	return nil
}

// SortOrder is asc or desc.
type SortOrder string

// Sort orders.
const (
	Ascending  SortOrder = "asc"
	Descending SortOrder = "desc"
)

// ListOptions are the paging and sorting parameters every list endpoint
// takes. Limit is 1..1000 (the console's default is 10; the All iterators
// use 1000 when it is zero). Skip is at most 1000; use cursors beyond.
type ListOptions struct {
	Limit     int       `url:"limit,omitempty"`
	Skip      int       `url:"skip,omitempty"`
	Cursor    string    `url:"cursor,omitempty"`
	SortBy    string    `url:"sortBy,omitempty"`
	SortOrder SortOrder `url:"sortOrder,omitempty"`
	CountOnly bool      `url:"countOnly,omitempty"`
	SkipCount bool      `url:"skipCount,omitempty"`
}

// pager is implemented by every list options struct through ListOptions.
type pager interface{ listOptions() *ListOptions }

func (o *ListOptions) listOptions() *ListOptions { return o }

// MaxLimit is the largest page the list endpoints accept.
const MaxLimit = 1000
