package carbonblack_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/carbonblack"
)

var ctx = context.Background()

func TestAlertsSearch(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/alerts/v7/orgs/"+testOrg+"/alerts/_search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testAuth(t, r)
		testHeader(t, r, "Content-Type", "application/json")
		testJSONBody(t, r, `{"criteria":{"device_policy_id":["1234"],"process_reputation":["NOT_LISTED"]},"rows":3,
			"time_range":{"range":"-1d"},"sort":[{"field":"backend_timestamp","order":"ASC"}],"start":1}`)
		serveJSON(200, fixture(t, "alerts_v7_search.json"))(w, r)
	})
	page, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{
		Criteria: carbonblack.Criteria{"device_policy_id": []string{"1234"}, "process_reputation": []string{"NOT_LISTED"}},
		Rows:     3, Start: 1, TimeRange: &carbonblack.TimeRange{Range: "-1d"},
		Sort: []carbonblack.SortField{{Field: "backend_timestamp", Order: "ASC"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.NumFound != 1 || page.NumAvailable != 1 || len(page.Results) != 1 {
		t.Fatalf("page = %+v", page)
	}
	a := page.Results[0]
	want := carbonblack.Alert{ID: "a", Type: "WATCHLIST", Severity: 7, DeviceID: 7, ProcessSHA256: "c", ThreatID: "A",
		BackendTimestamp: carbonblack.Timestamp{Time: time.Date(2023, 12, 17, 15, 25, 41, 416e6, time.UTC)},
		Watchlists:       []carbonblack.WatchlistRef{{ID: "a", Name: "Carbon Black Advanced Threats"}},
		ProcessIssuer:    carbonblack.StringList{"PCA 2011"}, Workflow: &carbonblack.Workflow{Status: "OPEN", ClosureReason: "NO_REASON"}}
	got := carbonblack.Alert{ID: a.ID, Type: a.Type, Severity: a.Severity, DeviceID: a.DeviceID, ProcessSHA256: a.ProcessSHA256, ThreatID: a.ThreatID,
		BackendTimestamp: a.BackendTimestamp, Watchlists: a.Watchlists, ProcessIssuer: a.ProcessIssuer,
		Workflow: &carbonblack.Workflow{Status: a.Workflow.Status, ClosureReason: a.Workflow.ClosureReason}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("alert mismatch (-want +got):\n%s", d)
	}
	if !a.UserUpdateTimestamp.IsZero() || a.Tags != nil || a.ReportTags[0] != "powershell" || a.DevicePolicyID != 6 {
		t.Fatalf("alert details: %+v", a)
	}
	if a.SHA256s() != nil {
		t.Fatalf("SHA256s kept non-hash values: %v", a.SHA256s())
	}
}

func TestAlertsGet(t *testing.T) {
	c, mux := setup(t)
	var alert json.RawMessage
	var env struct{ Results []json.RawMessage }
	_ = json.Unmarshal(fixture(t, "alerts_v7_search.json"), &env)
	alert = env.Results[0]
	mux.HandleFunc("/api/alerts/v7/orgs/"+testOrg+"/alerts/a", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		serveJSON(200, alert)(w, r)
	})
	a, err := c.Alerts.Get(ctx, "a")
	if err != nil || a.ID != "a" || a.ParentSHA256 != "b" || a.IOCHit != "hit" {
		t.Fatalf("Get = %+v, %v", a, err)
	}
}

func TestAlertsAllStopsAtTotal(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/alerts/v7/orgs/"+testOrg+"/alerts/_search", func(w http.ResponseWriter, r *http.Request) {
		calls++
		var body carbonblack.AlertSearch
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Sort[0].Field != "backend_timestamp" || body.Sort[0].Order != "ASC" || body.Rows != 2 {
			t.Errorf("body = %+v", body)
		}
		var res []map[string]any
		for i := body.Start; i < body.Start+body.Rows && i <= 3; i++ {
			res = append(res, map[string]any{"id": string(rune('a' + i)), "backend_timestamp": "2024-05-01T00:00:0" + string(rune('0'+i)) + ".000Z"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": res, "num_found": 3, "num_available": 3})
	})
	var ids []string
	for a, err := range c.Alerts.All(ctx, carbonblack.AlertSearch{Rows: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, "") != "bcd" || calls != 2 {
		t.Fatalf("ids %v after %d calls", ids, calls)
	}
}

func TestProcessesJobSteps(t *testing.T) {
	c, mux := setup(t)
	const job = "2c292717-80ed-4f0d-845f-779e09470920"
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/processes/search_validation", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"query":"process_hash:63d4"}`)
		serveJSON(200, []byte(`{"valid":true,"value_search_query":false}`))(w, r)
	})
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/processes/search_jobs", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		// The fixture's body (processes_search_job_request.json) with the
		// millisecond timestamps Carbon Black documents and no start:0.
		testJSONBody(t, r, `{"criteria":{"process_hash":["63d423ea882264dbb157a965c200306212fc5e1c6ddb8cbbb0f1d3b51ecd82e6"],
			"process_name":["svchost.exe","vmtoolsd.exe"]},"rows":20,"time_range":{"end":"2020-11-04T13:34:14.758Z","start":"2020-11-03T13:34:14.758Z"}}`)
		serveJSON(200, fixture(t, "processes_search_job_create.json"))(w, r)
	})
	polls := 0
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/processes/search_jobs/"+job+"/results", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		if r.URL.Query().Get("rows") == "0" {
			polls++
			if polls < 3 {
				serveJSON(200, []byte(`{"results":[],"num_found":0,"num_available":0,"contacted":46,"completed":20}`))(w, r)
				return
			}
		}
		testQuery(t, r, map[string]string{"start": r.URL.Query().Get("start"), "rows": r.URL.Query().Get("rows")})
		serveJSON(200, fixture(t, "processes_search_job_results.json"))(w, r)
	})
	v, err := c.Processes.Validate(ctx, "process_hash:63d4")
	if err != nil || !v.Valid {
		t.Fatalf("Validate = %+v, %v", v, err)
	}
	id, err := c.Processes.Start(ctx, carbonblack.JobRequest{
		Criteria:  carbonblack.Criteria{"process_hash": []string{"63d423ea882264dbb157a965c200306212fc5e1c6ddb8cbbb0f1d3b51ecd82e6"}, "process_name": []string{"svchost.exe", "vmtoolsd.exe"}},
		Rows:      20,
		TimeRange: &carbonblack.TimeRange{Start: time.Date(2020, 11, 3, 13, 34, 14, 758295000, time.UTC), End: time.Date(2020, 11, 4, 13, 34, 14, 758295000, time.UTC)},
	})
	if err != nil || id != job {
		t.Fatalf("Start = %q, %v", id, err)
	}
	st, err := c.Processes.Wait(ctx, job)
	if err != nil || !st.Done() || polls != 3 {
		t.Fatalf("Wait = %+v, %v after %d polls", st, err, polls)
	}
	page, err := c.Processes.ListResults(ctx, job, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	p := page.Results[0]
	if p.SHA256() != "63d423ea882264dbb157a965c200306212fc5e1c6ddb8cbbb0f1d3b51ecd82e6" || p.PID() != 2976 || p.DeviceID != 3462642 ||
		p.ProcessUsername.First() != `NT AUTHORITY\SYSTEM` || p.EventType.First() != "crossproc" || len(p.Raw) == 0 {
		t.Fatalf("process = %+v", p)
	}
	if page.NumFound != 110992 || page.NumAvailable != 4 {
		t.Fatalf("counters = %d/%d", page.NumFound, page.NumAvailable)
	}
}

