package carbonblackconn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/connectortest"
)

func TestMapIOCs(t *testing.T) {
	sha := strings.Repeat("a", 64)
	sample := strings.Repeat("b", 64)
	dropped := strings.Repeat("c", 64)
	f := connector.Finding{
		Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: strings.ToUpper(sha)}},
		Verdict: connector.Verdict{Kind: connector.Malicious, SampleHashes: connector.Hashes{SHA256: sample}, IOCs: []connector.IOC{
			{Type: connector.IOCIP, Value: " 198.51.100.7 "},
			{Type: connector.IOCIP, Value: "2001:db8::1"},
			{Type: connector.IOCURL, Value: "http://C2.Example.net:8080/gate.php"},
			{Type: connector.IOCURL, Value: "https://203.0.113.9:443/x"},
			{Type: connector.IOCURL, Value: "http://[2001:db8::2]/x"},
			{Type: connector.IOCDomain, Value: "c2.example.net."},
			{Type: connector.IOCCommandLine, Value: `"C:\Users\a\x.exe" -install`},
			{Type: connector.IOCCommandLine, Value: `"C:\Windows\evil.exe"`},
			{Type: connector.IOCProcessName, Value: "'x.exe'"},
			{Type: connector.IOCFileName, Value: "payload.dll"},
			{Type: connector.IOCRegistryKey, Value: `HKCU\Software\Run`},
			{Type: connector.IOCSHA256, Value: dropped, Verdict: connector.Clean},
			{Type: connector.IOCMutex, Value: "Global\\m"},
		}},
	}
	got := carbonblackconn.MapIOCs(f, connector.Kinds(connector.Malicious))
	var want []carbonblackconn.FieldValue
	for _, h := range []string{sha, sample} {
		for _, field := range carbonblack.SHA256Fields {
			want = append(want, carbonblackconn.FieldValue{Field: field, Value: h})
		}
	}
	want = append(want,
		carbonblackconn.FieldValue{Field: "netconn_ipv4", Value: "198.51.100.7"},
		carbonblackconn.FieldValue{Field: "netconn_domain", Value: "c2.example.net"},
		carbonblackconn.FieldValue{Field: "netconn_ipv4", Value: "203.0.113.9"},
		carbonblackconn.FieldValue{Field: "process_cmdline", Value: `"C:\Users\a\x.exe" -install`},
		carbonblackconn.FieldValue{Field: "process_cmdline", Value: `C:\Windows\evil.exe`},
		carbonblackconn.FieldValue{Field: "process_name", Value: "x.exe"},
		carbonblackconn.FieldValue{Field: "filemod_name", Value: "payload.dll"},
		carbonblackconn.FieldValue{Field: "regmod_name", Value: `HKCU\Software\Run`},
	)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MapIOCs (-want +got):\n%s", diff)
	}
}

func finding(sha string, iocs ...connector.IOC) connector.Finding {
	return connector.Finding{
		Key:      connector.Key{Kind: connector.SHA256, Hex: sha},
		Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: sha}, FileName: "invoice.exe"},
		Verdict: connector.Verdict{Kind: connector.Malicious, Score: 87, Analyzer: "vmray", ReportURL: "https://eu.cloud.vmray.com/samples/42",
			Classifications: []string{"Downloader"}, ThreatNames: []string{"Mal/Generic"}, VTIs: []connector.VTI{{Operation: "Injects code"}},
			IOCs: iocs},
	}
}

func reportValues(r carbonblack.Report) []string {
	var out []string
	for _, ioc := range r.IOCsV2 {
		if ioc.MatchType != carbonblack.MatchEquality || len(ioc.Values) != 1 || ioc.Link != "https://eu.cloud.vmray.com/samples/42" {
			out = append(out, fmt.Sprintf("BAD IOC %+v", ioc))
			continue
		}
		out = append(out, ioc.Field+"="+ioc.Values[0])
	}
	slices.Sort(out)
	return out
}

