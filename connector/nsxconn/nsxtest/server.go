package nsxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// Default credentials of the fake.
const (
	DefaultUsername = "admin"
	DefaultPassword = "fake-nsx-password"
)

type config struct {
	tls                bool
	username, password string
}

// Option configures the fake.
type Option func(*config)

// WithTLS serves HTTPS with a generated CA (see Server.CACertPEM).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithCredentials sets the accepted Basic-auth user and password.
func WithCredentials(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// Server is the fake NSX Manager.
type Server struct {
	cfg  config
	mw   *fakehttp.Middleware
	http *fakehttp.Server

	mu  sync.Mutex
	vms []nsxconn.VirtualMachine
}

// New starts a fake NSX Manager on 127.0.0.1.
func New(opts ...Option) (*Server, error) {
	s := &Server{cfg: config{username: DefaultUsername, password: DefaultPassword}}
	for _, o := range opts {
		o(&s.cfg)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/fabric/virtual-machines", s.list)
	mux.HandleFunc("POST /api/v1/fabric/virtual-machines", s.action)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 404, "The requested URI "+r.URL.Path+" could not be found.")
	})
	s.mw = fakehttp.NewMiddleware(s.auth(mux))
	srv, err := fakehttp.Start(s.mw, fakehttp.Options{TLS: s.cfg.tls})
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
		t.Fatalf("nsxtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// URL is the base URL of the fake.
func (s *Server) URL() string { return s.http.URL() }

// CACertPEM is the fake's CA certificate when it serves TLS.
func (s *Server) CACertPEM() []byte { return s.http.CACertPEM() }

// Handler is the fake's HTTP handler (with recording and faults), for
// mounting it in another server.
func (s *Server) Handler() http.Handler { return s.mw }

// Username and Password are the credentials the fake accepts.
func (s *Server) Username() string { return s.cfg.username }

// Password is the accepted password.
func (s *Server) Password() string { return s.cfg.password }

// Close stops the fake.
func (s *Server) Close() error { return s.http.Close() }

// Client returns an nsxconn client wired to the fake, with fast retries.
func (s *Server) Client(opts ...nsxconn.Option) (*nsxconn.Client, error) {
	base := []nsxconn.Option{
		nsxconn.WithHTTPClient(s.http.HTTPClient()),
		nsxconn.WithRetry(nsxconn.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}),
	}
	return nsxconn.New(s.URL(), s.cfg.username, s.cfg.password, append(base, opts...)...)
}

// AddVM seeds a virtual machine.
func (s *Server) AddVM(vm nsxconn.VirtualMachine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if vm.Type == "" {
		vm.Type = "REGULAR"
	}
	if vm.PowerState == "" {
		vm.PowerState = "VM_RUNNING"
	}
	vm.Tags = slices.Clone(vm.Tags)
	s.vms = append(s.vms, vm)
}

// VM returns the VM with the given external id.
func (s *Server) VM(externalID string) (nsxconn.VirtualMachine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, vm := range s.vms {
		if vm.ExternalID == externalID {
			vm.Tags = slices.Clone(vm.Tags)
			return vm, true
		}
	}
	return nsxconn.VirtualMachine{}, false
}

// Requests returns the requests received so far.
func (s *Server) Requests() []fakehttp.Request { return s.mw.Requests() }

// Recording bounds what the fake keeps of the requests it sees (see SetRecording).
type Recording = fakehttp.Recording

// SetRecording bounds what the fake keeps of the requests it sees from now
// on, for load tests: by default the newest 100,000 requests with the first
// MiB of each body. The requests per route are always counted (Counts).
func (s *Server) SetRecording(r Recording) { s.mw.SetRecording(r) }

// Counts returns the number of requests per route since the last
// ResetRequests, kept or not, by "METHOD /route" with ids as "{}".
func (s *Server) Counts() map[string]int { return s.mw.Counts() }

// InjectFault changes the answer to matching requests.
func (s *Server) InjectFault(f fakehttp.Fault) { s.mw.InjectFault(f) }

// ClearFaults removes injected faults.
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

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.cfg.username || p != s.cfg.password {
			writeError(w, http.StatusForbidden, 403, "The credentials were incorrect or the account specified has been locked.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageSize := 1000
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 255, "Field level validation errors: {page_size must be between 1 and 1000}")
			return
		}
		pageSize = n
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 255, "Invalid cursor "+c)
			return
		}
		offset = n
	}
	s.mu.Lock()
	var match []nsxconn.VirtualMachine
	for _, vm := range s.vms {
		if name := q.Get("display_name"); name != "" && vm.DisplayName != name {
			continue
		}
		if id := q.Get("external_id"); id != "" && vm.ExternalID != id {
			continue
		}
		vm.Tags = slices.Clone(vm.Tags)
		match = append(match, vm)
	}
	s.mu.Unlock()
	page := map[string]any{"result_count": len(match), "results": []nsxconn.VirtualMachine{}}
	if offset < len(match) {
		end := min(offset+pageSize, len(match))
		page["results"] = match[offset:end]
		if end < len(match) {
			page["cursor"] = strconv.Itoa(end)
		}
	}
	fakehttp.WriteJSON(w, http.StatusOK, page)
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	if a := r.URL.Query().Get("action"); a != "add_tags" {
		writeError(w, http.StatusBadRequest, 255, fmt.Sprintf("Invalid action %q; the fake supports add_tags", a))
		return
	}
	var body struct {
		ExternalID string        `json:"external_id"`
		Tags       []nsxconn.Tag `json:"tags"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ExternalID == "" || len(body.Tags) == 0 {
		writeError(w, http.StatusBadRequest, 255, "Field level validation errors: {required property external_id or tags is missing}")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.vms {
		vm := &s.vms[i]
		if vm.ExternalID != body.ExternalID {
			continue
		}
		for _, t := range body.Tags {
			if !vm.HasTag(t) {
				vm.Tags = append(vm.Tags, t)
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeError(w, http.StatusNotFound, 600, "The requested object : "+body.ExternalID+" could not be found. Object identifiers are case sensitive.")
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	fakehttp.WriteJSON(w, status, map[string]any{"httpStatus": http.StatusText(status), "error_code": code, "module_name": "common-services", "error_message": msg})
}
