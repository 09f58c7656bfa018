package carbonblacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// loadFiles seeds files from to from+n-1 as fakeworld's load world does (a binary and the process that ran it, on
// one of the devs) and then writes what the cbc-vmray connector writes per file through the API: a watchlist report
// with its hash under each SHA-256 field and the shared domain IOC, and a ban. It returns the heap retained by each
// step (seeding, reports, bans), in bytes per file.
func loadFiles(t testing.TB, s *Server, devs []carbonblack.Device, from, n int) (seeded, reported, banned float64) {
	t.Helper()
	now := time.Now().UTC()
	post := func(path string, body any) []byte {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
		r.Header.Set("X-Auth-Token", s.APISecret()+"/"+s.APIID())
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	perFile := func(from, to uint64) float64 { return (float64(to) - float64(from)) / float64(n) }
	h0 := heap()
	shas := make([]string, n)
	for k := range n {
		i := from + k
		ts := carbonblack.Timestamp{Time: now.Add(-time.Hour + time.Duration(i)*55*time.Minute/time.Duration(n))}
		sha, err := s.AddBinary(Binary{Content: fmt.Appendf(nil, "MZ\x90\x00 fakeworld load file %07d", i)})
		if err != nil {
			t.Fatal(err)
		}
		shas[k] = sha
		d := devs[i%len(devs)]
		s.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f211", s.OrgKey(), d.ID, i),
			ProcessHash: []string{sha}, ProcessSHA256: sha, ProcessName: fmt.Sprintf(`c:\load\f%07d.exe`, i),
			ProcessPID: carbonblack.IntList{int64(10000 + i)}, ProcessEffectiveReputation: "NOT_LISTED",
			ProcessStartTime: ts, DeviceTimestamp: ts, BackendTimestamp: ts})
	}
	h1 := heap()
	org := "/threathunter/watchlistmgr/v3/orgs/" + s.OrgKey()
	for k, sha := range shas {
		link := fmt.Sprintf("https://vmray.example/user/sample/view?id=%d", 100000+from+k)
		rep := carbonblack.Report{Timestamp: now.Unix(), Title: "[malicious] VMRAY Report for " + sha, Description: link,
			Severity: 9, Link: link, Tags: []string{"Loader"}}
		for _, f := range carbonblack.SHA256Fields {
			ioc := carbonblack.EqualityIOC(f, sha)
			ioc.Link = link
			rep.IOCsV2 = append(rep.IOCsV2, ioc)
		}
		ioc := carbonblack.EqualityIOC(carbonblack.FieldNetconnDomain, "c2.load.fakeworld.example")
		ioc.Link = link
		rep.IOCsV2 = append(rep.IOCsV2, ioc)
		post(org+"/reports", rep)
	}
	h2 := heap()
	for k, sha := range shas {
		i := from + k
		post("/appservices/v6/orgs/"+s.OrgKey()+"/reputations/overrides", carbonblack.ReputationOverride{
			OverrideList: carbonblack.OverrideBlackList, OverrideType: carbonblack.OverrideSHA256, SHA256Hash: sha,
			Filename: fmt.Sprintf("f%07d.exe", i), Description: "Banned by cbc-vmray: VMRay found it malicious"})
	}
	h3 := heap()
	runtime.KeepAlive(s)
	return perFile(h0, h1), perFile(h1, h2), perFile(h2, h3)
}

// maxBytesPerFile bounds the heap the fake retains per file of a load world: about 1,450 B now (3,800 B before
// the records were stored compact).
const maxBytesPerFile = 1750

// loadWorld returns a fake with the devices of a load world, recording no requests.
func loadWorld(t testing.TB) (*Server, []carbonblack.Device) {
	s := NewServer(t)
	s.SetRecording(Recording{MaxRequests: -1})
	var devs []carbonblack.Device
	for i := range 50 {
		devs = append(devs, s.AddDevice(carbonblack.Device{Name: fmt.Sprintf("LOAD-%03d", i), OS: "WINDOWS", PolicyName: "Standard"}))
	}
	return s, devs
}