func TestWatchlistReport(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	ctx := context.Background()
	// A feed already holds one domain: it is not reported again.
	if _, err := c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: "intel", ProviderURL: "https://x", Summary: "s", Category: "c"},
		carbonblack.Report{ID: "r1", Title: "known", Description: "d", Severity: 5,
			IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC("netconn_domain", "known.example.org")}}); err != nil {
		t.Fatal(err)
	}
	r, err := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sha1 := strings.Repeat("1", 64)
	f1 := finding(sha1, connector.IOC{Type: connector.IOCDomain, Value: "c2.example.net"},
		connector.IOC{Type: connector.IOCDomain, Value: "known.example.org"})
	res, err := r.Respond(ctx, f1)
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("first report: %+v %v", res, err)
	}
	wls := fake.Watchlists()
	if len(wls) != 1 || wls[0].Name != "VMRay Connector" || wls[0].Description != "VMRay Connector Watchlist" || !wls[0].AlertsEnabled ||
		!wls[0].TagsEnabled || len(wls[0].ReportIDs) != 1 {
		t.Fatalf("watchlists = %+v", wls)
	}
	reps := fake.Reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	rep := reps[0]
	if rep.Title != "[malicious] VMRAY Report for "+sha1 || rep.Description != "https://eu.cloud.vmray.com/samples/42" ||
		rep.Severity != 8 || !slices.Equal(rep.Tags, []string{"Downloader", "Mal/Generic", "Injects code"}) {
		t.Errorf("report = %+v", rep)
	}
	wantValues := []string{"netconn_domain=c2.example.net"}
	for _, field := range carbonblack.SHA256Fields {
		wantValues = append(wantValues, field+"="+sha1)
	}
	slices.Sort(wantValues)
	if diff := cmp.Diff(wantValues, reportValues(rep)); diff != "" {
		t.Errorf("IOCs (-want +got):\n%s", diff)
	}

	// The same finding again: nothing new, no call that writes.
	fake.ResetRequests()
	if res, err := r.Respond(ctx, f1); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v %v", res, err)
	}
	for _, q := range fake.Requests() {
		if q.Method != "GET" {
			t.Errorf("repeat wrote: %s %s", q.Method, q.Path)
		}
	}

	// A second file sharing the domain gets a report with its own hashes only.
	sha2 := strings.Repeat("2", 64)
	if res, err := r.Respond(ctx, finding(sha2, connector.IOC{Type: connector.IOCDomain, Value: "c2.example.net"})); err != nil || res.Status != connector.Acted {
		t.Fatalf("second file: %+v %v", res, err)
	}
	reps = fake.Reports()
	if len(reps) != 2 || slices.Contains(reportValues(reps[1]), "netconn_domain=c2.example.net") {
		t.Errorf("second report repeats a shared IOC: %v", reportValues(reps[len(reps)-1]))
	}

	// A restarted responder with a later verdict that brings a new IOC updates
	// the file's report instead of writing another.
	r2, err := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f1b := finding(sha1, connector.IOC{Type: connector.IOCIP, Value: "198.51.100.7"})
	if res, err := r2.Respond(ctx, f1b); err != nil || res.Status != connector.Acted || !strings.Contains(res.Detail, "updated") {
		t.Fatalf("update: %+v %v", res, err)
	}
	reps = fake.Reports()
	if len(reps) != 2 || !slices.Contains(reportValues(reps[0]), "netconn_ipv4=198.51.100.7") || len(reps[0].IOCsV2) != 8 {
		t.Errorf("after the update: %d reports, first has %v", len(reps), reportValues(reps[0]))
	}
	if wls := fake.Watchlists(); len(wls) != 1 || len(wls[0].ReportIDs) != 2 {
		t.Errorf("watchlists after update = %+v", wls)
	}
	if res, err := r2.Respond(ctx, f1b); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat after restart: %+v %v", res, err)
	}
}

