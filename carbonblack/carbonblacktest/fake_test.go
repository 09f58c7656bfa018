package carbonblacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// raw sends a request with the fake's credentials (unless noAuth) and returns
// the status and body.
func raw(t *testing.T, fake *carbonblacktest.Server, method, path, body string, noAuth bool) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !noAuth {
		req.Header.Set("X-Auth-Token", fake.APISecret()+"/"+fake.APIID())
	}
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestAuthOrgAndRetired(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	org := fake.OrgKey()
	if code, body, _ := raw(t, fake, "GET", "/policyservice/v1/orgs/"+org+"/policies/summary", "", true); code != 401 || !strings.Contains(body, "UNAUTHORIZED") {
		t.Fatalf("no token: %d %s", code, body)
	}
	if code, _, _ := raw(t, fake, "GET", "/policyservice/v1/orgs/WRONGORG/policies/summary", "", false); code != 404 {
		t.Fatalf("wrong org: %d", code)
	}
	for _, p := range []struct{ method, path string }{
		{"POST", "/appservices/v6/orgs/" + org + "/alerts/_search"},
		{"POST", "/appservices/v6/orgs/" + org + "/alerts/watchlist/_search"},
		{"POST", "/api/investigate/v2/orgs/" + org + "/enriched_events/search_jobs"},
		{"GET", "/api/investigate/v1/orgs/" + org + "/processes/search_validation?q=x"},
		{"GET", "/integrationServices/v3/policy"},
		{"GET", "/integrationServices/v3/device"},
	} {
		if code, _, _ := raw(t, fake, p.method, p.path, "{}", false); code != http.StatusGone {
			t.Errorf("%s %s: %d, want 410", p.method, p.path, code)
		}
	}
	fake.Deny("", "/ubs/")
	_, err := fake.Client().UBS.Metadata(context.Background(), strings.Repeat("a", 64))
	if !errors.Is(err, carbonblack.ErrForbidden) {
		t.Fatalf("denied: %v", err)
	}
	_, err = fake.Client().Alerts.Search(context.Background(), carbonblack.AlertSearch{Query: "process_name:(x"})
	if !errors.Is(err, carbonblack.ErrQuerySyntax) {
		t.Fatalf("bad query: %v", err)
	}
}

