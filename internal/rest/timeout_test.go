package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// pacedVendor is an in-memory vendor whose pace is scripted in (bubble) time:
// it consumes the request body, waits headerDelay, then sends chunks of
// chunkSize bytes, each after chunkDelay. Every wait ends when the request's
// context does, as the real transport's do.
type pacedVendor struct {
	headerDelay time.Duration
	chunkDelay  time.Duration
	chunks      int
	chunkSize   int
	attempts    atomic.Int32
	uploaded    atomic.Int64
}

func (v *pacedVendor) RoundTrip(r *http.Request) (*http.Response, error) {
	v.attempts.Add(1)
	if r.Body != nil {
		n, err := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		v.uploaded.Add(n)
		if err != nil {
			return nil, err
		}
	}
	if err := pause(r.Context(), v.headerDelay); err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/octet-stream"}},
		Body:       &pacedBody{ctx: r.Context(), v: v},
		Request:    r,
	}, nil
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type pacedBody struct {
	ctx  context.Context
	v    *pacedVendor
	sent int
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.sent == b.v.chunks {
		return 0, io.EOF
	}
	if err := pause(b.ctx, b.v.chunkDelay); err != nil {
		return 0, err
	}
	b.sent++
	return copy(p, bytes.Repeat([]byte{'x'}, min(len(p), b.v.chunkSize))), nil
}

func (b *pacedBody) Close() error { return nil }

// pacedReader is a request body whose chunks become available every delay.
type pacedReader struct {
	delay  time.Duration
	chunks int
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.chunks == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.delay)
	r.chunks--
	return copy(p, "0123456789abcdef"), nil
}

func newPacedClient(t *testing.T, v *pacedVendor, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Vendor:     "testvendor",
		BaseURL:    "https://vendor.example/api",
		HTTPClient: &http.Client{Transport: v},
		Retry:      RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 2 * time.Second},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertTimeout checks every way a caller (or the connector engine) can
// recognise a vendor that stopped answering.
func assertTimeout(t *testing.T, err error, wait string) {
	t.Helper()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Wait != wait {
		t.Fatalf("err = %v, want a *TimeoutError waiting for %q", err, wait)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v is not a net.Error with Timeout() true", err)
	}
	var re *Error
	if !errors.As(err, &re) || !re.Timeout() || !re.Temporary() {
		t.Fatalf("err = %v: want an *Error with Timeout() and Temporary() true", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v must not look like the caller's own context ending", err)
	}
}

func TestResponseHeaderTimeoutEndsSilentVendor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{headerDelay: 24 * time.Hour}
		c := newPacedClient(t, v, func(cfg *Config) { cfg.ResponseHeaderTimeout = 30 * time.Second })
		_, err := c.Do(t.Context(), &Request{Op: "Things.Get", Path: "/things"}, nil)
		assertTimeout(t, err, "response headers")
		if got := v.attempts.Load(); got != 3 {
			t.Errorf("attempts = %d, want 3 (a timed-out GET is retried)", got)
		}
	})
}

func TestResponseHeaderTimeoutDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{headerDelay: DefaultResponseHeaderTimeout + time.Second}
		c := newPacedClient(t, v, func(cfg *Config) { cfg.Retry.Disabled = true })
		start := time.Now()
		_, err := c.Do(t.Context(), &Request{Op: "Things.Get", Path: "/things"}, nil)
		assertTimeout(t, err, "response headers")
		// Bubble time is exact: the attempt ended at the default bound.
		if got := time.Since(start); got != DefaultResponseHeaderTimeout {
			t.Errorf("gave up after %v, want the default %v", got, DefaultResponseHeaderTimeout)
		}
	})
}

func TestNegativeTimeoutsDisableTheBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{headerDelay: 3 * time.Hour, chunkDelay: 2 * time.Hour, chunks: 2, chunkSize: 4}
		c := newPacedClient(t, v, func(cfg *Config) { cfg.ResponseHeaderTimeout, cfg.IdleReadTimeout = -1, -1 })
		resp, err := c.Do(t.Context(), &Request{Op: "Things.Get", Path: "/things"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != 8 {
			t.Errorf("body = %d bytes, want 8", len(resp.Body))
		}
	})
}

func TestIdleReadTimeoutFailsTricklingBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{chunkDelay: 2 * time.Minute, chunks: 3, chunkSize: 1}
		c := newPacedClient(t, v, func(cfg *Config) { cfg.IdleReadTimeout = time.Minute })
		_, err := c.Do(t.Context(), &Request{Op: "Things.List", Path: "/things"}, nil)
		assertTimeout(t, err, "response body data")
		if got := v.attempts.Load(); got != 3 {
			t.Errorf("attempts = %d, want 3 (a stalled GET body is retried)", got)
		}
	})
}

func TestIdleReadTimeoutFailsStalledStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{chunkDelay: 10 * time.Minute, chunks: 2, chunkSize: 1}
		c := newPacedClient(t, v, func(cfg *Config) { cfg.IdleReadTimeout = time.Minute })
		resp, err := c.Stream(t.Context(), &Request{Op: "Files.Download", Path: "/files/1"})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err = %v is not a net.Error timeout", err)
		}
	})
}

func TestSlowSteadyDownloadIsNotAnIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 500 chunks at 50 s each: far longer in total than either bound,
		// but never idle for a minute.
		v := &pacedVendor{headerDelay: 80 * time.Second, chunkDelay: 50 * time.Second, chunks: 500, chunkSize: 1024}
		c := newPacedClient(t, v, func(cfg *Config) {
			cfg.ResponseHeaderTimeout, cfg.IdleReadTimeout = 90*time.Second, time.Minute
		})
		resp, err := c.Stream(t.Context(), &Request{Op: "Files.Download", Path: "/files/1"})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got int
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			got += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", got, err)
			}
			// The caller's own pauses between reads never count as idle.
			if got == 10*1024 {
				time.Sleep(time.Hour)
			}
		}
		if got != 500*1024 {
			t.Errorf("downloaded %d bytes, want %d", got, 500*1024)
		}

		// The buffered path gets the same treatment.
		if _, err := c.Do(t.Context(), &Request{Op: "Things.List", Path: "/things"}, nil); err != nil {
			t.Fatalf("Do: %v", err)
		}
	})
}

func TestSlowUploadStartsHeaderTimeoutOnlyOnceSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The upload takes 100 min, the answer 80 s after it: only the wait
		// after the last byte counts against the header timeout.
		v := &pacedVendor{headerDelay: 80 * time.Second}
		c := newPacedClient(t, v, func(cfg *Config) {
			cfg.ResponseHeaderTimeout, cfg.IdleReadTimeout = 90*time.Second, time.Minute
		})
		body := ReaderBody("application/octet-stream", &pacedReader{delay: 50 * time.Second, chunks: 120}, 120*16)
		if _, err := c.Do(t.Context(), &Request{Op: "Files.Upload", Method: http.MethodPost, Path: "/files", Body: body}, nil); err != nil {
			t.Fatal(err)
		}
		if got := v.uploaded.Load(); got != 120*16 {
			t.Errorf("uploaded %d bytes, want %d", got, 120*16)
		}

		// An upload the vendor stops taking is cut by the idle bound.
		stalled := ReaderBody("application/octet-stream", &pacedReader{delay: 5 * time.Minute, chunks: 3}, 3*16)
		_, err := c.Do(t.Context(), &Request{Op: "Files.Upload", Method: http.MethodPost, Path: "/files", Body: stalled}, nil)
		assertTimeout(t, err, "request body progress")
	})
}

func TestCallerContextIsNotReportedAsVendorTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := &pacedVendor{headerDelay: 24 * time.Hour}
		c := newPacedClient(t, v, nil)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Do(ctx, &Request{Op: "Things.Get", Path: "/things"}, nil)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want the caller's deadline, not a vendor timeout", err)
		}
	})
}

// The two bounds also hold over a real connection to a server that never
// answers or trickles (the test asserts the error, never the time taken).
func TestTimeoutsOverRealConnection(t *testing.T) {
	release := make(chan struct{})
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/trickle") {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("["))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}, func(cfg *Config) {
		cfg.ResponseHeaderTimeout, cfg.IdleReadTimeout = 50*time.Millisecond, 50*time.Millisecond
		cfg.Retry.Disabled = true
	})
	defer close(release)
	_, err := c.Do(t.Context(), &Request{Op: "Things.Get", Path: "/silent"}, nil)
	assertTimeout(t, err, "response headers")
	assertNoSecret(t, err)
	_, err = c.Do(t.Context(), &Request{Op: "Things.List", Path: "/trickle"}, nil)
	assertTimeout(t, err, "response body data")
}

func TestInsecureSkipVerifyWarnsOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		warn bool
	}{
		{"option", Config{InsecureSkipVerify: true}, true},
		{"TLS config", Config{TLSConfig: &tls.Config{InsecureSkipVerify: true}}, true},
		{"verified", Config{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &logSink{}
			tc.cfg.Vendor, tc.cfg.BaseURL = "testvendor", "https://appliance.example:8443/api"
			tc.cfg.Logger = slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelWarn}))
			if _, err := New(tc.cfg); err != nil {
				t.Fatal(err)
			}
			logs := sink.String()
			warned := strings.Count(logs, "level=WARN") == 1 && strings.Contains(logs, "TLS certificate verification is off") &&
				strings.Contains(logs, "vendor=testvendor") && strings.Contains(logs, "host=appliance.example:8443")
			if warned != tc.warn {
				t.Fatalf("warned = %v, want %v; logs:\n%s", warned, tc.warn, logs)
			}
		})
	}
}
