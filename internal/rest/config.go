package rest

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/time/rate"
)

// Version is the soarkit release reported in the User-Agent header.
const Version = "0.1.0"

// DefaultMaxResponseBytes caps JSON response bodies unless configured otherwise.
const DefaultMaxResponseBytes int64 = 64 << 20

// DefaultMaxDownloadBytes caps streamed downloads unless configured otherwise.
const DefaultMaxDownloadBytes int64 = 8 << 30

// AuthFunc adds credentials to an outgoing request, typically as a header.
// The engine remembers every header value it sets so that those values are
// redacted from logs and errors and removed on cross-host redirects.
type AuthFunc func(r *http.Request)

// ErrorDecoder fills the vendor-specific parts of e (Code, Message, Details,
// Matches) from the body of a failed response. The body is at most the
// configured response cap; the decoder must tolerate any content.
type ErrorDecoder func(e *Error, body []byte)

// Config describes one vendor client. Vendor packages fill it from their
// constructor arguments and options; the zero values of optional fields select
// documented defaults.
type Config struct {
	// Vendor names the vendor in errors and logs, for example "vmray".
	Vendor string
	// BaseURL is the scheme, host and optional base path every Request.Path
	// is appended to, for example "https://console.example/web/api/v2.1".
	BaseURL string
	// Auth decorates each request with credentials. Nil sends none.
	Auth AuthFunc
	// Secrets are extra strings (API keys, passwords) that must never appear
	// in logs or error messages. Header values set by Auth are added
	// automatically.
	Secrets []string

	// HTTPClient replaces the default client. It cannot be combined with the
	// TLS and proxy settings below, which configure the default transport.
	HTTPClient *http.Client
	// TLSConfig is the base TLS configuration of the default transport.
	TLSConfig *tls.Config
	// CACertPEM adds PEM certificates to the system roots, for on-premises
	// appliances with a private CA.
	CACertPEM []byte
	// InsecureSkipVerify turns certificate verification off. It must be set
	// explicitly; it is never a default.
	InsecureSkipVerify bool
	// Proxy is the proxy URL; nil uses the environment (HTTPS_PROXY, NO_PROXY).
	Proxy *url.URL

	// UserAgent is an optional integration name appended to "soarkit/<version>".
	UserAgent string
	// Logger receives debug records for every attempt; nil discards them.
	Logger *slog.Logger

	// Retry is the retry policy; the zero value selects [DefaultRetryPolicy].
	Retry RetryPolicy
	// RateLimit and RateBurst bound the client's overall request rate;
	// zero means unlimited.
	RateLimit rate.Limit
	RateBurst int
	// RouteLimits add limits for requests whose path matches a prefix.
	RouteLimits []RouteLimit

	// MaxResponseBytes caps buffered response bodies (default 64 MiB).
	MaxResponseBytes int64
	// MaxDownloadBytes caps streamed downloads (default 8 GiB).
	MaxDownloadBytes int64
	// AttemptTimeout bounds one attempt (for Stream: until the response
	// headers arrive). Zero leaves attempts bounded only by the context.
	AttemptTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers once the
	// request is sent; zero selects [DefaultResponseHeaderTimeout] and a
	// negative value turns it off. A vendor that stays silent ends the
	// attempt with a [*TimeoutError] (retried like a connection failure).
	ResponseHeaderTimeout time.Duration
	// IdleReadTimeout bounds the wait for the next chunk of a request or
	// response body; zero selects [DefaultIdleReadTimeout] and a negative
	// value turns it off. It measures only time spent waiting for the
	// vendor, so a slow but steady download never hits it.
	IdleReadTimeout time.Duration

	// DecodeError extracts the vendor's error code and message.
	DecodeError ErrorDecoder
	// RequestIDHeaders are the response headers carrying a request id, in
	// order of preference. Nil selects X-Request-Id and common variants.
	RequestIDHeaders []string
}

// Settings is what an [Option] modifies: the engine configuration plus a
// vendor-specific part V.
type Settings[V any] struct {
	Config Config
	Vendor V
	errs   []error
}