func TestWatchlistReportNothingNew(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	sha := strings.Repeat("3", 64)
	var iocs []carbonblack.IOC
	for _, field := range carbonblack.SHA256Fields {
		iocs = append(iocs, carbonblack.EqualityIOC(field, sha))
	}
	if _, err := c.Feeds.Create(context.Background(), carbonblack.FeedInfo{Name: "intel", ProviderURL: "https://x", Summary: "s", Category: "c"},
		carbonblack.Report{ID: "r1", Title: "known", Description: "d", Severity: 5, IOCsV2: iocs}); err != nil {
		t.Fatal(err)
	}
	r, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	res, err := r.Respond(context.Background(), finding(sha))
	if err != nil || res.Status != connector.Unchanged {
		t.Errorf("nothing new: %+v %v", res, err)
	}
	if len(fake.Reports()) != 0 || len(fake.Watchlists()) != 0 {
		t.Errorf("a report or watchlist was written although nothing was new")
	}
}

func TestWatchlistReportConcurrentSharedIOCs(t *testing.T) {
	fake, _ := newFake(t)
	r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			f := finding(strings.Repeat(fmt.Sprint(i), 64), connector.IOC{Type: connector.IOCDomain, Value: "shared.example.net"})
			if _, err := r.Respond(context.Background(), f); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, rep := range fake.Reports() {
		if slices.Contains(reportValues(rep), "netconn_domain=shared.example.net") {
			n++
		}
	}
	wls := fake.Watchlists()
	if n != 1 || len(wls) != 1 || len(wls[0].ReportIDs) != 8 {
		t.Errorf("shared IOC in %d reports; watchlists %+v", n, wls)
	}
}

func TestBan(t *testing.T) {
	fake, _ := newFake(t)
	b, _ := carbonblackconn.NewBan(fake.Client(), carbonblackconn.BanOptions{})
	sha := strings.Repeat("4", 64)
	res, err := b.Respond(context.Background(), finding(sha))
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("ban: %+v %v", res, err)
	}
	ov := fake.Overrides()
	if len(ov) != 1 || ov[0].OverrideList != "BLACK_LIST" || ov[0].OverrideType != "SHA256" || ov[0].SHA256Hash != sha ||
		ov[0].Filename != "invoice.exe" || ov[0].Description != "Detected as malicious by VMRay" {
		t.Errorf("overrides = %+v", ov)
	}
	if res, err := b.Respond(context.Background(), finding(sha)); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v %v", res, err)
	}
}

func deviceFinding(dev carbonblack.Device, path string, pid int64) connector.Finding {
	f := finding(strings.Repeat("5", 64))
	s := connector.Sighting{Source: "cbc", DeviceID: fmt.Sprint(dev.ID), DeviceName: dev.Name, OS: "windows", PID: pid, FilePath: path,
		ProcessGUID: "guid-1"}
	f.Evidence.Sightings = []connector.Sighting{s}
	f.Sighting, f.Target = &s, s.DeviceKey()
	return f
}

