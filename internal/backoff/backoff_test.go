package backoff

import (
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	for _, tt := range []struct {
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{time.Second, time.Minute, 1, time.Second},
		{time.Second, time.Minute, 2, 2 * time.Second},
		{time.Second, time.Minute, 4, 8 * time.Second},
		{time.Second, time.Minute, 7, time.Minute}, // 64 s capped
		{time.Second, time.Minute, 200, time.Minute},
		{time.Second, 0, 5, time.Second},                                 // no limit: no growth
		{time.Second, 500 * time.Millisecond, 1, 500 * time.Millisecond}, // limit below base caps
		{0, time.Minute, 3, 0},
		{time.Second, time.Minute, 0, time.Second},
	} {
		if got := Exponential(tt.base, tt.limit, tt.n); got != tt.want {
			t.Errorf("Exponential(%v, %v, %d) = %v, want %v", tt.base, tt.limit, tt.n, got, tt.want)
		}
	}
}

// The jitters stay in their ranges and actually vary (draws are random; the
// bounds hold for every draw, and 200 equal draws from a 1 s range would
// happen with probability 1e-1800).
func TestJitterRanges(t *testing.T) {
	const d = time.Second
	seenFull, seenEqual := map[time.Duration]bool{}, map[time.Duration]bool{}
	for range 200 {
		f, e := Full(d), Equal(d)
		if f < 0 || f >= d {
			t.Fatalf("Full(%v) = %v", d, f)
		}
		if e < d/2 || e > d {
			t.Fatalf("Equal(%v) = %v", d, e)
		}
		seenFull[f], seenEqual[e] = true, true
	}
	if len(seenFull) < 2 || len(seenEqual) < 2 {
		t.Errorf("no jitter: %d and %d distinct draws", len(seenFull), len(seenEqual))
	}
	if Full(0) != 0 || Equal(0) != 0 || Full(-time.Second) != 0 || Equal(-time.Second) != 0 {
		t.Error("a zero or negative wait must stay zero")
	}
}
