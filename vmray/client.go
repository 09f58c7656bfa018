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

// Option configures a Client.
type Option = rest.Option[settings]

// RetryPolicy controls how failed attempts are repeated; see [WithRetry].
type RetryPolicy = rest.RetryPolicy

// RetryBudget is a token bucket shared by the calls of a client, bounding
// retries when VMRay is degraded.
type RetryBudget = rest.RetryBudget

// NewRetryBudget returns a full retry budget; see [RetryPolicy].Budget.
func NewRetryBudget(capacity, retryCost, successRefund float64) *RetryBudget {
	return rest.NewRetryBudget(capacity, retryCost, successRefund)
}

// WithHTTPClient sends every request through h. It cannot be combined with the
// TLS and proxy options, which configure the default transport.
func WithHTTPClient(h *http.Client) Option { return rest.WithHTTPClient[settings](h) }

// WithRetry replaces the retry policy (default: three attempts, 500 ms base
// backoff with jitter, Retry-After honoured up to two minutes).
func WithRetry(p RetryPolicy) Option { return rest.WithRetry[settings](p) }

// WithRateLimit bounds the client's request rate (requests per second and
// burst). VMRay publishes no limits; by default the client is unlimited and
// relies on 429 and Retry-After.
func WithRateLimit(perSecond float64, burst int) Option {
	return rest.WithRateLimit[settings](rate.Limit(perSecond), burst)
}

// WithLogger sends debug records (method, path, status, attempt, latency;
// never headers or the API key) to l.
func WithLogger(l *slog.Logger) Option { return rest.WithLogger[settings](l) }

// RequestEvent describes one HTTP attempt for metrics: vendor, operation,
// route template (no ids), status, latency and rate-limiter wait.
type RequestEvent = rest.RequestEvent

// Observer receives one [RequestEvent] per HTTP attempt; see [WithObserver].
type Observer = rest.Observer

// WithObserver sends one event per HTTP attempt to o, for metrics.
func WithObserver(o Observer) Option { return rest.WithObserver[settings](o) }

// WithUserAgent appends an integration name, for example
// "cbc-vmray-connector/1.0", to the "soarkit/<version>" User-Agent.
func WithUserAgent(name string) Option { return rest.WithUserAgent[settings](name) }

// WithMaxResponseBytes caps buffered JSON responses (default 64 MiB).
func WithMaxResponseBytes(n int64) Option { return rest.WithMaxResponseBytes[settings](n) }

// WithMaxDownloadBytes caps streamed sample and report downloads (default 8 GiB).
func WithMaxDownloadBytes(n int64) Option { return rest.WithMaxDownloadBytes[settings](n) }

// WithAttemptTimeout bounds one HTTP attempt (for downloads: until the
// response headers arrive).
func WithAttemptTimeout(d time.Duration) Option { return rest.WithAttemptTimeout[settings](d) }

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots, for on-premises appliances with a private CA.
func WithCACertPEM(pem []byte) Option { return rest.WithCACertPEM[settings](pem) }

// WithTLSConfig sets the base TLS configuration of the default transport.
func WithTLSConfig(c *tls.Config) Option { return rest.WithTLSConfig[settings](c) }

// WithInsecureSkipVerify turns TLS certificate verification off. It exists
// for lab appliances with self-signed certificates; prefer [WithCACertPEM].
func WithInsecureSkipVerify() Option { return rest.WithInsecureSkipVerify[settings]() }

// WithProxy sends requests through the proxy at rawURL. Without it the proxy
// comes from the environment (HTTPS_PROXY, NO_PROXY).
func WithProxy(rawURL string) Option { return rest.WithProxy[settings](rawURL) }

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
	}
	s, err := rest.Apply(cfg, settings{}, opts)
	if err != nil {
		return nil, err
	}
	rc, err := rest.New(s.Config)
	if err != nil {
		return nil, err
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