// The heap the fake retains per file of a load world (the seeded process and binary, the connector's report and
// ban, written through the API as the connector writes them) stays within a bound. The files from N to 2N are
// measured, after a collection, so that the figure is what a further file costs: every map and list of the fake
// grows once over the span (a Go map's tables double at 7/8 full: 448 and 896 entries; lists at 512), and the
// fake's bounded tables of shared strings, shapes and IOC kinds are filled by the first N. N is 400, or half of
// CARBONBLACKTEST_LOAD_FILES (for example 20000, to measure a bigger world).
func TestMemoryPerFile(t *testing.T) {
	n := 400
	if v := os.Getenv("CARBONBLACKTEST_LOAD_FILES"); v != "" {
		files, err := strconv.Atoi(v)
		if err != nil || files < 2 {
			t.Fatalf("CARBONBLACKTEST_LOAD_FILES=%q: want a number of files, at least 2", v)
		}
		n = files / 2
	}
	s, devs := loadWorld(t)
	loadFiles(t, s, devs, 0, n)
	seeded, reported, banned := loadFiles(t, s, devs, n, n)
	t.Logf("files %d to %d, per file: process and binary %.0f B, report %.0f B, ban %.0f B; total %.0f B", n, 2*n-1,
		seeded, reported, banned, seeded+reported+banned)
	if total := seeded + reported + banned; total > maxBytesPerFile {
		t.Errorf("the fake retains %.0f B per file, want at most %d", total, maxBytesPerFile)
	}
}

// A report reads back, byte for byte, as the service's form of what was sent, whether it is stored compact or as it
// came: null and empty lists, absent links and visibility, ids that are not UUIDs, repeated and distinct values.
func TestStoredReportsAnswerAsSent(t *testing.T) {
	s := NewServer(t)
	org := "/threathunter/watchlistmgr/v3/orgs/" + s.OrgKey()
	do := func(method, path, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("X-Auth-Token", s.APISecret()+"/"+s.APIID())
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	id1, id2 := carbonblack.NewID(), carbonblack.NewID()
	bodies := []string{
		`{"title":"[malicious] VMRAY Report for ` + strings.Repeat("ab", 32) + `","description":"https://x.example/1","severity":9,"timestamp":1700000000,` +
			`"link":"https://x.example/1","tags":["Loader","Dropper"],"iocs_v2":[` +
			`{"id":"` + id1 + `","match_type":"equality","field":"process_hash","values":["` + strings.Repeat("ab", 32) + `"],"link":"https://x.example/1"},` +
			`{"id":"` + id2 + `","match_type":"equality","field":"netconn_domain","values":["a.example","b.example"],"link":"https://other.example"},` +
			`{"id":"` + carbonblack.NewID() + `","match_type":"equality","field":"netconn_domain","values":["a.example","b.example"]}]}`,
		`{"title":"t","description":"d","severity":1,"timestamp":1,"tags":[],"visibility":"private","iocs_v2":[` +
			`{"id":"` + strings.ToUpper(id1) + `","match_type":"query","values":["process_name:x.exe"]}]}`,
		`{"title":"t","description":"see https://y.example/2","severity":3,"timestamp":2,"link":"https://y.example/2","tags":["a"],"iocs_v2":[` +
			`{"id":"` + carbonblack.NewID() + `","match_type":"equality","field":"process_hash","values":["` + strings.Repeat("ef", 32) + `"],"link":"https://y.example/2"},` +
			`{"id":"` + carbonblack.NewID() + `","match_type":"regex","field":"process_name","values":["x.*"],"link":"https://z.example/3"}]}`,
		`{"id":"my-own-id","title":"t","description":"d","severity":1,"timestamp":1,"link":"","iocs_v2":[` +
			`{"id":"ioc-1","match_type":"equality","field":"process_hash","values":["` + strings.Repeat("cd", 32) + `"]}]}`,
	}
	for i, body := range bodies {
		var in reportIn
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			t.Fatal(err)
		}
		code, made := do(http.MethodPost, org+"/reports", body)
		var sent struct{ ID string }
		if err := json.Unmarshal([]byte(made), &sent); code != http.StatusOK || err != nil {
			t.Fatalf("report %d: %d %s", i, code, made)
		}
		rep, err := in.check(false)
		if err != nil {
			t.Fatal(err)
		}
		rep.ID = sent.ID
		want, _ := json.Marshal(rep)
		code, got := do(http.MethodGet, org+"/reports/"+sent.ID, "")
		if code != http.StatusOK || strings.TrimSpace(got) != string(want) || strings.TrimSpace(made) != string(want) {
			t.Errorf("report %d reads back\n%s\nwant\n%s", i, got, want)
		}
	}
	s.mu.Lock()
	compact := s.st.reportOrder[0].extra == nil && s.st.reportOrder[1].extra != nil && s.st.reportOrder[1].extra.raw != nil
	s.mu.Unlock()
	if !compact {
		t.Error("the first report is not compact, or the one with an upper-case IOC id is")
	}
}

