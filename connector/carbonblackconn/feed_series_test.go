package carbonblackconn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// feedSeries returns "name:reports:subscribed" for every feed of the fake, in creation order.
func feedSeries(t *testing.T, fake *carbonblacktest.Server) string {
	t.Helper()
	feeds, err := fake.Client().Feeds.List(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string]string{}
	for _, w := range fake.Watchlists() {
		if w.Classifier != nil {
			if subs[w.Classifier.Value] != "" {
				t.Errorf("feed %s has two subscribed watchlists", w.Classifier.Value)
			}
			subs[w.Classifier.Value] = w.Name
		}
	}
	var out []string
	for _, info := range feeds {
		f, _ := fake.Feed(info.ID)
		out = append(out, fmt.Sprintf("%s:%d:%s", info.Name, len(f.Reports), subs[info.ID]))
	}
	return strings.Join(out, ", ")
}

// series names the members "TAP", "TAP (2)", ... with their report counts, each subscribed by the watchlist of
// the same name.
func series(sizes ...int) string {
	var out []string
	for k, n := range sizes {
		name := "TAP"
		if k > 0 {
			name = fmt.Sprintf("TAP (%d)", k+1)
		}
		out = append(out, fmt.Sprintf("%s:%d:%s", name, n, name))
	}
	return strings.Join(out, ", ")
}

// largestFeedWrite returns the most reports any feed write (creation or replacement) carried.
func largestFeedWrite(t *testing.T, fake *carbonblacktest.Server) int {
	t.Helper()
	most := 0
	for _, q := range fake.Requests() {
		if q.Method != "POST" || !strings.Contains(q.Path, "/feedmgr/") {
			continue
		}
		var body struct {
			Reports []json.RawMessage `json:"reports"`
		}
		if err := json.Unmarshal(q.Body, &body); err != nil {
			t.Fatalf("%s %s: %v", q.Method, q.Path, err)
		}
		most = max(most, len(body.Reports))
	}
	return most
}

// The feed reports spread over a series of feeds of at most ReportsPerFeed reports, each subscribed by its own
// watchlist; no feed write carries more than the cap, and each batch reads only the last feed.
func TestFeedReportSeriesRollover(t *testing.T) {
	fake, _ := newFake(t)
	opts := carbonblackconn.FeedOptions{Feed: "TAP", ReportsPerFeed: 4}
	fr, err := carbonblackconn.NewFeedReport(fake.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(3, 0)), 3, connector.Acted)
	if got, want := feedSeries(t, fake), series(3); got != want {
		t.Errorf("feeds [%s], want [%s]", got, want)
	}
	fake.ResetRequests()
	outs := fr.RespondBatch(ctx, batchFindings(3, 3))
	wantStatus(t, outs, 3, connector.Acted)
	if got, want := feedSeries(t, fake), series(4, 2); got != want {
		t.Errorf("feeds [%s], want [%s]", got, want)
	}
	if !strings.Contains(outs[0].Result.Detail, `feed "TAP"`) || !strings.Contains(outs[2].Result.Detail, `feed "TAP (2)"`) {
		t.Errorf("details %q, %q", outs[0].Result.Detail, outs[2].Result.Detail)
	}
	c := fake.Counts()
	feedReports := "/threathunter/feedmgr/v2/orgs/{}/feeds/{}/reports"
	if g, p, cr := c["GET "+feedReports], c["POST "+feedReports], c["POST /threathunter/feedmgr/v2/orgs/{}/feeds"]; g != 3 || p != 1 || cr != 1 {
		t.Errorf("rollover batch: %d feed report reads, %d replacements, %d feed creations; want 3, 1, 1 (counts %v)", g, p, cr, c)
	}

	fake.ResetRequests()
	for b := range 5 {
		wantStatus(t, fr.RespondBatch(ctx, batchFindings(3, 6+3*b)), 3, connector.Acted)
	}
	if got, want := feedSeries(t, fake), series(4, 4, 4, 4, 4, 1); got != want {
		t.Errorf("feeds [%s], want [%s]", got, want)
	}
	if most := largestFeedWrite(t, fake); most > 4 {
		t.Errorf("a feed write carried %d reports, more than the cap 4", most)
	}
	// Every file is known: one read of the last feed and nothing else.
	fake.ResetRequests()
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(21, 0)), 21, connector.Unchanged)
	if q := fake.Requests(); len(q) != 1 || q[0].Method != "GET" {
		t.Errorf("%d requests for files already reported, want one read of the last feed", len(q))
	}
}