func TestWireDetails(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	org := fake.OrgKey()
	c := fake.Client()
	ctx := context.Background()
	wl, _ := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "w", ReportIDs: []string{}})
	_, body, _ := raw(t, fake, "GET", "/threathunter/watchlistmgr/v3/orgs/"+org+"/watchlists/"+wl.ID, "", false)
	if !strings.Contains(body, `"classifier":null`) || !strings.Contains(body, `"report_ids":[]`) || len(wl.ID) != 20 {
		t.Fatalf("report watchlist wire: %s", body)
	}
	if code, _, _ := raw(t, fake, "PUT", "/threathunter/watchlistmgr/v3/orgs/"+org+"/watchlists/"+wl.ID, `{"report_ids":[]}`, false); code != 400 {
		t.Fatalf("empty report_ids accepted: %d", code)
	}
	if code, _, _ := raw(t, fake, "POST", "/threathunter/watchlistmgr/v3/orgs/"+org+"/watchlists", `{"name":"x","report_ids":[],"classifier":{"key":"feed_id","value":"f"}}`, false); code != 400 {
		t.Fatalf("report_ids and classifier accepted: %d", code)
	}
	rep, _ := c.Reports.Create(ctx, carbonblack.Report{Title: "t", Description: "d", Severity: 2, IOCsV2: []carbonblack.IOC{carbonblack.QueryIOC("process_name:a.exe")}})
	_, body, _ = raw(t, fake, "GET", "/threathunter/watchlistmgr/v3/orgs/"+org+"/reports/"+rep.ID, "", false)
	if !strings.Contains(body, `"link":null`) || !strings.Contains(body, `"tags":null`) || !strings.Contains(body, `"visibility":null`) {
		t.Fatalf("report wire: %s", body)
	}
	code, _, _ := raw(t, fake, "POST", "/threathunter/watchlistmgr/v3/orgs/"+org+"/reports", `{"title":"t","description":"d","severity":0,"timestamp":1,"iocs_v2":[{"id":"a","match_type":"equality","field":"process_name","values":["x"]}]}`, false)
	if code != 400 {
		t.Fatalf("severity 0 accepted: %d", code)
	}
	dev := fake.AddDevice(carbonblack.Device{Name: "d"})
	code, body, _ = raw(t, fake, "POST", "/appservices/v6/orgs/"+org+"/device_actions", `{"action_type":"QUARANTINE","device_id":["`+itoa(dev.ID)+`"],"options":{"toggle":"ON"}}`, false)
	if code != 204 || body != "" {
		t.Fatalf("device action: %d %q", code, body)
	}
	code, body, _ = raw(t, fake, "POST", "/appservices/v6/orgs/"+org+"/liveresponse/sessions", `{"device_id":`+itoa(dev.ID)+`}`, false)
	var sess map[string]any
	_ = json.Unmarshal([]byte(body), &sess)
	if code != 201 || sess["status"] != "PENDING" || !strings.HasSuffix(sess["create_time"].(string), "Z") {
		t.Fatalf("session create: %d %s", code, body)
	}
	raw(t, fake, "GET", "/appservices/v6/orgs/"+org+"/liveresponse/sessions/"+sess["id"].(string), "", false)
	_, body, _ = raw(t, fake, "GET", "/appservices/v6/orgs/"+org+"/liveresponse/sessions/"+sess["id"].(string), "", false)
	_ = json.Unmarshal([]byte(body), &sess)
	if sess["status"] != "ACTIVE" || sess["create_time"] == nil || sess["supported_commands"] == nil {
		t.Fatalf("active session: %s", body)
	}
	if _, isNum := sess["create_time"].(float64); !isNum {
		t.Fatalf("active session create_time should be epoch ms: %s", body)
	}
	code, body, _ = raw(t, fake, "POST", "/ubs/v1/orgs/"+org+"/file/_download", `{"sha256":[`+strings.Repeat(`"x",`, 100)+`"x"],"expiration_seconds":60}`, false)
	if code != 400 {
		t.Fatalf("101 hashes: %d %s", code, body)
	}
	o, _ := c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: "BLACK_LIST", OverrideType: "SHA256", SHA256Hash: strings.Repeat("1", 64)})
	if _, err := c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: "BLACK_LIST", OverrideType: "SHA256", SHA256Hash: strings.Repeat("1", 64)}); !errors.Is(err, carbonblack.ErrConflict) {
		t.Fatalf("duplicate override: %v", err)
	}
	if o.ID == "" || o.CreatedBy != fake.APIID() {
		t.Fatalf("override = %+v", o)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestJobDefaultsAndExpiry(t *testing.T) {
	clock := carbonblacktest.NewManualClock(time.Now())
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithClock(clock), carbonblacktest.WithJobPolls(0))
	for i := range 15 {
		fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(i + 1), ProcessName: "x.exe"})
	}
	c := fake.Client()
	ctx := context.Background()
	id, err := c.Processes.Start(ctx, carbonblack.JobRequest{Query: "process_name:x.exe"})
	if err != nil {
		t.Fatal(err)
	}
	org := fake.OrgKey()
	_, body, _ := raw(t, fake, "GET", "/api/investigate/v2/orgs/"+org+"/processes/search_jobs/"+id+"/results", "", false)
	var res struct {
		Results      []any
		NumAvailable int `json:"num_available"`
	}
	_ = json.Unmarshal([]byte(body), &res)
	if len(res.Results) != 10 || res.NumAvailable != 15 {
		t.Fatalf("default rows: %d results of %d", len(res.Results), res.NumAvailable)
	}
	clock.Advance(2 * time.Hour)
	if _, err := c.Processes.Results(ctx, id, 0, 10); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("expired job: %v", err)
	}
}

