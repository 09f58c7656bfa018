package fakehttp

import (
	"bytes"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of Recording.
const (
	// DefaultMaxRequests is how many requests a fake keeps by default, the
	// newest.
	DefaultMaxRequests = 100_000
	// DefaultMaxBodyBytes is how much of each request body a fake keeps by
	// default; the handler still receives the whole body.
	DefaultMaxBodyBytes = 1 << 20
)

// Recording bounds what a Middleware keeps of the requests it sees, so a fake
// under load holds a fixed amount of memory. The number of requests per route
// is always counted (Counts), whatever is kept.
type Recording struct {
	// MaxRequests is how many requests are kept, the newest; older ones are
	// dropped (0: DefaultMaxRequests; negative: none are kept).
	MaxRequests int
	// MaxBodyBytes is how much of each body is kept (0: DefaultMaxBodyBytes;
	// negative: no bodies).
	MaxBodyBytes int
}

func (r Recording) maxRequests() int {
	switch {
	case r.MaxRequests == 0:
		return DefaultMaxRequests
	case r.MaxRequests < 0:
		return 0
	}
	return r.MaxRequests
}

func (r Recording) maxBody() int {
	switch {
	case r.MaxBodyBytes == 0:
		return DefaultMaxBodyBytes
	case r.MaxBodyBytes < 0:
		return 0
	}
	return r.MaxBodyBytes
}

// Request is one request the fake received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Query    url.Values
	Header   http.Header
	// Body holds at most the first Recording.MaxBodyBytes (default 1 MiB) of
	// the request body. Multipart uploads and other large bodies are
	// truncated (BodyTruncated is then true).
	Body          []byte
	BodyTruncated bool
	Time          time.Time
}

// Fault changes the fake's answer to matching requests.
type Fault struct {
	// Method restricts the fault to one HTTP method; empty matches all.
	Method string
	// Path is a path prefix; empty matches all.
	Path string
	// Times is how many matching requests the fault applies to; 0 means
	// until ClearFaults.
	Times int
	// Latency delays the answer (alone, or before the other effects).
	Latency time.Duration
	// Status answers with this status and Body instead of the handler.
	Status int
	// RetryAfter sets the Retry-After header of a Status answer.
	RetryAfter string
	// Body and ContentType of a Status answer (default: empty JSON object).
	Body        string
	ContentType string
	// Drop closes the connection without any answer.
	Drop bool
	// Malformed lets the handler answer, then cuts its body in half so it is
	// no longer valid JSON.
	Malformed bool
	// LostAnswer lets the handler act (its state changes hold), then resets
	// the connection instead of sending the answer, as when a proxy or the
	// network loses a response. With DelayedEffect the connection is reset
	// as soon as the request is read and the effect lands later.
	LostAnswer bool
	// DelayedEffect accepts the request but hands it to the handler only
	// after this delay, whether or not the client is still connected; a
	// client still waiting then gets the handler's answer. See
	// [Middleware.ApplyDelayedEffects] and [Middleware.PendingEffects].
	DelayedEffect time.Duration
	// Rate applies the fault to this fraction of the matching requests,
	// drawn from the middleware's seeded generator ([Middleware.FaultSeed]);
	// 0 applies it to every matching request. Times counts applications.
	Rate float64
}

type fault struct {
	Fault
	left int // remaining applications; <0 means unlimited
}

// Middleware records requests and injects faults in front of a handler. It is
// safe for concurrent use.
type Middleware struct {
	next http.Handler

	mu  sync.Mutex
	rec Recording
	// requests is a ring of the kept requests: the oldest is at first once
	// it is full.
	requests []Request
	first    int
	dropped  int
	counts   map[string]int
	faults   []*fault
	chance   faultChance
	effects  delayedEffects
}

// NewMiddleware wraps next. The generator behind [Fault.Rate] is seeded from
// the SOARKIT_FAULT_SEED environment variable when it holds a number, and
// randomly otherwise; [Middleware.FaultSeed] reports the seed.
func NewMiddleware(next http.Handler) *Middleware {
	m := &Middleware{next: next, counts: map[string]int{}}
	m.chance.seed(seedFromEnv())
	return m
}

// SetRecording changes what is kept of the requests from now on; the
// requests kept so far are forgotten, the counts are not.
func (m *Middleware) SetRecording(r Recording) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec = r
	m.requests, m.first, m.dropped = nil, 0, 0
}

