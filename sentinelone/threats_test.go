package sentinelone_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestThreatsList(t *testing.T) {
	env := setup(t)
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeader(t, r, "Authorization", "ApiToken "+testToken)
		testQuery(t, r, url.Values{
			"accountIds":       {"433241117337583618"},
			"siteIds":          {"475482421366727779,475482421366727780"},
			"confidenceLevels": {"malicious,suspicious,n/a"},
			"createdAt__gt":    {"2024-05-02T09:14:03.118204Z"},
			"contentHashes":    {"3395856ce81f2b7382dee72602f798b642f14140"},
			"incidentStatuses": {"unresolved"},
			"osTypesNin":       {"linux"},
			"agentIsActive":    {"true"},
			"sortBy":           {"createdAt"},
			"sortOrder":        {"desc"},
			"limit":            {"1000"},
		})
		writeBody(w, 200, fixture(t, "threats_list.json"))
	})
	p, err := env.client.Threats.List(context.Background(), sentinelone.ThreatListOptions{
		ThreatFilter: sentinelone.ThreatFilter{
			Scope:            sentinelone.Scope{AccountIDs: []string{"433241117337583618"}, SiteIDs: []string{"475482421366727779", "475482421366727780"}},
			ConfidenceLevels: []string{"malicious", "suspicious", "n/a"},
			CreatedAtGt:      mustTime(t, "2024-05-02T09:14:03.118204Z"),
			ContentHashes:    []string{"3395856ce81f2b7382dee72602f798b642f14140"},
			IncidentStatuses: []string{"unresolved"},
			OSTypesNin:       []string{"linux"},
			AgentIsActive:    boolPtr(true),
		},
		ListOptions: sentinelone.ListOptions{Limit: 1000, SortBy: "createdAt", SortOrder: sentinelone.Descending},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || p.NextCursor != "" {
		t.Fatalf("items %d cursor %q", len(p.Items), p.NextCursor)
	}
	th := p.Items[0]
	want := sentinelone.ThreatInfo{}
	want.ThreatID, want.SHA1, want.ConfidenceLevel = "715718962991148224", "3395856ce81f2b7382dee72602f798b642f14140", "malicious"
	got := sentinelone.ThreatInfo{ThreatID: th.ThreatInfo.ThreatID, SHA1: th.ThreatInfo.SHA1, ConfidenceLevel: th.ThreatInfo.ConfidenceLevel}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if th.ID != "715718962991148224" || th.AgentRealtimeInfo.AgentID != "657613730168123595" || th.AgentRealtimeInfo.SiteName != "demisto" {
		t.Errorf("threat = %+v", th)
	}
	if !th.ThreatInfo.CreatedAt.Equal(time.Date(2019, 9, 15, 12, 5, 49, 95889000, time.UTC)) {
		t.Errorf("createdAt = %v", th.ThreatInfo.CreatedAt)
	}
	// agentDecommissionedAt is the boolean true in this record.
	if !th.AgentRealtimeInfo.AgentDecommissionedAt.IsZero() || !th.AgentRealtimeInfo.AgentIsDecommissioned {
		t.Errorf("decommission fields = %+v", th.AgentRealtimeInfo)
	}
	if th.ThreatInfo.FilePath != `\Device\HarddiskVolume1\Users\Administrator\Downloads\Unconfirmed 123490.crdownload` {
		t.Errorf("filePath = %q", th.ThreatInfo.FilePath)
	}
	if len(th.MitigationStatus) != 2 || th.MitigationStatus[1].Action != "quarantine" || th.MitigationStatus[1].ActionsCounters != nil {
		t.Errorf("mitigation = %+v", th.MitigationStatus)
	}
	if len(p.Items[1].Indicators) != 4 || p.Items[1].Indicators[0].IDs[0] != 25 {
		t.Errorf("indicators = %+v", p.Items[1].Indicators)
	}
}

func TestThreatsAllStopsOnStringNullCursor(t *testing.T) {
	env := setup(t)
	calls := 0
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeBody(w, 200, fixture(t, "threats_list_paginated.json"))
	})
	var got []sentinelone.Threat
	for th, err := range env.client.Threats.All(context.Background(), sentinelone.ThreatListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, th)
	}
	if calls != 1 || len(got) != 1 {
		t.Fatalf("calls %d items %d", calls, len(got))
	}
	ti := got[0].ThreatInfo
	if len(ti.DetectionEngines) != 1 || ti.DetectionEngines[0] != (sentinelone.DetectionEngine{Key: "manual", Title: "Manual"}) {
		t.Errorf("engines = %+v", ti.DetectionEngines)
	}
	ms := got[0].MitigationStatus[0]
	if ms.ActionsCounters == nil || ms.ActionsCounters.Success != 2 || ms.MitigationEndedAt.IsZero() {
		t.Errorf("mitigation = %+v", ms)
	}
}

