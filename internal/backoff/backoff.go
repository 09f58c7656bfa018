// Package backoff is the module's one computation of retry waits: capped
// exponential growth and the two jitters its users pick from. The HTTP
// engine (internal/rest) uses full jitter, the connector's Backoff equal
// jitter (a retry never comes sooner than half its nominal wait), and the
// PostgreSQL store full jitter for transaction conflicts.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Exponential returns the nominal wait before retry n (1-based): base,
// doubled for each retry after the first, capped at limit. A limit of zero
// or less means no growth: every wait is base.
func Exponential(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return max(d, 0)
}

// Full draws a wait uniformly from [0, d) ("full jitter"); it is 0 when d is.
func Full(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// Equal draws a wait uniformly from [d/2, d] ("equal jitter"), so workers
// spread out but none retries much sooner than the nominal wait.
func Equal(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
