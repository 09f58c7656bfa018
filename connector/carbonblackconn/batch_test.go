package carbonblackconn_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// batchFindings returns n findings for distinct files that all share one domain and each have one of their own.
func batchFindings(n, offset int) []connector.Finding {
	var fs []connector.Finding
	for i := range n {
		sha := fmt.Sprintf("%064x", offset+i+1)
		fs = append(fs, finding(sha, connector.IOC{Type: connector.IOCDomain, Value: "shared.example.net"},
			connector.IOC{Type: connector.IOCDomain, Value: fmt.Sprintf("c2-%d.example.net", offset+i)}))
	}
	return fs
}

func wantStatus(t *testing.T, outs []connector.Outcome, n int, want connector.Status) {
	t.Helper()
	if len(outs) != n {
		t.Fatalf("%d outcomes, want %d", len(outs), n)
	}
	for i, o := range outs {
		if o.Err != nil || o.Result.Status != want {
			t.Errorf("finding %d: %+v %v, want %s", i, o.Result, o.Err, want)
		}
	}
}

// A batch of new files costs one report read (crash recovery) and one report creation per file, and one watchlist
// update (GET, PUT, verifying GET) for the whole batch; a shared IOC goes into one report only.
func TestWatchlistReportBatchCalls(t *testing.T) {
	fake, _ := newFake(t)
	r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{})
	ctx := context.Background()
	wantStatus(t, r.RespondBatch(ctx, batchFindings(1, 100)), 1, connector.Acted) // creates the watchlist
	fake.ResetRequests()
	const n = 20
	fs := batchFindings(n, 0)
	wantStatus(t, r.RespondBatch(ctx, fs), n, connector.Acted)
	org := fake.OrgKey()
	wl := "/threathunter/watchlistmgr/v3/orgs/" + org + "/watchlists"
	reports := "/threathunter/watchlistmgr/v3/orgs/" + org + "/reports"
	counts := map[string]int{
		"report reads":     fake.CountRequests("GET", reports),
		"report creations": fake.CountRequests("POST", reports),
		"watchlist reads":  fake.CountRequests("GET", wl),
		"watchlist writes": fake.CountRequests("PUT", wl),
	}
	want := map[string]int{"report reads": n, "report creations": n, "watchlist reads": 2, "watchlist writes": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d calls for a batch of %d, want %d", k, counts[k], n, v)
		}
	}
	if total := len(fake.Requests()); total != 2*n+3 {
		t.Errorf("%d requests for a batch of %d new files, want %d", total, n, 2*n+3)
	}
	wls := fake.Watchlists()
	if len(wls) != 1 || len(wls[0].ReportIDs) != n+1 {
		t.Fatalf("watchlists %+v", wls)
	}
	shared := 0
	for _, rep := range fake.Reports() {
		if slices.Contains(reportValues(rep), "netconn_domain=shared.example.net") {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("the shared domain is in %d reports, want 1", shared)
	}
	// The same batch again: nothing new and no call at all (the baseline is fresh).
	fake.ResetRequests()
	wantStatus(t, r.RespondBatch(ctx, fs), n, connector.Unchanged)
	if q := fake.Requests(); len(q) != 0 {
		t.Errorf("repeat made %d requests, first %s %s", len(q), q[0].Method, q[0].Path)
	}
}

// When the watchlist update of a batch fails, every finding fails transiently; the retry finds the reports under
// their derived ids (no second creation) and lists them with one update.
func TestWatchlistReportBatchCrashSafe(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	ctx := context.Background()
	r1, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	wantStatus(t, r1.RespondBatch(ctx, batchFindings(1, 100)), 1, connector.Acted)
	wl := "/threathunter/watchlistmgr/v3/orgs/" + fake.OrgKey() + "/watchlists"
	fake.InjectFault(carbonblacktest.Fault{Method: "PUT", Path: wl, Status: 503})
	const n = 6
	fs := batchFindings(n, 0)
	for i, o := range r1.RespondBatch(ctx, fs) {
		if o.Err == nil || connector.IsPermanent(o.Err) {
			t.Errorf("finding %d with the watchlist update failing: %+v %v, want a transient error", i, o.Result, o.Err)
		}
	}
	fake.ClearFaults()
	// A new process (the old one crashed) takes the batch up.
	r2, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	fake.ResetRequests()
	outs := r2.RespondBatch(ctx, fs)
	wantStatus(t, outs, n, connector.Acted)
	for _, o := range outs {
		if !strings.Contains(o.Result.Detail, "added report") {
			t.Errorf("detail %q, want the orphan report added", o.Result.Detail)
		}
	}
	if got := fake.CountRequests("POST", "/threathunter/watchlistmgr/v3/orgs/"+fake.OrgKey()+"/reports"); got != 0 {
		t.Errorf("%d reports created again", got)
	}
	if got := fake.CountRequests("PUT", wl); got != 1 {
		t.Errorf("%d watchlist writes, want 1", got)
	}
	if wls := fake.Watchlists(); len(wls) != 1 || len(wls[0].ReportIDs) != n+1 || len(fake.Reports()) != n+1 {
		t.Errorf("%d reports, watchlists %+v", len(fake.Reports()), wls)
	}
}