func TestObservationsValidateByGET(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/observations/search_validation", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, map[string]string{"q": "alert_category:THREAT AND"})
		serveJSON(200, []byte(`{"valid":false,"invalid_message":"Invalid Query Parameter","invalid_trigger_offset":24}`))(w, r)
	})
	mux.HandleFunc("/api/investigate/v2/orgs/"+testOrg+"/observations/search_jobs", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, string(fixture(t, "observations_search_job_request.json")))
		serveJSON(200, fixture(t, "observations_search_job_create.json"))(w, r)
	})
	v, err := c.Observations.Validate(ctx, "alert_category:THREAT AND")
	if err == nil || v.Valid || v.InvalidTriggerOffset != 24 {
		t.Fatalf("Validate = %+v, %v", v, err)
	}
	id, err := c.Observations.Start(ctx, carbonblack.JobRequest{Rows: 6, Criteria: carbonblack.Criteria{
		"alert_category": []string{"THREAT"}, "device_name": []string{"Win7x64"}, "backend_timestamp": []string{"1970-01-01T00:00:00.000Z"}}})
	if err != nil || id != "08ffa932-b633-4107-ba56-8741e929e48b" {
		t.Fatalf("Start = %q, %v", id, err)
	}
}

func TestObservationDecoding(t *testing.T) {
	var o carbonblack.Observation
	raw := `{"observation_id":"8fbc:be6f","alert_id":null,"alert_category":["THREAT"],"netconn_ipv4":388818410,"netconn_domain":"a1887.dscq.akamai.net",
		"process_pid":[4212],"event_type":["netconn"],"filemod_sha256":"` + strings.Repeat("F", 64) + `","process_hash":["abc"]}`
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	if o.NetconnIPv4.String() != "23.44.229.234" || o.ProcessPID.First() != 4212 || o.AlertID != nil {
		t.Fatalf("observation = %+v", o)
	}
	if got := o.SHA256s(); len(got) != 1 || got[0] != strings.Repeat("f", 64) {
		t.Fatalf("SHA256s = %v", got)
	}
}

