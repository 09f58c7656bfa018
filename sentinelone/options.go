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

// Option configures a Client.
type Option = rest.Option[settings]

// RetryPolicy controls retries of failed attempts (429, 5xx, connection
// errors); see the rest engine's documentation of each field.
type RetryPolicy = rest.RetryPolicy

// RetryBudget is a token bucket shared by the calls of a client.
type RetryBudget = rest.RetryBudget

// RouteLimit bounds the request rate for paths starting with Prefix (paths
// are relative to /web/api/v2.1; a "*" segment matches any one segment; the
// longest matching prefix applies).
type RouteLimit = rest.RouteLimit

// PollPolicy bounds a wait for a long-running job: first interval, growth,
// maximum interval and overall timeout.
type PollPolicy = rest.PollPolicy

// WithHTTPClient uses h for every request instead of the default client.
func WithHTTPClient(h *http.Client) Option { return rest.WithHTTPClient[settings](h) }

// WithRetry replaces the retry policy.
func WithRetry(p RetryPolicy) Option { return rest.WithRetry[settings](p) }

// WithRateLimit bounds the client's overall request rate, on top of the
// per-route limits.
func WithRateLimit(limit rate.Limit, burst int) Option {
	return rest.WithRateLimit[settings](limit, burst)
}

// WithRouteLimit adds a per-route limit, or replaces the built-in one with
// the same method and prefix (see DefaultRouteLimits).
func WithRouteLimit(l RouteLimit) Option { return rest.WithRouteLimit[settings](l) }

// WithoutRouteLimits drops the per-route limits configured so far, the
// built-in table included (for example when a proxy in front of the console
// enforces its own limits); WithRouteLimit options after it add limits again.
func WithoutRouteLimits() Option {
	return func(s *rest.Settings[settings]) { s.Config.RouteLimits = nil }
}

// WithLogger sends debug records (method, path, status, attempt, latency;
// never the token) to l.
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

// WithMaxResponseBytes caps buffered JSON responses (default 64 MiB).
func WithMaxResponseBytes(n int64) Option { return rest.WithMaxResponseBytes[settings](n) }

// WithMaxDownloadBytes caps fetched-file downloads (default 8 GiB).
func WithMaxDownloadBytes(n int64) Option { return rest.WithMaxDownloadBytes[settings](n) }

// WithAttemptTimeout bounds a single attempt (for downloads: until the
// headers arrive).
func WithAttemptTimeout(d time.Duration) Option { return rest.WithAttemptTimeout[settings](d) }

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots (on-premises consoles with a private CA).
func WithCACertPEM(pem []byte) Option { return rest.WithCACertPEM[settings](pem) }

// WithTLSConfig sets the base TLS configuration.
func WithTLSConfig(c *tls.Config) Option { return rest.WithTLSConfig[settings](c) }

// WithInsecureSkipVerify turns TLS certificate verification off. Never use it
// against a production console.
func WithInsecureSkipVerify() Option { return rest.WithInsecureSkipVerify[settings]() }

// WithProxy sends requests through the proxy at rawURL.
func WithProxy(rawURL string) Option { return rest.WithProxy[settings](rawURL) }

// WithFetchPoll sets how file fetches wait for the agent's upload activity
// (default: every 5 s growing to 15 s, for at most 3 minutes).
func WithFetchPoll(p PollPolicy) Option {
	return func(s *rest.Settings[settings]) { s.Vendor.fetch.poll = p }
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
