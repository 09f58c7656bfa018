package carbonblack

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/soarkit/soarkit/internal/rest"
)

// Option configures a Client.
type Option = rest.Option[vendorSettings]

// RetryPolicy controls how failed attempts are repeated.
type RetryPolicy = rest.RetryPolicy

// RetryBudget is a token bucket that bounds retries across all calls of a
// client.
type RetryBudget = rest.RetryBudget

// NewRetryBudget returns a full retry budget: each retry costs retryCost
// tokens, each success refunds successRefund, up to capacity. Share one
// between clients through [RetryPolicy].Budget.
func NewRetryBudget(capacity, retryCost, successRefund float64) *RetryBudget {
	return rest.NewRetryBudget(capacity, retryCost, successRefund)
}

// RouteLimit bounds the request rate of the paths under a prefix.
type RouteLimit = rest.RouteLimit

// PollPolicy bounds a wait for a long-running Carbon Black job: a search job,
// a Live Response session or command.
type PollPolicy = rest.PollPolicy

// vendorSettings holds the Carbon Black specific options.
type vendorSettings struct {
	jobPoll      PollPolicy
	sessionPoll  PollPolicy
	commandPoll  PollPolicy
	resultWindow int
	jobPageRows  int
	spoolDir     string
	spoolMemory  int64
	maxSample    int64
	onSkip       func(SkippedItem)
}

// DefaultResultWindow is the number of results Carbon Black lets one search
// page through (start+rows) for alerts and devices.
const DefaultResultWindow = 10_000

func defaultVendorSettings() vendorSettings {
	return vendorSettings{
		// The Python SDK polls every 0.5 s and gives up after 300 s.
		jobPoll:      PollPolicy{Interval: 500 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 1.5, Timeout: 5 * time.Minute},
		sessionPoll:  PollPolicy{Interval: time.Second, MaxInterval: 10 * time.Second, Multiplier: 1.5, Timeout: 6 * time.Minute},
		commandPoll:  PollPolicy{Interval: 500 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 1.5, Timeout: 2 * time.Minute},
		resultWindow: DefaultResultWindow,
		jobPageRows:  1000,
		maxSample:    1 << 30,
	}
}

// WithHTTPClient uses h for every request instead of the default client.
func WithHTTPClient(h *http.Client) Option { return rest.WithHTTPClient[vendorSettings](h) }

// WithRetry replaces the retry policy (default: three attempts, exponential
// backoff with jitter, Retry-After honoured).
func WithRetry(p RetryPolicy) Option { return rest.WithRetry[vendorSettings](p) }

// WithRateLimit bounds the client's overall request rate. Carbon Black limits
// per source IP (its documentation's example is 1,000 requests per five
// minutes).
func WithRateLimit(limit rate.Limit, burst int) Option {
	return rest.WithRateLimit[vendorSettings](limit, burst)
}

// WithRouteLimit adds a rate limit for the paths under a prefix, for example
// the search endpoints.
func WithRouteLimit(l RouteLimit) Option { return rest.WithRouteLimit[vendorSettings](l) }

// WithLogger sends debug records (method, path, status, attempt, latency;
// never credentials) to l.
func WithLogger(l *slog.Logger) Option { return rest.WithLogger[vendorSettings](l) }

// RequestEvent describes one HTTP attempt for metrics: vendor, operation,
// route template (no ids), status, latency and rate-limiter wait.
type RequestEvent = rest.RequestEvent

// Observer receives one [RequestEvent] per HTTP attempt; see [WithObserver].
type Observer = rest.Observer

// WithObserver sends one event per HTTP attempt to o, for metrics.
func WithObserver(o Observer) Option { return rest.WithObserver[vendorSettings](o) }

// WithUserAgent appends an integration name to the soarkit User-Agent, like
// the credentials file's "integration" key.
func WithUserAgent(name string) Option { return rest.WithUserAgent[vendorSettings](name) }

