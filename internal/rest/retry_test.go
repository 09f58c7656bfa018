package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// flaky answers the first failures requests with status (0 drops the
// connection) and then 200.
func flaky(calls *atomic.Int32, failures int32, status int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) <= failures {
			if status == 0 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}
}

func TestRetriesOnRetryableStatuses(t *testing.T) {
	for _, status := range []int{0, 408, 429, 500, 502, 503, 504} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var calls atomic.Int32
			c, _ := newTestClient(t, flaky(&calls, 2, status, ""))
			_, err := c.Do(context.Background(), &Request{Path: "/x"}, nil)
			if err != nil || calls.Load() != 3 {
				t.Fatalf("err %v after %d calls", err, calls.Load())
			}
		})
	}
}

func TestNoRetryOnOtherStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 501} {
		var calls atomic.Int32
		c, _ := newTestClient(t, flaky(&calls, 5, status, ""))
		_, err := c.Do(context.Background(), &Request{Path: "/x"}, nil)
		if err == nil || calls.Load() != 1 {
			t.Errorf("%d: err %v after %d calls", status, err, calls.Load())
		}
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, flaky(&calls, 10, 503, ""))
	_, err := c.Do(context.Background(), &Request{Path: "/x"}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 3 || calls.Load() != 3 || !errors.Is(err, ErrServer) {
		t.Fatalf("err %v, calls %d", err, calls.Load())
	}
}

func TestPOSTRetriedOnlyWhenIdempotentOrServerDidNotAct(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, flaky(&calls, 1, 503, ""))
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x", Body: JSONBody(1)}, nil)
	if err == nil || calls.Load() != 1 {
		t.Fatalf("non-idempotent POST retried: %v after %d calls", err, calls.Load())
	}

	calls.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x", Body: JSONBody(1), Idempotent: true}, nil)
	if err != nil || calls.Load() != 2 {
		t.Fatalf("idempotent POST: %v after %d calls", err, calls.Load())
	}

	// A 429 means the server did not act: even a plain POST is repeated.
	var limited atomic.Int32
	c2, _ := newTestClient(t, flaky(&limited, 1, 429, "0"))
	if _, err := c2.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x", Body: JSONBody(1)}, nil); err != nil || limited.Load() != 2 {
		t.Fatalf("POST after 429: %v after %d calls", err, limited.Load())
	}

	// A dropped connection after the request was sent: the server may have
	// acted, so a plain POST is not repeated.
	var dropped atomic.Int32
	c3, _ := newTestClient(t, flaky(&dropped, 1, 0, ""))
	if _, err := c3.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x", Body: JSONBody(1)}, nil); err == nil || dropped.Load() != 1 {
		t.Fatalf("POST after dropped connection: %v after %d calls", err, dropped.Load())
	}
}

func TestSingleShotBodyNotRetriedOnceSent(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, flaky(&calls, 1, 429, "0"))
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Path: "/x",
		Body: ReaderBody("application/octet-stream", strings.NewReader("payload"), -1)}, nil)
	if !errors.Is(err, ErrRateLimited) || calls.Load() != 1 {
		t.Fatalf("consumed body retried: %v after %d calls", err, calls.Load())
	}
	// A multipart body whose parts can be reopened is replayable.
	calls.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x",
		Body: MultipartBody(nil, FilePart{Field: "f", FileName: "a.bin", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("data")), nil
		}})}, nil)
	if err != nil || calls.Load() != 2 {
		t.Fatalf("replayable multipart: %v after %d calls", err, calls.Load())
	}
}

// TestUnsentBodyRetriedAfterConnectionRefused: the first attempt cannot
// connect, so the streaming upload was never read and is sent on the retry.
func TestUnsentBodyRetriedAfterConnectionRefused(t *testing.T) {
	var calls atomic.Int32
	var got atomic.Value
	c, srv := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		r.ParseMultipartForm(1 << 20)
		f, _, err := r.FormFile("sample_file")
		if err == nil {
			b, _ := io.ReadAll(f)
			got.Store(string(b))
		}
	})
	refused := 0
	dialer := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refused == 0 {
			refused++
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return dialer.DialContext(ctx, network, addr)
	}}
	c.http = &http.Client{Transport: tr, CheckRedirect: checkRedirect(nil)}
	_ = srv
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/submit",
		Body: MultipartBody([]Field{{Name: "comment", Value: "x"}}, FilePart{Field: "sample_file", FileName: "s.exe", Reader: strings.NewReader("MZ-bytes")})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || got.Load() != "MZ-bytes" {
		t.Fatalf("calls %d, file %v", calls.Load(), got.Load())
	}
}

func TestRetryAfterSecondsAndDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	p := RetryPolicy{MaxRetryAfter: time.Second}.withDefaults()
	if w := p.wait(1, 429, time.Hour, true); w != time.Second {
		t.Errorf("Retry-After not capped: %v", w)
	}
	p.RateLimitedDelay = 2 * time.Minute
	if w := p.wait(1, 429, 0, false); w != 2*time.Minute {
		t.Errorf("429 without Retry-After waited %v", w)
	}
	if w := p.wait(1, 503, 0, false); w >= p.BaseDelay {
		t.Errorf("full jitter exceeded the base delay: %v", w)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	// In a synctest bubble the clock moves only while every goroutine waits, so the gap between the two requests is
	// exactly the wait the client chose.
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			at = append(at, time.Now())
			res := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}
			if len(at) == 1 {
				res.StatusCode = 429
				res.Header.Set("Retry-After", "0.04")
			}
			return res, nil
		})
		c, err := New(Config{Vendor: "v", BaseURL: "https://api.example", HTTPClient: &http.Client{Transport: rt},
			Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do(context.Background(), &Request{Path: "/x"}, nil); err != nil {
			t.Fatal(err)
		}
		if len(at) != 2 || at[1].Sub(at[0]) != 40*time.Millisecond {
			t.Fatalf("requests at %v, want two, 40ms apart (Retry-After)", at)
		}
	})
}

func TestContextBoundsRetryWaits(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, flaky(&calls, 10, 503, ""), func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The retry waits are an hour each: only a wait that honours ctx ends
	// with its deadline (one that did not would outlast the test's timeout).
	_, err := c.Do(ctx, &Request{Path: "/x"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
}

func TestRetryBudget(t *testing.T) {
	var calls atomic.Int32
	budget := NewRetryBudget(10, 5, 1)
	c, _ := newTestClient(t, flaky(&calls, 100, 503, ""), func(cfg *Config) {
		cfg.Retry.MaxAttempts = 5
		cfg.Retry.Budget = budget
	})
	c.Do(context.Background(), &Request{Path: "/x"}, nil)
	if calls.Load() != 3 { // the first attempt plus the two retries the budget pays for
		t.Fatalf("%d calls with a budget of two retries", calls.Load())
	}
	calls.Store(0)
	c.Do(context.Background(), &Request{Path: "/x"}, nil)
	if calls.Load() != 1 {
		t.Fatalf("exhausted budget still retried: %d calls", calls.Load())
	}
	if budget.Available() != 0 {
		t.Fatalf("available %v", budget.Available())
	}
	budget.success()
	if budget.Available() != 1 {
		t.Fatalf("success did not refill: %v", budget.Available())
	}
}

func TestNoRetryAndDisabled(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, flaky(&calls, 5, 503, ""))
	c.Do(context.Background(), &Request{Path: "/x", NoRetry: true}, nil)
	if calls.Load() != 1 {
		t.Fatalf("NoRetry made %d calls", calls.Load())
	}
	calls.Store(0)
	c2, _ := newTestClient(t, flaky(&calls, 5, 503, ""), func(cfg *Config) { cfg.Retry = RetryPolicy{Disabled: true} })
	c2.Do(context.Background(), &Request{Path: "/x"}, nil)
	if calls.Load() != 1 {
		t.Fatalf("disabled retries made %d calls", calls.Load())
	}
}

// The waits are drawn below each retry's nominal wait (base doubled per retry, capped), and retry 3 draws waits
// beyond retry 2's ceiling: the values are durations the policy computes, no time passes.
func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond}.withDefaults()
	ceilings := []time.Duration{p.BaseDelay, 2 * p.BaseDelay, p.MaxDelay, p.MaxDelay, p.MaxDelay}
	beyondRetry2 := 0
	for i, ceiling := range ceilings {
		n := i + 1
		for range 200 {
			d := p.backoff(n)
			if d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
			if n == 3 && d >= ceilings[1] {
				beyondRetry2++
			}
		}
	}
	// Uniform over [0, 4 bases): half the draws lie beyond 2 bases; none in 200 would mean no growth.
	if beyondRetry2 == 0 {
		t.Fatalf("no draw of backoff(3) reached retry 2's ceiling %v: not growing", ceilings[1])
	}
}

// finalTransport refuses every request with an error marked Final.
type finalTransport struct{ calls atomic.Int32 }

func (f *finalTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, Final(errors.New("quota exhausted"))
}

func TestFinalTransportErrorIsNotRetried(t *testing.T) {
	tr := &finalTransport{}
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: tr},
		Retry: RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &Request{Path: "/x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "quota exhausted") || tr.calls.Load() != 1 {
		t.Fatalf("err %v after %d calls", err, tr.calls.Load())
	}
	if Final(nil) != nil {
		t.Fatal("Final(nil) is not nil")
	}
}
