package soak

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
)

// FaultKinds names the faults a soak run puts on every route of every fake,
// in the order they are tried.
var FaultKinds = []string{"429", "5xx", "reset", "slow", "lost answer", "delayed effect"}

// fake is what the harness needs of a vendor fake (every fake and the
// webhook receiver have it).
type fake interface {
	InjectFault(fakehttp.Fault)
	ClearFaults()
	SetFaultSeed(seed uint64)
	PendingEffects() int
	WaitDelayedEffects(ctx context.Context) error
}

// faults returns the faults of the named kinds (every kind when none is
// named) that, tried in order, answer rate of all requests with a fault,
// each kind taking an equal share: the middleware draws each fault's Rate
// only for requests no earlier fault took, so the k-th fault's Rate is
// share/(1-k*share).
func faults(rate float64, kinds []string, slow, effect time.Duration) ([]fakehttp.Fault, error) {
	all := map[string]fakehttp.Fault{
		"429":            {Status: http.StatusTooManyRequests, RetryAfter: "1", Body: `{"error":"rate limited (soak fault)"}`},
		"5xx":            {Status: http.StatusServiceUnavailable, Body: `{"error":"unavailable (soak fault)"}`},
		"reset":          {Drop: true},
		"slow":           {Latency: slow},
		"lost answer":    {LostAnswer: true},
		"delayed effect": {DelayedEffect: effect},
	}
	if len(kinds) == 0 {
		kinds = FaultKinds
	}
	share := rate / float64(len(kinds))
	out := make([]fakehttp.Fault, 0, len(kinds))
	for k, name := range kinds {
		f, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("soak: unknown fault kind %q (use %s)", name, strings.Join(FaultKinds, ", "))
		}
		f.Rate = share / (1 - float64(k)*share)
		out = append(out, f)
	}
	return out, nil
}

// injectFaults puts faults on every route of f with the given generator
// seed.
func injectFaults(f fake, seed uint64, faults []fakehttp.Fault) {
	f.SetFaultSeed(seed)
	for _, x := range faults {
		f.InjectFault(x)
	}
}

// faultSeed derives the fault seed of the i-th fake from the run's seed.
func faultSeed(seed uint64, i int) uint64 { return seed*1_000_003 + uint64(i) + 1 }
