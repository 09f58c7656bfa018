package proofpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/wire"
)

// Time is a TAP timestamp. It decodes the forms TAP and its mocks use
// (RFC 3339 with or without milliseconds, offsets with or without a colon,
// a space instead of the "T") and treats null, "" and unreadable strings as
// the zero time. It
// encodes as UTC with milliseconds ("2021-04-21T17:26:30.000Z"), the form of
// TAP's event times, and the zero time as null.
type Time struct{ time.Time }

// wireLayout is how TAP writes event times.
const wireLayout = "2006-01-02T15:04:05.000Z07:00"

// ParseTime parses an ISO-8601 timestamp in any of the forms [Time] accepts
// and returns it in UTC; "" is the zero time.
func ParseTime(s string) (time.Time, error) {
	t, err := wire.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("proofpoint: %q is not an ISO-8601 time", strings.TrimSpace(s))
	}
	return t, nil
}

// UnmarshalJSON accepts a string, null, or seconds since the epoch.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		secs, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("proofpoint: time %s is neither a string nor a number", b)
		}
		parsed, ok := wire.FromSeconds(secs)
		if !ok {
			return fmt.Errorf("proofpoint: time %s is out of range", b)
		}
		t.Time = parsed
		return nil
	}
	var s string
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		s = string(b[1 : len(b)-1]) // the common case: no escapes to undo
	} else if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		t.Time = time.Time{}
		return nil
	}
	// An unreadable timestamp decodes as zero rather than failing the
	// whole body: one odd field must not lose a window of events.
	t.Time, _ = ParseTime(s)
	return nil
}

// MarshalJSON writes TAP's event-time form, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(wireLayout) + `"`), nil
}

// Interval is a time window [Start, End).
type Interval struct {
	Start time.Time
	End   time.Time
}

// Duration is End-Start.
func (i Interval) Duration() time.Duration { return i.End.Sub(i.Start) }

// IsZero reports whether both ends are unset.
func (i Interval) IsZero() bool { return i.Start.IsZero() && i.End.IsZero() }

// String formats the window as TAP's interval parameter: two UTC RFC 3339
// times (whole seconds) joined by "/".
func (i Interval) String() string {
	return formatQueryTime(i.Start) + "/" + formatQueryTime(i.End)
}

func formatQueryTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ParseInterval parses an ISO-8601 interval in the three forms TAP accepts:
// "start/end", "duration/end" (PT30M/2016-05-01T12:30:00Z) and
// "start/duration" (2016-05-01T05:00:00-0700/PT30M).
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || strings.Contains(b, "/") {
		return Interval{}, fmt.Errorf("proofpoint: interval %q must have exactly one \"/\"", s)
	}
	switch {
	case isDuration(a) && isDuration(b):
		return Interval{}, fmt.Errorf("proofpoint: interval %q has no fixed end", s)
	case isDuration(a):
		d, err := ParseDuration(a)
		if err != nil {
			return Interval{}, err
		}
		end, err := ParseTime(b)
		if err != nil {
			return Interval{}, err
		}
		return Interval{Start: end.Add(-d), End: end}, nil
	case isDuration(b):
		start, err := ParseTime(a)
		if err != nil {
			return Interval{}, err
		}
		d, err := ParseDuration(b)
		if err != nil {
			return Interval{}, err
		}
		return Interval{Start: start, End: start.Add(d)}, nil
	}
	start, err := ParseTime(a)
	if err != nil {
		return Interval{}, err
	}
	end, err := ParseTime(b)
	if err != nil {
		return Interval{}, err
	}
	return Interval{Start: start, End: end}, nil
}

func isDuration(s string) bool { return strings.HasPrefix(strings.ToUpper(s), "P") }

// ParseDuration parses an ISO-8601 duration of weeks, days, hours, minutes
// and (fractional) seconds, such as "PT30M", "PT1H30M", "P1D" or "PT45.5S".
// Years and months have no fixed length and are refused.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("proofpoint: %q is not an ISO-8601 duration", s)
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "P") || len(u) < 3 {
		return 0, bad
	}
	u = u[1:]
	var total float64
	inTime := false
	num := ""
	seen := false
	for _, r := range u {
		switch {
		case r == 'T':
			if inTime || num != "" {
				return 0, bad
			}
			inTime = true
		case r >= '0' && r <= '9' || r == '.' || r == ',':
			if r == ',' {
				r = '.'
			}
			num += string(r)
		default:
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, bad
			}
			var unit time.Duration
			switch {
			case !inTime && r == 'W':
				unit = 7 * 24 * time.Hour
			case !inTime && r == 'D':
				unit = 24 * time.Hour
			case inTime && r == 'H':
				unit = time.Hour
			case inTime && r == 'M':
				unit = time.Minute
			case inTime && r == 'S':
				unit = time.Second
			default:
				return 0, bad
			}
			total += v * float64(unit)
			num = ""
			seen = true
		}
	}
	if num != "" || !seen {
		return 0, bad
	}
	return time.Duration(total), nil
}