func TestThreatsAllFollowsCursorsAndStopsOnRepeat(t *testing.T) {
	env := setup(t)
	var cursors []string
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("cursor")
		cursors = append(cursors, c)
		if r.URL.Query().Get("limit") != "1000" {
			t.Errorf("limit = %q", r.URL.Query().Get("limit"))
		}
		switch c {
		case "":
			writeBody(w, 200, []byte(`{"data":[{"id":"1"}],"pagination":{"nextCursor":"YWdlbnRfaWQ6NTgwMjkzODE=","totalItems":3}}`))
		case "YWdlbnRfaWQ6NTgwMjkzODE=":
			writeBody(w, 200, []byte(`{"data":[{"id":"2"}],"pagination":{"nextCursor":"c2","totalItems":3}}`))
		default:
			writeBody(w, 200, []byte(`{"data":[{"id":"3"}],"pagination":{"nextCursor":"c2","totalItems":3}}`))
		}
	})
	var ids []string
	var last error
	for th, err := range env.client.Threats.All(context.Background(), sentinelone.ThreatListOptions{}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, th.ID)
	}
	if !errors.Is(last, sentinelone.ErrRepeatedCursor) {
		t.Fatalf("err = %v", last)
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, ids); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"", "YWdlbnRfaWQ6NTgwMjkzODE=", "c2"}, cursors); diff != "" {
		t.Error(diff)
	}
}

func TestThreatsGetNotFound(t *testing.T) {
	env := setup(t)
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"ids": {"42"}, "limit": {"1"}})
		writeBody(w, 200, []byte(`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`))
	})
	_, err := env.client.Threats.Get(context.Background(), "42")
	if !errors.Is(err, sentinelone.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

// actionCase is one filter-based action: the request it must send and the
// fixture it answers with.
type actionCase struct {
	name, path, body, answer string
	call                     func(c *sentinelone.Client) (int, error)
	want                     int
}

func runActionCases(t *testing.T, cases []actionCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := setup(t)
			env.handle("POST "+tc.path, func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, r, tc.body)
				writeBody(w, 200, []byte(tc.answer))
			})
			got, err := tc.call(env.client)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("affected = %d, want %d", got, tc.want)
			}
		})
	}
}

func affected(r *sentinelone.ActionResult, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return r.Affected, nil
}

