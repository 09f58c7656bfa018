package carbonblack_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// calls exercises one method of every service for the shared error tests.
func calls(c *carbonblack.Client) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"Alerts.Search": func(ctx context.Context) error {
			_, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{Query: "process_name:x"})
			return err
		},
		"Processes.Start": func(ctx context.Context) error {
			_, err := c.Processes.Start(ctx, carbonblack.JobRequest{Query: "process_hash:x"})
			return err
		},
		"Observations.Results": func(ctx context.Context) error {
			_, err := c.Observations.ListResults(ctx, "job", 0, 10)
			return err
		},
		"UBS.Metadata": func(ctx context.Context) error {
			_, err := c.UBS.Metadata(ctx, strings.Repeat("a", 64))
			return err
		},
		"UBS.DownloadLinks": func(ctx context.Context) error {
			_, err := c.UBS.DownloadLinks(ctx, 0, strings.Repeat("a", 64))
			return err
		},
		"Watchlists.List": func(ctx context.Context) error {
			_, err := c.Watchlists.List(ctx)
			return err
		},
		"Reports.Get": func(ctx context.Context) error {
			_, err := c.Reports.Get(ctx, "r")
			return err
		},
		"Feeds.List": func(ctx context.Context) error {
			_, err := c.Feeds.List(ctx, false)
			return err
		},
		"Reputations.Search": func(ctx context.Context) error {
			_, err := c.Reputations.Search(ctx, carbonblack.OverrideSearch{Query: "x"})
			return err
		},
		"Devices.Get": func(ctx context.Context) error {
			_, err := c.Devices.Get(ctx, 1)
			return err
		},
		"Devices.Quarantine": func(ctx context.Context) error { return c.Devices.Quarantine(ctx, true, 1) },
		"Policies.List": func(ctx context.Context) error {
			_, err := c.Policies.List(ctx)
			return err
		},
		"LiveResponse.Session": func(ctx context.Context) error {
			_, err := c.LiveResponse.Session(ctx, "1:2")
			return err
		},
	}
}

func TestErrorStatuses(t *testing.T) {
	cases := []struct {
		status int
		body   string
		is     []error
		code   string
	}{
		{401, `{"error_code":"UNAUTHORIZED","message":"bad key"}`, []error{carbonblack.ErrUnauthorized}, "UNAUTHORIZED"},
		{403, `{"error_code":"FORBIDDEN","message":"missing permission org.alerts READ"}`, []error{carbonblack.ErrForbidden}, "FORBIDDEN"},
		{404, `{"error_code":"NOT_FOUND","message":"Binary not found"}`, []error{carbonblack.ErrNotFound}, "NOT_FOUND"},
		{400, `{"reason":"query_malformed_syntax","message":"unbalanced parenthesis"}`, []error{carbonblack.ErrBadRequest, carbonblack.ErrQuerySyntax}, "query_malformed_syntax"},
		{410, ``, []error{carbonblack.ErrRetired}, ""},
		{500, `<html>oops</html>`, []error{carbonblack.ErrServer}, ""},
	}
	for _, tc := range cases {
		var hits atomic.Int32
		c, mux := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		})
		for name, call := range calls(c) {
			hits.Store(0)
			err := call(ctx)
			var e *carbonblack.Error
			if !errors.As(err, &e) {
				t.Fatalf("%d %s: err = %v, want *Error", tc.status, name, err)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("%d %s: %v does not match %v", tc.status, name, err, target)
				}
			}
			if e.StatusCode != tc.status || e.Code != tc.code || e.Vendor != "carbonblack" || !strings.HasPrefix(e.Op, strings.Split(name, ".")[0]) {
				t.Errorf("%d %s: error fields %+v", tc.status, name, e)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("%d %s: secret in error", tc.status, name)
			}
			wantHits := int32(1)
			if tc.status >= 500 && name != "Devices.Quarantine" {
				// Every call here but a device action is retried, a job start too: it is a read. A device action
				// answered 5xx may have been applied, so it is not sent again.
				wantHits = 3
			}
			if hits.Load() != wantHits {
				t.Errorf("%d %s: %d attempts, want %d", tc.status, name, hits.Load(), wantHits)
			}
		}
	}
}

func TestRetryAfter429ThenSuccess(t *testing.T) {
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("/api/alerts/v7/orgs/"+testOrg+"/alerts/_search", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		serveJSON(200, fixture(t, "alerts_v7_search.json"))(w, r)
	})
	page, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{})
	if err != nil || len(page.Results) != 1 || n.Load() != 2 {
		t.Fatalf("page=%v err=%v after %d attempts", page, err, n.Load())
	}
}

func TestMalformedAndOversized(t *testing.T) {
	c, mux := setup(t, carbonblack.WithMaxResponseBytes(1024))
	mux.HandleFunc("/threathunter/watchlistmgr/v3/orgs/"+testOrg+"/watchlists", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"results":[{"name":`))
	})
	mux.HandleFunc("/threathunter/feedmgr/v2/orgs/"+testOrg+"/feeds", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"results":[` + strings.Repeat(`{"name":"x"},`, 200) + `{}]}`))
	})
	if _, err := c.Watchlists.List(ctx); !errors.Is(err, carbonblack.ErrMalformedResponse) {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := c.Feeds.List(ctx, false); !errors.Is(err, carbonblack.ErrResponseTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	for name, call := range calls(c) {
		// The handler holds every answer for 2 s or until the request is cancelled: only a
		// call that honours cctx (20 ms) returns its deadline error.
		if err := call(cctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want deadline exceeded", name, err)
		}
	}
}

func TestJobWaitIsBounded(t *testing.T) {
	c, mux := setup(t, carbonblack.WithJobPolling(carbonblack.PollPolicy{Interval: time.Millisecond, Timeout: 30 * time.Millisecond}))
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/processes/search_jobs/j/results", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(200, []byte(`{"results":[],"contacted":46,"completed":1}`))(w, r)
	})
	if _, err := c.Processes.Wait(ctx, "j"); !errors.Is(err, carbonblack.ErrWaitTimeout) {
		t.Fatalf("err = %v", err)
	}
}

func TestConstructorValidation(t *testing.T) {
	for _, args := range [][4]string{
		{"https://defense.conferdeploy.net", "", testID, testSecret},
		{"https://defense.conferdeploy.net", testOrg, "", testSecret},
		{"https://defense.conferdeploy.net", testOrg, testID, " "},
		{"https://defense.conferdeploy.net", "a/b", testID, testSecret},
		{"defense.conferdeploy.net", testOrg, testID, testSecret},
	} {
		_, err := carbonblack.New(args[0], args[1], args[2], args[3])
		var ce *carbonblack.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("New(%q, %q, ...) = %v, want a ConfigError", args[0], args[1], err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Error("secret in constructor error")
		}
	}
}
