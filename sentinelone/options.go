package sentinelone

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/soarkit/soarkit/internal/rest"
)

// settings is the SentinelOne-specific part of the configuration.
type settings struct {
	fetch  fetchSettings
	dvPoll PollPolicy
	onSkip func(SkippedItem)
}

// Option configures a Client. Build options with the With… functions of
// this package and pass them to New; the function type is opaque (its
// settings are internal), so other packages cannot write their own.
type Option func(*rest.Settings[settings])

// RetryPolicy controls retries of failed attempts (429, 5xx, connection
// errors); see the rest engine's documentation of each field.
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

// RetryBudget is a token bucket shared by the calls of a client.
type RetryBudget = rest.RetryBudget

// RouteLimit bounds the request rate for paths starting with Prefix (paths
// are relative to /web/api/v2.1; a "*" segment matches any one segment; the
// longest matching prefix applies).
type RouteLimit struct {
	// Method restricts the limit to one HTTP method; empty matches all.
	Method string
	// Prefix is the path prefix (below the base URL) the limit applies to,
	// segment by segment; "*" matches any one segment.
	Prefix string
	// Limit is the sustained rate in requests per second.
	Limit rate.Limit
	// Burst is how many requests may go at once.
	Burst int
}

// PollPolicy bounds a wait for a long-running job: first interval, growth,
// maximum interval and overall timeout.
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

// WithHTTPClient uses h for every request instead of the default client.
func WithHTTPClient(h *http.Client) Option { return Option(rest.WithHTTPClient[settings](h)) }

// WithRetry replaces the retry policy.
func WithRetry(p RetryPolicy) Option { return Option(rest.WithRetry[settings](rest.RetryPolicy(p))) }

// WithRateLimit bounds the client's overall request rate, on top of the
// per-route limits.
func WithRateLimit(limit rate.Limit, burst int) Option {
	return Option(rest.WithRateLimit[settings](limit, burst))
}

// WithRouteLimit adds a per-route limit, or replaces the built-in one with
// the same method and prefix (see DefaultRouteLimits).
func WithRouteLimit(l RouteLimit) Option {
	return Option(rest.WithRouteLimit[settings](rest.RouteLimit(l)))
}

// WithoutRouteLimits drops the per-route limits configured so far, the
// built-in table included (for example when a proxy in front of the console
// enforces its own limits); WithRouteLimit options after it add limits again.
func WithoutRouteLimits() Option {
	return func(s *rest.Settings[settings]) { s.Config.RouteLimits = nil }
}

// WithLogger sends debug records (method, path, status, attempt, latency;
// never the token) to l.
func WithLogger(l *slog.Logger) Option { return Option(rest.WithLogger[settings](l)) }

// RequestEvent describes one HTTP attempt for metrics: vendor, operation,
// route template (no ids), status, latency and rate-limiter wait.
type RequestEvent = rest.RequestEvent

// Observer receives one [RequestEvent] per HTTP attempt; see [WithObserver].
type Observer = rest.Observer

// WithObserver sends one event per HTTP attempt to o, for metrics.
func WithObserver(o Observer) Option { return Option(rest.WithObserver[settings](o)) }

// WithUserAgent appends an integration name to the soarkit User-Agent.
func WithUserAgent(name string) Option { return Option(rest.WithUserAgent[settings](name)) }

// WithMaxResponseBytes caps buffered JSON responses (default 64 MiB).
func WithMaxResponseBytes(n int64) Option { return Option(rest.WithMaxResponseBytes[settings](n)) }

// WithMaxDownloadBytes caps fetched-file downloads (default 8 GiB).
func WithMaxDownloadBytes(n int64) Option { return Option(rest.WithMaxDownloadBytes[settings](n)) }

// WithAttemptTimeout bounds a single attempt (for downloads: until the
// headers arrive).
func WithAttemptTimeout(d time.Duration) Option { return Option(rest.WithAttemptTimeout[settings](d)) }

// WithResponseHeaderTimeout bounds the wait for response headers once a
// request is sent (default 90 s; negative turns it off). A silent server ends
// the attempt with an error matching [ErrTimeout], retried like a connection
// failure.
func WithResponseHeaderTimeout(d time.Duration) Option {
	return Option(rest.WithResponseHeaderTimeout[settings](d))
}

// WithIdleReadTimeout bounds the wait for the next chunk of a request or
// response body (default 60 s; negative turns it off). A trickling server
// fails with [ErrTimeout]; a slow but steady download does not.
func WithIdleReadTimeout(d time.Duration) Option {
	return Option(rest.WithIdleReadTimeout[settings](d))
}

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots (on-premises consoles with a private CA).
func WithCACertPEM(pem []byte) Option { return Option(rest.WithCACertPEM[settings](pem)) }

// WithTLSConfig sets the base TLS configuration.
func WithTLSConfig(c *tls.Config) Option { return Option(rest.WithTLSConfig[settings](c)) }

// WithInsecureSkipVerify turns TLS certificate verification off. Never use it
// against a production console.
func WithInsecureSkipVerify() Option { return Option(rest.WithInsecureSkipVerify[settings]()) }

// WithProxy sends requests through the proxy at rawURL.
func WithProxy(rawURL string) Option { return Option(rest.WithProxy[settings](rawURL)) }

// WithFetchPoll sets how file fetches wait for the agent's upload activity
// (default: every 5 s growing to 15 s, for at most 3 minutes).
func WithFetchPoll(p PollPolicy) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.fetch.poll = p }
}

// WithMaxSampleBytes caps the file of a fetch (the sample, once decrypted)
// and the zip it comes in (a tenth more plus 1 MiB); a larger one fails with
// ErrBadArchive wrapping the limit breach, which no retry mends. Downloads are
// also cut at that zip size. Default: 2 GiB per file and zip, downloads 8 GiB.
func WithMaxSampleBytes(n int64) Option {
	return func(s *rest.Settings[settings]) {
		if n <= 0 {
			s.Fail(&ConfigError{Field: "max sample bytes", Reason: "must be positive"})
			return
		}
		s.Vendor.fetch.maxSample = n
		s.Config.MaxDownloadBytes = n + n/10 + 1<<20
	}
}

// WithFetchTempDir sets the directory fetched zips are spooled to while they
// are decrypted (default os.TempDir()).
func WithFetchTempDir(dir string) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.fetch.tempDir = dir }
}

// WithQueryPoll sets how Deep Visibility and PowerQuery searches are waited
// for (default: every 1 s, the query-status rate limit, growing to 10 s, for
// at most 10 minutes).
func WithQueryPoll(p PollPolicy) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.dvPoll = p }
}
