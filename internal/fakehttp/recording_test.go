package fakehttp

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A fake under load keeps a bounded number of requests and body bytes, and counts every request per route.
func TestRecordingIsBounded(t *testing.T) {
	var got []string
	mw := NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
	}))
	mw.SetRecording(Recording{MaxRequests: 3, MaxBodyBytes: 4})
	for i := range 10 {
		path := fmt.Sprintf("/rest/sample/%d/iocs", 7000+i)
		mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", path, strings.NewReader(fmt.Sprintf("body-%d", i))))
	}
	mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/rest/submission/10457201", nil))
	reqs := mw.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/rest/sample/7008/iocs" || reqs[2].Path != "/rest/submission/10457201" {
		t.Fatalf("kept %d requests: %+v; want the newest 3 in order", len(reqs), reqs)
	}
	if string(reqs[1].Body) != "body" || !reqs[1].BodyTruncated {
		t.Errorf("kept body %q (truncated %v), want its first 4 bytes", reqs[1].Body, reqs[1].BodyTruncated)
	}
	if got[9] != "body-9" {
		t.Errorf("the handler got %q, want the whole body", got[9])
	}
	want := map[string]int{"POST /rest/sample/{}/iocs": 10, "GET /rest/submission/{}": 1}
	if c := mw.Counts(); len(c) != 2 || c["POST /rest/sample/{}/iocs"] != 10 || c["GET /rest/submission/{}"] != 1 {
		t.Errorf("counts %v, want %v", c, want)
	}
	if mw.Dropped() != 8 || mw.CountRequests("POST", "/rest/sample/") != 2 {
		t.Errorf("dropped %d, kept POSTs %d; want 8 and 2", mw.Dropped(), mw.CountRequests("POST", "/rest/sample/"))
	}
	mw.SetRecording(Recording{MaxRequests: -1})
	mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/rest/submission/10457202", nil))
	if len(mw.Requests()) != 0 || mw.Counts()["GET /rest/submission/{}"] != 2 {
		t.Errorf("with recording off: kept %d, counts %v", len(mw.Requests()), mw.Counts())
	}
	mw.ResetRequests()
	if len(mw.Counts()) != 0 || mw.Dropped() != 0 {
		t.Errorf("after reset: counts %v, dropped %d", mw.Counts(), mw.Dropped())
	}
}

func TestRoute(t *testing.T) {
	for in, want := range map[string]string{
		"/rest/sample/7623401/vtis": "/rest/sample/{}/vtis",
		"/threathunter/watchlistmgr/v3/orgs/7DESJ9GN/watchlists/ZjDEGTHAQNSCJblLzkkM": "/threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}",
		"/cdc-file-storage/abc": "/cdc-file-storage/abc",
		"/appservices/v6/orgs/7DESJ9GN/reputations/overrides/_search": "/appservices/v6/orgs/{}/reputations/overrides/_search",
		"/web/api/v2.1/threats": "/web/api/v2.1/threats",
		// A random base64url id without digits, with '-' and '_'; route words with those are lower case.
		"/threathunter/feedmgr/v2/orgs/7DESJ9GN/feeds/LqQ_OLpEHbPm-yrovpnhSL/reports": "/threathunter/feedmgr/v2/orgs/{}/feeds/{}/reports",
		"/web/api/v2.1/threat-intelligence/iocs":                                      "/web/api/v2.1/threat-intelligence/iocs",
	} {
		if got := Route(in); got != want {
			t.Errorf("Route(%q) = %q, want %q", in, got, want)
		}
	}
}