func TestUBSMetadataAndLinks(t *testing.T) {
	c, mux := setup(t)
	const sha = "00a16c806ff694b64e566886bba5122655eff89b45226cddc8651df7860e4524"
	mux.HandleFunc("/ubs/v1/orgs/"+testOrg+"/sha256/"+sha+"/metadata", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		serveJSON(200, fixture(t, "ubs_sha256_metadata.json"))(w, r)
	})
	var batches [][]string
	mux.HandleFunc("/ubs/v1/orgs/"+testOrg+"/file/_download", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		var body struct {
			SHA256     []string `json:"sha256"`
			Expiration int      `json:"expiration_seconds"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Expiration != 300 {
			t.Errorf("expiration_seconds = %d", body.Expiration)
		}
		batches = append(batches, body.SHA256)
		if len(batches) == 1 {
			serveJSON(200, fixture(t, "ubs_file_download.json"))(w, r)
			return
		}
		serveJSON(200, []byte(`{"found":[],"not_found":["`+body.SHA256[0]+`"],"error":[]}`))(w, r)
	})
	m, err := c.UBS.Metadata(ctx, strings.ToUpper(sha))
	if err != nil {
		t.Fatal(err)
	}
	if m.FileSize != 918656 || m.Truncated() || *m.LangID != 1033 || m.Comments != nil || *m.OriginalFilename != "CALC.EXE" || m.Architecture[0] != "amd64" {
		t.Fatalf("metadata = %+v", m)
	}
	hashes := []string{sha}
	for i := range 120 {
		hashes = append(hashes, strings.Repeat("0", 61)+strings.Repeat(string(rune('a'+i%6)), 1)+string(rune('a'+i/6%6))+string(rune('a'+i/36)))
	}
	links, err := c.UBS.DownloadLinks(ctx, 5*time.Minute, hashes...)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 || len(batches[0]) != 100 || len(batches[1]) != 21 {
		t.Fatalf("batches of %d and %d", len(batches[0]), len(batches[1]))
	}
	if len(links.Found) != 1 || !strings.Contains(links.Found[0].URL, "X-Amz-Expires=3600") {
		t.Fatalf("found = %+v", links.Found)
	}
	// Hashes the service left out are reported as errors, not dropped.
	if len(links.NotFound)+len(links.Error)+len(links.Found) != 121 {
		t.Fatalf("accounted for %d of 121 hashes", len(links.NotFound)+len(links.Error)+len(links.Found))
	}
}

func TestWatchlistsCRUD(t *testing.T) {
	c, mux := setup(t)
	const base = "/threathunter/watchlistmgr/v3/orgs/" + testOrg
	mux.HandleFunc(base+"/watchlists", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			serveJSON(200, []byte(`{"results":[`+string(fixture(t, "watchlist_get.json"))+`]}`))(w, r)
		case http.MethodPost:
			testJSONBody(t, r, `{"name":"VMRay Connector","description":"d","tags_enabled":true,"alerts_enabled":false,"report_ids":[]}`)
			serveJSON(200, fixture(t, "watchlist_get.json"))(w, r)
		}
	})
	mux.HandleFunc(base+"/watchlists/watchlistId", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			serveJSON(200, fixture(t, "watchlist_get.json"))(w, r)
		case http.MethodPut:
			testJSONBody(t, r, `{"id":"watchlistId","name":"n","description":"","tags_enabled":false,"alerts_enabled":true,"classifier":{"key":"feed_id","value":"f"}}`)
			serveJSON(200, fixture(t, "watchlist_get.json"))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc(base+"/watchlists/watchlistId/alert", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPut)
		serveJSON(200, []byte(`{"alert":true}`))(w, r)
	})
	all, err := c.Watchlists.List(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %+v, %v", all, err)
	}
	want := carbonblack.Watchlist{Name: "ATT&CK Framework", Description: "Existing description for the watchlist.", ID: "watchlistId", TagsEnabled: true,
		CreateTimestamp: 1597173159, LastUpdateTimestamp: 1597173159, ReportIDs: []string{"reportId0", "reportId1", "reportId2"},
		Classifier: &carbonblack.Classifier{Key: "feed_id", Value: "feed_id_associated"}}
	if d := cmp.Diff(want, all[0]); d != "" {
		t.Fatalf("watchlist mismatch (-want +got):\n%s", d)
	}
	if _, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "VMRay Connector", Description: "d", TagsEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watchlists.Update(ctx, carbonblack.Watchlist{ID: "watchlistId", Name: "n", AlertsEnabled: true, ReportIDs: []string{"x"}, Classifier: &carbonblack.Classifier{Key: "feed_id", Value: "f"}}); err != nil {
		t.Fatal(err)
	}
	if w, err := c.Watchlists.FindByName(ctx, "ATT&CK Framework"); err != nil || w.ID != "watchlistId" {
		t.Fatalf("FindByName = %+v, %v", w, err)
	}
	if err := c.Watchlists.SetAlerts(ctx, "watchlistId", true); err != nil {
		t.Fatal(err)
	}
	if err := c.Watchlists.Delete(ctx, "watchlistId"); err != nil {
		t.Fatal(err)
	}
}

func TestReportsCRUD(t *testing.T) {
	c, mux := setup(t)
	const base = "/threathunter/watchlistmgr/v3/orgs/" + testOrg
	mux.HandleFunc(base+"/reports", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"timestamp":1234567890,"title":"ReportTitle","description":"The report description","severity":5,"link":"https://example.com",
			"tags":["Alpha","Bravo"],"iocs_v2":[{"id":"foo","match_type":"equality","field":"process_name","values":["evil.exe"]},
			{"id":"bar","match_type":"equality","field":"netconn_ipv4","values":["10.29.99.1"]}],"visibility":"visible"}`)
		serveJSON(200, fixture(t, "report_get.json"))(w, r)
	})
	mux.HandleFunc(base+"/reports/69e2a8d0-bc36-4970-9834-8687efe1aff7", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			serveJSON(200, fixture(t, "report_get.json"))(w, r)
		case http.MethodPut:
			var rep carbonblack.Report
			_ = json.NewDecoder(r.Body).Decode(&rep)
			if rep.Timestamp <= 1234567890 {
				t.Errorf("update kept the old timestamp %d", rep.Timestamp)
			}
			serveJSON(200, fixture(t, "report_get.json"))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc(base+"/reports/69e2a8d0-bc36-4970-9834-8687efe1aff7/ignore", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodPut:
			serveJSON(200, []byte(`{"ignored":true}`))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	var want carbonblack.Report
	_ = json.Unmarshal(fixture(t, "report_get.json"), &want)
	in := want
	in.ID = ""
	got, err := c.Reports.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, *got); d != "" {
		t.Fatalf("report mismatch (-want +got):\n%s", d)
	}
	if _, err := c.Reports.Get(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reports.Update(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := c.Reports.Ignore(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if ig, err := c.Reports.Ignored(ctx, want.ID); err != nil || !ig {
		t.Fatalf("Ignored = %v, %v", ig, err)
	}
	if err := c.Reports.Unignore(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Reports.Delete(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
}

func TestFeeds(t *testing.T) {
	c, mux := setup(t)
	const base = "/threathunter/feedmgr/v2/orgs/" + testOrg + "/feeds"
	var feed carbonblack.Feed
	_ = json.Unmarshal(fixture(t, "feed_get.json"), &feed)
	mux.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			testQuery(t, r, map[string]string{"include_public": "true"})
			serveJSON(200, []byte(`{"results":[{"name":"EA16489_test_5","id":"pv65TYVQy8YWMX9KsQUg","access":"private"}]}`))(w, r)
		case http.MethodPost:
			var body carbonblack.Feed
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body.FeedInfo.Access != "private" || body.FeedInfo.Owner != testOrg || len(body.Reports) != 0 {
				t.Errorf("create body = %+v", body)
			}
			serveJSON(200, []byte(`{"name":"n","owner":"`+testOrg+`","provider_url":"https://x","summary":"s","category":"c","source_label":null,"access":"private","id":"NEWID"}`))(w, r)
		}
	})
	mux.HandleFunc(base+"/pv65TYVQy8YWMX9KsQUg", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			serveJSON(200, fixture(t, "feed_get.json"))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	var replaced []carbonblack.Report
	mux.HandleFunc(base+"/pv65TYVQy8YWMX9KsQUg/reports", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			b, _ := json.Marshal(map[string]any{"results": feed.Reports})
			serveJSON(200, b)(w, r)
		case http.MethodPost:
			var body struct{ Reports []carbonblack.Report }
			_ = json.NewDecoder(r.Body).Decode(&body)
			replaced = body.Reports
			serveJSON(200, []byte(`{"success":true}`))(w, r)
		}
	})
	mux.HandleFunc(base+"/pv65TYVQy8YWMX9KsQUg/reports/r2", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			serveJSON(200, b)(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	list, err := c.Feeds.List(ctx, true)
	if err != nil || list[0].ID != "pv65TYVQy8YWMX9KsQUg" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	got, err := c.Feeds.Get(ctx, "pv65TYVQy8YWMX9KsQUg")
	if err != nil || got.FeedInfo.Owner != "WNEXFKQ7" || got.FeedInfo.SourceLabel != nil || got.Reports[0].IOCsV2[0].Link != "www.yahoo.com" || got.Reports[0].Link != "" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	info, err := c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: "n", ProviderURL: "https://x", Summary: "s", Category: "c"})
	if err != nil || info.ID != "NEWID" {
		t.Fatalf("Create = %+v, %v", info, err)
	}
	newRep := carbonblack.Report{ID: "r2", Title: "t", Description: "d", Severity: 3, IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC(carbonblack.FieldProcessHash, "h")}}
	if err := c.Feeds.AddReports(ctx, "pv65TYVQy8YWMX9KsQUg", newRep); err != nil {
		t.Fatal(err)
	}
	if len(replaced) != 2 || replaced[0].ID != feed.Reports[0].ID || replaced[1].ID != "r2" || replaced[1].Timestamp == 0 {
		t.Fatalf("replaced with %+v", replaced)
	}
	if r, err := c.Feeds.UpdateReport(ctx, "pv65TYVQy8YWMX9KsQUg", newRep); err != nil || r.ID != "r2" {
		t.Fatalf("UpdateReport = %+v, %v", r, err)
	}
	if err := c.Feeds.DeleteReport(ctx, "pv65TYVQy8YWMX9KsQUg", "r2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Feeds.Delete(ctx, "pv65TYVQy8YWMX9KsQUg"); err != nil {
		t.Fatal(err)
	}
	bad := newRep
	bad.Severity = 0
	if err := c.Feeds.ReplaceReports(ctx, "pv65TYVQy8YWMX9KsQUg", []carbonblack.Report{newRep, bad}); err == nil {
		t.Fatal("a report with severity 0 was sent")
	}
}

