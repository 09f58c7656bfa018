package proofpoint_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
)

const (
	testPrincipal = "sp-0f1e2d3c-principal"
	testSecret    = "s3cr3t-tap-service-secret-9a8b7c"
	basePath      = "/api-prefix"
)

// testNow is the clock of the client tests.
var testNow = time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)

// fastRetry keeps retries in the millisecond range.
func fastRetry() proofpoint.RetryPolicy {
	return proofpoint.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, RateLimitedDelay: time.Millisecond}
}

type testServer struct {
	mux    *http.ServeMux
	client *proofpoint.Client
	url    string

	mu   sync.Mutex
	hits int
}

// setup starts an httptest server that serves mux under basePath and a
// client pointed at it, with a fixed clock and fast retries.
func setup(t *testing.T, opts ...proofpoint.Option) *testServer {
	t.Helper()
	ts := &testServer{mux: http.NewServeMux()}
	outer := http.NewServeMux()
	outer.Handle(basePath+"/", http.StripPrefix(basePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.hits++
		ts.mu.Unlock()
		ts.mux.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	ts.url = srv.URL + basePath
	base := []proofpoint.Option{proofpoint.WithRetry(fastRetry()), proofpoint.WithClock(func() time.Time { return testNow })}
	c, err := proofpoint.New(ts.url, testPrincipal, testSecret, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts.client = c
	return ts
}

func (ts *testServer) requests() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.hits
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testQuery compares the whole query string, repeated keys included.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if diff := cmp.Diff(want, r.URL.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

func testHeader(t *testing.T, r *http.Request, key, want string) {
	t.Helper()
	if got := r.Header.Get(key); got != want {
		t.Errorf("header %s = %q, want %q", key, got, want)
	}
}

// testJSONBody compares the request body with want, as JSON values.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// testAuth checks the Basic credentials.
func testAuth(t *testing.T, r *http.Request) {
	t.Helper()
	user, pass, ok := r.BasicAuth()
	if !ok || user != testPrincipal || pass != testSecret {
		t.Errorf("basic auth = %q/%q/%v, want the test credential", user, pass, ok)
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

// serveFixture answers with a fixture file.
func serveFixture(t *testing.T, w http.ResponseWriter, name string) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(fixture(t, name))
}

func mustTime(t *testing.T, s string) proofpoint.Time {
	t.Helper()
	tm, err := proofpoint.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return proofpoint.Time{Time: tm}
}

// hourBefore is a valid one-hour SIEM window ending d before testNow.
func hourBefore(d time.Duration) proofpoint.Interval {
	end := testNow.Add(-d)
	return proofpoint.Interval{Start: end.Add(-time.Hour), End: end}
}