// An override reads back (by id, in a search and from Overrides) as its creation answered it, whatever fields it has.
func TestStoredOverridesAnswerAsCreated(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC))
	s := NewServer(t, WithClock(clock))
	base := "/appservices/v6/orgs/" + s.OrgKey() + "/reputations/overrides"
	do := func(method, path, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("X-Auth-Token", s.APISecret()+"/"+s.APIID())
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	bodies := []string{
		`{"override_list":"BLACK_LIST","override_type":"SHA256","sha256_hash":"` + strings.Repeat("AB", 32) + `","filename":"a.exe","description":"Banned"}`,
		`{"override_list":"WHITE_LIST","override_type":"SHA256","sha256_hash":"` + strings.Repeat("ab", 32) + `"}`,
		`{"override_list":"WHITE_LIST","override_type":"CERT","signed_by":"Acme","certificate_authority":"CA","sha256_hash":"not-a-hash"}`,
		`{"override_list":"WHITE_LIST","override_type":"IT_TOOL","path":"c:\\tools\\x.exe","include_child_processes":false,"description":"Banned"}`,
	}
	var made []string
	for i, body := range bodies {
		clock.Advance(time.Millisecond + time.Nanosecond)
		code, got := do(http.MethodPost, base, body)
		if code != http.StatusOK {
			t.Fatalf("override %d: %d %s", i, code, got)
		}
		made = append(made, got)
		var o carbonblack.ReputationOverride
		if err := json.Unmarshal([]byte(got), &o); err != nil {
			t.Fatal(err)
		}
		if code, again := do(http.MethodGet, base+"/"+o.ID, ""); code != http.StatusOK || again != got {
			t.Errorf("override %d reads back\n%s\nwant\n%s", i, again, got)
		}
		if code, _ := do(http.MethodGet, base+"/"+strings.ToUpper(o.ID), ""); code != http.StatusNotFound {
			t.Errorf("override %d is found by its id in upper case: %d", i, code)
		}
	}
	// A search answers records, whose keys are in order.
	var want []string
	for _, m := range made {
		b, _ := json.Marshal(toRecord([]byte(m)))
		want = append(want, string(b))
	}
	_, found := do(http.MethodPost, base+"/_search", `{"query":"","rows":10}`)
	if want := `{"num_found":4,"results":[` + strings.Join(want, ",") + `]}`; found != want {
		t.Errorf("search answers\n%s\nwant\n%s", found, want)
	}
	// Ids are not guessable from a number, and a deleted override is gone.
	r := httptest.NewRequest(http.MethodGet, base+"/"+strings.Repeat("0", 31)+"1", nil)
	r.Header.Set("X-Auth-Token", s.APISecret()+"/"+s.APIID())
	w := httptest.NewRecorder()
	if s.Handler().ServeHTTP(w, r); w.Code != http.StatusNotFound {
		t.Errorf("a made-up id answers %d", w.Code)
	}
	var first carbonblack.ReputationOverride
	_ = json.Unmarshal([]byte(made[0]), &first)
	if err := s.Client().Reputations.Delete(context.Background(), first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().Reputations.Get(context.Background(), first.ID); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Errorf("a deleted override: %v", err)
	}
	if s.Banned(strings.Repeat("ab", 32)) {
		t.Error("a deleted ban still bans")
	}
	all := s.Overrides()
	if len(all) != 3 || !all[2].CreateTime.Equal(clock.Now()) || all[0].OverrideList != carbonblack.OverrideWhiteList {
		t.Errorf("overrides %+v", all)
	}
}

