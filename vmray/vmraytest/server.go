package vmraytest

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/vmray"
	"golang.org/x/time/rate"
)

// DefaultAPIKey is the Report (analyzer) key every server accepts unless
// [WithAPIKey] replaces the key set.
const DefaultAPIKey = "vmraytest-report-key"

// DefaultPageSize is how many list items the fake returns before it hands
// out a continuation id (VMRay's "api_items_per_request" default).
const DefaultPageSize = 100

// APIKey is one API key the fake accepts.
type APIKey struct {
	// Key is the secret sent as "Authorization: api_key <Key>".
	Key string
	// BillingType is analyzer (Report key, "Total Insight") or detector
	// (Verdict key, "Final Verdict"; its analyses start locked).
	BillingType vmray.BillingType
	// QuotaLimit is reported by /rest/api_key/quota (default 1000).
	QuotaLimit int
	// AnalysisCaching is the key's caching setting used when a submission
	// does not name one (default smart).
	AnalysisCaching vmray.AnalysisCaching
}

// Timing says when a submission moves on. A submission is queued until it
// was polled QueuedPolls times (GET /rest/submission/{id}) and QueuedFor has
// passed on the server's clock; its jobs are then "inwork" until
// InWorkPolls more polls and InWorkFor have passed, and then it is finished.
// Zero values impose no condition, so Timing{} finishes on the first poll.
type Timing struct {
	QueuedPolls int
	QueuedFor   time.Duration
	InWorkPolls int
	InWorkFor   time.Duration
}

// DefaultTiming is queued for one poll, in work for one more.
var DefaultTiming = Timing{QueuedPolls: 1, InWorkPolls: 1}

// DefaultSampleStoreLimit is the largest submitted file whose bytes the fake
// keeps for /rest/sample/{id}/file.
const DefaultSampleStoreLimit = 16 << 20

type config struct {
	tls            bool
	clock          fakehttp.Clock
	keys           []APIKey
	pageSize       int
	timing         Timing
	downloadPW     string
	storeLimit     int64
	unfinished     int
	defaultOutcome *Outcome // shared by the submissions it applies to, never modified
	rateLimit      rate.Limit
	rateBurst      int
}

// Option configures a Server.
type Option func(*config)

// WithTLS serves HTTPS with a certificate for 127.0.0.1 signed by a fresh CA
// (see [Server.CACertPEM]).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// Clock tells the fake what time it is: any type with a Now method, for
// example a [ManualClock].
type Clock = fakehttp.Clock

// WithClock sets the clock used for timestamps and [Timing] durations, for
// example [NewManualClock].
func WithClock(clock Clock) Option { return func(c *config) { c.clock = clock } }

// WithAPIKey adds an accepted key. The first use of WithAPIKey replaces the
// default key set ({DefaultAPIKey, analyzer}).
func WithAPIKey(k APIKey) Option { return func(c *config) { c.keys = append(c.keys, k) } }

// WithPageSize sets how many items a list returns before continuing through
// /rest/continuation/{id}.
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithTiming sets how submissions progress (default [DefaultTiming]).
func WithTiming(t Timing) Option { return func(c *config) { c.timing = t } }

// WithDownloadPassword sets the system download password (default
// "infected").
func WithDownloadPassword(pw string) Option { return func(c *config) { c.downloadPW = pw } }

// WithSampleStoreLimit sets the largest submitted file kept for download
// (default [DefaultSampleStoreLimit]); larger files are hashed as they
// stream in and their bytes dropped.
func WithSampleStoreLimit(n int64) Option { return func(c *config) { c.storeLimit = n } }

// WithUnfinishedReads makes the first n reads of each sample's VTIs, IOCs and
// MITRE ATT&CK data answer with status "in_progress" and empty lists.
func WithUnfinishedReads(n int) Option { return func(c *config) { c.unfinished = n } }

// WithDefaultOutcome sets the result of analysing a hash that has no outcome
// of its own (default: clean, score 0).
func WithDefaultOutcome(o Outcome) Option { return func(c *config) { c.defaultOutcome = &o } }

// WithRateLimit makes the fake throttle like VMRay: beyond perSecond
// requests per second (with burst), it answers 429 with a Retry-After header
// and [ThrottledBody]. Requests from all keys share the bucket.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) { c.rateLimit, c.rateBurst = rate.Limit(perSecond), max(burst, 1) }
}

