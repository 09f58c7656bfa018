package carbonblacktest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

func TestFeedLifecycle(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	c := fake.Client()
	ctx := context.Background()
	rep := carbonblack.Report{ID: "r1", Title: "t", Description: "d", Severity: 6, Link: "https://tap.example/1",
		IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC(carbonblack.FieldProcessHash, strings.Repeat("a", 64))}}
	info, err := c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: "f", ProviderURL: "https://p.example", Summary: "s", Category: "Partner"}, rep)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Feeds.Get(ctx, info.ID)
	if err != nil || got.FeedInfo.Owner != fake.OrgKey() || len(got.Reports) != 1 || got.Reports[0].Link != rep.Link {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	info.Summary = "new summary"
	if up, err := c.Feeds.UpdateInfo(ctx, *info); err != nil || up.Summary != "new summary" || up.ID != info.ID {
		t.Fatalf("UpdateInfo = %+v, %v", up, err)
	}
	rep.Title = "t2"
	if up, err := c.Feeds.UpdateReport(ctx, info.ID, rep); err != nil || up.Title != "t2" {
		t.Fatalf("UpdateReport = %+v, %v", up, err)
	}
	if err := c.Reports.Ignore(ctx, info.ID+"-r1"); err != nil {
		t.Fatalf("ignoring a feed report: %v", err)
	}
	missing := rep
	missing.ID = "nope"
	if _, err := c.Feeds.UpdateReport(ctx, info.ID, missing); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("updating a missing report: %v", err)
	}
	if err := c.Feeds.DeleteReport(ctx, info.ID, "r1"); err != nil {
		t.Fatal(err)
	}
	if f, ok := fake.Feed(info.ID); !ok || len(f.Reports) != 0 || f.FeedInfo.Summary != "new summary" {
		t.Fatalf("fake feed = %+v", f)
	}
	if err := c.Feeds.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Feeds.Get(ctx, info.ID); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("deleted feed: %v", err)
	}
	if _, err := c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: "f", ProviderURL: "not a url", Summary: "s", Category: "c"}); !errors.Is(err, carbonblack.ErrBadRequest) {
		t.Fatalf("bad provider_url: %v", err)
	}
}

