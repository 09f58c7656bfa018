package proofpoint_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
)

// Every call shares these error paths.
func TestErrorPaths(t *testing.T) {
	calls := map[string]func(c *proofpoint.Client, ctx context.Context) error{
		"SIEM.All": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.All(ctx, proofpoint.Query{Interval: hourBefore(time.Hour)})
			return err
		},
		"Campaigns.Get": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.Campaigns.Get(ctx, "aa9b3d62-4d72-4ebc-8f39-3da3833e7038")
			return err
		},
		"URLs.Decode": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.URLs.Decode(ctx, []string{"https://urldefense.com/v3/__https://example.com__;!!x$"})
			return err
		},
		"SIEM.Issues": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.Issues(ctx, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"SIEM.MessagesDelivered": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.MessagesDelivered(ctx, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"SIEM.MessagesBlocked": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.MessagesBlocked(ctx, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"SIEM.ClicksPermitted": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.ClicksPermitted(ctx, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"SIEM.ClicksBlocked": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.ClicksBlocked(ctx, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"SIEM.List": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.Query{SinceSeconds: 300})
			return err
		},
		"Forensics.GetByThreat": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.Forensics.GetByThreat(ctx, "30f800f97aeaa8d62bdf3a6fb2b0681179a360c12e127f07038f8521461e5050", false)
			return err
		},
		"Forensics.GetByCampaign": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.Forensics.GetByCampaign(ctx, "aa9b3d62-4d72-4ebc-8f39-3da3833e7038")
			return err
		},
		"Campaigns.ListIDs": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.Campaigns.ListIDs(ctx, proofpoint.CampaignIDsQuery{Interval: hourBefore(time.Hour)})
			return err
		},
		"People.ListVAP": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.People.ListVAP(ctx, proofpoint.PeopleQuery{Window: 30})
			return err
		},
		"People.ListTopClickers": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.People.ListTopClickers(ctx, proofpoint.PeopleQuery{Window: 90})
			return err
		},
		"Threats.GetSummary": func(c *proofpoint.Client, ctx context.Context) error {
			_, err := c.Threats.GetSummary(ctx, "985e627c4f19c0aa9f140641b127c51674b7d4e9cf5d769842458dd23fb806ba")
			return err
		},
	}
	statuses := []struct {
		status   int
		sentinel error
		attempts int
	}{
		{http.StatusUnauthorized, proofpoint.ErrUnauthorized, 1},
		{http.StatusForbidden, proofpoint.ErrForbidden, 1},
		{http.StatusNotFound, proofpoint.ErrNotFound, 1},
		{http.StatusTooManyRequests, proofpoint.ErrRateLimited, 3},
		{http.StatusInternalServerError, proofpoint.ErrServer, 3},
		{http.StatusServiceUnavailable, proofpoint.ErrServer, 3},
	}
	for name, call := range calls {
		for _, st := range statuses {
			if name == "Campaigns.ListIDs" && st.status == http.StatusNotFound {
				continue // 404 means "no campaigns" there (TestCampaignsListIDs404IsEmpty)
			}
			t.Run(name+"/"+http.StatusText(st.status), func(t *testing.T) {
				ts := setup(t)
				ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(st.status)
					w.Write([]byte(http.StatusText(st.status)))
				})
				err := call(ts.client, context.Background())
				var pe *proofpoint.Error
				if !errors.As(err, &pe) || pe.StatusCode != st.status || pe.Op != name || !errors.Is(err, st.sentinel) {
					t.Fatalf("err = %#v, want %d matching %v", err, st.status, st.sentinel)
				}
				if pe.Attempts != st.attempts || ts.requests() != st.attempts {
					t.Errorf("attempts = %d, requests = %d, want %d", pe.Attempts, ts.requests(), st.attempts)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Errorf("secret in error: %v", err)
				}
			})
		}
		t.Run(name+"/429 then success", func(t *testing.T) {
			ts := setup(t)
			n := 0
			ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				n++
				if n == 1 {
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.Write([]byte(`{}`))
			})
			if err := call(ts.client, context.Background()); err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
		})
		t.Run(name+"/malformed JSON", func(t *testing.T) {
			ts := setup(t)
			ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"queryEndTime":"2024-05-`)) })
			if err := call(ts.client, context.Background()); !errors.Is(err, proofpoint.ErrMalformedResponse) {
				t.Errorf("err = %v, want ErrMalformedResponse", err)
			}
		})
		t.Run(name+"/oversized body", func(t *testing.T) {
			ts := setup(t, proofpoint.WithMaxResponseBytes(1024))
			ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"x":"` + strings.Repeat("a", 4096) + `"}`))
			})
			if err := call(ts.client, context.Background()); !errors.Is(err, proofpoint.ErrResponseTooLarge) {
				t.Errorf("err = %v, want ErrResponseTooLarge", err)
			}
		})
		t.Run(name+"/cancelled context", func(t *testing.T) {
			ts := setup(t)
			ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) })
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := call(ts.client, ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if ts.requests() != 0 {
				t.Errorf("%d requests sent with a cancelled context", ts.requests())
			}
		})
	}
}

// With the default policy a 429 waits minutes, so a caller with a short
// deadline gets its context error after one request instead of a burst of
// retries that would burn the pool.
// retryWaits is a slog handler that records the wait of every "retrying" record and calls onRetry, so a test can
// see the client's chosen backoff without waiting for it.
type retryWaits struct {
	mu      sync.Mutex
	waits   []time.Duration
	onRetry func()
}

func (h *retryWaits) Enabled(context.Context, slog.Level) bool { return true }
func (h *retryWaits) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *retryWaits) WithGroup(string) slog.Handler            { return h }
func (h *retryWaits) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "retrying" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "wait" {
			h.mu.Lock()
			h.waits = append(h.waits, a.Value.Duration())
			h.mu.Unlock()
		}
		return true
	})
	h.onRetry()
	return nil
}

// TestDefaultRetryWaitsMinutesAfter429 checks the backoff the client chooses after a 429 without Retry-After (the
// default rate-limited delay, minutes), by reading it from the debug log and ending the call there: no wall clock.
func TestDefaultRetryWaitsMinutesAfter429(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waits := &retryWaits{onRetry: cancel}
	ts := setup(t, proofpoint.WithRetry(proofpoint.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}),
		proofpoint.WithLogger(slog.New(waits)))
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
	_, err := ts.client.SIEM.All(ctx, proofpoint.Query{Interval: hourBefore(time.Hour)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation while waiting to retry", err)
	}
	want := proofpoint.DefaultRetryPolicy().RateLimitedDelay
	if want < time.Minute {
		t.Errorf("default RateLimitedDelay = %v, want minutes", want)
	}
	waits.mu.Lock()
	defer waits.mu.Unlock()
	if ts.requests() != 1 || len(waits.waits) != 1 || waits.waits[0] < want {
		t.Errorf("requests = %d, retry waits %v; want 1 request then one wait of at least %v", ts.requests(), waits.waits, want)
	}
	if st := ts.client.Pools().Status(proofpoint.PoolSIEM); st.LastThrottled.IsZero() || st.Used != 1 {
		t.Errorf("pool status = %+v, want one use and LastThrottled set", st)
	}
}

func TestSecretNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := setup(t, proofpoint.WithLogger(logger))
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes the Authorization header in its error.
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("bad credentials: " + r.Header.Get("Authorization") + " secret=" + testSecret))
	})
	_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
	if err == nil {
		t.Fatal("want an error")
	}
	var pe *proofpoint.Error
	errors.As(err, &pe)
	for _, s := range []string{err.Error(), pe.Body, pe.Message, logs.String()} {
		if strings.Contains(s, testSecret) || strings.Contains(s, "c3AtMGYxZTJkM2MtcHJpbmNpcGFs") {
			t.Errorf("secret leaked in %q", s)
		}
	}
	if !strings.Contains(logs.String(), "/v2/siem/all") {
		t.Errorf("debug log missing the request: %s", logs.String())
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
	}{
		{"no principal", func() error { _, err := proofpoint.New(proofpoint.DefaultBaseURL, "", "s"); return err }},
		{"no secret", func() error { _, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", ""); return err }},
		{"bad base URL", func() error { _, err := proofpoint.New("tap-api-v2.proofpoint.com", "p", "s"); return err }},
		{"nil clock", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithClock(nil))
			return err
		}},
		{"bad look-back", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithLookBack(0))
			return err
		}},
		{"bad end margin", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithEndMargin(-time.Second))
			return err
		}},
		{"bad pool limit", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithPoolLimit(proofpoint.PoolSIEM, 10, 10))
			return err
		}},
		{"nil tracker", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithPoolTracker(nil))
			return err
		}},
		{"bad proxy", func() error {
			_, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "s", proofpoint.WithProxy("::"))
			return err
		}},
	}
	for _, tt := range tests {
		if err := tt.run(); err == nil {
			t.Errorf("%s: want an error", tt.name)
		}
	}
	c, err := proofpoint.New(proofpoint.DefaultBaseURL, "p", "secret", proofpoint.WithUserAgent("tap-cbc/1.0"),
		proofpoint.WithAttemptTimeout(time.Minute), proofpoint.WithRateLimit(10, 1), proofpoint.WithEndMargin(2*time.Minute))
	if err != nil || c.BaseURL() != proofpoint.DefaultBaseURL {
		t.Errorf("New = %v, %v", c, err)
	}
}