// Fail records an invalid option; the vendor's constructor reports it.
func (s *Settings[V]) Fail(err error) { s.errs = append(s.errs, err) }

// Option configures a vendor client. Vendor packages declare
// `type Option = rest.Option[settings]` and wrap the generic options below.
type Option[V any] func(*Settings[V])

// Apply runs opts over a Settings holding cfg and vendor, and returns the first
// error an option recorded.
func Apply[V any](cfg Config, vendor V, opts []Option[V]) (Settings[V], error) {
	s := Settings[V]{Config: cfg, Vendor: vendor}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	if len(s.errs) > 0 {
		return s, s.errs[0]
	}
	return s, nil
}

// WithHTTPClient uses h for every request instead of the default client.
func WithHTTPClient[V any](h *http.Client) Option[V] {
	return func(s *Settings[V]) { s.Config.HTTPClient = h }
}

// WithRetry replaces the retry policy.
func WithRetry[V any](p RetryPolicy) Option[V] {
	return func(s *Settings[V]) { s.Config.Retry = p }
}

// WithRateLimit bounds the client's overall request rate.
func WithRateLimit[V any](limit rate.Limit, burst int) Option[V] {
	return func(s *Settings[V]) { s.Config.RateLimit, s.Config.RateBurst = limit, burst }
}

// WithRouteLimit adds (or, for an existing method and prefix, replaces) a
// per-route rate limit.
func WithRouteLimit[V any](l RouteLimit) Option[V] {
	return func(s *Settings[V]) {
		for i, old := range s.Config.RouteLimits {
			if old.Method == l.Method && old.Prefix == l.Prefix {
				s.Config.RouteLimits[i] = l
				return
			}
		}
		s.Config.RouteLimits = append(s.Config.RouteLimits, l)
	}
}

// WithLogger sends debug records to l.
func WithLogger[V any](l *slog.Logger) Option[V] {
	return func(s *Settings[V]) { s.Config.Logger = l }
}

// WithUserAgent appends an integration name (for example "cbc-vmray/1.0") to
// the soarkit User-Agent.
func WithUserAgent[V any](name string) Option[V] {
	return func(s *Settings[V]) { s.Config.UserAgent = name }
}

// WithMaxResponseBytes caps buffered response bodies.
func WithMaxResponseBytes[V any](n int64) Option[V] {
	return func(s *Settings[V]) { s.Config.MaxResponseBytes = n }
}

// WithMaxDownloadBytes caps streamed downloads.
func WithMaxDownloadBytes[V any](n int64) Option[V] {
	return func(s *Settings[V]) { s.Config.MaxDownloadBytes = n }
}

// WithAttemptTimeout bounds a single attempt.
func WithAttemptTimeout[V any](d time.Duration) Option[V] {
	return func(s *Settings[V]) { s.Config.AttemptTimeout = d }
}

// WithCACertPEM trusts the PEM certificates in pem in addition to the system
// roots.
func WithCACertPEM[V any](pem []byte) Option[V] {
	return func(s *Settings[V]) { s.Config.CACertPEM = append([]byte(nil), pem...) }
}

// WithTLSConfig sets the base TLS configuration of the default transport.
func WithTLSConfig[V any](c *tls.Config) Option[V] {
	return func(s *Settings[V]) { s.Config.TLSConfig = c }
}

// WithInsecureSkipVerify turns TLS certificate verification off. Use it only
// for lab appliances; it is never the default.
func WithInsecureSkipVerify[V any]() Option[V] {
	return func(s *Settings[V]) { s.Config.InsecureSkipVerify = true }
}

// WithProxy sends requests through the proxy at rawURL instead of the one
// named by the environment.
func WithProxy[V any](rawURL string) Option[V] {
	return func(s *Settings[V]) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			s.Fail(&ConfigError{Field: "proxy", Reason: "not an absolute URL"})
			return
		}
		s.Config.Proxy = u
	}
}
