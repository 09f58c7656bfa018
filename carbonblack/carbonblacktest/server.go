package carbonblacktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// Default credentials of the fake.
const (
	DefaultOrgKey    = "7DESJ9GN"
	DefaultAPIID     = "FAKE0API0ID"
	DefaultAPISecret = "FAKE0SECRET0KEY0ABCDEFGHIJ"
)

// Fault changes the fake's answer to matching requests (status, latency,
// dropped connection, malformed body); see [Server.InjectFault].
type Fault = fakehttp.Fault

// Request is one request the fake received.
type Request = fakehttp.Request

// Clock tells the fake what time it is.
type Clock = fakehttp.Clock

// ManualClock is a Clock that moves only when told.
type ManualClock = fakehttp.ManualClock

// NewManualClock returns a clock set to t, for [WithClock].
func NewManualClock(t time.Time) *ManualClock { return fakehttp.NewManualClock(t) }

// Option configures the fake.
type Option func(*options)

type options struct {
	orgKey, apiID, apiSecret string
	tls                      bool
	clock                    Clock
	jobPolls                 int
	sessionPolls             int
	commandPolls             int
	resultWindow             int
	truncateAt               int64
	jobTTL                   time.Duration
}

// WithOrgKey sets the organisation key (default [DefaultOrgKey]).
func WithOrgKey(k string) Option { return func(o *options) { o.orgKey = k } }

// WithCredentials sets the API ID and secret key the fake accepts.
func WithCredentials(apiID, apiSecret string) Option {
	return func(o *options) { o.apiID, o.apiSecret = apiID, apiSecret }
}

// WithTLS serves HTTPS with a certificate for 127.0.0.1 from a generated CA
// ([Server.CACertPEM]); Carbon Black's own SDKs refuse plain http URLs.
func WithTLS() Option { return func(o *options) { o.tls = true } }

// WithClock sets the fake's clock (default: the system clock). It drives
// alert time windows, link expiry, session timeouts and timestamps.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithJobPolls sets how many result polls a search job answers as still
// running before it completes (default 2).
func WithJobPolls(n int) Option { return func(o *options) { o.jobPolls = n } }

// WithSessionPolls sets how many polls a Live Response session stays
// PENDING before it becomes ACTIVE (default 1).
func WithSessionPolls(n int) Option { return func(o *options) { o.sessionPolls = n } }

// WithCommandPolls sets how many polls a Live Response command stays pending
// before it runs (default 1).
func WithCommandPolls(n int) Option { return func(o *options) { o.commandPolls = n } }

// WithResultWindow sets how far alert and device searches can page
// (start+rows-1; default 10,000 like the service).
func WithResultWindow(n int) Option { return func(o *options) { o.resultWindow = n } }

// WithTruncation sets the size above which UBS keeps only the first n bytes
// of a binary (default 25 MiB, as the original connector observed); 0 or a
// negative n keeps every binary whole.
func WithTruncation(n int64) Option { return func(o *options) { o.truncateAt = n } }

// WithJobTTL sets how long search jobs live (default one hour); an expired
// job answers 404.
func WithJobTTL(d time.Duration) Option { return func(o *options) { o.jobTTL = d } }

// Server is a fake Carbon Black Cloud environment for one organisation. It
// is safe for concurrent use.
type Server struct {
	opts    options
	clock   Clock
	mw      *fakehttp.Middleware
	handler http.Handler
	api     *fakehttp.Server
	storage *fakehttp.Server
	signKey []byte
	tb      testing.TB
	// httpClient trusts both listeners' CAs and ignores proxy settings.
	httpClient *http.Client
	// deflaters are the compressors of finished downloads, reused: each
	// holds about a megabyte, which concurrent downloads would otherwise
	// allocate anew.
	deflaters sync.Pool

	mu sync.Mutex
	st state
}

// New starts a fake on 127.0.0.1 (and a second listener standing for the
// object store that serves pre-signed download links). Close it when done.
func New(opts ...Option) (*Server, error) {
	s := newServer(opts)
	api, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: s.opts.tls})
	if err != nil {
		return nil, err
	}
	storage, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: s.opts.tls})
	if err != nil {
		api.Close()
		return nil, err
	}
	s.api, s.storage = api, storage
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if s.opts.tls {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CACertPEM())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	s.httpClient = &http.Client{Transport: tr}
	return s, nil
}

// NewServer starts a fake for a test and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("carbonblacktest: %v", err)
	}
	s.tb = t
	t.Cleanup(s.Close)
	return s
}

func newServer(opts []Option) *Server {
	o := options{orgKey: DefaultOrgKey, apiID: DefaultAPIID, apiSecret: DefaultAPISecret, jobPolls: 2, sessionPolls: 1,
		commandPolls: 1, resultWindow: 10_000, truncateAt: 25 << 20, jobTTL: time.Hour}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	s := &Server{opts: o, clock: o.clock, st: newState()}
	if s.clock == nil {
		s.clock = fakehttp.SystemClock{}
	}
	s.signKey = make([]byte, 32)
	_, _ = rand.Read(s.signKey)
	s.handler = s.routes()
	s.mw = fakehttp.NewMiddleware(s.handler)
	return s
}