func TestQuarantineAndPolicy(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-9", OS: "WINDOWS", PolicyID: 1})
	isolated := fake.AddDevice(carbonblack.Device{Name: "WS-10", OS: "WINDOWS", Quarantined: true})
	pol := fake.AddPolicy(carbonblack.Policy{Name: "Isolation Policy"})
	q, _ := carbonblackconn.NewQuarantine(c, "")
	if res, err := q.Respond(context.Background(), deviceFinding(dev, "", 0)); err != nil || res.Status != connector.Acted {
		t.Fatalf("quarantine: %+v %v", res, err)
	}
	if res, err := q.Respond(context.Background(), deviceFinding(isolated, "", 0)); err != nil || res.Status != connector.Unchanged {
		t.Errorf("already quarantined: %+v %v", res, err)
	}
	acts := fake.DeviceActions()
	if len(acts) != 1 || acts[0].ActionType != "QUARANTINE" || !slices.Equal(acts[0].DeviceIDs, []int64{dev.ID}) || acts[0].Options["toggle"] != "ON" {
		t.Errorf("device actions = %+v", acts)
	}
	for _, policy := range []string{"isolation policy", fmt.Sprint(pol.ID)} {
		p, err := carbonblackconn.NewPolicyMove(c, policy, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Respond(context.Background(), deviceFinding(isolated, "", 0))
		if err != nil {
			t.Fatalf("policy %q: %v", policy, err)
		}
		if d, _ := fake.Device(isolated.ID); d.PolicyID != pol.ID {
			t.Errorf("policy %q: device in policy %d, want %d (%+v)", policy, d.PolicyID, pol.ID, res)
		}
	}
	p, _ := carbonblackconn.NewPolicyMove(c, "No Such Policy", "")
	if _, err := p.Respond(context.Background(), deviceFinding(dev, "", 0)); !connector.IsPermanent(err) {
		t.Errorf("unknown policy: %v, want permanent", err)
	}
	if res, _ := q.Respond(context.Background(), finding(strings.Repeat("6", 64))); res.Status != connector.Skipped {
		t.Errorf("no sighting: %+v, want skipped", res)
	}
	if _, err := q.Respond(context.Background(), deviceFinding(carbonblack.Device{ID: 999999, Name: "gone"}, "", 0)); !connector.IsPermanent(err) {
		t.Errorf("unknown device: %v, want permanent", err)
	}
}

func TestLiveResponse(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-11", OS: "WINDOWS"})
	path := `C:\Users\bob\Downloads\invoice.exe`
	if err := fake.AddDeviceFile(dev.ID, path, []byte("MZ")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []carbonblack.LRProcess{{ProcessPID: 4242, ProcessPath: path}, {ProcessPID: 4343, ProcessPath: strings.ToLower(path)},
		{ProcessPID: 500, ProcessPath: `C:\Windows\explorer.exe`}} {
		if err := fake.AddDeviceProcess(dev.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	lr, _ := carbonblackconn.NewLiveResponse(c, carbonblackconn.LiveResponseOptions{})
	f := deviceFinding(dev, path, 4242)
	f.Target = f.Sighting.Key()
	res, err := lr.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("live response: %+v %v", res, err)
	}
	left := fake.DeviceProcesses(dev.ID)
	if len(left) != 1 || left[0].ProcessPID != 500 {
		t.Errorf("processes left: %+v", left)
	}
	if _, ok := fake.DeviceFile(dev.ID, path); ok {
		t.Error("file not deleted")
	}
	if open := fake.OpenSessions(); len(open) != 0 {
		t.Errorf("sessions left open: %v", open)
	}
	if res, err := lr.Respond(context.Background(), f); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v %v", res, err)
	}
	if open := fake.OpenSessions(); len(open) != 0 {
		t.Errorf("sessions left open after the repeat: %v", open)
	}

	noLR := fake.AddDevice(carbonblack.Device{Name: "WS-12", OS: "WINDOWS", SensorStates: []string{"ACTIVE", "LIVE_RESPONSE_DISABLED"}})
	_, err = lr.Respond(context.Background(), deviceFinding(noLR, path, 1))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "Live Response is not enabled") {
		t.Errorf("device without Live Response: %v", err)
	}
}

func TestLiveResponseClosesSessionOnFailure(t *testing.T) {
	fake, _ := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-13", OS: "WINDOWS"})
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: "/appservices/v6/orgs/" + fake.OrgKey() + "/liveresponse/sessions/", Status: 500})
	lr, _ := carbonblackconn.NewLiveResponse(fake.Client(), carbonblackconn.LiveResponseOptions{Timeout: 5 * time.Second})
	_, err := lr.Respond(context.Background(), deviceFinding(dev, `C:\x.exe`, 1))
	if err == nil || connector.IsPermanent(err) {
		t.Errorf("command failure: %v, want a transient error", err)
	}
	if open := fake.OpenSessions(); len(open) != 0 {
		t.Errorf("session left open after a failure: %v", open)
	}
}

