package vmray

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/wire"
)

// Time is a VMRay timestamp. VMRay sends ISO 8601 without a zone
// ("2024-05-27T07:48:11"), which is UTC; RFC 3339 with a zone, fractional
// seconds and a space instead of "T" are accepted too. JSON null and "" decode
// to the zero Time, and the zero Time encodes as null.
type Time struct {
	time.Time
}

// ParseTime parses a VMRay timestamp in any form [Time] accepts; a timestamp
// without a zone is UTC, and "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	t, err := wire.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("vmray: unrecognised timestamp %q", strings.TrimSpace(s))
	}
	return t, nil
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
		parsed, ok := wire.FromSeconds(secs)
		if !ok {
			return fmt.Errorf("vmray: timestamp %s is out of range", b)
		}
		*t = Time{parsed}
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
	*t = Time{parsed}
	return nil
}

// MarshalJSON writes the wire format VMRay uses: UTC without a zone, or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05") + `"`), nil
}
