package carbonblack_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/carbonblack"
)

const (
	testOrg    = "7DESJ9GN"
	testID     = "ABCDEFGHIJ"
	testSecret = "S3CR3T0KEY0123456789XYZ"
	basePath   = "/api-prefix"
)

func tlsConfig(t *testing.T, pem []byte) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	return &tls.Config{RootCAs: pool}
}

// logSink collects a client's log output so tests can look for secrets.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// setup starts an httptest server mounted under basePath and a client for
// it with fast retries and polling. Every test checks that the secret never
// reached the logs.
func setup(t *testing.T, opts ...carbonblack.Option) (*carbonblack.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(basePath+"/", http.StripPrefix(basePath, mux))
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	sink := &logSink{}
	fast := carbonblack.PollPolicy{Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Timeout: 2 * time.Second}
	base := []carbonblack.Option{
		carbonblack.WithRetry(carbonblack.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, Budget: carbonblack.NewRetryBudget(1000, 1, 1)}),
		carbonblack.WithLogger(slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		carbonblack.WithJobPolling(fast), carbonblack.WithSessionPolling(fast), carbonblack.WithCommandPolling(fast),
	}
	c, err := carbonblack.New(srv.URL+basePath, testOrg, testID, testSecret, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(sink.String(), testSecret) {
			t.Error("the API secret reached the logs")
		}
	})
	return c, mux
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

func testHeader(t *testing.T, r *http.Request, key, want string) {
	t.Helper()
	if got := r.Header.Get(key); got != want {
		t.Errorf("header %s = %q, want %q", key, got, want)
	}
}

func testAuth(t *testing.T, r *http.Request) {
	t.Helper()
	testHeader(t, r, "X-Auth-Token", testSecret+"/"+testID)
}

func testQuery(t *testing.T, r *http.Request, want map[string]string) {
	t.Helper()
	q := r.URL.Query()
	if len(q) != len(want) {
		t.Errorf("query = %v, want %v", q, want)
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
		}
	}
}

// testJSONBody compares the request body with want (JSON text), ignoring
// formatting and key order.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	body, _ := io.ReadAll(r.Body)
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if d := cmp.Diff(exp, got); d != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", d)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveJSON(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