// A close whose answer is lost is retried and answered 404: the session is
// closed, and the action succeeded.
func TestLiveResponseCloseWithALostAnswer(t *testing.T) {
	fake, _ := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-14", OS: "WINDOWS"})
	path := `C:\Users\eve\invoice.exe`
	if err := fake.AddDeviceFile(dev.ID, path, []byte("MZ")); err != nil {
		t.Fatal(err)
	}
	fake.InjectFault(carbonblacktest.Fault{Method: "DELETE", Path: "/appservices/v6/orgs/" + fake.OrgKey() + "/liveresponse/sessions/",
		LostAnswer: true, Times: 1})
	lr, _ := carbonblackconn.NewLiveResponse(fake.Client(), carbonblackconn.LiveResponseOptions{Timeout: 5 * time.Second})
	f := deviceFinding(dev, path, 0)
	f.Target = f.Sighting.Key()
	res, err := lr.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("live response with a lost close answer: %+v %v, want acted", res, err)
	}
	if open := fake.OpenSessions(); len(open) != 0 {
		t.Errorf("sessions left open: %v", open)
	}
}

func TestFeedReport(t *testing.T) {
	fake, _ := newFake(t)
	fr, err := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "Proofpoint TAP"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if res, err := fr.Respond(context.Background(), finding(strings.Repeat(fmt.Sprint(i), 64))); err != nil || res.Status != connector.Acted {
				t.Errorf("report %d: %+v %v", i, res, err)
			}
		})
	}
	wg.Wait()
	feeds, err := fake.Client().Feeds.List(context.Background(), false)
	if err != nil || len(feeds) != 1 {
		t.Fatalf("feeds = %+v %v", feeds, err)
	}
	feed, _ := fake.Feed(feeds[0].ID)
	if len(feed.Reports) != 10 || feed.FeedInfo.Access != "private" {
		t.Errorf("feed has %d reports (access %q), want 10", len(feed.Reports), feed.FeedInfo.Access)
	}
	r := feed.Reports[0]
	if r.ID != r.IOCsV2[0].Values[0] || r.IOCsV2[0].Field != "process_hash" || r.Severity != 8 || r.Link == "" ||
		!strings.HasPrefix(r.Title, "[malicious] Downloader Mal/Generic: ") {
		t.Errorf("report = %+v", r)
	}
	wls := fake.Watchlists()
	if len(wls) != 1 || wls[0].Classifier == nil || wls[0].Classifier.Value != feeds[0].ID || !wls[0].AlertsEnabled {
		t.Errorf("subscription = %+v", wls)
	}
	if res, err := fr.Respond(context.Background(), finding(strings.Repeat("3", 64))); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v %v", res, err)
	}
}

func TestHunterEnrich(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 2)
	h, _ := carbonblackconn.NewHunter(fake.Client(), carbonblackconn.HunterOptions{Now: clock.Now})
	ev := connector.Evidence{Hashes: connector.Hashes{SHA256: hashes[1]}, Sightings: []connector.Sighting{{MessageID: "<m1@example.com>"}}}
	if err := h.Enrich(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Sightings) != 2 || ev.Sightings[1].ProcessGUID != "7DESJ9GN-0001" || ev.Sightings[1].PID != 1001 ||
		ev.Sightings[1].DeviceName != "SRV-DB01" || ev.FileName != "tool1.exe" {
		t.Errorf("enriched = %+v", ev)
	}
	if err := h.Enrich(context.Background(), &ev); err != nil || len(ev.Sightings) != 2 {
		t.Errorf("second enrich duplicated sightings: %d %v", len(ev.Sightings), err)
	}
}

