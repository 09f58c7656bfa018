package console

import (
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

func TestActivityKeepsTheLastWindowPerMinute(t *testing.T) {
	now := testNow
	a := NewActivity(func() time.Time { return now })
	a.Add(connector.CounterCollected, 5, "carbonblack")
	a.Add(connector.CounterVerdicts, 2, "malicious")
	a.Add(connector.CounterVerdicts, 1, "bogus")       // an unknown kind is ignored
	a.Add(connector.CounterVerdicts, 1)                // so is a wrong label count
	a.Add(connector.CounterActions, 3, "ban", "acted") // acted and failed count as actions
	a.Add(connector.CounterActions, 1, "ban", "failed")
	a.Add(connector.CounterActions, 7, "ban", "done_before") // skipped, unchanged, done before do not
	a.Add(connector.CounterFailures, 1, "fetch")
	a.Add(connector.CounterRetries, 9, "lookup") // not charted
	now = now.Add(time.Minute)
	a.Add(connector.CounterCollected, 1, "carbonblack")

	s := a.Snapshot()
	if len(s.Minutes) != int(Window/time.Minute) {
		t.Fatalf("%d minutes", len(s.Minutes))
	}
	last, prev := s.Minutes[len(s.Minutes)-1], s.Minutes[len(s.Minutes)-2]
	if !prev.Start.Equal(testNow) || prev.Collected != 5 || prev.Verdicts[connector.Malicious] != 2 || prev.Actions != 4 ||
		prev.Failures != 1 || prev.Verdicts[connector.Unknown] != 0 {
		t.Errorf("the first minute: %+v", prev)
	}
	if last.Collected != 1 || !last.Start.Equal(testNow.Add(time.Minute)) {
		t.Errorf("the second minute: %+v", last)
	}

	// A window later the first minute's counts are gone, though its ring slot is reused only now.
	now = testNow.Add(Window)
	a.Add(connector.CounterCollected, 2, "carbonblack")
	s = a.Snapshot()
	total := 0
	for _, m := range s.Minutes {
		total += m.Collected
	}
	if total != 3 || s.Minutes[len(s.Minutes)-1].Collected != 2 || s.Minutes[0].Collected != 1 {
		t.Errorf("after a window: total %d, first %+v, last %+v", total, s.Minutes[0], s.Minutes[len(s.Minutes)-1])
	}
	now = testNow.Add(3 * Window)
	for _, m := range a.Snapshot().Minutes {
		if m.Collected != 0 {
			t.Fatalf("counts outlived the window: %+v", m)
		}
	}
}

func TestActivityVendorHealth(t *testing.T) {
	now := testNow
	a := NewActivity(func() time.Time { return now })
	a.ObserveRequest(restEvent("vmray", "/rest/sample/{}", 200))
	now = now.Add(time.Minute)
	a.ObserveRequest(restEvent("vmray", "/rest/sample/{}", 429))
	retry := restEvent("vmray", "/rest/sample/{}", 0)
	retry.Attempt = 2
	a.ObserveRequest(retry)
	a.ObserveRequest(restEvent("carbonblack", "/appservices/v6/orgs/{}/devices/_search", 201))
	now = now.Add(time.Minute)
	// a 404 answers an existence check: not an error
	a.ObserveRequest(restEvent("carbonblack", "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}", 404))
	a.ObserveRequest(restEvent("carbonblack", "/appservices/v6/orgs/{}/device_actions", 403))
	s := a.Snapshot()
	if len(s.Vendors) != 2 {
		t.Fatalf("vendors %+v", s.Vendors)
	}
	cbc := VendorHealth{Vendor: "carbonblack", Requests: 3, Errors: 1, LastSuccess: testNow.Add(2 * time.Minute),
		LastError: testNow.Add(2 * time.Minute), LastErrorText: "403 Forbidden: GET /appservices/v6/orgs/{}/device_actions"}
	if s.Vendors[0] != cbc {
		t.Errorf("carbonblack\n got %+v\nwant %+v", s.Vendors[0], cbc)
	}
	v := s.Vendors[1]
	want := VendorHealth{Vendor: "vmray", Requests: 3, Errors: 2, RateLimited: 1, Retries: 1, LastSuccess: testNow,
		LastError: testNow.Add(time.Minute), LastErrorText: "no response: GET /rest/sample/{}"}
	if v != want {
		t.Errorf("vmray\n got %+v\nwant %+v", v, want)
	}
}

func TestChartStacksSeriesPerBin(t *testing.T) {
	minutes := make([]MinuteCounts, 30)
	for i := range minutes {
		minutes[i].Start = testNow.Add(time.Duration(i) * time.Minute)
	}
	minutes[0].Verdicts[connector.Malicious] = 3
	minutes[9].Verdicts[connector.Clean] = 1 // same 10-minute bin
	minutes[25].Verdicts[connector.Clean] = 2
	c := overviewCharts(minutes)[1]
	if len(c.Bars) != 3 || c.Max != 4 {
		t.Fatalf("%d bars, max %d", len(c.Bars), c.Max)
	}
	b := c.Bars[0]
	if len(b.Segments) != 2 || b.Segments[0].Class != "s-malicious" || b.Segments[0].H != 48 || b.Segments[1].H != 16 ||
		b.Segments[1].Y != 0 || b.X != 0 || b.W != 119 {
		t.Errorf("first bar %+v", b)
	}
	if len(c.Bars[1].Segments) != 0 || c.Bars[2].Segments[0].H != 32 {
		t.Errorf("bars %+v", c.Bars[1:])
	}
	if c.Legend[0].Total != 3 || c.Legend[2].Total != 3 || b.Title != "13:00 UTC, malicious 3, suspicious 0, clean 1, unknown 0" {
		t.Errorf("legend %+v, title %q", c.Legend, b.Title)
	}
}

// The engine and the vendor clients report from many goroutines while pages read snapshots (run with -race).
func TestActivityIsSafeForConcurrentUse(t *testing.T) {
	a := NewActivity(func() time.Time { return testNow })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				a.Add(connector.CounterCollected, 1, "carbonblack")
				a.ObserveRequest(restEvent("vmray", "/rest/sample/{}", 200))
				a.SourceCollected("carbonblack", testNow)
				a.ComponentHealth(connector.KindAnalyzer, "vmray", true, "")
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			a.Snapshot()
		}
	})
	wg.Wait()
	s := a.Snapshot()
	if got := s.Minutes[len(s.Minutes)-1].Collected; got != 1000 || s.Vendors[0].Requests != 1000 {
		t.Errorf("collected %d, requests %d, want 1000 each", got, s.Vendors[0].Requests)
	}
}