func TestThreatActions(t *testing.T) {
	ctx := context.Background()
	ids := sentinelone.ThreatFilter{Scope: sentinelone.Scope{AccountIDs: []string{"433241117337583618"}}, IDs: []string{"1857340219386610701"}}
	verdictAnswer := `{"data":{"affected":1,"details":[{"threatId":"1857340219386610701","result":"updated"}]}}`
	runActionCases(t, []actionCase{
		{name: "analyst verdict", path: "/threats/analyst-verdict", answer: string(fixtureBytes("threats_analyst_verdict_response.json")), want: 1,
			body: `{"filter":{"accountIds":["433241117337583618"],"ids":["1857340219386610701"]},"data":{"analystVerdict":"false_positive"}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return affected(c.Threats.SetAnalystVerdict(ctx, ids, sentinelone.VerdictFalsePositive))
			}},
		{name: "incident", path: "/threats/incident", answer: verdictAnswer, want: 1,
			body: `{"filter":{"accountIds":["433241117337583618"],"ids":["1857340219386610701"]},"data":{"incidentStatus":"resolved","analystVerdict":"true_positive"}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return affected(c.Threats.SetIncidentStatus(ctx, ids, sentinelone.IncidentUpdate{IncidentStatus: "resolved", AnalystVerdict: "true_positive"}))
			}},
		{name: "mitigate kill", path: "/threats/mitigate/kill", answer: string(fixtureBytes("threats_mitigate_response.json")), want: 1,
			body: `{"filter":{"siteIds":["475482421366727779"],"ids":["1857340219386610701"]},"data":{}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return affected(c.Threats.Mitigate(ctx, sentinelone.MitigateKill, []string{"1857340219386610701"}, sentinelone.Scope{SiteIDs: []string{"475482421366727779"}}))
			}},
		{name: "mitigate rollback", path: "/threats/mitigate/rollback-remediation", answer: `{"data":{"affected":2}}`, want: 2,
			body: `{"filter":{"ids":["1","2"]},"data":{}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return affected(c.Threats.Mitigate(ctx, sentinelone.MitigateRollbackRemediation, []string{"1", "2"}, sentinelone.Scope{}))
			}},
		{name: "add to blacklist", path: "/threats/add-to-blacklist", want: 1,
			answer: `{"data":{"affected":1,"details":[{"threatId":"1","result":"created"}]}}`,
			body:   `{"filter":{"accountIds":["433241117337583618"],"contentHashes":["3395856ce81f2b7382dee72602f798b642f14140"]},"data":{"targetScope":"account","description":"Reported from VMRay Analyzer"}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return affected(c.Threats.AddToBlacklist(ctx, sentinelone.ThreatFilter{Scope: sentinelone.Scope{AccountIDs: []string{"433241117337583618"}},
					ContentHashes: []string{"3395856ce81f2b7382dee72602f798b642f14140"}}, sentinelone.BlacklistData{TargetScope: "account", Description: "Reported from VMRay Analyzer"}))
			}},
		{name: "dv add to blacklist", path: "/threats/dv-add-to-blacklist", answer: `{"data":{"affected":1}}`, want: 1,
			body: `{"data":{"targetScope":"account","hashes":[{"agentId":"1742210398743211002","hash":"3395856ce81f2b7382dee72602f798b642f14140"}]}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return c.Threats.DVAddToBlacklist(ctx, "account", []sentinelone.AgentHash{{AgentID: "1742210398743211002", Hash: "3395856ce81f2b7382dee72602f798b642f14140"}})
			}},
		{name: "add note", path: "/threats/notes", answer: `{"data":{"affected":1}}`, want: 1,
			body: `{"filter":{"accountIds":["433241117337583618"],"ids":["1857340219386610701"]},"data":{"text":"VMRay verdict: MALICIOUS – Trojän"}}`,
			call: func(c *sentinelone.Client) (int, error) {
				return c.Threats.AddNote(ctx, ids, "VMRay verdict: MALICIOUS – Trojän")
			}},
	})
}

// fixtureBytes reads a fixture outside a test's scope (for tables).
func fixtureBytes(name string) []byte {
	b, err := osReadFile("testdata/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

func TestThreatActionsRefuseScopeOnlyFilters(t *testing.T) {
	env := setup(t)
	env.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	})
	ctx := context.Background()
	scopeOnly := sentinelone.ThreatFilter{Scope: sentinelone.Scope{AccountIDs: []string{"1"}, SiteIDs: []string{"2"}, Tenant: true}, IDs: []string{}}
	checks := map[string]error{}
	_, checks["verdict"] = env.client.Threats.SetAnalystVerdict(ctx, scopeOnly, sentinelone.VerdictFalsePositive)
	_, checks["incident"] = env.client.Threats.SetIncidentStatus(ctx, sentinelone.ThreatFilter{}, sentinelone.IncidentUpdate{IncidentStatus: "resolved"})
	_, checks["note"] = env.client.Threats.AddNote(ctx, scopeOnly, "x")
	_, checks["mitigate"] = env.client.Threats.Mitigate(ctx, sentinelone.MitigateKill, nil, sentinelone.Scope{Tenant: true})
	_, checks["blacklist"] = env.client.Threats.AddToBlacklist(ctx, scopeOnly, sentinelone.BlacklistData{TargetScope: "tenant"})
	_, checks["disconnect"] = env.client.Agents.Disconnect(ctx, sentinelone.AgentFilter{Scope: sentinelone.Scope{Tenant: true}})
	_, checks["shutdown"] = env.client.Agents.Shutdown(ctx, sentinelone.AgentFilter{})
	_, checks["iocs"] = env.client.ThreatIntelligence.DeleteIOCs(ctx, sentinelone.IOCDeleteFilter{Scope: sentinelone.Scope{AccountIDs: []string{"1"}}})
	for name, err := range checks {
		if !errors.Is(err, sentinelone.ErrEmptyFilter) {
			t.Errorf("%s: err = %v, want ErrEmptyFilter", name, err)
		}
	}
	if _, err := env.client.Threats.Mitigate(ctx, "explode", []string{"1"}, sentinelone.Scope{}); !errors.Is(err, sentinelone.ErrInvalidRequest) {
		t.Errorf("unknown action: err = %v", err)
	}
}

