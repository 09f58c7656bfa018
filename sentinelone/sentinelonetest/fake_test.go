package sentinelonetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// call sends a raw request to the fake and decodes the JSON answer.
func call(t *testing.T, srv *sentinelonetest.Server, method, path, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer %q is not JSON", method, path, b)
	}
	return resp.StatusCode, resp.Header, out
}

const auth = "ApiToken " + sentinelonetest.DefaultToken

func firstError(t *testing.T, out map[string]any) (code float64, title string) {
	t.Helper()
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no errors in %v", out)
	}
	e := errs[0].(map[string]any)
	return e["code"].(float64), e["title"].(string)
}

func TestAuth(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/web/api/v2.1/accounts", auth, 200},
		{"/web/api/v2.1/accounts", "APIToken " + sentinelonetest.DefaultToken, 200},
		{"/web/api/v2.1/accounts?APIToken=" + sentinelonetest.DefaultToken, "", 200},
		{"/web/api/v2.1/accounts", "", 401},
		{"/web/api/v2.1/accounts", "ApiToken wrong", 401},
		{"/web/api/v2.1/accounts", "Bearer " + sentinelonetest.DefaultToken, 401},
	} {
		status, _, out := call(t, srv, "GET", tc.path, tc.auth, "")
		if status != tc.want {
			t.Errorf("%s %q: status %d, want %d", tc.path, tc.auth, status, tc.want)
		}
		if status == 401 {
			if code, title := firstError(t, out); code != 4010010 || title != "Authentication Failed" {
				t.Errorf("401 body = %v", out)
			}
		}
	}
}

func TestPagingWireDetails(t *testing.T) {
	clock := sentinelonetest.NewManualClock(time.Date(2024, 5, 2, 9, 14, 3, 118204000, time.UTC))
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithClock(clock))
	for range 3 {
		srv.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: "3395856ce81f2b7382dee72602f798b642f14140"}})
		clock.Advance(time.Second)
	}
	status, hdr, out := call(t, srv, "GET", "/web/api/v2.1/threats?limit=2&sortBy=createdAt&sortOrder=desc", auth, "")
	if status != 200 || hdr.Get("Date") != "Thu, 02 May 2024 09:14:06 GMT" {
		t.Fatalf("status %d date %q", status, hdr.Get("Date"))
	}
	pag := out["pagination"].(map[string]any)
	cursor, _ := pag["nextCursor"].(string)
	if pag["totalItems"].(float64) != 3 || cursor == "" {
		t.Fatalf("pagination = %v", pag)
	}
	first := out["data"].([]any)[0].(map[string]any)
	ti := first["threatInfo"].(map[string]any)
	if _, isString := first["id"].(string); !isString || ti["md5"] != nil || ti["createdAt"] != "2024-05-02T09:14:05.118204Z" {
		t.Errorf("threat wire = id %T md5 %v createdAt %v", first["id"], ti["md5"], ti["createdAt"])
	}
	_, _, out = call(t, srv, "GET", "/web/api/v2.1/threats?limit=2&cursor="+cursor, auth, "")
	pag = out["pagination"].(map[string]any)
	if v, present := pag["nextCursor"]; !present || v != nil || len(out["data"].([]any)) != 1 {
		t.Errorf("last page pagination = %v", pag)
	}
	status, _, out = call(t, srv, "GET", "/web/api/v2.1/threats?limit=1001&skip=5000", auth, "")
	if errs := out["errors"].([]any); status != 400 || len(errs) != 2 {
		t.Fatalf("status %d body %v", status, out)
	}
	if code, title := firstError(t, out); code != 4000010 || title != "Validation Error" {
		t.Errorf("code %v title %q", code, title)
	}
	status, _, out = call(t, srv, "GET", "/web/api/v2.1/no-such-endpoint", auth, "")
	if status != 404 || out["errors"] == nil {
		t.Errorf("unknown route: %d %v", status, out)
	}
}

