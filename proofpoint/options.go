package proofpoint

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/soarkit/soarkit/internal/rest"
)

// Option configures a Client.
type Option = rest.Option[settings]

// RetryPolicy controls how failed attempts are repeated. See [DefaultRetryPolicy]
// for the TAP defaults.
type RetryPolicy = rest.RetryPolicy

// RetryBudget is a token bucket that bounds retries across all calls of a
// client.
type RetryBudget = rest.RetryBudget

// DefaultLookBack is how far into the past TAP accepts the start of a SIEM
// window (the live 400 text says "up to 7.00d").
const DefaultLookBack = 7 * 24 * time.Hour

// DefaultEndMargin is how far behind the current time a SIEM window must end.
// TAP answers "The requested interval is still current." for windows ending
// too close to now, even some seconds in the past.
const DefaultEndMargin = time.Minute

// DefaultRateLimitedDelay is the least wait after a 429. TAP's throttle is a
// rolling 24-hour count that frees one request at a time and sends no
// Retry-After, so retrying after a second only burns an attempt.
const DefaultRateLimitedDelay = 2 * time.Minute

// DefaultRetryPolicy returns the TAP defaults: three attempts, exponential
// backoff from one second, and at least [DefaultRateLimitedDelay] after a 429.
func DefaultRetryPolicy() RetryPolicy {
	p := rest.DefaultRetryPolicy()
	p.BaseDelay = time.Second
	p.RateLimitedDelay = DefaultRateLimitedDelay
	return p
}

// settings holds the Proofpoint-specific options.
type settings struct {
	now       func() time.Time
	lookBack  time.Duration
	endMargin time.Duration
	tracker   *PoolTracker
	limits    map[Pool]poolLimit
	onSkip    func(SkippedItem)
}

type poolLimit struct{ limit, reserve int }

func defaultSettings() settings {
	return settings{lookBack: DefaultLookBack, endMargin: DefaultEndMargin, limits: map[Pool]poolLimit{}}
}

// WithHTTPClient uses h for every request instead of the default client.
func WithHTTPClient(h *http.Client) Option { return rest.WithHTTPClient[settings](h) }

// WithRetry replaces the retry policy. A zero RateLimitedDelay selects
// [DefaultRateLimitedDelay]; a negative one turns the 429 floor off.
func WithRetry(p RetryPolicy) Option { return rest.WithRetry[settings](p) }

// WithRateLimit bounds the client's overall request rate, on top of the
// rolling 24-hour pools the client always tracks.
func WithRateLimit(limit rate.Limit, burst int) Option {
	return rest.WithRateLimit[settings](limit, burst)
}

// WithLogger sends debug records (method, path, status, attempt, latency;
// never credentials) to l.
func WithLogger(l *slog.Logger) Option { return rest.WithLogger[settings](l) }

// RequestEvent describes one HTTP attempt for metrics: vendor, operation,
// route template (no ids), status, latency and rate-limiter wait.
type RequestEvent = rest.RequestEvent

// Observer receives one [RequestEvent] per HTTP attempt; see [WithObserver].
type Observer = rest.Observer

// WithObserver sends one event per HTTP attempt to o, for metrics.
func WithObserver(o Observer) Option { return rest.WithObserver[settings](o) }

// WithUserAgent appends an integration name to the soarkit User-Agent.
func WithUserAgent(name string) Option { return rest.WithUserAgent[settings](name) }

// WithMaxResponseBytes caps buffered responses (default 64 MiB). SIEM
// windows are not paged, so a busy hour can be large.
func WithMaxResponseBytes(n int64) Option { return rest.WithMaxResponseBytes[settings](n) }

// WithAttemptTimeout bounds a single HTTP attempt.
func WithAttemptTimeout(d time.Duration) Option { return rest.WithAttemptTimeout[settings](d) }

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots.
func WithCACertPEM(pem []byte) Option { return rest.WithCACertPEM[settings](pem) }

// WithInsecureSkipVerify turns TLS certificate verification off. Never the
// default.
func WithInsecureSkipVerify() Option { return rest.WithInsecureSkipVerify[settings]() }

// WithProxy sends requests through the proxy at rawURL.
func WithProxy(rawURL string) Option { return rest.WithProxy[settings](rawURL) }

// WithTLSConfig sets the base TLS configuration of the default transport.
func WithTLSConfig(c *tls.Config) Option { return rest.WithTLSConfig[settings](c) }

// WithClock makes the client read the current time from now, for SIEM window
// validation and the request pools. Tests pass a fake clock.
func WithClock(now func() time.Time) Option {
	return func(s *rest.Settings[settings]) {
		if now == nil {
			s.Fail(&rest.ConfigError{Field: "clock", Reason: "must not be nil"})
			return
		}
		s.Vendor.now = now
	}
}

// WithLookBack sets how far into the past a SIEM window may start (default
// [DefaultLookBack]). Older TAP documentation says twelve hours.
func WithLookBack(d time.Duration) Option {
	return func(s *rest.Settings[settings]) {
		if d <= 0 {
			s.Fail(&rest.ConfigError{Field: "look-back", Reason: "must be positive"})
			return
		}
		s.Vendor.lookBack = d
	}
}

// WithEndMargin sets how far behind now a SIEM window must end (default
// [DefaultEndMargin]).
func WithEndMargin(d time.Duration) Option {
	return func(s *rest.Settings[settings]) {
		if d < 0 {
			s.Fail(&rest.ConfigError{Field: "end margin", Reason: "must not be negative"})
			return
		}
		s.Vendor.endMargin = d
	}
}

// WithPoolTracker makes the client count its requests in t, so several
// clients using the same service credential share one view of the rolling
// 24-hour pools. The tracker's own clock and limits apply.
func WithPoolTracker(t *PoolTracker) Option {
	return func(s *rest.Settings[settings]) {
		if t == nil {
			s.Fail(&rest.ConfigError{Field: "pool tracker", Reason: "must not be nil"})
			return
		}
		s.Vendor.tracker = t
	}
}

// WithPoolLimit sets a pool's 24-hour limit and the number of requests kept
// in reserve: calls are refused once only the reserve is left. It applies to
// the tracker the client creates (not to one given by [WithPoolTracker]).
func WithPoolLimit(p Pool, limit, reserve int) Option {
	return func(s *rest.Settings[settings]) {
		if limit <= 0 || reserve < 0 || reserve >= limit {
			s.Fail(&rest.ConfigError{Field: "pool " + string(p), Reason: "limit must be positive and reserve in [0, limit)"})
			return
		}
		s.Vendor.limits[p] = poolLimit{limit, reserve}
	}
}
