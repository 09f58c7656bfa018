package carbonblackconn_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
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

// A batch of bans looks every hash up with one override search and creates the missing bans; a banned hash and a
// repeated one are Unchanged.
func TestBanBatchCalls(t *testing.T) {
	fake, _ := newFake(t)
	b, _ := carbonblackconn.NewBan(fake.Client(), carbonblackconn.BanOptions{})
	ctx := context.Background()
	fs := batchFindings(12, 0)
	if res, err := b.Respond(ctx, fs[3]); err != nil || res.Status != connector.Acted {
		t.Fatalf("first ban: %+v %v", res, err)
	}
	fake.ResetRequests()
	fs = append(fs, fs[5])
	outs := b.RespondBatch(ctx, fs)
	for i, o := range outs {
		want := connector.Acted
		if i == 3 || i == len(fs)-1 {
			want = connector.Unchanged
		}
		if o.Err != nil || o.Result.Status != want {
			t.Errorf("finding %d: %+v %v, want %s", i, o.Result, o.Err, want)
		}
	}
	path := "/appservices/v6/orgs/" + fake.OrgKey() + "/reputations/overrides"
	if s, c := fake.CountRequests("POST", path+"/_search"), fake.CountRequests("POST", path); s != 1 || c != 1+11 {
		t.Errorf("%d searches and %d requests to the overrides for 12 files, want 1 search and 11 creations", s, c)
	}
	if n := len(fake.Overrides()); n != 12 {
		t.Errorf("%d overrides, want 12", n)
	}
}

// A batch of quarantines reads every device with one search and quarantines those that need it with one action.
func TestQuarantineBatchCalls(t *testing.T) {
	fake, _ := newFake(t)
	q, _ := carbonblackconn.NewQuarantine(fake.Client(), "")
	var fs []connector.Finding
	for i := range 10 {
		dev := fake.AddDevice(carbonblack.Device{Name: fmt.Sprint("WS-", i), OS: "WINDOWS", Quarantined: i == 0})
		fs = append(fs, deviceFinding(dev, "", 0))
	}
	fs = append(fs, fs[4]) // a second file on the same device
	outs := q.RespondBatch(context.Background(), fs)
	for i, o := range outs {
		want := connector.Acted
		if i == 0 || i == len(fs)-1 {
			want = connector.Unchanged
		}
		if o.Err != nil || o.Result.Status != want {
			t.Errorf("finding %d: %+v %v, want %s", i, o.Result, o.Err, want)
		}
	}
	org := fake.OrgKey()
	if s, a := fake.CountRequests("POST", "/appservices/v6/orgs/"+org+"/devices/_search"),
		fake.CountRequests("POST", "/appservices/v6/orgs/"+org+"/device_actions"); s != 1 || a != 1 {
		t.Errorf("%d device searches and %d device actions for a batch, want 1 and 1", s, a)
	}
	if acts := fake.DeviceActions(); len(acts) != 1 || len(acts[0].DeviceIDs) != 9 {
		t.Errorf("device actions %+v, want one for 9 devices", acts)
	}
	// Right after: the devices do not read as quarantined yet in real CBC; the pending memory answers Unchanged.
	fake.ResetRequests()
	for i, o := range q.RespondBatch(context.Background(), fs[1:4]) {
		if o.Err != nil || o.Result.Status != connector.Unchanged {
			t.Errorf("repeat %d: %+v %v", i, o.Result, o.Err)
		}
	}
	if n := fake.CountRequests("POST", "/appservices/v6/orgs/"+org+"/device_actions"); n != 0 {
		t.Errorf("repeat sent %d device actions", n)
	}
}

// A batch of feed reports reads the feed's reports once, writes the merged set once and reads it back once.
func TestFeedReportBatchCalls(t *testing.T) {
	fake, _ := newFake(t)
	fr, _ := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "Proofpoint TAP"})
	ctx := context.Background()
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(1, 100)), 1, connector.Acted) // creates the feed
	fake.ResetRequests()
	const n = 15
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(n, 0)), n, connector.Acted)
	feeds := "/threathunter/feedmgr/v2/orgs/" + fake.OrgKey() + "/feeds"
	if g, p := fake.CountRequests("GET", feeds), fake.CountRequests("POST", feeds); g != 3 || p != 1 {
		t.Errorf("%d reads and %d writes of the feed for a batch, want 3 (check, merge, read-back) and 1", g, p)
	}
	feedList, _ := fake.Client().Feeds.List(ctx, false)
	if feed, _ := fake.Feed(feedList[0].ID); len(feed.Reports) != n+1 {
		t.Errorf("feed has %d reports, want %d", len(feed.Reports), n+1)
	}
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(n, 0)), n, connector.Unchanged)
}
