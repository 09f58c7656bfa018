package main

import (
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// The example's flow, 20 ms per request, costs a bounded number of vendor calls per new file, counted by the fakes' recorders: the
// watchlist, ban and quarantine responders batch their lookups and updates, the UBS links come 100 hashes per call,
// and VMRay is checked on its pace. A regression to per-file watchlist updates, device reads or override searches,
// or to polling VMRay on a fixed short interval, breaks these bounds.
func TestCallsPerNewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 files through the fakes")
	}
	const n = 60
	cbc, vm := benchWorld(t, n)
	// A vendor round trip, so that files reach the responders while a batch is under way (as they do in production).
	addLatency(cbc, vm, 20*time.Millisecond)
	_, sum := runFlow(t, cbc, vm, t.TempDir(), map[connector.Stage]int{connector.StageLookup: 8, connector.StageFetch: 8,
		connector.StageSubmit: 8, connector.StageAwait: 16, connector.StageRespond: 64})
	if sum.Analysed != n || sum.Actions["cbc-watchlist-report"].Acted != n {
		t.Fatalf("summary %+v", sum)
	}
	cbcCalls, vmCalls := callsByRoute(cbc.Requests()), callsByRoute(vm.Requests())
	total := func(calls map[string]int) float64 {
		s := 0
		for _, c := range calls {
			s += c
		}
		return float64(s) / n
	}
	if got := total(cbcCalls); got > 5 {
		t.Errorf("%.2f Carbon Black calls per new file, want at most 5: %s", got, perFile(cbcCalls, n))
	}
	if got := total(vmCalls); got > 8 {
		t.Errorf("%.2f VMRay calls per new file, want at most 8: %s", got, perFile(vmCalls, n))
	}
	org := cbc.OrgKey()
	for _, route := range [][2]string{{"PUT", "/threathunter/watchlistmgr/v3/orgs/" + org + "/watchlists/"},
		{"POST", "/appservices/v6/orgs/" + org + "/devices/_search"},
		{"POST", "/appservices/v6/orgs/" + org + "/reputations/overrides/_search"},
		{"POST", "/appservices/v6/orgs/" + org + "/device_actions"}} {
		if c := cbc.CountRequests(route[0], route[1]); c == 0 || c > n/4 {
			t.Errorf("%s %s: %d calls for %d files; want batches (at most one call per 4 files)", route[0], route[1], c, n)
		}
	}
	t.Logf("CBC %.2f calls per file: %s", total(cbcCalls), perFile(cbcCalls, n))
	t.Logf("VMRay %.2f calls per file: %s", total(vmCalls), perFile(vmCalls, n))
}
