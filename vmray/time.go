package vmray

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time is a VMRay timestamp. VMRay sends ISO 8601 without a zone
// ("2024-05-27T07:48:11"), which is UTC; RFC 3339 with a zone, fractional
// seconds and a space instead of "T" are accepted too. JSON null and "" decode
// to the zero Time, and the zero Time encodes as null.
type Time struct {
	time.Time
}

// timeLayouts are tried in order for timestamps without a zone.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses a VMRay timestamp; a timestamp without a zone is UTC.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Time{t.UTC()}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return Time{t}, nil
		}
	}
	return Time{}, fmt.Errorf("vmray: unrecognised timestamp %q", s)
}

// UnmarshalJSON accepts the formats described on [Time], null and Unix
// seconds.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*t = Time{}
		return nil
	}
	if b[0] != '"' {
		secs, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("vmray: timestamp %s is neither a string nor a number", b)
		}
		*t = Time{time.Unix(0, int64(secs*1e9)).UTC()}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalJSON writes the wire format VMRay uses: UTC without a zone, or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05") + `"`), nil
}
