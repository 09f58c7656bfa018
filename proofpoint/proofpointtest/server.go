package proofpointtest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/proofpoint"
)

// Default credentials of the fake.
const (
	DefaultPrincipal = "fake-tap-principal"
	DefaultSecret    = "fake-tap-secret"
)

// Fault changes the fake's answer to matching requests: latency, a status
// such as 500 or 429 with a body, a dropped connection or a truncated body.
type Fault = fakehttp.Fault

// Request is one request the fake received.
type Request = fakehttp.Request

// Clock tells the fake what time it is.
type Clock = fakehttp.Clock

// ManualClock is a Clock that moves only when told.
type ManualClock = fakehttp.ManualClock

// NewManualClock returns a clock set to t.
func NewManualClock(t time.Time) *ManualClock { return fakehttp.NewManualClock(t) }

type config struct {
	tls               bool
	clock             Clock
	principal, secret string
	docCasing         bool
	lookBack          time.Duration
	limits            map[proofpoint.Pool]int
	vapThreshold      float64
}

// Option configures the fake.
type Option func(*config)

// WithTLS serves HTTPS with a certificate from a generated CA (see
// [Server.CACertPEM]).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithClock makes the fake read the time from clk: window validation, the
// look-back limit, index times and the rolling pools all follow it.
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithCredentials sets the service principal and secret the fake accepts.
func WithCredentials(principal, secret string) Option {
	return func(c *config) { c.principal, c.secret = principal, secret }
}

// WithDocumentedCasing makes the fake answer with the spellings of
// Proofpoint's documentation instead of the live API's: clusterId,
// threatId, campaignId and a single-string fromAddress in messages.
func WithDocumentedCasing() Option { return func(c *config) { c.docCasing = true } }

// WithLookBack sets how far into the past a SIEM window may start (default
// seven days).
func WithLookBack(d time.Duration) Option { return func(c *config) { c.lookBack = d } }

// WithPoolLimit sets a pool's 24-hour limit (default: TAP's documented
// limits), so tests can reach a 429 in a few calls.
func WithPoolLimit(p proofpoint.Pool, limit int) Option {
	return func(c *config) { c.limits[p] = limit }
}

// WithVAPThreshold sets the vapAttackIndexThreshold of people/vap answers.
func WithVAPThreshold(v float64) Option { return func(c *config) { c.vapThreshold = v } }

// Server is a fake TAP API v2.
type Server struct {
	cfg   config
	mw    *fakehttp.Middleware
	http  *fakehttp.Server
	pools *proofpoint.PoolTracker
	tb    testing.TB

	mu                sync.Mutex
	forbidden         bool
	messages          []storedMessage
	clicks            []storedClick
	threatForensics   map[string]proofpoint.Forensics
	campaignForensics map[string]proofpoint.Forensics
	campaigns         []storedCampaign
	decoded           map[string]string
	summaries         map[string]proofpoint.ThreatSummary

	// The indexes that keep a request's cost to what it answers: messages
	// and clicks by their time, campaigns by id, member and update time
	// (nil until needed after a change), the people reports in their order.
	messagesByTime timeIndex
	clicksByTime   timeIndex
	campaignIx     *campaignIndex
	vapByIndex     []proofpoint.VAPUser // by attack index, highest first; ties in the order added
	vapIndexSum    float64
	clickersByRank []proofpoint.TopClicker // by click count, highest first; ties in the order added
	// examined counts the stored items requests looked at, for tests that
	// hold a request to the items it answers with.
	examined int
}

// New starts a fake TAP on 127.0.0.1. Close it when done.
func New(opts ...Option) (*Server, error) {
	cfg := config{
		clock:        fakehttp.SystemClock{},
		principal:    DefaultPrincipal,
		secret:       DefaultSecret,
		lookBack:     proofpoint.DefaultLookBack,
		limits:       map[proofpoint.Pool]int{},
		vapThreshold: 1000,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.clock == nil || cfg.principal == "" || cfg.secret == "" || cfg.lookBack <= 0 {
		return nil, fmt.Errorf("proofpointtest: clock, credentials and a positive look-back are required")
	}
	s := &Server{
		cfg:               cfg,
		pools:             proofpoint.NewPoolTracker(cfg.clock.Now),
		threatForensics:   map[string]proofpoint.Forensics{},
		campaignForensics: map[string]proofpoint.Forensics{},
		decoded:           map[string]string{},
		summaries:         map[string]proofpoint.ThreatSummary{},
	}
	for _, p := range proofpoint.Pools() {
		limit, _ := proofpoint.DefaultPoolLimit(p)
		if l, ok := cfg.limits[p]; ok {
			limit = l
		}
		s.pools.SetLimit(p, limit, 0)
	}
	s.mw = fakehttp.NewMiddleware(s.routes())
	srv, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: cfg.tls})
	if err != nil {
		return nil, err
	}
	s.http = srv
	return s, nil
}

