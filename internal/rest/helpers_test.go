package rest

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testSecret   = "s3cr3t-API-key-0123456789"
	testPassword = "hunter2-zip-password"
	basePath     = "/api-prefix/v1"
)

// logSink captures every log record of a test so it can be scanned for
// secrets.
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

// newTestClient starts an httptest server under basePath and a client with
// api-key auth, fast retries and a log sink. The test fails if any seeded
// secret reaches the logs.
func newTestClient(t *testing.T, h http.HandlerFunc, mutate ...func(*Config)) (*Client, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sink := &logSink{}
	cfg := Config{
		Vendor:  "testvendor",
		BaseURL: srv.URL + basePath,
		Auth: func(r *http.Request) {
			r.Header.Set("Authorization", "api_key "+testSecret)
		},
		Secrets: []string{testPassword},
		Logger:  slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:   RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond},
		DecodeError: func(e *Error, body []byte) {
			e.Message = strings.TrimSpace(string(body))
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logs := sink.String()
		for _, s := range []string{testSecret, testPassword} {
			if strings.Contains(logs, s) {
				t.Errorf("secret %q leaked into logs:\n%s", s, logs)
			}
		}
	})
	return c, srv
}

// assertNoSecret fails if err's text carries a seeded secret.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{testSecret, testPassword} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("secret %q leaked into error: %v", s, err)
		}
	}
}
