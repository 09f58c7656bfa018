package sentinelonetest

import (
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
)

// ManualClock is a [Clock] that moves only when told (Advance, Set). It is
// safe for concurrent use.
type ManualClock = fakehttp.ManualClock

// NewManualClock returns a clock set to t, for [WithClock].
func NewManualClock(t time.Time) *ManualClock { return fakehttp.NewManualClock(t) }