// WithMaxResponseBytes caps buffered JSON responses (default 64 MiB).
func WithMaxResponseBytes(n int64) Option { return rest.WithMaxResponseBytes[vendorSettings](n) }

// WithMaxDownloadBytes caps streamed downloads (UBS archives, Live Response
// files; default 8 GiB).
func WithMaxDownloadBytes(n int64) Option { return rest.WithMaxDownloadBytes[vendorSettings](n) }

// WithAttemptTimeout bounds a single HTTP attempt.
func WithAttemptTimeout(d time.Duration) Option { return rest.WithAttemptTimeout[vendorSettings](d) }

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots.
func WithCACertPEM(pem []byte) Option { return rest.WithCACertPEM[vendorSettings](pem) }

// WithInsecureSkipVerify turns TLS certificate verification off (the
// credentials file's "ssl_verify = false"). Never the default.
func WithInsecureSkipVerify() Option { return rest.WithInsecureSkipVerify[vendorSettings]() }

// WithProxy sends requests through the proxy at rawURL.
func WithProxy(rawURL string) Option { return rest.WithProxy[vendorSettings](rawURL) }

// WithTLSConfig sets the base TLS configuration of the default transport.
func WithTLSConfig(c *tls.Config) Option { return rest.WithTLSConfig[vendorSettings](c) }

// WithJobPolling sets how search jobs (processes, observations, process
// details) are polled until complete (default: every 0.5 s growing to 5 s,
// for at most 5 minutes).
func WithJobPolling(p PollPolicy) Option {
	return func(s *rest.Settings[vendorSettings]) { s.Vendor.jobPoll = p }
}

// WithSessionPolling sets how a new Live Response session is polled until
// ACTIVE (default: every second growing to 10 s, for at most 6 minutes).
func WithSessionPolling(p PollPolicy) Option {
	return func(s *rest.Settings[vendorSettings]) { s.Vendor.sessionPoll = p }
}

// WithCommandPolling sets how a Live Response command is polled until it
// completes (default: every 0.5 s growing to 5 s, for at most 2 minutes).
func WithCommandPolling(p PollPolicy) Option {
	return func(s *rest.Settings[vendorSettings]) { s.Vendor.commandPoll = p }
}

// WithResultWindow sets how many results one alert search can page through
// before [AlertsService.All] narrows the time range (default
// [DefaultResultWindow]). Only fakes configured with a smaller window need
// this.
func WithResultWindow(n int) Option {
	return func(s *rest.Settings[vendorSettings]) {
		if n <= 0 {
			s.Fail(&rest.ConfigError{Field: "result window", Reason: "must be positive"})
			return
		}
		s.Vendor.resultWindow = n
	}
}

// WithJobPageRows sets the page size used when iterating over search job
// results (default 1000, at most 10,000).
func WithJobPageRows(n int) Option {
	return func(s *rest.Settings[vendorSettings]) {
		if n <= 0 || n > 10_000 {
			s.Fail(&rest.ConfigError{Field: "job page rows", Reason: "must be between 1 and 10000"})
			return
		}
		s.Vendor.jobPageRows = n
	}
}

// WithSampleSpool sets where UBS archives are spooled while their filedata
// entry is read: archives up to memory bytes stay in memory, bigger ones go
// to a temporary file in dir ("" for the system default). The default keeps
// 1 MiB in memory.
func WithSampleSpool(dir string, memory int64) Option {
	return func(s *rest.Settings[vendorSettings]) { s.Vendor.spoolDir, s.Vendor.spoolMemory = dir, memory }
}

// WithMaxSampleBytes caps the size of a UBS archive and of the sample inside
// it (default 1 GiB).
func WithMaxSampleBytes(n int64) Option {
	return func(s *rest.Settings[vendorSettings]) {
		if n <= 0 {
			s.Fail(&rest.ConfigError{Field: "max sample bytes", Reason: "must be positive"})
			return
		}
		s.Vendor.maxSample = n
	}
}