func TestFaults(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	fake.AddPolicy(carbonblack.Policy{Name: "p"})
	c := fake.Client()
	ctx := context.Background()
	fake.InjectFault(carbonblacktest.Fault{Path: "/policyservice/", Times: 1, Status: 429, RetryAfter: "0"})
	fake.InjectFault(carbonblacktest.Fault{Path: "/policyservice/", Times: 1, Status: 503})
	fake.InjectFault(carbonblacktest.Fault{Path: "/policyservice/", Times: 1, Drop: true})
	if ps, err := c.Policies.List(ctx); err != nil || len(ps) != 1 {
		t.Fatalf("after 429, 503 and a dropped connection: %v, %v", ps, err)
	}
	if n := fake.CountRequests("GET", "/policyservice/"); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/policyservice/", Times: 1, Malformed: true})
	if _, err := c.Policies.List(ctx); !errors.Is(err, carbonblack.ErrMalformedResponse) {
		t.Fatalf("malformed: %v", err)
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/policyservice/", Latency: time.Second})
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Policies.List(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency: %v", err)
	}
	fake.ClearFaults()
	fake.ResetRequests()
	if _, err := c.Policies.List(ctx); err != nil || len(fake.Requests()) != 1 {
		t.Fatalf("after ClearFaults: %v, %d requests", err, len(fake.Requests()))
	}
}

func TestSessionOfDeviceWithoutLiveResponseExpires(t *testing.T) {
	clock := carbonblacktest.NewManualClock(time.Now())
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithClock(clock))
	dev := fake.AddDevice(carbonblack.Device{Name: "d", SensorStates: []string{"ACTIVE"}})
	c := fake.Client()
	ctx := context.Background()
	sess, err := c.LiveResponse.StartSession(ctx, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if s, err := c.LiveResponse.Session(ctx, sess.ID); err != nil || s.Active() {
			t.Fatalf("session = %+v, %v", s, err)
		}
	}
	clock.Advance(16 * time.Minute)
	if _, err := c.LiveResponse.Session(ctx, sess.ID); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("after the check-in timeout: %v", err)
	}
}

func TestStorageListenerIsSeparate(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	sha, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("content")})
	if fake.StorageURL() == fake.URL() {
		t.Fatal("object store shares the API listener")
	}
	links, err := fake.Client().UBS.DownloadLinks(context.Background(), time.Minute, sha)
	if err != nil || !strings.HasPrefix(links.Found[0].URL, fake.StorageURL()+"/cdc-file-storage/"+sha+".zip?") {
		t.Fatalf("links = %+v, %v", links, err)
	}
}

// TestLiveResponseStatusesUpperCase checks the wire form the service uses and
// the original connectors wait for: session and command statuses in upper
// case, from PENDING to COMPLETE or ERROR.
func TestLiveResponseStatusesUpperCase(t *testing.T) {
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithSessionPolls(1), carbonblacktest.WithCommandPolls(1))
	dev := fake.AddDevice(carbonblack.Device{Name: "d"})
	_ = fake.AddDeviceProcess(dev.ID, carbonblack.LRProcess{ProcessPID: 601, ProcessPath: `C:\x.exe`})
	base := "/appservices/v6/orgs/" + fake.OrgKey() + "/liveresponse/sessions"
	status := func(body string) string {
		t.Helper()
		var v struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return v.Status
	}
	code, body, _ := raw(t, fake, "POST", base, `{"device_id":`+jsonNum(dev.ID)+`}`, false)
	if code != 201 || status(body) != "PENDING" {
		t.Fatalf("create session: %d %s", code, body)
	}
	var sess struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(body), &sess)
	if _, body, _ = raw(t, fake, "GET", base+"/"+sess.ID, "", false); status(body) != "PENDING" {
		t.Fatalf("first poll: %s", body)
	}
	if _, body, _ = raw(t, fake, "GET", base+"/"+sess.ID, "", false); status(body) != "ACTIVE" {
		t.Fatalf("second poll: %s", body)
	}
	for _, c := range []struct{ body, final string }{
		{`{"name":"kill","pid":601}`, "COMPLETE"},
		{`{"name":"delete file","path":"C:\\missing.exe"}`, "ERROR"},
	} {
		code, body, _ := raw(t, fake, "POST", base+"/"+sess.ID+"/commands", c.body, false)
		if code != 201 || status(body) != "PENDING" {
			t.Fatalf("%s: %d %s", c.body, code, body)
		}
		if c.final == "COMPLETE" && len(fake.DeviceProcesses(dev.ID)) != 0 {
			// The device runs a command when it gets it, polled or not.
			t.Fatalf("%s: not run before the first poll: %+v", c.body, fake.DeviceProcesses(dev.ID))
		}
		var cmd struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal([]byte(body), &cmd)
		path := base + "/" + sess.ID + "/commands/" + jsonNum(cmd.ID)
		if _, body, _ = raw(t, fake, "GET", path, "", false); status(body) != "PENDING" {
			t.Fatalf("%s first poll: %s", c.body, body)
		}
		if _, body, _ = raw(t, fake, "GET", path, "", false); status(body) != c.final {
			t.Fatalf("%s second poll: %s, want %s", c.body, body, c.final)
		}
	}
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