// Counts returns the number of requests per route since the last
// ResetRequests, kept or not, by "METHOD /route" with the ids in the path
// replaced by "{}" (see Route).
func (m *Middleware) Counts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts)
}

// Dropped returns how many requests were not kept (see Recording) since the
// last ResetRequests.
func (m *Middleware) Dropped() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Route returns a path with its id segments replaced by "{}": numbers,
// segments of 8 characters or more with a digit, and long tokens (16
// characters or more without '-' or '_', or with an upper-case letter, as
// random base64url ids have; route words are lower case).
func Route(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if isID(p) {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

func isID(p string) bool {
	if p == "" {
		return false
	}
	digits := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) < 0
	return digits || len(p) >= 8 && strings.ContainsAny(p, "0123456789") ||
		len(p) >= 16 && (!strings.ContainsAny(p, "-_.") || strings.ToLower(p) != p)
}

// InjectFault adds a fault; faults are tried in the order they were added and
// the first match applies.
func (m *Middleware) InjectFault(f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	m.faults = append(m.faults, &fault{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (m *Middleware) ClearFaults() {
	m.mu.Lock()
	m.faults = nil
	m.mu.Unlock()
}

// Requests returns a copy of the requests kept so far, oldest first (see
// Recording: by default the newest 100,000).
func (m *Middleware) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Request, 0, len(m.requests))
	out = append(out, m.requests[m.first:]...)
	return append(out, m.requests[:m.first]...)
}

// ResetRequests forgets the kept requests and the counts.
func (m *Middleware) ResetRequests() {
	m.mu.Lock()
	m.requests, m.first, m.dropped = nil, 0, 0
	clear(m.counts)
	m.mu.Unlock()
}

// CountRequests returns how many kept requests have the method (empty for
// any) and a path starting with prefix.
func (m *Middleware) CountRequests(method, prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

func (m *Middleware) record(r *http.Request) {
	m.mu.Lock()
	m.counts[r.Method+" "+Route(r.URL.Path)]++
	keep, maxBody := m.rec.maxRequests(), m.rec.maxBody()
	m.mu.Unlock()
	if keep == 0 {
		m.mu.Lock()
		m.dropped++
		m.mu.Unlock()
		return
	}
	rec := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Time:     time.Now(),
	}
	if r.Body != nil && maxBody > 0 {
		head, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBody)))
		if err == nil {
			rec.Body = head
			// Hand the handler the whole body: the recorded head, then the rest.
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
			rec.BodyTruncated = len(head) == maxBody
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.requests) < keep {
		m.requests = append(m.requests, rec)
		return
	}
	m.requests[m.first] = rec
	m.first = (m.first + 1) % len(m.requests)
	m.dropped++
}

func (m *Middleware) match(r *http.Request) *Fault {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, f := range m.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && !m.chance.draw(f.Rate) {
			continue
		}
		applied := f.Fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				m.faults = append(m.faults[:i:i], m.faults[i+1:]...)
			}
		}
		return &applied
	}
	return nil
}

// ServeHTTP records the request, applies the first matching fault and
// otherwise passes the request on.
func (m *Middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.record(r)
	f := m.match(r)
	if f == nil {
		m.next.ServeHTTP(w, r)
		return
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up: answer nothing rather than an empty 200.
			t.Stop()
			panic(http.ErrAbortHandler)
		}
	}
	switch {
	case f.DelayedEffect > 0:
		m.serveDelayed(w, r, f)
	case f.LostAnswer:
		m.next.ServeHTTP(&bufferedWriter{header: make(http.Header), status: http.StatusOK}, r)
		reset(w)
	case f.Drop:
		drop(w)
	case f.Status != 0:
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		body := f.Body
		if body == "" && ct == "application/json" {
			body = "{}"
		}
		w.Header().Set("Content-Type", ct)
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, body)
	case f.Malformed:
		rec := &bufferedWriter{header: make(http.Header), status: http.StatusOK}
		m.next.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		b := rec.body.Bytes()
		_, _ = w.Write(b[:len(b)/2])
	default:
		m.next.ServeHTTP(w, r)
	}
}

// drop closes the client's connection without an HTTP answer.
func drop(w http.ResponseWriter) { hijack(w).Close() }

// hijack takes the client's connection over, or aborts the handler when the
// writer cannot give it up.
func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return conn
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