func TestQueriesAndInspection(t *testing.T) {
	clock := carbonblacktest.NewManualClock(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithClock(clock), carbonblacktest.WithOrgKey("ORG00002"),
		carbonblacktest.WithCredentials("ID2", "SECRET2-0123456789"), carbonblacktest.WithResultWindow(50))
	now := clock.Now()
	a1 := fake.AddAlert(carbonblack.Alert{Type: "WATCHLIST", Severity: 8, ProcessName: `c:\temp\evil.exe`, DeviceOS: "WINDOWS",
		BackendTimestamp: carbonblack.Timestamp{Time: now.Add(-time.Hour)}, Watchlists: []carbonblack.WatchlistRef{{ID: "w1", Name: "n"}}})
	fake.AddAlert(carbonblack.Alert{Type: "CB_ANALYTICS", Severity: 3, ProcessName: `/usr/bin/curl`, DeviceOS: "LINUX",
		BackendTimestamp: carbonblack.Timestamp{Time: now.Add(-2 * time.Hour)}})
	fake.AddAlert(carbonblack.Alert{Type: "CB_ANALYTICS", Severity: 9, BackendTimestamp: carbonblack.Timestamp{Time: now.Add(-30 * 24 * time.Hour)}})
	c := fake.Client()
	ctx := context.Background()
	count := func(q carbonblack.AlertSearch) int {
		t.Helper()
		q.Rows = 50
		p, err := c.Alerts.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Results)
	}
	cases := map[string]struct {
		q    carbonblack.AlertSearch
		want int
	}{
		"default two weeks": {carbonblack.AlertSearch{}, 2},
		"name of a path":    {carbonblack.AlertSearch{Query: "process_name:evil.exe"}, 1},
		"wildcard":          {carbonblack.AlertSearch{Query: `process_name:*curl`}, 1},
		"OR":                {carbonblack.AlertSearch{Query: "device_os:LINUX OR device_os:WINDOWS"}, 2},
		"negation":          {carbonblack.AlertSearch{Query: "-device_os:LINUX"}, 1},
		"NOT and AND":       {carbonblack.AlertSearch{Query: "NOT device_os:LINUX AND type:WATCHLIST"}, 1},
		"severity range":    {carbonblack.AlertSearch{Query: "severity:[5 TO 10]"}, 1},
		"minimum severity":  {carbonblack.AlertSearch{Criteria: carbonblack.Criteria{"minimum_severity": 5}, TimeRange: &carbonblack.TimeRange{Range: "-60d"}}, 2},
		"nested field":      {carbonblack.AlertSearch{Criteria: carbonblack.Criteria{"watchlists.id": []string{"w1"}}}, 1},
		"exclusions":        {carbonblack.AlertSearch{Exclusions: carbonblack.Criteria{"type": []string{"WATCHLIST"}}}, 1},
		"time range":        {carbonblack.AlertSearch{TimeRange: &carbonblack.TimeRange{Start: now.Add(-90 * time.Minute), End: now}}, 1},
		"criteria time":     {carbonblack.AlertSearch{Criteria: carbonblack.Criteria{"backend_timestamp": carbonblack.TimeRange{Range: "-40d"}}}, 3},
		"free text":         {carbonblack.AlertSearch{Query: "curl"}, 1},
		"timestamp range":   {carbonblack.AlertSearch{Query: "backend_timestamp:[" + carbonblack.FormatTime(now.Add(-90*time.Minute)) + " TO *]"}, 1},
	}
	for name, tc := range cases {
		if got := count(tc.q); got != tc.want {
			t.Errorf("%s: %d alerts, want %d", name, got, tc.want)
		}
	}
	if _, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{Start: 45, Rows: 10}); !errors.Is(err, carbonblack.ErrBadRequest) {
		t.Fatalf("past the window: %v", err)
	}
	got, err := c.Alerts.Get(ctx, a1.ID)
	if err != nil || got.ProcessName != a1.ProcessName || got.OrgKey != "ORG00002" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := c.Alerts.Get(ctx, "nope"); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("unknown alert: %v", err)
	}
	if len(fake.Alerts()) != 3 {
		t.Fatal("Alerts() lost alerts")
	}
	pol := fake.AddPolicy(carbonblack.Policy{Name: "Standard", Rules: []carbonblack.PolicyRule{{ID: 1, Action: "DENY"}}})
	if p, err := c.Policies.Get(ctx, pol.ID); err != nil || p.Rules[0].Action != "DENY" || p.OrgKey != "ORG00002" {
		t.Fatalf("policy = %+v, %v", p, err)
	}
	o, err := c.Reputations.Ban(ctx, strings.Repeat("f", 64), "x.exe", "bad")
	if err != nil {
		t.Fatal(err)
	}
	if g, err := c.Reputations.Get(ctx, o.ID); err != nil || g.Filename != "x.exe" {
		t.Fatalf("override = %+v, %v", g, err)
	}
	if err := c.Reputations.Delete(ctx, o.ID); err != nil || fake.Banned(strings.Repeat("f", 64)) {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: "BLACK_LIST", OverrideType: "CERT", SignedBy: "x"}); !errors.Is(err, carbonblack.ErrBadRequest) {
		t.Fatalf("BLACK_LIST cert: %v", err)
	}
	wl, _ := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "w"})
	if ws := fake.Watchlists(); len(ws) != 1 || ws[0].ID != wl.ID {
		t.Fatalf("Watchlists() = %+v", ws)
	}
}

func TestHandlerMountedInAnotherServer(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	sha, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("payload")})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c, err := carbonblack.New(srv.URL, fake.OrgKey(), fake.APIID(), fake.APISecret(),
		carbonblack.WithRetry(carbonblack.RetryPolicy{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	links, err := c.UBS.DownloadLinks(context.Background(), time.Minute, sha)
	if err != nil || !strings.HasPrefix(links.Found[0].URL, srv.URL+"/cdc-file-storage/") && !strings.HasPrefix(links.Found[0].URL, fake.StorageURL()) {
		t.Fatalf("links = %+v, %v", links, err)
	}
	smp, err := c.UBS.OpenLink(context.Background(), links.Found[0])
	if err != nil {
		t.Fatal(err)
	}
	defer smp.Close()
	if b, _ := io.ReadAll(smp); string(b) != "payload" || smp.Verify() != nil || smp.RequestedSHA256() != sha {
		t.Fatalf("sample = %q", b)
	}
	resp, err := http.Get(srv.URL + "/cdc-file-storage/" + sha + ".zip?X-Amz-Signature=forged")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged signature: %d", resp.StatusCode)
	}
}