// Processes, observations and alerts stored compact answer, byte for byte, the records they were stored from: in
// detail jobs, search jobs (fields selected), summaries and alert reads, with hashes of either case, numbers,
// booleans, nulls, nested objects and strings that JSON escapes.
func TestCompactRecordsAnswerAsStored(t *testing.T) {
	s := NewServer(t, WithJobPolls(0))
	lower, upper := strings.Repeat("0a", 32), strings.Repeat("0B", 32)
	raws := []string{
		`{"process_guid":"g-1","parent_guid":"g-0","device_id":7,"device_timestamp":"2026-01-02T03:04:05.678Z",` +
			`"process_hash":["` + lower + `","0123456789abcdef0123456789abcdef"],"process_sha256":"` + lower + `",` +
			`"process_name":"c:\\<tmp>\\a&b.exe","process_pid":[12,13],"score":1.5e3,"big":12345678901234567890,"flag":true,` +
			`"none":null,"nested":{"id":"x","hash":"` + lower + `"},"list":[{"id":"y"}],"ü":"ünï"}`,
		`{"process_guid":"g-2","parent_guid":"g-1","device_id":7,"device_timestamp":"2026-01-02T03:04:06.000Z",` +
			`"process_hash":["` + upper + `"],"process_sha256":"` + upper + `","process_name":"b.exe"}`,
		`{"process_guid":"g-0","device_id":8,"device_timestamp":"2026-01-02T03:04:04.000Z","process_sha256":"` + lower + `"}`,
	}
	for _, raw := range raws {
		s.AddProcess(carbonblack.Process{Raw: json.RawMessage(raw)})
		s.AddObservation(carbonblack.Observation{Raw: json.RawMessage(strings.Replace(raw, "process_guid", "observation_id", 1))})
		s.AddAlert(carbonblack.Alert{ID: "a-" + raw[len(`{"process_guid":"`):][:3], ProcessSHA256: lower, DeviceName: "<H&ST>"})
	}
	// Records whose repeated values their shape holds.
	for i := range 3 {
		raws = append(raws, fmt.Sprintf(`{"process_guid":"r-%d","device_id":9,"device_name":"<R&D>","device_os":"WINDOWS",`+
			`"device_timestamp":"2026-01-02T03:04:0%d.000Z","process_pid":[%d],"flag":false,"process_sha256":"%064x"}`, i, i, i, i))
		s.AddProcess(carbonblack.Process{Raw: json.RawMessage(raws[len(raws)-1])})
	}
	want := func(raw string, drop ...string) string {
		r := toRecord([]byte(raw))
		for _, k := range drop {
			delete(r, k)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	do := func(method, path, body string) string {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("X-Auth-Token", s.APISecret()+"/"+s.APIID())
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		return strings.TrimSpace(w.Body.String())
	}
	inv := "/api/investigate/v2/orgs/" + s.OrgKey()
	job := func(kind, start, results, body string) map[string]json.RawMessage {
		var id struct {
			JobID string `json:"job_id"`
		}
		if err := json.Unmarshal([]byte(do(http.MethodPost, inv+"/"+kind+"/"+start, body)), &id); err != nil {
			t.Fatal(err)
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal([]byte(do(http.MethodGet, inv+"/"+kind+"/"+results+"/"+id.JobID+"/results?rows=10", "")), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := job("processes", "detail_jobs", "detail_jobs", `{"process_guids":["g-1","g-2"]}`)["results"]
	if w := "[" + want(raws[0]) + "," + want(raws[1]) + "]"; string(got) != w {
		t.Errorf("process details\n%s\nwant\n%s", got, w)
	}
	got = job("processes", "detail_jobs", "detail_jobs", `{"process_guids":["r-2"]}`)["results"]
	if w := "[" + want(raws[5]) + "]"; string(got) != w {
		t.Errorf("process details\n%s\nwant\n%s", got, w)
	}
	got = job("processes", "search_jobs", "search_jobs", `{"query":"WINDOWS device_name:\"<R&D>\" -process_pid:1","fields":["device_name","process_pid"]}`)["results"]
	if w := `[{"device_id":9,"device_name":"\u003cR\u0026D\u003e","process_guid":"r-0","process_pid":[0]},` +
		`{"device_id":9,"device_name":"\u003cR\u0026D\u003e","process_guid":"r-2","process_pid":[2]}]`; string(got) != w {
		t.Errorf("process search on fixed values\n%s\nwant\n%s", got, w)
	}
	got = job("processes", "search_jobs", "search_jobs", `{"query":"process_name:b.exe OR process_hash:`+lower+`","sort":[{"field":"device_timestamp","order":"ASC"}],"fields":["*"]}`)["results"]
	if w := "[" + want(raws[2], "process_sha256") + "," + want(raws[0], "process_sha256") + "," + want(raws[1], "process_sha256") + "]"; string(got) != w {
		t.Errorf("process search\n%s\nwant\n%s", got, w)
	}
	got = job("observations", "detail_jobs", "detail_jobs", `{"process_hash":"`+strings.ToLower(upper)+`"}`)["results"]
	if w := "[" + want(strings.Replace(raws[1], "process_guid", "observation_id", 1)) + "]"; string(got) != w {
		t.Errorf("observation details\n%s\nwant\n%s", got, w)
	}
	var sum struct{ Summary map[string]json.RawMessage }
	if err := json.Unmarshal([]byte(do(http.MethodGet, inv+"/processes/summary_jobs/"+func() string {
		var id struct {
			JobID string `json:"job_id"`
		}
		_ = json.Unmarshal([]byte(do(http.MethodPost, inv+"/processes/summary_jobs", `{"process_guid":"g-1"}`)), &id)
		return id.JobID
	}()+"/results", "")), &sum); err != nil {
		t.Fatal(err)
	}
	if string(sum.Summary["process"]) != want(raws[0]) || string(sum.Summary["parent"]) != want(raws[2]) ||
		string(sum.Summary["children"]) != "["+want(raws[1])+"]" {
		t.Errorf("summary %s", sum.Summary)
	}
	alert := s.Alerts()[1]
	b, _ := json.Marshal(alert)
	if got := do(http.MethodGet, "/api/alerts/v7/orgs/"+s.OrgKey()+"/alerts/"+alert.ID, ""); got != want(string(b)) {
		t.Errorf("alert\n%s\nwant\n%s", got, want(string(b)))
	}
}

// A watchlist's answer shares its list of report ids instead of copying it for each request (a series member holds
// up to 5,000, read, written and read back by each batch), and an empty list still answers [].
func TestWatchlistAnswerSharesReportIDs(t *testing.T) {
	s := NewServer(t)
	c := s.Client()
	ctx := context.Background()
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = carbonblack.NewID()
	}
	wl, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "series", ReportIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Watchlists.Get(ctx, wl.ID); err != nil || len(got.ReportIDs) != 5000 || got.ReportIDs[4999] != ids[4999] {
		t.Fatalf("get: %v", err)
	}
	s.mu.Lock()
	stored := s.st.watchlists[wl.ID]
	answer, _ := stored.wire()["report_ids"].([]string)
	shared := len(answer) == 5000 && &answer[0] == &stored.reportIDs[0]
	s.mu.Unlock()
	if !shared {
		t.Error("the answer copies the watchlist's report ids")
	}
	if empty, _ := (&watchlist{}).wire()["report_ids"].([]string); empty == nil {
		t.Error("a watchlist without report ids answers null")
	}
}
