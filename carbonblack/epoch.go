package carbonblack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// EpochSeconds decodes a time Carbon Black sends as Unix epoch seconds:
// Live Response process create_time and directory-list file times
// (create_time, last_access_time, last_write_time), for example 1476390670
// for 2016-10-13T20:31:10Z. It accepts a number (a fraction is kept to the
// nanosecond), a numeric string, an RFC 3339 string, and null, 0, "" or
// "null" (the zero time). It encodes as whole seconds, or null when zero.
// Session times are not of this type: they are epoch milliseconds or RFC 3339
// strings ([Timestamp]).
type EpochSeconds struct{ time.Time }

// MarshalJSON writes the whole seconds since the epoch, or null when zero.
func (t EpochSeconds) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, t.Unix(), 10), nil
}

// UnmarshalJSON accepts epoch seconds as a number or string, an RFC 3339
// string, or null.
func (t *EpochSeconds) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			parsed, err := ParseTime(s)
			if err != nil {
				return err
			}
			t.Time = parsed
			return nil
		}
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("carbonblack: epoch seconds %s: %w", b, err)
	}
	parsed, ok := fromSeconds(sec)
	if !ok {
		return fmt.Errorf("carbonblack: epoch seconds %s: out of range", b)
	}
	t.Time = parsed
	return nil
}

// fromSeconds converts epoch seconds with an optional fraction; 0 is the
// zero time, and values beyond year 33658 (a unit mix-up) are refused.
func fromSeconds(sec float64) (time.Time, bool) {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e12 {
		return time.Time{}, false
	}
	if sec == 0 {
		return time.Time{}, true
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), true
}