func TestReputations(t *testing.T) {
	c, mux := setup(t)
	const base = "/appservices/v6/orgs/" + testOrg + "/reputations/overrides"
	mux.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, string(fixture(t, "reputation_override_create_request.json")))
		serveJSON(200, fixture(t, "reputation_override_create.json"))(w, r)
	})
	mux.HandleFunc(base+"/_search", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"criteria":{"override_list":"BLACK_LIST","override_type":"SHA256"},"query":"af62e6b3d475879c4234fe7bd8ba67ff6544ce6510131a069aaac75aa92aee7a",
			"sort_field":"create_time","sort_order":"asc","start":0,"rows":100}`)
		serveJSON(200, []byte(`{"num_found":0,"results":[]}`))(w, r)
	})
	mux.HandleFunc(base+"/e9410b754ea011ebbfd0db2585a41b07", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			serveJSON(200, fixture(t, "reputation_override_create.json"))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	o, err := c.Reputations.Ban(ctx, "AF62E6B3D475879C4234FE7BD8BA67FF6544CE6510131A069AAAC75AA92AEE7A", "foo.exe", "An override for a sha256 hash")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "e9410b754ea011ebbfd0db2585a41b07" || o.CreatedBy != "example@example.com" || o.CreateTime.Year() != 2021 {
		t.Fatalf("override = %+v", o)
	}
	if _, err := c.Reputations.Get(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Reputations.Delete(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
}

func TestDevices(t *testing.T) {
	c, mux := setup(t)
	const base = "/appservices/v6/orgs/" + testOrg
	mux.HandleFunc(base+"/devices/_search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"criteria":{"id":["1234"],"status":["REGISTERED"],"os":["LINUX"],"last_contact_time":{"start":"2021-01-27T12:43:26.243Z","end":"2021-02-27T12:43:26.243Z"},"target_priority":["LOW"]},"rows":5}`)
		serveJSON(200, fixture(t, "devices_search.json"))(w, r)
	})
	mux.HandleFunc(base+"/devices/98765", func(w http.ResponseWriter, r *http.Request) {
		var env struct{ Results []json.RawMessage }
		_ = json.Unmarshal(fixture(t, "devices_search.json"), &env)
		serveJSON(200, env.Results[0])(w, r)
	})
	var actions []string
	mux.HandleFunc(base+"/device_actions", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		b, _ := io.ReadAll(r.Body)
		actions = append(actions, string(b))
		w.WriteHeader(http.StatusNoContent)
	})
	page, err := c.Devices.Search(ctx, carbonblack.DeviceSearch{Rows: 5, Criteria: carbonblack.Criteria{
		"id": []string{"1234"}, "status": []string{"REGISTERED"}, "os": []string{"LINUX"}, "target_priority": []string{"LOW"},
		"last_contact_time": carbonblack.TimeRange{Start: time.Date(2021, 1, 27, 12, 43, 26, 243e6, time.UTC), End: time.Date(2021, 2, 27, 12, 43, 26, 243e6, time.UTC)}}})
	if err != nil {
		t.Fatal(err)
	}
	d := page.Results[0]
	if d.ID != 98765 || d.PolicyID != 11200 || !d.LiveResponseEnabled() || d.Quarantined || d.AssetGroup[1].MembershipType != "DYNAMIC" {
		t.Fatalf("device = %+v", d)
	}
	if g, err := c.Devices.Get(ctx, 98765); err != nil || g.Name != "Win7x64" {
		t.Fatalf("Get = %+v, %v", g, err)
	}
	for _, call := range []func() error{
		func() error { return c.Devices.Quarantine(ctx, true, 1234) },
		func() error { return c.Devices.UpdatePolicy(ctx, 9876, 1234) },
		func() error { return c.Devices.BackgroundScan(ctx, false, 1234) },
		func() error { return c.Devices.Bypass(ctx, true, 1234) },
		func() error { return c.Devices.UpdateSensorVersion(ctx, map[string]string{"RHEL": "2.3.4.5"}, 1234) },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"action_type":"QUARANTINE","device_id":[1234],"options":{"toggle":"ON"}}`,
		`{"action_type":"UPDATE_POLICY","device_id":[1234],"options":{"policy_id":9876}}`,
		`{"action_type":"BACKGROUND_SCAN","device_id":[1234],"options":{"toggle":"OFF"}}`,
		`{"action_type":"BYPASS","device_id":[1234],"options":{"toggle":"ON"}}`,
		`{"action_type":"UPDATE_SENSOR_VERSION","device_id":[1234],"options":{"sensor_version":{"RHEL":"2.3.4.5"}}}`,
	}
	if d := cmp.Diff(want, actions); d != "" {
		t.Fatalf("actions (-want +got):\n%s", d)
	}
	if err := c.Devices.Quarantine(ctx, true); !errorsIs(err, carbonblack.ErrInvalidRequest) {
		t.Fatalf("no device: %v", err)
	}
}

// A device action whose answer is a 5xx may have been applied: it is not sent again.
func TestDeviceActionNotRepeatedAfterServerError(t *testing.T) {
	c, mux := setup(t)
	n := 0
	mux.HandleFunc("/appservices/v6/orgs/"+testOrg+"/device_actions", func(w http.ResponseWriter, r *http.Request) {
		n++
		http.Error(w, `{"message":"upstream timed out"}`, http.StatusGatewayTimeout)
	})
	err := c.Devices.Quarantine(ctx, true, 1234)
	var ae *carbonblack.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusGatewayTimeout || n != 1 {
		t.Fatalf("err = %v after %d requests; want the 504 after one request", err, n)
	}
}

func TestPolicies(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/policyservice/v1/orgs/"+testOrg+"/policies/summary", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(200, []byte(`{"policies":[{"id":65536,"name":"A Dummy Policy","priority_level":"HIGH","position":3,"is_system":false,"description":"","num_devices":0}]}`))(w, r)
	})
	mux.HandleFunc("/policyservice/v1/orgs/"+testOrg+"/policies/65536", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(200, fixture(t, "policy_get.json"))(w, r)
	})
	s, err := c.Policies.FindByName(ctx, "a dummy policy")
	if err != nil || s.ID != 65536 {
		t.Fatalf("FindByName = %+v, %v", s, err)
	}
	p, err := c.Policies.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || p.Rules[0].Application.Value != "PUP" || p.RuleConfigs[0].Category != "data_collection" || len(p.SensorSettings) == 0 {
		t.Fatalf("policy = %+v", p)
	}
}

func TestLiveResponseSteps(t *testing.T) {
	c, mux := setup(t)
	const base = "/appservices/v6/orgs/" + testOrg + "/liveresponse/sessions"
	mux.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"device_id":2468}`)
		serveJSON(201, fixture(t, "lr_session_create.json"))(w, r)
	})
	gets := 0
	mux.HandleFunc(base+"/1:2468", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			gets++
			if gets == 1 {
				serveJSON(200, fixture(t, "lr_session_create.json"))(w, r)
				return
			}
			serveJSON(200, []byte(strings.Replace(string(fixture(t, "lr_session_get.json")), `"ACTIVE"`, `"active"`, 1)))(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc(base+"/1:2468/commands", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"name":"kill","pid":601}`)
		serveJSON(201, fixture(t, "lr_command_kill_create.json"))(w, r)
	})
	mux.HandleFunc(base+"/1:2468/commands/13", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(200, fixture(t, "lr_command_kill_complete.json"))(w, r)
	})
	sess, err := c.LiveResponse.StartSession(ctx, 2468)
	if err != nil || sess.Status != "PENDING" || sess.CreateTime.Year() != 2021 {
		t.Fatalf("StartSession = %+v, %v", sess, err)
	}
	active, err := c.LiveResponse.WaitSession(ctx, sess.ID)
	if err != nil || !active.Active() || active.Device() != 3925348 || !active.Supports("KILL") || active.CreateTime.UnixMilli() != 1615281362683 {
		t.Fatalf("WaitSession = %+v, %v", active, err)
	}
	res, err := c.LiveResponse.Run(ctx, sess.ID, carbonblack.Command{Name: carbonblack.CommandKill, PID: 601})
	if err != nil || !res.Complete() || string(res.Object) != "601" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if err := c.LiveResponse.CloseSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
}

func TestLiveResponseCommandError(t *testing.T) {
	c, mux := setup(t)
	const base = "/appservices/v6/orgs/" + testOrg + "/liveresponse/sessions/1:2468/commands"
	mux.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(201, []byte(`{"id":14,"session_id":"1:2468","status":"PENDING","name":"delete file","object":"C:\\x"}`))(w, r)
	})
	mux.HandleFunc(base+"/14", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(200, []byte(`{"id":14,"session_id":"1:2468","status":"ERROR","name":"delete file","result_code":-2147024894,"result_type":"WinHresult","result_desc":"File not found"}`))(w, r)
	})
	_, err := c.LiveResponse.Run(ctx, "1:2468", carbonblack.Command{Name: carbonblack.CommandDeleteFile, Path: `C:\x`})
	var ce *carbonblack.CommandError
	if !errorsAs(err, &ce) || ce.ResultCode != -2147024894 || !strings.Contains(err.Error(), "0x80070002") {
		t.Fatalf("err = %v", err)
	}
}

func TestProcessesSummaryRequest(t *testing.T) {
	c, mux := setup(t)
	const base = "/api/investigate/v2/orgs/" + testOrg + "/processes/summary_jobs"
	mux.HandleFunc(base, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONBody(t, r, `{"process_guid":"7DESJ9GN-0034d5f2-00000ba0-00000000-1d68709850fe521","time_range":{"window":"-2w"}}`)
		serveJSON(200, []byte(`{"job_id":"sum-1"}`))(w, r)
	})
	polls := 0
	mux.HandleFunc(base+"/sum-1/results", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, map[string]string{"format": "summary"})
		polls++
		if polls == 1 {
			serveJSON(200, []byte(`{"exception":null,"contacted":10,"completed":3,"summary":{"process":null,"parent":null,"siblings":null,"children":null}}`))(w, r)
			return
		}
		serveJSON(200, []byte(`{"exception":null,"contacted":10,"completed":10,"summary":{"process":{"process_guid":"7DESJ9GN-0034d5f2-00000ba0-00000000-1d68709850fe521",
			"device_id":3462642,"process_pid":[2976]},"parent":{"process_guid":"p"},"siblings":[],"children":[{"process_guid":"c","process_pid":[1]}]}}`))(w, r)
	})
	sum, err := c.Processes.Summary(ctx, "7DESJ9GN-0034d5f2-00000ba0-00000000-1d68709850fe521", &carbonblack.TimeRange{Window: "-2w"})
	if err != nil || sum.Process.DeviceID != 3462642 || sum.Process.PID() != 2976 || sum.Parent.ProcessGUID != "p" || len(sum.Children) != 1 || polls != 2 {
		t.Fatalf("Summary = %+v, %v after %d polls", sum, err, polls)
	}
}

func TestOpenLinkFormatErrors(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/store/nofiledata.zip", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "" {
			t.Error("credentials sent with a pre-signed link")
		}
		zw := zip.NewWriter(w)
		f, _ := zw.Create("other")
		_, _ = f.Write([]byte("x"))
		_ = zw.Close()
	})
	mux.HandleFunc("/store/html.zip", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>not a zip</html>"))
	})
	base := c.BaseURL()
	for _, name := range []string{"nofiledata", "html"} {
		_, err := c.UBS.OpenLink(ctx, carbonblack.DownloadLink{SHA256: strings.Repeat("a", 64), URL: base + "/store/" + name + ".zip?X-Amz-Signature=s"})
		if !errors.Is(err, carbonblack.ErrSampleFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCommandStatusCaseBlind(t *testing.T) {
	for _, c := range []struct {
		status             string
		complete, finished bool
	}{
		{"COMPLETE", true, true}, {"complete", true, true}, {"Complete", true, true},
		{"ERROR", false, true}, {"error", false, true}, {"CANCELLED", false, true},
		{"PENDING", false, false}, {"pending", false, false}, {"IN PROGRESS", false, false},
	} {
		r := carbonblack.CommandResult{Status: c.status}
		if r.Complete() != c.complete || r.Finished() != c.finished {
			t.Errorf("%s: complete %v finished %v", c.status, r.Complete(), r.Finished())
		}
	}
}

// TestLiveResponseTimesAreEpochSeconds decodes the service's documented
// process-list and directory-list answers: their times are epoch seconds,
// unlike the session times (epoch milliseconds or RFC 3339).
func TestLiveResponseTimesAreEpochSeconds(t *testing.T) {
	var procs carbonblack.CommandResult
	if err := json.Unmarshal(fixture(t, "lr_command_process_list_complete.json"), &procs); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2016, 10, 13, 20, 31, 10, 0, time.UTC)
	if len(procs.Processes) != 2 || !procs.Processes[0].CreateTime.Equal(want) || procs.Processes[1].ProcessPID != 805 {
		t.Fatalf("processes = %+v", procs.Processes)
	}
	if got := procs.Completed(); got.Unix() != 2345678901 {
		t.Errorf("Completed = %v", got)
	}
	var dir carbonblack.CommandResult
	if err := json.Unmarshal(fixture(t, "lr_command_directory_list_complete.json"), &dir); err != nil {
		t.Fatal(err)
	}
	f := dir.Files[1]
	if f.Filename != "test.txt" || f.Size != 1234 || f.CreateTime.Unix() != 1476390668 || f.LastAccessTime.Unix() != 1476390668 ||
		f.LastWriteTime.Unix() != 1476390668 || dir.Files[0].CreateTime.Unix() != 1471897244 || !dir.Files[0].IsDir() {
		t.Fatalf("files = %+v", dir.Files)
	}
	if (&carbonblack.CommandResult{}).Completed() != (time.Time{}) {
		t.Error("a running command has a completion time")
	}
	for in, want := range map[string]int64{`1476390670`: 1476390670, `"1476390670"`: 1476390670, `1476390670.5`: 1476390670,
		`"2016-10-13T20:31:10Z"`: 1476390670, `null`: 0, `0`: 0, `""`: 0} {
		var e carbonblack.EpochSeconds
		if err := json.Unmarshal([]byte(in), &e); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := e.Unix(); (want == 0 && !e.IsZero()) || (want != 0 && got != want) {
			t.Errorf("%s = %v", in, e.Time)
		}
	}
	for _, bad := range []string{`"soon"`, `true`, `1e300`, `{}`} {
		var e carbonblack.EpochSeconds
		if err := json.Unmarshal([]byte(bad), &e); err == nil {
			t.Errorf("%s decoded as %v", bad, e.Time)
		}
	}
	b, _ := json.Marshal(carbonblack.LRProcess{ProcessPID: 1, CreateTime: carbonblack.EpochSeconds{Time: want}})
	if !strings.Contains(string(b), `"create_time":1476390670`) {
		t.Errorf("encoded %s", b)
	}
}

// TestMalformedResultSkipped checks that one alert with a field of an
// unexpected type never fails its page: it is skipped, listed in
// SkippedItems and passed to the skip handler, and the iterator still pages
// by the number of results Carbon Black sent.
func TestMalformedResultSkipped(t *testing.T) {
	var handled []carbonblack.SkippedItem
	c, mux := setup(t, carbonblack.WithSkipHandler(func(s carbonblack.SkippedItem) { handled = append(handled, s) }))
	var starts []int
	mux.HandleFunc("/api/alerts/v7/orgs/"+testOrg+"/alerts/_search", func(w http.ResponseWriter, r *http.Request) {
		var body carbonblack.AlertSearch
		_ = json.NewDecoder(r.Body).Decode(&body)
		starts = append(starts, body.Start)
		var res []map[string]any
		for i := body.Start; i < body.Start+body.Rows && i <= 4; i++ {
			a := map[string]any{"id": string(rune('a' + i)), "backend_timestamp": "2024-05-01T00:00:0" + string(rune('0'+i)) + ".000Z"}
			if i == 2 {
				a["severity"] = map[string]any{"level": "high"} // an object where a number belongs
			}
			res = append(res, a)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": res, "num_found": 4, "num_available": 4})
	})
	page, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{Rows: 2, Start: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 || page.Results[0].ID != "b" || len(page.SkippedItems) != 1 || page.SkippedItems[0].ID != "c" ||
		page.SkippedItems[0].Op != "Alerts.Search" {
		t.Fatalf("page = %+v", page)
	}
	var ids []string
	for a, err := range c.Alerts.All(ctx, carbonblack.AlertSearch{Rows: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, "") != "bde" || len(handled) != 2 || handled[1].ID != "c" {
		t.Fatalf("ids %v, handled %+v", ids, handled)
	}
	if got := starts[1:]; len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("iterator starts %v, want [1 3]", got)
	}
}