// Handler returns the fake's handler (with request recording and fault
// injection), for mounting in another server. It serves the object-store
// paths too; download links still point to the fake's own object-store
// listener.
func (s *Server) Handler() http.Handler { return s.mw }

// URL is the API base URL, for example "https://127.0.0.1:41234".
func (s *Server) URL() string { return s.api.URL() }

// StorageURL is the base URL of the object-store listener that serves
// pre-signed links.
func (s *Server) StorageURL() string { return s.storage.URL() }

// CACertPEM returns the PEM certificates of the CAs of both listeners
// (nil without TLS), for clients in other languages.
func (s *Server) CACertPEM() []byte {
	if !s.opts.tls {
		return nil
	}
	return append(s.api.CACertPEM(), s.storage.CACertPEM()...)
}

// OrgKey, APIID and APISecret are the credentials the fake accepts.
func (s *Server) OrgKey() string { return s.opts.orgKey }

// APIID is the API ID the fake accepts.
func (s *Server) APIID() string { return s.opts.apiID }

// APISecret is the API secret key the fake accepts.
func (s *Server) APISecret() string { return s.opts.apiSecret }

// Close stops both listeners.
func (s *Server) Close() {
	if s.api != nil {
		s.api.Close()
	}
	if s.storage != nil {
		s.storage.Close()
	}
	if s.httpClient != nil {
		s.httpClient.CloseIdleConnections()
	}
}

// Client returns the real client wired to the fake, with fast retries and
// polling, over an HTTP client that trusts the CAs of both listeners; opts
// are applied last (a caller's WithHTTPClient replaces that client). An
// invalid option fails the test of a server made by NewServer;
// for a server made by New, Client returns nil.
func (s *Server) Client(opts ...carbonblack.Option) *carbonblack.Client {
	fast := carbonblack.PollPolicy{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Multiplier: 1.5, Timeout: 10 * time.Second}
	base := []carbonblack.Option{
		carbonblack.WithRetry(carbonblack.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}),
		carbonblack.WithJobPolling(fast), carbonblack.WithSessionPolling(fast), carbonblack.WithCommandPolling(fast),
		carbonblack.WithResultWindow(s.opts.resultWindow),
	}
	if s.httpClient != nil {
		base = append(base, carbonblack.WithHTTPClient(s.httpClient))
	}
	c, err := carbonblack.New(s.URL(), s.opts.orgKey, s.opts.apiID, s.opts.apiSecret, append(base, opts...)...)
	if err != nil {
		// Only a bad option from the caller gets here.
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("carbonblacktest: client: %v", err)
		}
		return nil
	}
	return c
}

// InjectFault adds a fault; Path is a prefix of the request path (for
// example "/api/alerts/v7/"), Times 0 means until ClearFaults.
func (s *Server) InjectFault(f Fault) { s.mw.InjectFault(f) }

// ClearFaults removes every fault.
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
// prefix.
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

// now is the fake's current time in UTC.
func (s *Server) now() time.Time { return s.clock.Now().UTC() }

// Wire helpers.

type apiError struct {
	ErrorCode string `json:"error_code,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) { fakehttp.WriteJSON(w, status, v) }

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{ErrorCode: code, Message: msg})
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf(format, args...))
}

func notFound(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf(format, args...))
}

func querySyntax(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, apiError{Reason: "query_malformed_syntax", Message: err.Error()})
}

// decodeBody reads a JSON body into v; numbers stay json.Number.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		badRequest(w, "reading body: %v", err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_JSON", "Malformed JSON input: "+err.Error())
		return false
	}
	return true
}

// randomID returns n random characters from the base64url alphabet, the
// form of watchlist and feed ids.
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authorize checks the X-Auth-Token header and the org key of the path.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-Auth-Token") != s.opts.apiSecret+"/"+s.opts.apiID {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Authentication failed: missing or invalid X-Auth-Token")
		return false
	}
	if org := r.PathValue("org"); org != "" && org != s.opts.orgKey {
		notFound(w, "Organization %s not found; check org_key", org)
		return false
	}
	s.mu.Lock()
	denied := s.st.denied
	s.mu.Unlock()
	for _, d := range denied {
		if (d.method == "" || d.method == r.Method) && strings.HasPrefix(r.URL.Path, d.prefix) {
			writeError(w, http.StatusForbidden, "FORBIDDEN", "The API key's access level lacks the permission for this call")
			return false
		}
	}
	return true
}

type denial struct{ method, prefix string }

// Deny makes calls with the method ("" for any) under the path prefix answer
// 403, as when the API key's custom access level lacks a permission.
func (s *Server) Deny(method, prefix string) {
	s.mu.Lock()
	s.st.denied = append(s.st.denied, denial{method, prefix})
	s.mu.Unlock()
}

// errNoSuch is used by seeding methods.
var errNoSuch = errors.New("carbonblacktest: no such object")