func TestSitesAreObjectShaped(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	_, _, out := call(t, srv, "GET", "/web/api/v2.1/sites?accountId="+sentinelonetest.DefaultAccountID, auth, "")
	data := out["data"].(map[string]any)
	sites := data["sites"].([]any)
	if data["allSites"] == nil || len(sites) != 1 || sites[0].(map[string]any)["id"] != sentinelonetest.DefaultSiteID {
		t.Errorf("sites answer = %v", out)
	}
}

func TestFetchFileValidation(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	a := srv.AddThreat(sentinelone.Threat{})
	srv.AddThreat(sentinelone.Threat{})
	status, _, out := call(t, srv, "POST", "/web/api/v2.1/threats/fetch-file", auth, `{"data":{"password":"short"},"filter":{"ids":["`+a.ID+`"]}}`)
	if code, _ := firstError(t, out); status != 400 || code != 4000010 {
		t.Errorf("weak password: %d %v", status, out)
	}
	status, _, out = call(t, srv, "POST", "/web/api/v2.1/threats/fetch-file", auth, `{"data":{"password":"Long-enough-123"},"filter":{"tenant":"true"}}`)
	if status != 400 {
		t.Errorf("bulk fetch: %d %v", status, out)
	}
	status, _, out = call(t, srv, "POST", "/web/api/v2.1/threats/fetch-file", auth, `{"data":{"password":"Long-enough-123"},"filter":{"ids":"`+a.ID+`"}}`)
	if status != 200 || out["data"].(map[string]any)["affected"].(float64) != 1 {
		t.Errorf("scalar ids: %d %v", status, out)
	}
}

