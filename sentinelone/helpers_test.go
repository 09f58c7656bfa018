package sentinelone_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

const testToken = "s3cr3t-api-token-0123456789"

// apiBase is where the test server mounts the API: a non-empty base path
// plus the v2.1 prefix the client appends.
const apiBase = "/api-prefix/web/api/v2.1"

type testEnv struct {
	mux    *http.ServeMux
	srv    *httptest.Server
	client *sentinelone.Client
	logs   *bytes.Buffer
}

func setup(t testing.TB, opts ...sentinelone.Option) *testEnv {
	t.Helper()
	env := &testEnv{mux: http.NewServeMux(), logs: &bytes.Buffer{}}
	env.srv = httptest.NewServer(env.mux)
	t.Cleanup(env.srv.Close)
	base := []sentinelone.Option{
		sentinelone.WithRetry(sentinelone.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}),
		sentinelone.WithoutRouteLimits(),
		sentinelone.WithLogger(slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Timeout: 2 * time.Second}),
		sentinelone.WithQueryPoll(sentinelone.PollPolicy{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Timeout: 2 * time.Second}),
	}
	c, err := sentinelone.New(env.srv.URL+"/api-prefix", testToken, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	env.client = c
	return env
}

// handle registers fn for an API path (relative to /web/api/v2.1).
func (e *testEnv) handle(pattern string, fn http.HandlerFunc) {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	if method != "" {
		method += " "
	}
	e.mux.HandleFunc(method+apiBase+path, fn)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testQuery checks that the query holds exactly want.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if want == nil {
		want = url.Values{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testJSONBody checks that the body is JSON equal to want.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	testHeader(t, r, "Content-Type", "application/json")
}

func mustTime(t *testing.T, s string) sentinelone.Time {
	t.Helper()
	tm, err := sentinelone.ParseTime(s)
	if err != nil {
		t.Fatalf("bad time %q", s)
	}
	return sentinelone.NewTime(tm)
}

func boolPtr(b bool) *bool { return &b }

var osReadFile = os.ReadFile
