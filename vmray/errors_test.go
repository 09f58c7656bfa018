package vmray_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
)

func TestErrorPaths(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		want    error
		message string
		calls   int32
	}{
		{"401", http.StatusUnauthorized, "", vmray.ErrUnauthorized, "Invalid authentication", 1},
		{"403", http.StatusForbidden, `{"result":"error","error_msg":"Permission denied"}`, vmray.ErrForbidden, "Permission denied", 1},
		{"404", http.StatusNotFound, `{"result":"error","error_msg":"No such element"}`, vmray.ErrNotFound, "No such element", 1},
		{"500", http.StatusInternalServerError, `{"result":"error","error_msg":"Internal error"}`, vmray.ErrServer, "Internal error", 3},
		{"503 html", http.StatusServiceUnavailable, `<html>down</html>`, vmray.ErrServer, "", 3},
		{"error in 200", http.StatusOK, `{"result":"error","error_msg":"Something failed"}`, vmray.ErrResultError, "Something failed", 1},
		{"malformed", http.StatusOK, `{"result":"ok","data":{"sample_id":`, vmray.ErrMalformedResponse, "decoding response", 1},
		{"no data", http.StatusOK, `{"result":"ok"}`, vmray.ErrMalformedResponse, "response has no data", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux := setup(t)
			var calls atomic.Int32
			body := tc.body
			if tc.status == http.StatusUnauthorized {
				body = string(fixture(t, "error_401.json"))
			}
			mux.HandleFunc("/rest/sample/1", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeJSON(w, tc.status, body)
			})
			_, err := c.Samples.Get(context.Background(), 1)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var ve *vmray.Error
			if !errors.As(err, &ve) || ve.Vendor != "vmray" || ve.Op != "Samples.Get" || ve.StatusCode != tc.status ||
				ve.Path != basePath+"/rest/sample/1" || ve.Message != tc.message {
				t.Errorf("error fields %+v", ve)
			}
			if got := calls.Load(); got != tc.calls {
				t.Errorf("%d calls, want %d", got, tc.calls)
			}
		})
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	c, mux := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("/rest/submission/123", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, http.StatusTooManyRequests, string(fixture(t, "error_429_throttled.json")))
			return
		}
		writeOK(t, w, `{"submission_id":123,"submission_finished":true}`)
	})
	sub, err := c.Submissions.Get(context.Background(), 123)
	if err != nil || !sub.Finished || calls.Load() != 2 {
		t.Fatalf("sub %+v, err %v after %d calls", sub, err, calls.Load())
	}
}

func TestRateLimitedExhausted(t *testing.T) {
	c, mux := setup(t, vmray.WithRetry(vmray.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxRetryAfter: time.Millisecond}))
	mux.HandleFunc("/rest/submission/123", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusTooManyRequests, string(fixture(t, "error_429_throttled.json")))
	})
	_, err := c.Submissions.Get(context.Background(), 123)
	var ve *vmray.Error
	if !errors.Is(err, vmray.ErrRateLimited) || !errors.As(err, &ve) || ve.RetryAfter != 2*time.Second ||
		ve.Message != "Request was throttled. Expected available in 2 seconds." {
		t.Fatalf("err = %v (%+v)", err, ve)
	}
}