// A hunt's search job is a read: its creation is retried on 5xx and on a
// dropped connection like any idempotent call.
func TestHuntRetriesSearchJobStart(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 1)
	h, _ := carbonblackconn.NewHunter(fake.Client(), carbonblackconn.HunterOptions{Now: clock.Now})
	jobs := "/api/investigate/v2/orgs/" + fake.OrgKey() + "/processes/search_jobs"
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: jobs, Status: 503, Times: 1})
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: jobs, Drop: true, Times: 1})
	found, err := h.Hunt(context.Background(), hashes[0])
	if err != nil || len(found) != 1 {
		t.Fatalf("Hunt = %+v, %v; want the process despite a 503 and a reset", found, err)
	}
	if n := fake.CountRequests("POST", jobs); n != 3 {
		t.Errorf("search job starts = %d, want 3", n)
	}
}

func TestResponderErrorClasses(t *testing.T) {
	fake, _ := newFake(t)
	b, _ := carbonblackconn.NewBan(fake.Client(), carbonblackconn.BanOptions{})
	fake.InjectFault(carbonblacktest.Fault{Path: "/appservices/", Status: 502})
	_, err := b.Respond(context.Background(), finding(strings.Repeat("7", 64)))
	if err == nil || connector.IsPermanent(err) {
		t.Errorf("5xx: %v, want transient", err)
	}
	fake.ClearFaults()
	for _, status := range []int{400, 401, 403} {
		fake.InjectFault(carbonblacktest.Fault{Path: "/appservices/", Status: status, Times: 1})
		_, err := b.Respond(context.Background(), finding(strings.Repeat("7", 64)))
		if !connector.IsPermanent(err) {
			t.Errorf("%d: %v, want permanent", status, err)
		}
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/appservices/", Status: 429, RetryAfter: "7"})
	_, err = b.Respond(context.Background(), finding(strings.Repeat("7", 64)))
	if d, ok := connector.RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("429: %v (%v), want retry after 7s", err, d)
	}
	var pe interface{ Error() string }
	if errors.As(err, &pe) && strings.Contains(err.Error(), fake.APISecret()) {
		t.Error("the API secret leaked into an error")
	}
}

func TestResponderConformance(t *testing.T) {
	type mk func(t *testing.T, fake *carbonblacktest.Server) connector.Responder
	cases := map[string]struct {
		scope connector.Scope
		new   mk
		count func(fake *carbonblacktest.Server) int
	}{
		"watchlist": {connector.ScopeEvidence, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{})
			return r
		}, func(fake *carbonblacktest.Server) int { return len(fake.Reports()) }},
		"feed": {connector.ScopeEvidence, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			r, _ := carbonblackconn.NewFeedReport(fake.Client(), carbonblackconn.FeedOptions{Feed: "f"})
			return r
		}, func(fake *carbonblacktest.Server) int {
			n := 0
			for _, w := range fake.Watchlists() {
				if w.Classifier != nil {
					f, _ := fake.Feed(w.Classifier.Value)
					n += len(f.Reports)
				}
			}
			return n
		}},
		"ban": {connector.ScopeEvidence, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			r, _ := carbonblackconn.NewBan(fake.Client(), carbonblackconn.BanOptions{})
			return r
		}, func(fake *carbonblacktest.Server) int { return len(fake.Overrides()) }},
		"quarantine": {connector.ScopeDevice, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			r, _ := carbonblackconn.NewQuarantine(fake.Client(), "")
			return r
		}, func(fake *carbonblacktest.Server) int { return len(fake.DeviceActions()) }},
		"policy": {connector.ScopeDevice, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			fake.AddPolicy(carbonblack.Policy{Name: "Quarantine"})
			r, _ := carbonblackconn.NewPolicyMove(fake.Client(), "Quarantine", "")
			return r
		}, func(fake *carbonblacktest.Server) int { return len(fake.DeviceActions()) }},
		"live-response": {connector.ScopeSighting, func(t *testing.T, fake *carbonblacktest.Server) connector.Responder {
			r, _ := carbonblackconn.NewLiveResponse(fake.Client(), carbonblackconn.LiveResponseOptions{})
			return r
		}, func(fake *carbonblacktest.Server) int {
			// One process killed and one file deleted are two changes.
			f := connectortest.ExampleFinding(connector.ScopeSighting)
			n := 1 - len(fake.DeviceProcesses(98765))
			if _, ok := fake.DeviceFile(98765, f.Sighting.FilePath); !ok {
				n++
			}
			return n
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var fake *carbonblacktest.Server
			connectortest.TestResponder(t, connectortest.ResponderHarness{
				New: func(t *testing.T) connector.Responder {
					fake, _ = newFake(t)
					dev := fake.AddDevice(carbonblack.Device{ID: 98765, Name: "WS-0042", OS: "WINDOWS"})
					f := connectortest.ExampleFinding(connector.ScopeSighting)
					_ = fake.AddDeviceFile(dev.ID, f.Sighting.FilePath, []byte("MZ"))
					_ = fake.AddDeviceProcess(dev.ID, carbonblack.LRProcess{ProcessPID: f.Sighting.PID, ProcessPath: f.Sighting.FilePath})
					return tc.new(t, fake)
				},
				Finding: func(t testing.TB) connector.Finding { return connectortest.ExampleFinding(tc.scope) },
				Effects: func(t testing.TB) int { return tc.count(fake) },
			})
		})
	}
}

