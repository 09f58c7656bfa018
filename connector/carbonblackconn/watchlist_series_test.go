package carbonblackconn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// seriesPaths returns the watchlist and report routes of the fake.
func seriesPaths(fake *carbonblacktest.Server) (wl, reports string) {
	org := fake.OrgKey()
	return "/threathunter/watchlistmgr/v3/orgs/" + org + "/watchlists", "/threathunter/watchlistmgr/v3/orgs/" + org + "/reports"
}

// wantSeries checks the fake's watchlists: their names and how many reports each lists.
func wantSeries(t *testing.T, fake *carbonblacktest.Server, sizes ...int) {
	t.Helper()
	wls := fake.Watchlists()
	var got, want []string
	for _, w := range wls {
		got = append(got, fmt.Sprintf("%s:%d", w.Name, len(w.ReportIDs)))
	}
	for k, n := range sizes {
		name := carbonblackconn.DefaultWatchlistName
		if k > 0 {
			name = fmt.Sprintf("%s (%d)", name, k+1)
		}
		want = append(want, fmt.Sprintf("%s:%d", name, n))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("watchlists [%s], want [%s]", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	seen := map[string]bool{}
	for _, w := range wls {
		for _, id := range w.ReportIDs {
			if seen[id] {
				t.Errorf("report %s is listed twice", id)
			}
			seen[id] = true
		}
	}
}

// largestListWrite returns the most report ids and the most bytes of any watchlist write (PUT or POST) recorded.
func largestListWrite(t *testing.T, fake *carbonblacktest.Server) (ids, bytes int) {
	t.Helper()
	wl, _ := seriesPaths(fake)
	for _, q := range fake.Requests() {
		if (q.Method != "PUT" && q.Method != "POST") || !strings.HasPrefix(q.Path, wl) {
			continue
		}
		var body struct {
			ReportIDs []string `json:"report_ids"`
		}
		if err := json.Unmarshal(q.Body, &body); err != nil {
			t.Fatalf("%s %s: %v", q.Method, q.Path, err)
		}
		ids, bytes = max(ids, len(body.ReportIDs)), max(bytes, len(q.Body))
	}
	return ids, bytes
}

// The reports spread over a series of watchlists of at most ReportsPerWatchlist reports: a batch that fills the
// current one updates it with what fits and creates the next with the rest, and no watchlist write ever carries
// more than the cap, however many files were reported before.
func TestWatchlistReportSeriesRollover(t *testing.T) {
	fake, _ := newFake(t)
	const limit = 10
	r, err := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{ReportsPerWatchlist: limit})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wl, reports := seriesPaths(fake)
	wantStatus(t, r.RespondBatch(ctx, batchFindings(8, 0)), 8, connector.Acted)
	wantSeries(t, fake, 8)

	// 5 more: 2 fill the first watchlist (GET, PUT, read-back), 3 start the second (one POST).
	fake.ResetRequests()
	outs := r.RespondBatch(ctx, batchFindings(5, 8))
	wantStatus(t, outs, 5, connector.Acted)
	wantSeries(t, fake, 10, 3)
	for i, o := range outs {
		want := fmt.Sprintf("in watchlist %q", carbonblackconn.DefaultWatchlistName)
		if i >= 2 {
			want = fmt.Sprintf("in watchlist %q", carbonblackconn.DefaultWatchlistName+" (2)")
		}
		if !strings.Contains(o.Result.Detail, want) {
			t.Errorf("finding %d: %q, want %s", i, o.Result.Detail, want)
		}
	}
	if g, p, c, rc := fake.CountRequests("GET", wl), fake.CountRequests("PUT", wl), fake.CountRequests("POST", wl), fake.CountRequests("POST", reports); g != 2 || p != 1 || c != 1 || rc != 5 {
		t.Errorf("rollover batch: %d watchlist reads, %d updates, %d creations, %d report creations; want 2, 1, 1, 5", g, p, c, rc)
	}

	// Cap + N reports later, every batch still writes at most the cap.
	fake.ResetRequests()
	for b := range 9 {
		wantStatus(t, r.RespondBatch(ctx, batchFindings(7, 13+7*b)), 7, connector.Acted)
	}
	wantSeries(t, fake, 10, 10, 10, 10, 10, 10, 10, 6) // 76 reports
	ids, bytes := largestListWrite(t, fake)
	if ids > limit {
		t.Errorf("a watchlist write carried %d report ids, more than the cap %d", ids, limit)
	}
	// A report id is 36 characters and the rest of the watchlist a few hundred bytes.
	if bound := limit*40 + 512; bytes > bound {
		t.Errorf("a watchlist write carried %d bytes, more than %d for %d ids", bytes, bound, limit)
	}
	// Each batch reads and writes only the watchlists it adds to: at most two updates (GET, PUT, read-back) or one
	// update and one creation.
	if g := fake.CountRequests("GET", wl); g > 2*9 {
		t.Errorf("%d watchlist reads for 9 batches, want at most 18", g)
	}
}

// A batch of more reports than the cap fills several new watchlists, each created with its share.
func TestWatchlistReportSeriesLargeBatch(t *testing.T) {
	fake, _ := newFake(t)
	r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{ReportsPerWatchlist: 4})
	wantStatus(t, r.RespondBatch(context.Background(), batchFindings(11, 0)), 11, connector.Acted)
	wantSeries(t, fake, 4, 4, 3)
	if ids, _ := largestListWrite(t, fake); ids > 4 {
		t.Errorf("a watchlist write carried %d report ids, cap 4", ids)
	}
}