func TestOversizedBody(t *testing.T) {
	c, mux := setup(t, vmray.WithMaxResponseBytes(1024))
	mux.HandleFunc("/rest/sample/1", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"sample_filename":"`+strings.Repeat("a", 4096)+`"}`)
	})
	if _, err := c.Samples.Get(context.Background(), 1); !errors.Is(err, vmray.ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
}

func TestCancelledContext(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/1", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Samples.Get(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.Samples.Lookup(done, strings.Repeat("a", 64)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, vmray.WithLogger(logger))
	mux.HandleFunc("/rest/sample/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, `{"result":"error","error_msg":"Invalid key `+testKey+` (api_key `+testKey+`)"}`)
	})
	mux.HandleFunc("/rest/sample/2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"error","error_msg":"key `+testKey+` expired"}`)
	})
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"ok","data":{"errors":[{"submission_filename":"a","error_msg":"bad key `+testKey+`"}]}}`)
	})
	ctx := context.Background()
	var errs []error
	_, err := c.Samples.Get(ctx, 1)
	errs = append(errs, err)
	_, err = c.Samples.Get(ctx, 2)
	errs = append(errs, err)
	_, err = c.Submissions.SubmitURL(ctx, "http://x.example", nil)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		var ve *vmray.Error
		errors.As(err, &ve)
		for _, s := range []string{err.Error(), ve.Body, ve.Message} {
			if strings.Contains(s, testKey) {
				t.Errorf("secret in error text %q", s)
			}
		}
		for _, d := range ve.Details {
			if strings.Contains(d.Message, testKey) {
				t.Errorf("secret in detail %q", d.Message)
			}
		}
	}
	if logs.Len() == 0 {
		t.Fatal("no debug logs captured")
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("secret in logs:\n%s", logs.String())
	}
}

func TestNewValidation(t *testing.T) {
	if _, err := vmray.New("https://eu.cloud.vmray.com", "  "); !errors.Is(err, vmray.ErrNoAPIKey) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := vmray.New("eu.cloud.vmray.com", "k"); err == nil {
		t.Error("URL without scheme accepted")
	}
	if _, err := vmray.New("https://eu.cloud.vmray.com", "k", vmray.WithProxy("::bad")); err == nil {
		t.Error("bad proxy accepted")
	}
	if _, err := vmray.New("https://eu.cloud.vmray.com", "k", vmray.WithCACertPEM([]byte("not a cert"))); err == nil {
		t.Error("bad CA accepted")
	}
	for _, base := range []string{"https://eu.cloud.vmray.com", "https://eu.cloud.vmray.com/", "https://eu.cloud.vmray.com/rest"} {
		c, err := vmray.New(base, "k", vmray.WithInsecureSkipVerify(), vmray.WithProxy("http://proxy.example:3128"),
			vmray.WithRateLimit(5, 1), vmray.WithAttemptTimeout(time.Second), vmray.WithMaxDownloadBytes(1<<20), vmray.WithTLSConfig(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL() != "https://eu.cloud.vmray.com/rest" {
			t.Errorf("BaseURL(%q) = %q", base, c.BaseURL())
		}
	}
}

func TestUserAgent(t *testing.T) {
	c, mux := setup(t, vmray.WithUserAgent("cbc-vmray-connector/1.0"))
	mux.HandleFunc("/rest/system_info", func(w http.ResponseWriter, r *http.Request) {
		if ua := r.UserAgent(); !strings.HasPrefix(ua, "soarkit/") || !strings.HasSuffix(ua, " cbc-vmray-connector/1.0") {
			t.Errorf("User-Agent %q", ua)
		}
		writeOK(t, w, `{"version":"5.2.1"}`)
	})
	if _, err := c.System.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestErrorEnvelopeWithOddData(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/sha1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"error","error_msg":"Lookup failed","data":{"unexpected":true}}`)
	})
	mux.HandleFunc("/rest/sample/md5/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"ok","data":{"unexpected":true}}`)
	})
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"error","error_msg":"Submission failed","data":"oops"}`)
	})
	ctx := context.Background()
	_, err := c.Samples.Lookup(ctx, strings.Repeat("a", 40))
	var ve *vmray.Error
	if !errors.Is(err, vmray.ErrResultError) || !errors.As(err, &ve) || ve.Message != "Lookup failed" {
		t.Errorf("error envelope: %v", err)
	}
	_, err = c.Samples.Lookup(ctx, strings.Repeat("a", 32))
	if !errors.Is(err, vmray.ErrMalformedResponse) || !errors.As(err, &ve) || !strings.Contains(ve.Body, "unexpected") {
		t.Errorf("wrong data shape: %v (%+v)", err, ve)
	}
	_, err = c.Submissions.SubmitURL(ctx, "http://x.example", nil)
	if !errors.Is(err, vmray.ErrResultError) || !strings.Contains(err.Error(), "Submission failed") {
		t.Errorf("submit error envelope: %v", err)
	}
}