func TestWatchlistBaselineRefreshReadsOnlyNewReports(t *testing.T) {
	fake, clock := newFake(t)
	c := fake.Client()
	ctx := context.Background()
	r, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{BaselineTTL: time.Minute, Now: clock.Now})
	if _, err := r.Respond(ctx, finding(strings.Repeat("a", 64))); err != nil {
		t.Fatal(err)
	}
	// Someone else adds a report with a domain to another watchlist.
	other, err := c.Reports.Create(ctx, carbonblack.Report{Title: "analyst", Description: "d", Severity: 3,
		IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC("netconn_domain", "analyst.example")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "Analysts", ReportIDs: []string{other.ID}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	fake.ResetRequests()
	res, err := r.Respond(ctx, finding(strings.Repeat("b", 64), connector.IOC{Type: connector.IOCDomain, Value: "analyst.example"}))
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("%+v %v", res, err)
	}
	first := fake.Reports()[0].ID
	readOther := false
	for _, q := range fake.Requests() {
		if q.Method == "GET" && strings.HasSuffix(q.Path, "/reports/"+first) {
			t.Errorf("the refresh read report %s again", first)
		}
		readOther = readOther || q.Method == "GET" && strings.HasSuffix(q.Path, "/reports/"+other.ID)
	}
	if !readOther {
		t.Error("the refresh did not read the new report")
	}
	if vals := reportValues(fake.Reports()[len(fake.Reports())-1]); slices.Contains(vals, "netconn_domain=analyst.example") {
		t.Errorf("an IOC present in another watchlist was reported again: %v", vals)
	}
}

// A report created before a failure (the watchlist could not be written) is
// attached on the next call, not written a second time.
func TestWatchlistReportRecoversUnattachedReport(t *testing.T) {
	fake, _ := newFake(t)
	r, _ := carbonblackconn.NewWatchlistReport(fake.Client(), carbonblackconn.WatchlistOptions{})
	f := finding(strings.Repeat("c", 64), connector.IOC{Type: connector.IOCDomain, Value: "c2.example.net"})
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: "/threathunter/watchlistmgr/v3/orgs/" + fake.OrgKey() + "/watchlists", Status: 503})
	if _, err := r.Respond(context.Background(), f); err == nil || connector.IsPermanent(err) {
		t.Fatalf("watchlist creation failing: %v, want a transient error", err)
	}
	fake.ClearFaults()
	res, err := r.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted || !strings.Contains(res.Detail, "added report") {
		t.Fatalf("retry: %+v %v", res, err)
	}
	wls := fake.Watchlists()
	if len(fake.Reports()) != 1 || len(wls) != 1 || len(wls[0].ReportIDs) != 1 || wls[0].ReportIDs[0] != fake.Reports()[0].ID {
		t.Errorf("reports %d, watchlists %+v", len(fake.Reports()), wls)
	}
	if res, err := r.Respond(context.Background(), f); err != nil || res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v %v", res, err)
	}
}

