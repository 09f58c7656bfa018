package vmray

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
	"golang.org/x/time/rate"
)

// vendor names VMRay in errors and logs.
const vendor = "vmray"

// Client talks to one VMRay Platform (cloud or on-premises appliance). It is
// safe for concurrent use. Its services mirror the sections of VMRay's REST
// API documentation.
type Client struct {
	rest   *rest.Client
	onSkip func(SkippedItem)

	// Analyses reads finished analyses (results, lock status).
	Analyses *AnalysesService
	// Billing reads the account's billing information and the key's quota.
	Billing *BillingService
	// Jobs reads queued and running jobs.
	Jobs *JobsService
	// Samples reads samples, their verdicts, VTIs, IOCs and files.
	Samples *SamplesService
	// Submissions submits files and URLs and follows their analysis.
	Submissions *SubmissionsService
	// System reads appliance information and settings.
	System *SystemService
}

// service is embedded by every service type.
type service struct{ c *Client }

// settings holds VMRay-specific option values.
type settings struct {
	onSkip func(SkippedItem)
}

// Option configures a Client. Build options with the With… functions of
// this package and pass them to New; the function type is opaque (its
// settings are internal), so other packages cannot write their own.
type Option func(*rest.Settings[settings])

// RetryPolicy controls how failed attempts are repeated; see [WithRetry].
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

// RetryBudget is a token bucket shared by the calls of a client, bounding
// retries when VMRay is degraded.
type RetryBudget = rest.RetryBudget

// NewRetryBudget returns a full retry budget; see [RetryPolicy].Budget.
func NewRetryBudget(capacity, retryCost, successRefund float64) *RetryBudget {
	return rest.NewRetryBudget(capacity, retryCost, successRefund)
}

// WithHTTPClient sends every request through h. It cannot be combined with the
// TLS and proxy options, which configure the default transport.
func WithHTTPClient(h *http.Client) Option { return Option(rest.WithHTTPClient[settings](h)) }

// WithRetry replaces the retry policy (default: three attempts, 500 ms base
// backoff with jitter, Retry-After honoured up to two minutes).
func WithRetry(p RetryPolicy) Option { return Option(rest.WithRetry[settings](rest.RetryPolicy(p))) }

// WithRateLimit bounds the client's request rate (requests per second and
// burst). VMRay publishes no limits; by default the client is unlimited and
// relies on 429 and Retry-After.
func WithRateLimit(perSecond float64, burst int) Option {
	return Option(rest.WithRateLimit[settings](rate.Limit(perSecond), burst))
}

// WithLogger sends debug records (method, path, status, attempt, latency;
// never headers or the API key) to l.
func WithLogger(l *slog.Logger) Option { return Option(rest.WithLogger[settings](l)) }

// RequestEvent describes one HTTP attempt for metrics: vendor, operation,
// route template (no ids), status, latency and rate-limiter wait.
type RequestEvent = rest.RequestEvent

// Observer receives one [RequestEvent] per HTTP attempt; see [WithObserver].
type Observer = rest.Observer

// WithObserver sends one event per HTTP attempt to o, for metrics.
func WithObserver(o Observer) Option { return Option(rest.WithObserver[settings](o)) }

// WithUserAgent appends an integration name, for example
// "cbc-vmray-connector/1.0", to the "soarkit/<version>" User-Agent.
func WithUserAgent(name string) Option { return Option(rest.WithUserAgent[settings](name)) }

// WithMaxResponseBytes caps buffered JSON responses (default 64 MiB).
func WithMaxResponseBytes(n int64) Option { return Option(rest.WithMaxResponseBytes[settings](n)) }

// WithMaxDownloadBytes caps streamed sample and report downloads (default 8 GiB).
func WithMaxDownloadBytes(n int64) Option { return Option(rest.WithMaxDownloadBytes[settings](n)) }

// WithAttemptTimeout bounds one HTTP attempt (for downloads: until the
// response headers arrive).
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
// roots, for on-premises appliances with a private CA.
func WithCACertPEM(pem []byte) Option { return Option(rest.WithCACertPEM[settings](pem)) }

// WithTLSConfig sets the base TLS configuration of the default transport.
func WithTLSConfig(c *tls.Config) Option { return Option(rest.WithTLSConfig[settings](c)) }

// WithInsecureSkipVerify turns TLS certificate verification off. It exists
// for lab appliances with self-signed certificates; prefer [WithCACertPEM].
func WithInsecureSkipVerify() Option { return Option(rest.WithInsecureSkipVerify[settings]()) }

// WithProxy sends requests through the proxy at rawURL. Without it the proxy
// comes from the environment (HTTPS_PROXY, NO_PROXY).
func WithProxy(rawURL string) Option { return Option(rest.WithProxy[settings](rawURL)) }

// ErrNoAPIKey is returned by [New] when the API key is empty.
var ErrNoAPIKey = errors.New("vmray: API key is empty")

// New returns a client for the VMRay Platform at baseURL, for example
// "https://eu.cloud.vmray.com" or "https://vmray.example.internal". The "/rest"
// prefix of the API is added by the client; a baseURL that already ends in
// "/rest" is accepted as well. apiKey is a Report (Total Insight) or Verdict
// (Final Verdict) API key; it is sent as "Authorization: api_key <key>" and
// never appears in logs or errors.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if !strings.HasSuffix(base, "/rest") {
		base += "/rest"
	}
	header := "api_key " + apiKey
	cfg := rest.Config{
		Vendor:      vendor,
		BaseURL:     base,
		Auth:        func(r *http.Request) { r.Header.Set("Authorization", header) },
		Secrets:     []string{apiKey},
		DecodeError: decodeError,
		WrapError:   wrapError,
	}
	s, err := rest.Apply(cfg, settings{}, opts)
	if err != nil {
		return nil, configError(err)
	}
	rc, err := rest.New(s.Config)
	if err != nil {
		return nil, configError(err)
	}
	c := &Client{rest: rc, onSkip: s.Vendor.onSkip}
	svc := service{c: c}
	c.Analyses = (*AnalysesService)(&svc)
	c.Billing = (*BillingService)(&svc)
	c.Jobs = (*JobsService)(&svc)
	c.Samples = (*SamplesService)(&svc)
	c.Submissions = (*SubmissionsService)(&svc)
	c.System = (*SystemService)(&svc)
	return c, nil
}

// BaseURL returns the API base URL, ending in "/rest".
func (c *Client) BaseURL() string { return c.rest.BaseURL() }
