package sentinelonetest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/sentinelone"
)

// DefaultToken is the API token every server accepts unless WithToken
// replaces it.
const DefaultToken = "sentinelonetest-api-token"

// Fault changes the fake's answer to matching requests (latency, a status
// with a body, a dropped connection, a truncated JSON body). Path is a prefix
// of the full request path, for example "/web/api/v2.1/threats".
type Fault = fakehttp.Fault

// Request is one request the fake received.
type Request = fakehttp.Request

// Clock tells the fake what time it is: any type with a Now method, for
// example a [ManualClock].
type Clock = fakehttp.Clock

type config struct {
	tls         bool
	clock       Clock
	token       string
	uploadDelay time.Duration
	dvPolls     int
	pqPings     int
	rateLimits  bool
}

// Option configures a Server.
type Option func(*config)

// WithTLS serves HTTPS with a certificate for 127.0.0.1 signed by a fresh CA
// (see Server.CACertPEM).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithClock sets the clock for timestamps, upload delays and rate limits.
func WithClock(clock Clock) Option { return func(c *config) { c.clock = clock } }

// WithToken replaces the accepted API token.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithUploadDelay sets how long (on the fake's clock) an online agent takes
// to upload a requested file; the completion activity appears afterwards.
// Default 0: the upload is ready on the next read.
func WithUploadDelay(d time.Duration) Option { return func(c *config) { c.uploadDelay = d } }

// WithQueryPolls sets how many query-status calls report RUNNING before a
// Deep Visibility query is FINISHED (default 2).
func WithQueryPolls(n int) Option { return func(c *config) { c.dvPolls = n } }

// WithPowerQueryPings sets how many pq-ping calls report RUNNING before a
// PowerQuery is FINISHED (default 1; 0 finishes in the start call).
func WithPowerQueryPings(n int) Option { return func(c *config) { c.pqPings = n } }

// WithRateLimits enforces the console's published per-route limits
// (sentinelone.DefaultRouteLimits) on the fake's clock, answering 429 with
// Retry-After when a route is over its limit.
func WithRateLimits() Option { return func(c *config) { c.rateLimits = true } }

// Server is an in-process fake SentinelOne management console serving the
// v2.1 API under /web/api/v2.1. It is safe for concurrent use.
type Server struct {
	cfg  config
	mw   *fakehttp.Middleware
	srv  *fakehttp.Server
	mu   sync.Mutex
	st   state
	lim  *limiter
	tb   testing.TB
	once sync.Once
}

// New starts a fake console. Close it when done.
func New(opts ...Option) (*Server, error) {
	cfg := config{clock: fakehttp.SystemClock{}, token: DefaultToken, dvPolls: 2, pqPings: 1}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.clock == nil {
		cfg.clock = fakehttp.SystemClock{}
	}
	s := &Server{cfg: cfg}
	s.st.init()
	s.seedDefaults()
	if cfg.rateLimits {
		s.lim = newLimiter(sentinelone.DefaultRouteLimits())
	}
	s.mw = fakehttp.NewMiddleware(s.routes())
	srv, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: cfg.tls})
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// NewServer starts a fake console for a test and closes it on cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("sentinelonetest: %v", err)
	}
	s.tb = t
	t.Cleanup(func() { s.Close() })
	return s
}

// URL is the console's base URL (without /web/api/v2.1), what
// sentinelone.New expects.
func (s *Server) URL() string { return s.srv.URL() }

// Token is the accepted API token.
func (s *Server) Token() string { return s.cfg.token }

// CACertPEM is the CA of a TLS server, nil otherwise.
func (s *Server) CACertPEM() []byte { return s.srv.CACertPEM() }

// Handler is the fake's HTTP handler (request recording and faults
// included), for mounting in another server.
func (s *Server) Handler() http.Handler { return s.mw }

// Client returns the real client wired to the fake: the fake's token, its CA
// for TLS, fast retries and polls, and no client-side route limits (the fake
// enforces them only with WithRateLimits). opts are applied last; if they are
// invalid the test fails (NewServer) or nil is returned (New).
func (s *Server) Client(opts ...sentinelone.Option) *sentinelone.Client {
	base := []sentinelone.Option{
		sentinelone.WithHTTPClient(s.srv.HTTPClient()),
		sentinelone.WithRetry(sentinelone.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}),
		sentinelone.WithoutRouteLimits(),
		sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, Timeout: 5 * time.Second}),
		sentinelone.WithQueryPoll(sentinelone.PollPolicy{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond, Timeout: 5 * time.Second}),
	}
	c, err := sentinelone.New(s.URL(), s.cfg.token, append(base, opts...)...)
	if err != nil {
		// Only a caller's option can fail: fail the test, or return nil for a
		// server made by New.
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("sentinelonetest: client: %v", err)
		}
		return nil
	}
	return c
}

// Close stops the server.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = s.srv.Close() })
	return err
}

// InjectFault adds a fault (see Fault).
func (s *Server) InjectFault(f Fault) { s.mw.InjectFault(f) }

// ClearFaults removes all faults.
func (s *Server) ClearFaults() { s.mw.ClearFaults() }

// FaultSeed returns the seed behind faults with a Rate (from
// SOARKIT_FAULT_SEED when set); log it so a run can be repeated.
func (s *Server) FaultSeed() uint64 { return s.mw.FaultSeed() }

// SetFaultSeed restarts the generator behind faults with a Rate from seed.
func (s *Server) SetFaultSeed(seed uint64) { s.mw.SetFaultSeed(seed) }

// PendingEffects returns how many requests accepted under a DelayedEffect
// fault have not been applied yet.
func (s *Server) PendingEffects() int { return s.mw.PendingEffects() }

// ApplyDelayedEffects applies every pending DelayedEffect request now and
// returns once they are applied.
func (s *Server) ApplyDelayedEffects() { s.mw.ApplyDelayedEffects() }

// WaitDelayedEffects waits until the pending DelayedEffect requests have
// been applied after their delay, or ctx ends.
func (s *Server) WaitDelayedEffects(ctx context.Context) error { return s.mw.WaitDelayedEffects(ctx) }

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request { return s.mw.Requests() }

// Recording bounds what the fake keeps of the requests it sees (see SetRecording).
type Recording = fakehttp.Recording

// SetRecording bounds what the fake keeps of the requests it sees from now
// on, for load tests: by default the newest 100,000 requests with the first
// MiB of each body. The requests per route are always counted (Counts).
func (s *Server) SetRecording(r Recording) { s.mw.SetRecording(r) }

// Counts returns the number of requests per route since the last
// ResetRequests, kept or not, by "METHOD /route" with ids as "{}".
func (s *Server) Counts() map[string]int { return s.mw.Counts() }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.mw.ResetRequests() }

// now is the fake's time in UTC with microseconds, like the console.
func (s *Server) now() time.Time { return s.cfg.clock.Now().UTC().Truncate(time.Microsecond) }
