package fakehttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func startTest(t *testing.T, tlsOn bool) (*Server, *Middleware) {
	t.Helper()
	mw := NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		WriteJSON(w, http.StatusOK, map[string]any{"path": r.URL.Path, "echo": string(body)})
	}))
	srv, err := Start(mw, Options{TLS: tlsOn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, mw
}

func get(t *testing.T, c *http.Client, url string) (int, http.Header, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), nil
}

func TestServerTLSAndRecording(t *testing.T) {
	srv, mw := startTest(t, true)
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %q", srv.URL())
	}
	if len(srv.CACertPEM()) == 0 {
		t.Fatal("no CA certificate")
	}
	if _, _, _, err := get(t, http.DefaultClient, srv.URL()+"/x"); err == nil {
		t.Fatal("default client trusted the generated CA")
	}
	resp, err := srv.HTTPClient().Post(srv.URL()+"/a/b?q=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"echo":"hello"`) {
		t.Fatalf("handler did not get the body: %s", b)
	}
	reqs := mw.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPost || last.Path != "/a/b" || last.Query.Get("q") != "1" || string(last.Body) != "hello" {
		t.Fatalf("recorded %+v", last)
	}
	if n := mw.CountRequests(http.MethodPost, "/a"); n != 1 {
		t.Fatalf("CountRequests = %d", n)
	}
	mw.ResetRequests()
	if len(mw.Requests()) != 0 {
		t.Fatal("ResetRequests kept requests")
	}
}

func TestFaults(t *testing.T) {
	srv, mw := startTest(t, false)
	c := srv.HTTPClient()

	mw.InjectFault(Fault{Path: "/limited", Times: 2, Status: 429, RetryAfter: "3"})
	for i := range 2 {
		code, h, _, err := get(t, c, srv.URL()+"/limited")
		if err != nil || code != 429 || h.Get("Retry-After") != "3" {
			t.Fatalf("try %d: %d %v %v", i, code, h, err)
		}
	}
	if code, _, _, _ := get(t, c, srv.URL()+"/limited"); code != 200 {
		t.Fatalf("fault outlived Times: %d", code)
	}

	mw.InjectFault(Fault{Method: http.MethodGet, Path: "/broken", Malformed: true})
	_, _, body, _ := get(t, c, srv.URL()+"/broken")
	if strings.HasSuffix(body, "}") {
		t.Fatalf("body not cut: %q", body)
	}

	mw.InjectFault(Fault{Path: "/drop", Drop: true})
	if _, _, _, err := get(t, c, srv.URL()+"/drop"); err == nil {
		t.Fatal("dropped connection answered")
	}

	mw.InjectFault(Fault{Path: "/slow", Latency: 50 * time.Millisecond})
	if code, _, _, _ := get(t, c, srv.URL()+"/slow"); code != 200 {
		t.Fatalf("latency fault: code %d", code)
	}

	mw.ClearFaults()
	if code, _, _, err := get(t, c, srv.URL()+"/drop"); err != nil || code != 200 {
		t.Fatalf("after ClearFaults: %d %v", code, err)
	}
}

func TestManualClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewManualClock(t0)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Now = %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Set did not move the clock")
	}
	var _ Clock = SystemClock{}
}

func TestStartBadAddress(t *testing.T) {
	_, err := Start(http.NotFoundHandler(), Options{Addr: "256.0.0.1:0"})
	if err == nil {
		t.Fatal("Start accepted an invalid address")
	}
	if !strings.Contains(err.Error(), "fakehttp: listen") {
		t.Fatalf("error does not say what failed: %v", err)
	}
}

// A latency fault holds the answer back by exactly its latency (in a synctest bubble the clock moves only while
// every goroutine waits).
func TestLatencyFaultDelaysTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mw := NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) }))
		mw.InjectFault(Fault{Path: "/slow", Latency: 50 * time.Millisecond})
		for _, c := range []struct {
			path string
			want time.Duration
		}{{"/slow", 50 * time.Millisecond}, {"/fast", 0}} {
			start := time.Now()
			rec := httptest.NewRecorder()
			mw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
			if took := time.Since(start); rec.Code != 200 || took != c.want {
				t.Errorf("%s: %d after %v, want 200 after %v", c.path, rec.Code, took, c.want)
			}
		}
	})
}
