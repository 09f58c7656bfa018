package main

import (
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// The example's flow, 20 ms per request, costs a bounded number of vendor calls per new file, counted by the fakes'
// recorders: one download, one report read and creation and one ban per file, and the watchlist, ban and quarantine
// responders' lookups and updates shared by batches. Before batching a file cost 9 Carbon Black calls. How many
// files share a batch depends on how they arrive, so the bounds here leave room for a slow machine; the responders'
// own tests pin the calls per batch exactly.
func TestCallsPerNewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 files through the fakes")
	}
	const n = 60
	cbc, vm := benchWorld(t, n)
	// A vendor round trip, so that files reach the responders while a batch is under way (as they do in production).
	addLatency(cbc, vm, 20*time.Millisecond)
	res := runFlow(t, cbc, vm, t.TempDir(), map[connector.Stage]int{connector.StageLookup: 8, connector.StageFetch: 8,
		connector.StageSubmit: 8, connector.StageAwait: 16, connector.StageRespond: 64})
	sum := res.sum
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
	if got := total(cbcCalls); got > 7 {
		t.Errorf("%.2f Carbon Black calls per new file, want at most 7: %s", got, perFile(cbcCalls, n))
	}
	if got := total(vmCalls); got > 9 {
		t.Errorf("%.2f VMRay calls per new file, want at most 9: %s", got, perFile(vmCalls, n))
	}
	for _, route := range []string{"GET /cdc-file-storage/{}", "GET /threathunter/watchlistmgr/v3/orgs/{}/reports/{}",
		"POST /threathunter/watchlistmgr/v3/orgs/{}/reports", "POST /appservices/v6/orgs/{}/reputations/overrides"} {
		if cbcCalls[route] != n {
			t.Errorf("%s: %d calls for %d files, want one per file", route, cbcCalls[route], n)
		}
	}
	org := cbc.OrgKey()
	for _, route := range [][2]string{{"PUT", "/threathunter/watchlistmgr/v3/orgs/" + org + "/watchlists/"},
		{"POST", "/appservices/v6/orgs/" + org + "/devices/_search"},
		{"POST", "/appservices/v6/orgs/" + org + "/reputations/overrides/_search"},
		{"POST", "/appservices/v6/orgs/" + org + "/device_actions"}} {
		if c := cbc.CountRequests(route[0], route[1]); c == 0 || c > n/2 {
			t.Errorf("%s %s: %d calls for %d files; want batches (at most one call per 2 files)", route[0], route[1], c, n)
		}
	}
	// Store writes: the collection's items in one transaction, then per file the submission intent, the ticket,
	// the verdict, one action record per responder (a batch's records in one write per item) and done.
	if want := 4 + len(res.findings); res.store.Updates > int64(want*n+2) {
		t.Errorf("%d store writes for %d files, want at most %d per file and 2 for the collection", res.store.Updates,
			n, want)
	}
	t.Logf("store: %d writes in %d commits for %d files", res.store.Updates, res.store.Commits, n)
	t.Logf("CBC %.2f calls per file: %s", total(cbcCalls), perFile(cbcCalls, n))
	t.Logf("VMRay %.2f calls per file: %s", total(vmCalls), perFile(vmCalls, n))
}