func TestThreatNotes(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /threats/1857340219386610701/notes", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"limit": {"1000"}, "sortBy": {"createdAt"}, "sortOrder": {"desc"}})
		writeBody(w, 200, []byte(`{"data":[{"id":"1857511111111111111","text":"VMRay verdict: MALICIOUS","creator":"svc-vmray","creatorId":"1790000000000000001","createdAt":"2024-05-02T09:30:00.120000Z","updatedAt":"2024-05-02T09:30:00.120000Z","edited":false}],"pagination":{"nextCursor":null,"totalItems":1}}`))
	})
	env.handle("PUT /threats/1857340219386610701/notes/1857511111111111111", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"data":{"text":"updated"}}`)
		writeBody(w, 200, []byte(`{"data":{"id":"1857511111111111111","text":"updated","edited":true,"updatedAt":"2024-05-02T09:31:00Z"}}`))
	})
	env.handle("DELETE /threats/1857340219386610701/notes/1857511111111111111", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"success":true}}`))
	})
	var notes []sentinelone.Note
	for n, err := range env.client.Threats.AllNotes(ctx, "1857340219386610701", sentinelone.NoteListOptions{ListOptions: sentinelone.ListOptions{SortBy: "createdAt", SortOrder: sentinelone.Descending}}) {
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	want := []sentinelone.Note{{ID: "1857511111111111111", Text: "VMRay verdict: MALICIOUS", Creator: "svc-vmray", CreatorID: "1790000000000000001",
		CreatedAt: mustTime(t, "2024-05-02T09:30:00.120000Z"), UpdatedAt: mustTime(t, "2024-05-02T09:30:00.120000Z")}}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Error(diff)
	}
	n, err := env.client.Threats.UpdateNote(ctx, "1857340219386610701", "1857511111111111111", "updated")
	if err != nil || n.Text != "updated" || !n.Edited {
		t.Fatalf("update: %+v %v", n, err)
	}
	if err := env.client.Threats.DeleteNote(ctx, "1857340219386610701", "1857511111111111111"); err != nil {
		t.Fatal(err)
	}
}