// A crash between creating the reports of a batch and creating the next watchlist of the series repeats nothing and
// loses nothing: the new process finds the reports under their derived ids and creates the watchlist with them.
func TestWatchlistReportSeriesRolloverCrashSafe(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	ctx := context.Background()
	wl, reports := seriesPaths(fake)
	opts := carbonblackconn.WatchlistOptions{ReportsPerWatchlist: 5}
	r1, _ := carbonblackconn.NewWatchlistReport(c, opts)
	wantStatus(t, r1.RespondBatch(ctx, batchFindings(5, 0)), 5, connector.Acted)
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: wl, Status: 503})
	fs := batchFindings(3, 5)
	for i, o := range r1.RespondBatch(ctx, fs) {
		if o.Err == nil || connector.IsPermanent(o.Err) {
			t.Errorf("finding %d with the watchlist creation failing: %+v %v, want a transient error", i, o.Result, o.Err)
		}
	}
	fake.ClearFaults()
	wantSeries(t, fake, 5)

	r2, _ := carbonblackconn.NewWatchlistReport(c, opts)
	fake.ResetRequests()
	outs := r2.RespondBatch(ctx, fs)
	wantStatus(t, outs, 3, connector.Acted)
	for _, o := range outs {
		if !strings.Contains(o.Result.Detail, "added report") || !strings.Contains(o.Result.Detail, " (2)") {
			t.Errorf("detail %q, want the orphan report added to the second watchlist", o.Result.Detail)
		}
	}
	if rc, p, wc := fake.CountRequests("POST", reports), fake.CountRequests("PUT", wl), fake.CountRequests("POST", wl); rc != 0 || p != 0 || wc != 1 {
		t.Errorf("%d reports created again, %d watchlist updates, %d creations; want 0, 0, 1", rc, p, wc)
	}
	wantSeries(t, fake, 5, 3)
	if n := len(fake.Reports()); n != 8 {
		t.Errorf("%d reports, want 8", n)
	}
}

