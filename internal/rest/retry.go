package rest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/soarkit/soarkit/internal/backoff"
)

// RetryPolicy controls how failed attempts are repeated.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included;
	// 1 disables retries. Zero selects the default (3).
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; each further retry
	// doubles it, and the wait is drawn uniformly from [0, delay) (full
	// jitter). Zero selects 500ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff before jitter. Zero selects 30s.
	MaxDelay time.Duration
	// MaxRetryAfter caps a server's Retry-After. Zero selects 2 minutes.
	MaxRetryAfter time.Duration
	// RateLimitedDelay is the least wait after a 429 that carries no
	// Retry-After (vendors whose quotas refill slowly set minutes).
	RateLimitedDelay time.Duration
	// Budget, when set, is shared by all calls of the client: each retry
	// spends from it and each success refills it, so a degraded vendor is not
	// hammered by every worker at once. Nil selects a per-client default.
	Budget *RetryBudget
	// Disabled turns retries off entirely.
	Disabled bool
}

// DefaultRetryPolicy returns the defaults: three attempts, 500ms base delay,
// 30s maximum backoff, Retry-After honoured up to two minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxRetryAfter: 2 * time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.Disabled {
		p.MaxAttempts = 1
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	if p.Budget == nil {
		p.Budget = NewRetryBudget(100, 5, 1)
	}
	return p
}

// backoff returns the full-jitter wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	return backoff.Full(backoff.Exponential(p.BaseDelay, p.MaxDelay, n))
}

// wait chooses the wait before retry n given the failed response (nil for a
// transport error).
func (p RetryPolicy) wait(n int, status int, retryAfter time.Duration, hasRetryAfter bool) time.Duration {
	if hasRetryAfter {
		return min(retryAfter, p.MaxRetryAfter)
	}
	d := p.backoff(n)
	if status == http.StatusTooManyRequests && d < p.RateLimitedDelay {
		d = p.RateLimitedDelay
	}
	return d
}

// RetryBudget is a token bucket shared by all calls of a client. A retry
// costs RetryCost tokens and a successful call returns SuccessRefund tokens
// up to the capacity. When the bucket is empty, failures are returned at once.
type RetryBudget struct {
	mu       sync.Mutex
	tokens   float64
	capacity float64
	cost     float64
	refund   float64
}

// NewRetryBudget returns a full bucket. With capacity 100, cost 5 and refund 1
// a client makes at most 20 back-to-back retries before successes earn more.
func NewRetryBudget(capacity, retryCost, successRefund float64) *RetryBudget {
	return &RetryBudget{tokens: capacity, capacity: capacity, cost: retryCost, refund: successRefund}
}

// take spends a retry's cost; false means the budget is exhausted.
func (b *RetryBudget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < b.cost {
		return false
	}
	b.tokens -= b.cost
	return true
}

func (b *RetryBudget) success() {
	b.mu.Lock()
	b.tokens = min(b.capacity, b.tokens+b.refund)
	b.mu.Unlock()
}

// Available reports the tokens left.
func (b *RetryBudget) Available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// serverDidNotAct reports statuses after which even a non-idempotent request
// is known not to have been processed.
func serverDidNotAct(code int) bool { return code == http.StatusTooManyRequests }

// parseRetryAfter reads a Retry-After header as delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// isDialError reports a failure to connect: the request never reached the
// server, so even a non-idempotent call can be sent again.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
