package vmray_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/vmray"
)

// testKey is the API key of the unit tests.
const testKey = "unit-test-key-0123456789"

// basePath is where the test server mounts the API, so tests prove that the
// client keeps the base URL's path.
const basePath = "/api-prefix"

// setup starts a server under basePath and returns a client for it with fast
// retries and the mux to register handlers on (paths include "/rest").
func setup(t *testing.T, opts ...vmray.Option) (*vmray.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle(basePath+"/", http.StripPrefix(basePath, mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	base := []vmray.Option{
		vmray.WithHTTPClient(srv.Client()),
		vmray.WithRetry(vmray.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}),
	}
	c, err := vmray.New(srv.URL+basePath, testKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testQuery checks the whole query string.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// testForm checks an urlencoded body.
func testForm(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	testHeader(t, r, "Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, r.PostForm); diff != "" {
		t.Errorf("form mismatch (-want +got):\n%s", diff)
	}
}

// testAuth checks the VMRay authorization header and User-Agent.
func testAuth(t *testing.T, r *http.Request) {
	t.Helper()
	testHeader(t, r, "Authorization", "api_key "+testKey)
}

// fixture reads testdata/name.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeOK answers with {"result":"ok","data":data}.
func writeOK(t *testing.T, w http.ResponseWriter, data string) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"result":"ok","data":`+data+`}`)
}

// writeJSON answers with a raw body and status.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// decode parses JSON or fails the test.
func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// utc builds a UTC timestamp.
func utc(s string) vmray.Time {
	t, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		panic(err)
	}
	return vmray.Time{Time: t}
}

// jsonUnmarshal decodes r into v.
func jsonUnmarshal(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