// A report created by a process that stopped before adding it to the
// watchlist is found again by a new process (under its derived id) and
// attached, not written a second time.
func TestWatchlistReportFoundAfterRestart(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	f := finding(strings.Repeat("d", 64), connector.IOC{Type: connector.IOCDomain, Value: "c2.example.net"})
	r1, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: "/threathunter/watchlistmgr/v3/orgs/" + fake.OrgKey() + "/watchlists", Status: 503})
	if _, err := r1.Respond(context.Background(), f); err == nil {
		t.Fatal("watchlist creation failing: no error")
	}
	fake.ClearFaults()
	r2, _ := carbonblackconn.NewWatchlistReport(c, carbonblackconn.WatchlistOptions{})
	res, err := r2.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("restarted responder: %+v %v", res, err)
	}
	wls := fake.Watchlists()
	if len(fake.Reports()) != 1 || len(wls) != 1 || len(wls[0].ReportIDs) != 1 || wls[0].ReportIDs[0] != fake.Reports()[0].ID {
		t.Errorf("%d reports, watchlists %+v: the orphan report was duplicated", len(fake.Reports()), wls)
	}
}

// A write Carbon Black applies late replaces the report list and drops
// reports written after it: with VerifyDelay a report counts as added only
// when it is still there VerifyDelay after its write, is written again when
// it is not, and every later write puts back the reports this responder
// wrote that the feed lost.
func TestFeedReportVerifiesAgainstLateWrites(t *testing.T) {
	fake, _ := newFake(t)
	c := fake.Client()
	fr, err := carbonblackconn.NewFeedReport(c, carbonblackconn.FeedOptions{Feed: "Proofpoint TAP", VerifyDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, d := finding(strings.Repeat("b", 64)), finding(strings.Repeat("d", 64))
	_, err = fr.Respond(ctx, b)
	if _, later := connector.RetryAfter(err); !later {
		t.Fatalf("first write: %v, want a retry later until verified", err)
	}
	feeds, err := c.Feeds.List(ctx, false)
	if err != nil || len(feeds) != 1 {
		t.Fatalf("feeds = %+v %v", feeds, err)
	}
	id := feeds[0].ID
	if err := c.Feeds.ReplaceReports(ctx, id, nil); err != nil { // an earlier write lands late
		t.Fatal(err)
	}
	old := b
	old.EarlierAttempt = time.Now().Add(-2 * time.Hour)
	if _, err := fr.Respond(ctx, old); err == nil {
		t.Fatal("verification of a dropped report succeeded")
	}
	if feed, _ := fake.Feed(id); len(feed.Reports) != 1 {
		t.Fatalf("report not written again: %+v", feed.Reports)
	}
	recent := b
	recent.EarlierAttempt = time.Now().Add(-time.Minute)
	if _, err := fr.Respond(ctx, recent); !errors.Is(err, connector.ErrActionSettling) {
		t.Fatalf("a report written a minute ago: %v, want a retry later that keeps the writing attempt's start", err)
	}
	if res, err := fr.Respond(ctx, old); err != nil || res.Status != connector.Acted {
		t.Fatalf("verification: %+v %v, want acted", res, err)
	}
	if err := c.Feeds.ReplaceReports(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	_, _ = fr.Respond(ctx, d)
	if feed, _ := fake.Feed(id); len(feed.Reports) != 2 {
		t.Errorf("the next write did not put the dropped report back: %+v", feed.Reports)
	}
}