// Server is an in-process fake of the VMRay Platform REST API. It is safe for
// concurrent use.
type Server struct {
	cfg  config
	mw   *fakehttp.Middleware
	srv  *fakehttp.Server
	tb   testing.TB
	mux  *http.ServeMux
	mu   sync.Mutex
	st   state
	once sync.Once
	// limiter throttles requests when WithRateLimit is set.
	limiter *rate.Limiter
	// copyBufs are the uploads' copy buffers, reused across uploads.
	copyBufs sync.Pool
}

// New starts a fake VMRay server. Close it when done.
func New(opts ...Option) (*Server, error) {
	cfg := config{clock: fakehttp.SystemClock{}, pageSize: DefaultPageSize, timing: DefaultTiming,
		downloadPW: vmray.DefaultDownloadPassword, storeLimit: DefaultSampleStoreLimit,
		defaultOutcome: &Outcome{Verdict: vmray.VerdictClean}}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if len(cfg.keys) == 0 {
		cfg.keys = []APIKey{{Key: DefaultAPIKey, BillingType: vmray.BillingAnalyzer}}
	}
	if cfg.pageSize <= 0 {
		return nil, errors.New("vmraytest: page size must be positive")
	}
	if cfg.clock == nil {
		cfg.clock = fakehttp.SystemClock{}
	}
	s := &Server{cfg: cfg}
	s.st.init()
	for _, k := range cfg.keys {
		if err := s.AddAPIKey(k); err != nil {
			return nil, err
		}
	}
	s.mux = http.NewServeMux()
	s.routes()
	var h http.Handler = s.mux
	if cfg.rateLimit > 0 {
		s.limiter = rate.NewLimiter(cfg.rateLimit, cfg.rateBurst)
		h = s.throttle(h)
	}
	s.mw = fakehttp.NewMiddleware(h)
	srv, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: cfg.tls})
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// NewServer starts a fake VMRay server for a test and closes it when the test
// ends. It fails the test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("vmraytest: %v", err)
	}
	s.tb = t
	t.Cleanup(func() { s.Close() })
	return s
}

// Close stops the server.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = s.srv.Close() })
	return err
}

// URL is the server's base URL (without "/rest"), for [vmray.New].
func (s *Server) URL() string { return s.srv.URL() }

// CACertPEM is the CA certificate of a TLS server, nil otherwise.
func (s *Server) CACertPEM() []byte { return s.srv.CACertPEM() }

// Handler is the fake's HTTP handler (with request recording and faults),
// for mounting in another server.
func (s *Server) Handler() http.Handler { return s.mw }

// Client returns the real client wired to the fake with [DefaultAPIKey] (or
// the first configured key) and fast retries. Options are applied after the
// fake's; they must not set TLS or proxy options, since the client uses the
// fake's HTTP client. It returns nil if opts are invalid (a test server made by
// [NewServer] fails the test instead).
func (s *Server) Client(opts ...vmray.Option) *vmray.Client {
	return s.ClientWithKey(s.cfg.keys[0].Key, opts...)
}

// ClientWithKey is [Server.Client] for another key, for example a detector
// key added with [WithAPIKey].
func (s *Server) ClientWithKey(key string, opts ...vmray.Option) *vmray.Client {
	base := []vmray.Option{
		vmray.WithHTTPClient(s.srv.HTTPClient()),
		vmray.WithRetry(vmray.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}),
	}
	c, err := vmray.New(s.URL(), key, append(base, opts...)...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("vmraytest: client: %v", err)
		}
		return nil
	}
	return c
}

// Fault is a fault to inject; see [Server.InjectFault].
type Fault = fakehttp.Fault

// Request is a request the fake received.
type Request = fakehttp.Request

// ThrottledBody is VMRay's answer to a rate-limited request.
const ThrottledBody = `{"error_msg":"Request was throttled. Expected available in 2 seconds.","result":"error"}`

// InjectFault makes matching requests fail: a status with a body (for
// example 429 with RetryAfter and [ThrottledBody], or 500), latency, a
// dropped connection or a malformed (cut) JSON body.
func (s *Server) InjectFault(f Fault) { s.mw.InjectFault(f) }

// ClearFaults removes all injected faults.
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

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.mw.ResetRequests() }

// CountRequests counts recorded requests by method ("" for any) and path
// prefix (for example "/rest/sample/submit").
func (s *Server) CountRequests(method, pathPrefix string) int {
	return s.mw.CountRequests(method, pathPrefix)
}

// throttle answers 429 once the token bucket is empty.
func (s *Server) throttle(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.limiter.Allow() {
			next.ServeHTTP(w, r)
			return
		}
		wait := math.Ceil(1 / float64(s.cfg.rateLimit))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, 1))))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, ThrottledBody)
	})
}