// NewServer starts a fake for a test and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("proofpointtest: %v", err)
	}
	s.tb = t
	t.Cleanup(func() { s.Close() })
	return s
}

// Close stops the server.
func (s *Server) Close() error { return s.http.Close() }

// URL is the base URL to give a client, for example "http://127.0.0.1:4321".
func (s *Server) URL() string { return s.http.URL() }

// CACertPEM is the PEM certificate of the CA that signed the fake's TLS
// certificate ([WithTLS]), or nil.
func (s *Server) CACertPEM() []byte { return s.http.CACertPEM() }

// Handler is the fake's HTTP handler (request recording and fault injection
// included), for mounting in another server.
func (s *Server) Handler() http.Handler { return s.mw }

// Principal and Secret are the credentials the fake accepts.
func (s *Server) Principal() string { return s.cfg.principal }

// Secret is the service secret the fake accepts.
func (s *Server) Secret() string { return s.cfg.secret }

// Now is the fake's current time.
func (s *Server) Now() time.Time { return s.cfg.clock.Now() }

// NewClient returns the real client wired to the fake: its credentials, its
// clock and look-back, a transport that trusts its CA, and retries that
// wait milliseconds instead of minutes. opts apply last.
func (s *Server) NewClient(opts ...proofpoint.Option) (*proofpoint.Client, error) {
	base := []proofpoint.Option{
		proofpoint.WithHTTPClient(s.http.HTTPClient()),
		proofpoint.WithRetry(proofpoint.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, RateLimitedDelay: time.Millisecond}),
		proofpoint.WithClock(s.cfg.clock.Now),
		proofpoint.WithLookBack(s.cfg.lookBack),
	}
	return proofpoint.New(s.URL(), s.cfg.principal, s.cfg.secret, append(base, opts...)...)
}

// Client is [Server.NewClient] for tests: on invalid options it fails the
// test of a server from [NewServer], and panics for one from [New].
func (s *Server) Client(opts ...proofpoint.Option) *proofpoint.Client {
	c, err := s.NewClient(opts...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("proofpointtest: client: %v", err)
		}
		panic("proofpointtest: client: " + err.Error())
	}
	return c
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request { return s.mw.Requests() }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.mw.ResetRequests() }

// CountRequests counts recorded requests with the method (empty for any)
// and a path starting with prefix.
func (s *Server) CountRequests(method, prefix string) int { return s.mw.CountRequests(method, prefix) }

// Recording bounds what the fake keeps of the requests it sees (see SetRecording).
type Recording = fakehttp.Recording

// SetRecording bounds what the fake keeps of the requests it sees from now
// on, for load tests: by default the newest 100,000 requests with the first
// MiB of each body. The requests per route are always counted (Counts).
func (s *Server) SetRecording(r Recording) { s.mw.SetRecording(r) }

// Counts returns the number of requests per route since the last
// ResetRequests, kept or not, by "METHOD /route" with ids as "{}".
func (s *Server) Counts() map[string]int { return s.mw.Counts() }

// InjectFault makes matching requests fail as f describes.
func (s *Server) InjectFault(f Fault) { s.mw.InjectFault(f) }

// ClearFaults removes every injected fault.
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

// SetForbidden makes every authenticated request answer 403, as TAP does for
// a credential not entitled to the customer's data.
func (s *Server) SetForbidden(forbidden bool) {
	s.mu.Lock()
	s.forbidden = forbidden
	s.mu.Unlock()
}

// PoolUsed is the number of requests counted on p in the last 24 hours.
func (s *Server) PoolUsed(p proofpoint.Pool) int { return s.pools.Status(p).Used }

// UsePool counts n requests on p now, as if another tool with the same
// credential had sent them.
func (s *Server) UsePool(p proofpoint.Pool, n int) {
	now := s.cfg.clock.Now()
	at := make([]time.Time, n)
	for i := range at {
		at[i] = now
	}
	s.pools.Record(p, at...)
}

// authorize answers 401 or 403 and returns false when the request may not
// proceed.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.principal)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.secret)) != 1 {
		writeText(w, http.StatusUnauthorized, textUnauthorized)
		return false
	}
	s.mu.Lock()
	forbidden := s.forbidden
	s.mu.Unlock()
	if forbidden {
		writeText(w, http.StatusForbidden, textForbidden)
		return false
	}
	return true
}

// charge counts the request on p, or answers 429 when the pool is spent.
func (s *Server) charge(w http.ResponseWriter, p proofpoint.Pool) bool {
	if err := s.pools.Acquire(p, true); err != nil {
		writeText(w, http.StatusTooManyRequests, textThrottled)
		return false
	}
	return true
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if text != "" {
		_, _ = w.Write([]byte(text))
	}
}
