package rest

import (
	"context"
	"fmt"
	"time"
)

// PollPolicy bounds a wait for a long-running vendor job.
type PollPolicy struct {
	// Interval is the first wait between checks (default 2s).
	Interval time.Duration
	// MaxInterval caps the growing wait (default 30s).
	MaxInterval time.Duration
	// Multiplier grows the wait after each check (default 1.5; 1 keeps it
	// constant).
	Multiplier float64
	// Timeout bounds the whole wait (default 10 minutes); the context may end
	// it earlier.
	Timeout time.Duration
}

func (p PollPolicy) withDefaults() PollPolicy {
	if p.Interval <= 0 {
		p.Interval = 2 * time.Second
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = max(30*time.Second, p.Interval)
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1.5
	}
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Minute
	}
	return p
}

// Poll calls check until it reports done, returns an error, or the policy's
// timeout passes (an error wrapping [ErrWaitTimeout]) or ctx ends. The first
// check runs at once.
func Poll(ctx context.Context, p PollPolicy, check func(ctx context.Context) (done bool, err error)) error {
	p = p.withDefaults()
	deadline := time.Now().Add(p.Timeout)
	wait := p.Interval
	for checks := 1; ; checks++ {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%w after %v (%d checks)", ErrWaitTimeout, p.Timeout, checks)
		}
		if err := sleep(ctx, min(wait, left)); err != nil {
			return err
		}
		wait = min(time.Duration(float64(wait)*p.Multiplier), p.MaxInterval)
	}
}
