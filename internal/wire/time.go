package wire

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrNotTime matches text that is not a timestamp in any known layout.
var ErrNotTime = errors.New("not a timestamp")

// layouts are tried in order. A layout without a zone reads as UTC.
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses s in any layout of the package doc and returns it in UTC.
// Empty text (after trimming) and the placeholders of [IsNull] give the zero
// time and no error. Anything else that does not parse is an error matching
// [ErrNotTime].
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if IsNull(s) {
		return time.Time{}, nil
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrNotTime, s)
}

// IsNull reports whether s is one of the placeholders vendors send for "no
// value": "", "null", "None", "N/A" (case-insensitive, surrounding space
// ignored).
func IsNull(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "null", "none", "n/a":
		return true
	}
	return false
}

// FromSeconds converts epoch seconds with an optional fraction (kept to the
// nanosecond) to a UTC time; 0 is the zero time. ok is false for NaN,
// infinities and values beyond year 33658, which are a unit mix-up
// (milliseconds sent as seconds) rather than a time.
func FromSeconds(sec float64) (t time.Time, ok bool) {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e12 {
		return time.Time{}, false
	}
	if sec == 0 {
		return time.Time{}, true
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), true
}

// ParseEpochMillis reads s as integer epoch milliseconds.
func ParseEpochMillis(s string) (time.Time, bool) {
	ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}