func TestThreatTimelineAndCloud(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /threats/1000000000000000000/timeline", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"activityTypes": {"86"}, "limit": {"30"}, "sortOrder": {"desc"}})
		writeBody(w, 200, fixture(t, "activities_type86_threat_file_upload.json"))
	})
	env.handle("GET /threats/1000000000000000000/download-from-cloud", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"fileName":"invoice.zip","downloadUrl":"https://vault.example/abc?X-Amz-Signature=s"}}`))
	})
	p, err := env.client.Threats.Timeline(ctx, "1000000000000000000", sentinelone.TimelineOptions{ActivityTypes: []int{86},
		ListOptions: sentinelone.ListOptions{Limit: 30, SortOrder: sentinelone.Descending}})
	if err != nil {
		t.Fatal(err)
	}
	a := p.Items[0]
	if a.ActivityType != 86 || a.Data.DownloadURL != "/agents/1000000000000000000/uploads/1000000000000000000" ||
		a.Data.CommandID != "1000000000000000000" || a.Data.FileSize != 68 || a.Data.Filename != "WindowsX64_2023-09-27_12_16_43.503.zip" {
		t.Errorf("activity = %+v", a)
	}
	link, err := env.client.Threats.DownloadFromCloud(ctx, "1000000000000000000")
	if err != nil || link.FileName != "invoice.zip" || link.DownloadURL != "https://vault.example/abc?X-Amz-Signature=s" {
		t.Fatalf("cloud: %+v %v", link, err)
	}
}

// TestThreatFieldsInEveryShape decodes the threat fields consoles send in
// more than one shape: detectionEngines as objects or strings,
// mitigationStatus as a list, an object or a string (threat level) and as a
// string or a list (threatInfo level), fileSize as a number or a string.
func TestThreatFieldsInEveryShape(t *testing.T) {
	body := `[
	 {"id":"1","mitigationStatus":[{"action":"kill","status":"success"}],
	  "threatInfo":{"detectionEngines":[{"key":"sentinelone_cloud","title":"SentinelOne Cloud"}],"mitigationStatus":"mitigated","fileSize":1024}},
	 {"id":"2","mitigationStatus":"mitigated",
	  "threatInfo":{"detectionEngines":["sentinelone_cloud","reputation"],"mitigationStatus":["not_mitigated"],"fileSize":"2048"}},
	 {"id":"3","mitigationStatus":{"action":"quarantine","status":"failed"},
	  "threatInfo":{"detectionEngines":null,"mitigationStatus":[{"status":"marked_as_benign"}],"fileSize":null}},
	 {"id":"4","mitigationStatus":["mitigated","active"],"threatInfo":{}}]`
	var threats []sentinelone.Threat
	if err := json.Unmarshal([]byte(body), &threats); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Engines    []sentinelone.DetectionEngine
		Statuses   []string
		InfoStatus string
		Size       int64
	}
	var got []row
	for _, th := range threats {
		r := row{Engines: th.ThreatInfo.DetectionEngines, InfoStatus: th.ThreatInfo.MitigationStatus, Size: th.ThreatInfo.FileSize}
		for _, m := range th.MitigationStatus {
			r.Statuses = append(r.Statuses, m.Action+":"+m.Status)
		}
		got = append(got, r)
	}
	want := []row{
		{Engines: []sentinelone.DetectionEngine{{Key: "sentinelone_cloud", Title: "SentinelOne Cloud"}}, Statuses: []string{"kill:success"}, InfoStatus: "mitigated", Size: 1024},
		{Engines: []sentinelone.DetectionEngine{{Key: "sentinelone_cloud", Title: "sentinelone_cloud"}, {Key: "reputation", Title: "reputation"}},
			Statuses: []string{":mitigated"}, InfoStatus: "not_mitigated", Size: 2048},
		{Statuses: []string{"quarantine:failed"}, InfoStatus: "marked_as_benign"},
		{Statuses: []string{":mitigated", ":active"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The recorded payloads keep decoding.
	var page struct {
		Data []sentinelone.Threat `json:"data"`
	}
	if err := json.Unmarshal(fixtureBytes("threats_list_paginated.json"), &page); err != nil || len(page.Data) == 0 ||
		len(page.Data[0].ThreatInfo.DetectionEngines) == 0 || page.Data[0].ThreatInfo.MitigationStatus != "not_mitigated" {
		t.Fatalf("fixture: %v %+v", err, page.Data)
	}
}

// TestMalformedThreatSkipped checks that one threat with a field of an
// unexpected type never fails its page: it is skipped, logged at warning
// with its id, listed in Page.Skipped and passed to the skip handler, while
// the iterator goes on to the next page.
func TestMalformedThreatSkipped(t *testing.T) {
	var handled []sentinelone.SkippedItem
	env := setup(t, sentinelone.WithSkipHandler(func(s sentinelone.SkippedItem) { handled = append(handled, s) }))
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(fixtureBytes("threats_list.json"), &page); err != nil || len(page.Data) < 2 {
		t.Fatalf("fixture: %v", err)
	}
	bad := strings.Replace(string(page.Data[1]), `"threatInfo": {`, `"threatInfo": {"isFileless": {"odd": true},`, 1)
	if bad == string(page.Data[1]) {
		t.Fatal("fixture changed: no threatInfo to break")
	}
	var badID struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(page.Data[1], &badID)
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			writeBody(w, 200, []byte(`{"data":[`+string(page.Data[0])+`,`+bad+`],"pagination":{"nextCursor":"c2","totalItems":3}}`))
			return
		}
		writeBody(w, 200, []byte(`{"data":[{"id":"3","threatInfo":{"sha1":"x"}}],"pagination":{"nextCursor":null,"totalItems":3}}`))
	})
	ctx := context.Background()
	p, err := env.client.Threats.List(ctx, sentinelone.ThreatListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || len(p.SkippedItems) != 1 || p.SkippedItems[0].ID != badID.ID || p.SkippedItems[0].Index != 1 ||
		p.SkippedItems[0].Op != "Threats.List" || !strings.HasPrefix(p.SkippedItems[0].Excerpt, "{") || p.NextCursor != "c2" {
		t.Fatalf("page = %+v", p)
	}
	var ids []string
	for th, err := range env.client.Threats.All(ctx, sentinelone.ThreatListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, th.ID)
	}
	if len(ids) != 2 || ids[1] != "3" {
		t.Errorf("iterated %v", ids)
	}
	if len(handled) != 2 || handled[1].ID != badID.ID {
		t.Errorf("handler got %+v", handled)
	}
	if logs := env.logs.String(); strings.Count(logs, "level=WARN msg=\"list item skipped") != 2 || !strings.Contains(logs, "id="+badID.ID) {
		t.Errorf("logs:\n%s", logs)
	}
}