// A watchlist creation whose answer is lost (it happened) is not repeated: the next batch looks the name up, finds
// the watchlist and uses it.
func TestWatchlistReportSeriesLostCreation(t *testing.T) {
	fake, _ := newFake(t)
	ctx := context.Background()
	wl, reports := seriesPaths(fake)
	r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{ReportsPerWatchlist: 3})
	wantStatus(t, r.RespondBatch(ctx, batchFindings(3, 0)), 3, connector.Acted)
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: wl, LostAnswer: true, Times: 1})
	fs := batchFindings(2, 3)
	for i, o := range r.RespondBatch(ctx, fs) {
		if o.Err == nil || connector.IsPermanent(o.Err) {
			t.Errorf("finding %d with the creation's answer lost: %+v %v, want a transient error", i, o.Result, o.Err)
		}
	}
	wantSeries(t, fake, 3, 2) // the creation happened
	fake.ResetRequests()
	wantStatus(t, r.RespondBatch(ctx, fs), 2, connector.Acted)
	wantSeries(t, fake, 3, 2)
	if rc, wc := fake.CountRequests("POST", reports), fake.CountRequests("POST", wl); rc != 0 || wc != 0 {
		t.Errorf("retry created %d reports and %d watchlists, want none", rc, wc)
	}
	// The next batch goes on in the second watchlist without looking it up again.
	fake.ResetRequests()
	wantStatus(t, r.RespondBatch(ctx, batchFindings(1, 5)), 1, connector.Acted)
	wantSeries(t, fake, 3, 3)
	if g := fake.CountRequests("GET", wl); g != 2 {
		t.Errorf("%d watchlist reads for one update, want 2 (read, read-back)", g)
	}
}

// A new process finds the series by name with the one watchlist listing of its baseline and goes on in the last
// watchlist; a tenant with one watchlist fuller than the cap keeps it as the first of the series.
func TestWatchlistReportSeriesAfterRestart(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	ctx := context.Background()
	wl, _ := seriesPaths(fake)
	// An existing tenant: one watchlist of 7 reports, written without a cap.
	r0, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	wantStatus(t, r0.RespondBatch(ctx, batchFindings(7, 0)), 7, connector.Acted)
	// Someone else's watchlists whose names look like members of the series but are not.
	for _, name := range []string{carbonblackconn.DefaultWatchlistName + " (1)", carbonblackconn.DefaultWatchlistName + " (x)",
		carbonblackconn.DefaultWatchlistName + " (02)", carbonblackconn.DefaultWatchlistName + "(2)"} {
		if _, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: name, ReportIDs: []string{"0000"}}); err != nil {
			t.Fatal(err)
		}
	}

	opts := carbonblackconn.WatchlistOptions{ReportsPerWatchlist: 5}
	r1, _ := carbonblackconn.NewWatchlistReport(c, opts)
	wantStatus(t, r1.RespondBatch(ctx, batchFindings(2, 7)), 2, connector.Acted)
	r2, _ := carbonblackconn.NewWatchlistReport(c, opts)
	fake.ResetRequests()
	wantStatus(t, r2.RespondBatch(ctx, batchFindings(1, 9)), 1, connector.Acted)
	wantStatus(t, r2.RespondBatch(ctx, batchFindings(2, 10)), 2, connector.Acted)
	var ours []carbonblack.Watchlist
	for _, w := range fake.Watchlists() {
		if w.Name == carbonblackconn.DefaultWatchlistName || w.Name == carbonblackconn.DefaultWatchlistName+" (2)" {
			ours = append(ours, w)
		}
	}
	if len(ours) != 2 || len(ours[0].ReportIDs) != 7 || len(ours[1].ReportIDs) != 5 || len(fake.Watchlists()) != 6 {
		t.Errorf("watchlists %+v, want the first with 7 and the second with 5 of 12 reports", fake.Watchlists())
	}
	// The restarted responder lists the watchlists once (its baseline), then reads and writes only the second.
	if l, p, cr := fake.CountRequests("GET", wl), fake.CountRequests("PUT", wl), fake.CountRequests("POST", wl); l != 1+4 || p != 2 || cr != 0 {
		t.Errorf("%d watchlist reads, %d updates, %d creations after a restart; want 5 (one listing, 2 per batch), 2, 0", l, p, cr)
	}
	// Every file is known after the restart: nothing is written again.
	fake.ResetRequests()
	r3, _ := carbonblackconn.NewWatchlistReport(c, opts)
	wantStatus(t, r3.RespondBatch(ctx, batchFindings(12, 0)), 12, connector.Unchanged)
	if n := fake.CountRequests("PUT", wl) + fake.CountRequests("POST", ""); n != 0 {
		t.Errorf("%d writes for files already reported", n)
	}
}

func TestWatchlistReportSeriesOption(t *testing.T) {
	fake, _ := newFake(t)
	if _, err := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{ReportsPerWatchlist: -1}); err == nil {
		t.Error("a negative ReportsPerWatchlist was accepted")
	}
}