func TestUploadZipIsZipCrypto(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	big := bytes.Repeat([]byte("0123456789abcdef"), 600_000) // over the deflate limit: stored
	srv.AddAgentFile(ag.ID, sentinelonetest.File{Path: `C:\big.bin`, Content: big})
	srv.AddAgentFile(ag.ID, sentinelonetest.File{Path: `/home/u/small.txt`, Content: []byte("small")})
	c := srv.Client()
	ctx := context.Background()
	req, err := c.Agents.RequestFiles(ctx, ag.ID, []string{`C:\big.bin`, "/home/u/small.txt", `D:\gone`}, "Zip-Pass-0001")
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Activities.WaitUpload(ctx, req, sentinelone.PollPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Data.DownloadURL != "/agents/"+ag.ID+"/uploads/"+a.ID || a.Data.CommandBatchUUID == "" || a.Data.SourceType != "API" {
		t.Errorf("activity data = %+v", a.Data)
	}
	resp, err := c.Agents.DownloadUpload(ctx, ag.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := zipx.Spool(ctx, resp.Body, zipx.WithPassword("Zip-Pass-0001"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]*zipx.File{}
	for _, f := range zr.Files() {
		names[f.Name] = f
		if f.Encryption != zipx.EncryptionZipCrypto {
			t.Errorf("%s encryption %v", f.Name, f.Encryption)
		}
	}
	if names["C/big.bin"] == nil || names["home/u/small.txt"] == nil || names["manifest.json"] == nil || len(names) != 3 {
		t.Fatalf("entries = %v", names)
	}
	if names["C/big.bin"].Method != zipx.MethodStore || names["home/u/small.txt"].Method != zipx.MethodDeflate {
		t.Errorf("methods %d %d", names["C/big.bin"].Method, names["home/u/small.txt"].Method)
	}
	rc, err := zr.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var manifest []sentinelone.ManifestEntry
	if err := json.NewDecoder(rc).Decode(&manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 3 || manifest[2].Reason == "" || manifest[0].SHA1 == "" || manifest[0].Reason != "" {
		t.Errorf("manifest = %+v", manifest)
	}
	rc, err = zr.Open("C/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big entry: %d bytes, %v", len(got), err)
	}
	// Another agent's id in the path does not reach the upload.
	other := srv.AddAgent(sentinelone.Agent{})
	if _, err := c.Agents.DownloadUpload(ctx, other.ID, a.ID); err == nil {
		t.Error("upload served under another agent")
	}
}

func TestRateLimitTable(t *testing.T) {
	clock := sentinelonetest.NewManualClock(time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC))
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithClock(clock), sentinelonetest.WithRateLimits())
	body := `{"query":"AgentName Is Not Empty","fromDate":"2024-05-01T00:00:00Z","toDate":"2024-05-02T00:00:00Z"}`
	if status, _, out := call(t, srv, "POST", "/web/api/v2.1/dv/init-query", auth, body); status != 200 {
		t.Fatalf("first query: %d %v", status, out)
	}
	status, hdr, _ := call(t, srv, "POST", "/web/api/v2.1/dv/init-query", auth, body)
	if status != 429 || hdr.Get("Retry-After") != "60" {
		t.Fatalf("second query: %d Retry-After %q", status, hdr.Get("Retry-After"))
	}
	c := srv.Client(sentinelone.WithRetry(sentinelone.RetryPolicy{Disabled: true}))
	from := sentinelone.NewTime(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	_, err := c.DeepVisibility.InitQuery(context.Background(), sentinelone.DVQuery{Query: "x", FromDate: from, ToDate: sentinelone.NewTime(from.AddDate(0, 0, 1))})
	if !errors.Is(err, sentinelone.ErrRateLimited) {
		t.Fatalf("client: %v", err)
	}
	clock.Advance(time.Minute)
	if status, _, _ := call(t, srv, "POST", "/web/api/v2.1/dv/init-query", auth, body); status != 200 {
		t.Fatalf("after a minute: %d", status)
	}
}

func TestNewWithoutTB(t *testing.T) {
	srv, err := sentinelonetest.New(sentinelonetest.WithToken("other-token"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.Client().System.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := srv.Client(sentinelone.WithProxy("::bad")); c != nil {
		t.Error("invalid option gave a client")
	}
}

func TestDeepVisibilityAndPowerQuery(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithQueryPolls(1), sentinelonetest.WithPowerQueryPings(2))
	c := srv.Client()
	ctx := context.Background()
	from := sentinelone.NewTime(time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC))
	to := sentinelone.NewTime(from.Add(24 * time.Hour))

	id, err := c.DeepVisibility.InitQuery(ctx, sentinelone.DVQuery{Query: `ObjectType = "Process"`, FromDate: from, ToDate: to})
	if err != nil || !strings.HasPrefix(id, "q") || len(id) != 33 {
		t.Fatalf("init: %q %v", id, err)
	}
	status, _, out := call(t, srv, "GET", "/web/api/v2.1/dv/events?queryId="+id, auth, "")
	if status != 400 {
		t.Errorf("events of a running query: %d %v", status, out)
	}
	st, err := c.DeepVisibility.QueryStatus(ctx, id)
	if err != nil || st.ResponseState != "RUNNING" || st.ProgressStatus == 100 {
		t.Fatalf("first status: %+v %v", st, err)
	}
	st, err = c.DeepVisibility.QueryStatus(ctx, id)
	if err != nil || st.ResponseState != "EMPTY_RESULTS" || st.QueryModeInfo.Mode != "scalyr" {
		t.Fatalf("second status: %+v %v", st, err)
	}
	if st, err := c.DeepVisibility.QueryStatus(ctx, "qmissing"); err != nil || st.ResponseState != "QUERY_NOT_FOUND" {
		t.Errorf("unknown query: %+v %v", st, err)
	}
	if err := c.DeepVisibility.CancelQuery(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeepVisibility.WaitQuery(ctx, id); !errors.Is(err, sentinelone.ErrQueryFailed) {
		t.Errorf("cancelled query: %v", err)
	}

	q := "event.time = * | columns eventTime = event.time, agentUuid = agent.uuid"
	if err := srv.SetPowerQueryResult(q, []sentinelone.PowerQueryColumn{{Name: "eventTime", Type: "INTEGER"}, {Name: "agentUuid", Type: "STRING"}},
		[][]any{{1724151854609, "ed8f14f1-f35b-0eca-1c1e-e31e97aefc71"}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.DeepVisibility.RunPowerQuery(ctx, sentinelone.PowerQuery{Query: q, FromDate: from, ToDate: to})
	if err != nil || res.Status != "FINISHED" || len(res.Data) != 1 || !strings.HasPrefix(res.QueryID, "pq") {
		t.Fatalf("pq: %+v %v", res, err)
	}
	if row := res.Rows()[0]; string(row["agentUuid"]) != `"ed8f14f1-f35b-0eca-1c1e-e31e97aefc71"` {
		t.Errorf("row = %v", row)
	}
	if n := srv.Requests(); len(n) == 0 {
		t.Error("no requests recorded")
	}
}

func TestScopeNotesTimelineAndBlocklistPaths(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithTLS())
	if len(srv.CACertPEM()) == 0 || !strings.HasPrefix(srv.URL(), "https://") || srv.Token() != sentinelonetest.DefaultToken {
		t.Fatal("TLS server without CA")
	}
	c := srv.Client()
	ctx := context.Background()
	srv.SetSystemInfo(sentinelone.SystemInfo{Version: "Z SP6"})
	if info, err := c.System.Info(ctx); err != nil || info.Version != "Z SP6" {
		t.Fatalf("info: %+v %v", info, err)
	}
	if a, err := c.Accounts.Get(ctx, sentinelonetest.DefaultAccountID); err != nil || a.Name != sentinelonetest.DefaultAccountName {
		t.Fatalf("account: %+v %v", a, err)
	}
	if _, err := c.Accounts.Get(ctx, "999999999999999999"); !errors.Is(err, sentinelone.ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	if s, err := c.Sites.Get(ctx, sentinelonetest.DefaultSiteID); err != nil || s.AccountID != sentinelonetest.DefaultAccountID {
		t.Fatalf("site: %+v %v", s, err)
	}
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true, OSType: sentinelone.OSMacOS})
	g, err := c.Groups.List(ctx, sentinelone.GroupListOptions{SiteIDs: []string{sentinelonetest.DefaultSiteID}})
	if err != nil || len(g.Items) != 1 || g.Items[0].TotalAgents != 1 {
		t.Fatalf("groups: %+v %v", g, err)
	}
	if types, err := c.Activities.Types(ctx); err != nil || len(types) < 2 {
		t.Fatalf("types: %v %v", types, err)
	}

	th := srv.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: "d8757a0396d05a1d532422827a70a7966c361366"},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID}})
	if _, err := c.Threats.AddNote(ctx, sentinelone.ThreatFilter{IDs: []string{th.ID}}, "first"); err != nil {
		t.Fatal(err)
	}
	notes, _ := c.Threats.ListNotes(ctx, th.ID, sentinelone.NoteListOptions{})
	if err := c.Threats.DeleteNote(ctx, th.ID, notes.Items[0].ID); err != nil || len(srv.Notes(th.ID)) != 0 {
		t.Fatalf("delete note: %v", err)
	}
	if err := c.Threats.DeleteNote(ctx, th.ID, notes.Items[0].ID); !errors.Is(err, sentinelone.ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}

	// Blocklisting through the threat at every target scope, then via DV.
	for _, scope := range []string{"group", "site", "account", "tenant"} {
		res, err := c.Threats.AddToBlacklist(ctx, sentinelone.ThreatFilter{IDs: []string{th.ID}}, sentinelone.BlacklistData{TargetScope: scope})
		if err != nil || res.Affected != 1 || res.Details[0].Result != "created" {
			t.Fatalf("%s: %+v %v", scope, res, err)
		}
	}
	if _, err := c.Threats.AddToBlacklist(ctx, sentinelone.ThreatFilter{IDs: []string{th.ID}}, sentinelone.BlacklistData{TargetScope: "planet"}); !errors.Is(err, sentinelone.ErrValidation) {
		t.Errorf("bad target scope: %v", err)
	}
	n, err := c.Threats.DVAddToBlacklist(ctx, "account", []sentinelone.AgentHash{{AgentID: ag.ID, Hash: "d8757a0396d05a1d532422827a70a7966c361366"}})
	if err != nil || n != 0 {
		t.Fatalf("dv blacklist of an existing entry: %d %v", n, err)
	}
	if n, err := c.Threats.DVAddToBlacklist(ctx, "global", []sentinelone.AgentHash{{AgentID: ag.ID, Hash: "3395856ce81f2b7382dee72602f798b642f14140"}}); err != nil || n != 1 {
		t.Fatalf("dv blacklist: %d %v", n, err)
	}
	rs := srv.Restrictions()
	if len(rs) != 5 || rs[0].OSType != sentinelone.OSMacOS || rs[0].Source != "action_from_threat" {
		t.Fatalf("restrictions = %+v", rs)
	}
	got, err := c.Blocklist.List(ctx, sentinelone.RestrictionListOptions{Scope: sentinelone.Scope{AccountIDs: []string{sentinelonetest.DefaultAccountID}}})
	if err != nil || len(got.Items) != 1 || got.Items[0].ScopePath != "Global / "+sentinelonetest.DefaultAccountName {
		t.Fatalf("account entries: %+v %v", got, err)
	}
	if _, err := c.Blocklist.List(ctx, sentinelone.RestrictionListOptions{Scope: sentinelone.Scope{SiteIDs: []string{"0"}}}); !errors.Is(err, sentinelone.ErrValidation) {
		t.Errorf("siteIds=0: %v", err)
	}
	if acts := srv.AgentActions(ag.ID); len(acts) != 2 || acts[0] != "dv-add-to-blacklist" {
		t.Errorf("agent actions = %v", acts)
	}

	// The timeline holds the threat's activities, newest first.
	if _, err := c.Threats.RequestFile(ctx, th.ID, "Timeline-Pass-1"); err != nil {
		t.Fatal(err)
	}
	tl, err := c.Threats.Timeline(ctx, th.ID, sentinelone.TimelineOptions{})
	if err != nil || len(tl.Items) != 1 || tl.Items[0].ActivityType != 86 || len(srv.Activities()) != 1 {
		t.Fatalf("timeline: %+v %v", tl, err)
	}
	if _, err := c.Threats.Timeline(ctx, "999999999999999999", sentinelone.TimelineOptions{}); !errors.Is(err, sentinelone.ErrNotFound) {
		t.Errorf("timeline of unknown threat: %v", err)
	}

	iocs, err := c.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{SiteIDs: []string{sentinelonetest.DefaultSiteID}},
		[]sentinelone.IOC{{Type: "DNS", Value: "evil.example", Source: "VMRay", Name: "VMRay: evil"}})
	if err != nil || iocs[0].Scope != "site" {
		t.Fatalf("ioc: %+v %v", iocs, err)
	}
	list, err := c.ThreatIntelligence.ListIOCs(ctx, sentinelone.IOCListOptions{Scope: sentinelone.Scope{SiteIDs: []string{sentinelonetest.DefaultSiteID}},
		Type: "DNS", NameContains: "vmray"})
	if err != nil || len(list.Items) != 1 || list.Items[0].UUID != iocs[0].UUID {
		t.Fatalf("ioc list: %+v %v", list, err)
	}
	if _, err := c.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{AccountIDs: []string{sentinelonetest.DefaultAccountID}},
		[]sentinelone.IOC{{Type: "DOMAIN", Value: "x", Source: "y"}}); !errors.Is(err, sentinelone.ErrValidation) {
		t.Errorf("bad IOC type: %v", err)
	}
}