// A new process finds the series with one listing of the feeds and one read of each full feed, then reads and
// writes only the last feed; a feed fuller than the cap (an existing tenant, or a lowered cap) stays the first.
func TestFeedReportSeriesAfterRestart(t *testing.T) {
	fake, _ := newFake(t)
	ctx := context.Background()
	r0, _ := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "TAP"})
	wantStatus(t, r0.RespondBatch(ctx, batchFindings(6, 0)), 6, connector.Acted)
	opts := carbonblackconn.FeedOptions{Feed: "TAP", ReportsPerFeed: 4}
	r1, _ := carbonblackconn.NewFeedReport(fake.Client(), opts)
	wantStatus(t, r1.RespondBatch(ctx, batchFindings(5, 6)), 5, connector.Acted)
	if got, want := feedSeries(t, fake), series(6, 4, 1); got != want {
		t.Errorf("feeds [%s], want [%s]", got, want)
	}
	r2, _ := carbonblackconn.NewFeedReport(fake.Client(), opts)
	fake.ResetRequests()
	wantStatus(t, r2.RespondBatch(ctx, batchFindings(11, 0)), 11, connector.Unchanged)
	wantStatus(t, r2.RespondBatch(ctx, batchFindings(2, 11)), 2, connector.Acted)
	c := fake.Counts()
	if got, want := feedSeries(t, fake), series(6, 4, 3); got != want {
		t.Errorf("feeds [%s], want [%s]", got, want)
	}
	// One listing of the feeds and one of the watchlists (the subscriptions); the two full feeds read once; the
	// last read by each batch, then merged (read and replace) and read back by the second.
	want := map[string]int{"GET /threathunter/feedmgr/v2/orgs/{}/feeds": 1, "GET /threathunter/watchlistmgr/v3/orgs/{}/watchlists": 1,
		"GET /threathunter/feedmgr/v2/orgs/{}/feeds/{}/reports": 2 + 2 + 2, "POST /threathunter/feedmgr/v2/orgs/{}/feeds/{}/reports": 1}
	for route, n := range want {
		if c[route] != n {
			t.Errorf("%s: %d calls, want %d (counts %v)", route, c[route], n, c)
		}
	}
	if len(c) != len(want) {
		t.Errorf("calls %v, want only %v", c, want)
	}
}

// A lost answer to a feed creation (it happened) is not repeated, and a subscription that failed after the creation
// is made before the next batch does anything else.
func TestFeedReportSeriesFailures(t *testing.T) {
	fake, _ := newFake(t)
	ctx := context.Background()
	fr, _ := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "TAP", ReportsPerFeed: 2})
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(2, 0)), 2, connector.Acted)
	feeds := "/threathunter/feedmgr/v2/orgs/" + fake.OrgKey() + "/feeds"
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: feeds, LostAnswer: true, Times: 1})
	for i, o := range fr.RespondBatch(ctx, batchFindings(1, 2)) {
		if o.Err == nil || connector.IsPermanent(o.Err) {
			t.Errorf("finding %d with the creation's answer lost: %+v %v, want a transient error", i, o.Result, o.Err)
		}
	}
	fake.ClearFaults()
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(2, 2)), 2, connector.Acted) // the first was in the lost creation's feed already: merged again under its id, not duplicated
	if got, want := feedSeries(t, fake), series(2, 2); got != want {
		t.Errorf("after a lost creation: feeds [%s], want [%s]", got, want)
	}

	wl := "/threathunter/watchlistmgr/v3/orgs/" + fake.OrgKey() + "/watchlists"
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: wl, Status: 503, Times: 1})
	for i, o := range fr.RespondBatch(ctx, batchFindings(1, 4)) {
		if o.Err == nil || connector.IsPermanent(o.Err) {
			t.Errorf("finding %d with the subscription failing: %+v %v, want a transient error", i, o.Result, o.Err)
		}
	}
	fake.ClearFaults()
	wantStatus(t, fr.RespondBatch(ctx, batchFindings(1, 4)), 1, connector.Unchanged)
	if got, want := feedSeries(t, fake), series(2, 2, 1); got != want {
		t.Errorf("after a failed subscription: feeds [%s], want [%s]", got, want)
	}
	if _, err := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "TAP", ReportsPerFeed: -1}); err == nil {
		t.Error("a negative ReportsPerFeed was accepted")
	}
}
