package vmrayconn

import (
	"sync"
	"time"
)

// Defaults of the await schedule (Options.PollInterval, MaxPollInterval).
const (
	DefaultPollInterval    = 2 * time.Second
	DefaultMaxPollInterval = 2 * time.Minute
)

// pace is what the analyzer has learned of how long VMRay takes to finish a submission, from the creation and
// finish times VMRay reports. It follows the slow end: a longer analysis raises the expectation by half the
// difference, a shorter one lowers it by an eighth, so most submissions are done by the time it expects.
type pace struct {
	mu  sync.Mutex
	est time.Duration
}

// observe records the duration of a finished submission.
func (p *pace) observe(d time.Duration) {
	if d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.est == 0:
		p.est = d
	case d > p.est:
		p.est += (d - p.est) / 2
	default:
		p.est -= (p.est - d) / 8
	}
}

// expected returns how long a submission is expected to take (0 before any finished).
func (p *pace) expected() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.est
}

// next returns the wait before the next check of a submission under way for elapsed that was not finished: the time
// it has run past the expectation, so the checks double (first, 2·first, 4·first, ...), at least first (and an eighth
// of the expectation, so a short setting does not multiply checks of long analyses) and at most limit.
func (p *pace) next(elapsed, first, limit time.Duration) time.Duration {
	est := p.expected()
	floor := max(first, est/8)
	return min(max(elapsed-est, floor), max(limit, floor))
}
