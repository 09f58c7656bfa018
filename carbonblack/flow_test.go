package carbonblack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

func sum256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestFlowAlertsAcrossResultWindow(t *testing.T) {
	clock := carbonblacktest.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	// The service's real 10,000-result window, crossed once.
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithClock(clock))
	base := clock.Now().Add(-5 * time.Hour)
	const total = 10_300
	for i := range total {
		// Groups of three alerts share a backend_timestamp, so the window
		// boundary falls inside a group.
		ts := base.Add(time.Duration(i/3) * time.Second)
		fake.AddAlert(carbonblack.Alert{ID: fmt.Sprintf("alert-%05d", i), Type: "WATCHLIST", Severity: 5,
			BackendTimestamp: carbonblack.Timestamp{Time: ts}, DeviceID: 7})
	}
	fake.AddAlert(carbonblack.Alert{ID: "other-type", Type: "CB_ANALYTICS", BackendTimestamp: carbonblack.Timestamp{Time: base}})
	c := fake.Client()
	seen := map[string]int{}
	var last time.Time
	for a, err := range c.Alerts.All(context.Background(), carbonblack.AlertSearch{Criteria: carbonblack.Criteria{"type": []string{"WATCHLIST"}}, Rows: 3000}) {
		if err != nil {
			t.Fatal(err)
		}
		seen[a.ID]++
		if a.BackendTimestamp.Before(last) {
			t.Fatalf("alerts not in ascending order at %s", a.ID)
		}
		last = a.BackendTimestamp.Time
	}
	if len(seen) != total {
		t.Fatalf("got %d distinct alerts, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("alert %s yielded %d times", id, n)
		}
	}
	// The iterator must have narrowed the time range instead of crossing
	// the window: some request carries a time_range start.
	slid := false
	for _, r := range fake.Requests() {
		if strings.Contains(string(r.Body), `"time_range":{"end"`) || strings.Contains(string(r.Body), `"time_range":{"start"`) {
			slid = true
		}
	}
	if !slid {
		t.Fatal("no request narrowed the time range")
	}
}

func TestFlowProcessJobToResults(t *testing.T) {
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithJobPolls(3))
	hash := strings.Repeat("b", 64)
	for i := range 25 {
		fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(100 + i%3), DeviceName: "win10", ProcessName: `c:\temp\evil.exe`,
			ProcessHash: []string{"c7084336325dc8eadfb1e8ff876921c4", hash}, ProcessPID: carbonblack.IntList{int64(4000 + i)}})
	}
	fake.AddProcess(carbonblack.Process{DeviceID: 9, ProcessName: `c:\windows\notepad.exe`, ProcessHash: []string{strings.Repeat("c", 64)}})
	c := fake.Client(carbonblack.WithJobPageRows(10))
	ctx := context.Background()
	procs, err := collect(c.Processes.AllSearchResults(ctx, carbonblack.JobRequest{Query: "process_hash:" + hash, TimeRange: &carbonblack.TimeRange{Window: "-2w"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 25 {
		t.Fatalf("got %d processes, want 25", len(procs))
	}
	for _, p := range procs {
		if p.SHA256() != hash || p.ProcessSHA256 != "" {
			t.Fatalf("process %s: SHA256()=%q process_sha256=%q (the default fields leave it out)", p.ProcessGUID, p.SHA256(), p.ProcessSHA256)
		}
	}
	// Three result pages of 10 plus the progress polls, all with explicit rows.
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, "/results") && r.Query.Get("rows") == "" {
			t.Fatalf("results request without rows: %s", r.RawQuery)
		}
	}
	details, err := c.Processes.Details(ctx, procs[0].ProcessGUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(details) != 1 || details[0].ProcessSHA256 != hash {
		t.Fatalf("details = %+v", details)
	}
	// A syntax error is caught by validation before a job starts.
	_, err = collect(c.Processes.AllSearchResults(ctx, carbonblack.JobRequest{Query: "process_name:(evil.exe"}))
	if !errors.Is(err, carbonblack.ErrQuerySyntax) {
		t.Fatalf("err = %v, want ErrQuerySyntax", err)
	}
}

func collect[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestFlowObservationsNoDataDoesNotHang(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	c := fake.Client()
	obs, err := collect(c.Observations.AllSearchResults(context.Background(), carbonblack.JobRequest{Query: "alert_category:THREAT"}))
	if err != nil || len(obs) != 0 {
		t.Fatalf("obs=%v err=%v", obs, err)
	}
}

func TestFlowBatchUBSDownloadWithTruncation(t *testing.T) {
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithTLS(), carbonblacktest.WithTruncation(64<<10))
	small := bytes.Repeat([]byte("MZ small sample "), 1000)
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	smallSHA, _ := fake.AddBinary(carbonblacktest.Binary{Content: small})
	bigSHA, _ := fake.AddBinary(carbonblacktest.Binary{Content: big})
	flakySHA, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("later"), TransientErrors: 1})
	unknown := strings.Repeat("0", 64)
	c := fake.Client()
	ctx := context.Background()
	links, err := c.UBS.DownloadLinks(ctx, time.Minute, smallSHA, bigSHA, flakySHA, unknown)
	if err != nil {
		t.Fatal(err)
	}
	if len(links.Found) != 2 || len(links.NotFound) != 1 || links.NotFound[0] != unknown || len(links.Error) != 1 || links.Error[0] != flakySHA {
		t.Fatalf("links = %+v", links)
	}
	if n := fake.CountRequests(http.MethodPost, "/ubs/"); n != 1 {
		t.Fatalf("%d _download calls, want one batch", n)
	}
	for _, l := range links.Found {
		smp, err := c.UBS.OpenLink(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(smp)
		if err != nil {
			t.Fatal(err)
		}
		verr := smp.Verify()
		smp.Close()
		switch l.SHA256 {
		case smallSHA:
			if verr != nil || !bytes.Equal(got, small) {
				t.Fatalf("small sample: err %v, %d bytes", verr, len(got))
			}
		case bigSHA:
			var te *carbonblack.TruncatedSampleError
			if !errors.As(verr, &te) || !errors.Is(verr, carbonblack.ErrTruncatedSample) {
				t.Fatalf("big sample: Verify = %v, want a truncation", verr)
			}
			if te.Requested != bigSHA || te.Actual != sum256(big[:64<<10]) || te.Size != 64<<10 {
				t.Fatalf("truncation = %+v", te)
			}
		}
	}
	meta, err := c.UBS.Metadata(ctx, bigSHA)
	if err != nil || !meta.Truncated() || meta.FileSize != int64(len(big)) {
		t.Fatalf("metadata = %+v, %v", meta, err)
	}
	// The pre-signed link never carried credentials, and refuses them.
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Path, "/cdc-file-storage/") && r.Header.Get("X-Auth-Token") != "" {
			t.Fatal("credentials sent to the object store")
		}
	}
	req, _ := http.NewRequest(http.MethodGet, links.Found[0].URL, nil)
	req.Header.Set("X-Auth-Token", fake.APISecret()+"/"+fake.APIID())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(t, fake.CACertPEM())}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("object store answered %d to a request with credentials", resp.StatusCode)
	}
	// The second ask serves the flaky hash; Download reports no truncation.
	var buf bytes.Buffer
	info, err := c.UBS.Download(ctx, flakySHA, &buf)
	if err != nil || info.Truncated || buf.String() != "later" {
		t.Fatalf("Download = %+v, %v, %q", info, err, buf.String())
	}
	_, err = c.UBS.Download(ctx, unknown, io.Discard)
	if !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
}

func TestFlowExpiredLink(t *testing.T) {
	clock := carbonblacktest.NewManualClock(time.Now())
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithClock(clock))
	sha, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("x")})
	c := fake.Client()
	links, err := c.UBS.DownloadLinks(context.Background(), time.Minute, sha)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	_, err = c.UBS.OpenLink(context.Background(), links.Found[0])
	if !errors.Is(err, carbonblack.ErrForbidden) {
		t.Fatalf("expired link: %v", err)
	}
	if strings.Contains(err.Error(), "X-Amz-Signature") {
		t.Fatalf("error leaks the signature: %v", err)
	}
}

func TestFlowWatchlistReportVisible(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	c := fake.Client()
	ctx := context.Background()
	wl, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "VMRay Connector", Description: "VMRay Connector Watchlist", TagsEnabled: true, AlertsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("d", 64)
	var iocs []carbonblack.IOC
	for _, f := range carbonblack.SHA256Fields {
		iocs = append(iocs, carbonblack.EqualityIOC(f, hash))
	}
	rep, err := c.Reports.Create(ctx, carbonblack.Report{Title: "[malicious] VMRAY Report for " + hash, Description: "https://vmray.example/sample/1",
		Severity: carbonblack.Severity(3), IOCsV2: iocs})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID == "" || rep.Severity != 1 {
		t.Fatalf("report = %+v", rep)
	}
	got, err := c.Watchlists.AddReports(ctx, wl.ID, rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ReportIDs) != 1 || got.ReportIDs[0] != rep.ID {
		t.Fatalf("watchlist = %+v", got)
	}
	again, err := c.Watchlists.Get(ctx, wl.ID)
	if err != nil || len(again.ReportIDs) != 1 {
		t.Fatalf("reread = %+v, %v", again, err)
	}
	back, err := c.Reports.Get(ctx, rep.ID)
	if err != nil || len(back.IOCsV2) != 6 || back.IOCsV2[0].Values[0] != hash {
		t.Fatalf("report reread = %+v, %v", back, err)
	}
	if n := len(fake.Reports()); n != 1 {
		t.Fatalf("fake holds %d reports", n)
	}
	// Concurrent adds through one client lose nothing.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		r, err := c.Reports.Create(ctx, carbonblack.Report{Title: fmt.Sprintf("r%d", i), Description: "d", Severity: 5, IOCsV2: []carbonblack.IOC{carbonblack.QueryIOC("process_name:x.exe")}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Watchlists.AddReports(ctx, wl.ID, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	final, err := c.Watchlists.Get(ctx, wl.ID)
	if err != nil || len(final.ReportIDs) != 9 {
		t.Fatalf("after concurrent adds: %v ids, %v", final.ReportIDs, err)
	}
	// Invalid reports are refused before any request.
	_, err = c.Reports.Create(ctx, carbonblack.Report{Title: "t", Description: "d", Severity: 0, IOCsV2: iocs})
	if !errors.Is(err, carbonblack.ErrInvalidReport) {
		t.Fatalf("severity 0: %v", err)
	}
}

func TestFlowFeedSubscription(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	c := fake.Client()
	ctx := context.Background()
	info, err := c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: "Proofpoint", ProviderURL: "https://www.proofpoint.com", Summary: "TAP", Category: "Partner"})
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	mk := func(h string) carbonblack.Report {
		return carbonblack.Report{ID: h, Title: "malicious " + h, Description: "This IOC was identified by Proofpoint as malicious.", Severity: 8,
			IOCsV2: []carbonblack.IOC{{ID: h, MatchType: carbonblack.MatchEquality, Field: carbonblack.FieldProcessHash, Values: []string{h}}}}
	}
	if err := c.Feeds.AddReports(ctx, info.ID, mk(h1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Feeds.AddReports(ctx, info.ID, mk(h2), mk(h1)); err != nil {
		t.Fatal(err)
	}
	reps, err := c.Feeds.Reports(ctx, info.ID)
	if err != nil || len(reps) != 2 {
		t.Fatalf("feed reports = %d, %v", len(reps), err)
	}
	wl, err := c.Watchlists.Subscribe(ctx, info.ID, "Proofpoint feed", "alerts on TAP hashes", true)
	if err != nil || wl.Classifier == nil || wl.Classifier.Value != info.ID || wl.ReportIDs != nil {
		t.Fatalf("subscription = %+v, %v", wl, err)
	}
	if _, err := c.Watchlists.AddReports(ctx, wl.ID, "x"); !errors.Is(err, carbonblack.ErrInvalidRequest) {
		t.Fatalf("adding reports to a classifier watchlist: %v", err)
	}
	feeds, err := c.Feeds.List(ctx, false)
	if err != nil || len(feeds) != 1 {
		t.Fatalf("feeds = %+v, %v", feeds, err)
	}
}

func TestFlowBanAndQuarantine(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	pol := fake.AddPolicy(carbonblack.Policy{Name: "Isolation"})
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10", PolicyID: 1})
	c := fake.Client()
	ctx := context.Background()
	hash := strings.Repeat("e", 64)
	o1, err := c.Reputations.Ban(ctx, hash, "evil.exe", "Detected as malicious by VMRay")
	if err != nil {
		t.Fatal(err)
	}
	o2, err := c.Reputations.Ban(ctx, strings.ToUpper(hash), "evil.exe", "again")
	if err != nil || o2.ID != o1.ID {
		t.Fatalf("second ban: %+v, %v", o2, err)
	}
	if !fake.Banned(hash) || len(fake.Overrides()) != 1 {
		t.Fatal("ban not recorded once")
	}
	if err := c.Devices.Quarantine(ctx, true, dev.ID); err != nil {
		t.Fatal(err)
	}
	p, err := c.Policies.FindByName(ctx, "isolation")
	if err != nil || p.ID != pol.ID {
		t.Fatalf("FindByName = %+v, %v", p, err)
	}
	if err := c.Devices.UpdatePolicy(ctx, p.ID, dev.ID); err != nil {
		t.Fatal(err)
	}
	got, err := c.Devices.Get(ctx, dev.ID)
	if err != nil || !got.Quarantined || got.PolicyID != pol.ID || got.PolicyName != "Isolation" {
		t.Fatalf("device = %+v, %v", got, err)
	}
	if acts := fake.DeviceActions(); len(acts) != 2 || acts[0].ActionType != carbonblack.ActionQuarantine || acts[0].Options["toggle"] != "ON" {
		t.Fatalf("actions = %+v", acts)
	}
	if err := c.Devices.UpdatePolicy(ctx, 424242, dev.ID); !errors.Is(err, carbonblack.ErrBadRequest) {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := c.Policies.FindByName(ctx, "nope"); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("unknown policy name: %v", err)
	}
}

func TestFlowLiveResponseKillAndDelete(t *testing.T) {
	fake := carbonblacktest.NewServer(t, carbonblacktest.WithSessionPolls(2), carbonblacktest.WithCommandPolls(2))
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
	path := `C:\Users\bob\Downloads\invoice.exe`
	_ = fake.AddDeviceProcess(dev.ID, carbonblack.LRProcess{ProcessPID: 601, ProcessPath: path})
	_ = fake.AddDeviceProcess(dev.ID, carbonblack.LRProcess{ProcessPID: 4, ProcessPath: `c:\windows\system32\ntoskrnl.exe`})
	_ = fake.AddDeviceFile(dev.ID, path, []byte("MZ evil"))
	c := fake.Client()
	ctx := context.Background()
	lr, err := c.LiveResponse.Open(ctx, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	procs, err := lr.ProcessList(ctx)
	if err != nil || len(procs) != 2 {
		t.Fatalf("process list = %+v, %v", procs, err)
	}
	rc, err := lr.GetFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(rc)
	rc.Close()
	if string(content) != "MZ evil" {
		t.Fatalf("get file = %q", content)
	}
	if err := lr.Kill(ctx, 601); err != nil {
		t.Fatal(err)
	}
	if err := lr.DeleteFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	err = lr.DeleteFile(ctx, path)
	var ce *carbonblack.CommandError
	if !errors.As(err, &ce) || ce.ResultCode != -2147024894 {
		t.Fatalf("second delete: %v", err)
	}
	if err := lr.CreateRegistryKey(ctx, `HKLM\SOFTWARE\Evil`); err != nil {
		t.Fatal(err)
	}
	if err := lr.DeleteRegistryKey(ctx, `HKLM\SOFTWARE\Evil`); err != nil {
		t.Fatal(err)
	}
	if err := lr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := fake.DeviceProcesses(dev.ID); len(left) != 1 || left[0].ProcessPID != 4 {
		t.Fatalf("process table = %+v", left)
	}
	if _, ok := fake.DeviceFile(dev.ID, path); ok {
		t.Fatal("file still on the device")
	}
	if len(fake.OpenSessions()) != 0 {
		t.Fatal("session left open")
	}
	// The file content redirect went to the object store without the token.
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Path, "/lr-file-storage/") && r.Header.Get("X-Auth-Token") != "" {
			t.Fatal("token followed the redirect")
		}
	}
	cmds := fake.Commands()
	if cmds[2].Name != carbonblack.CommandKill || cmds[2].PID != 601 {
		t.Fatalf("commands = %+v", cmds)
	}
}

func TestFlowLiveResponseDisabled(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "LINUX1", OS: "LINUX", SensorStates: []string{"ACTIVE", "LIVE_RESPONSE_DISABLED"}})
	c := fake.Client()
	_, err := c.LiveResponse.Open(context.Background(), dev.ID)
	var le *carbonblack.LiveResponseUnavailableError
	if !errors.As(err, &le) || !errors.Is(err, carbonblack.ErrLiveResponseUnavailable) || le.DeviceID != dev.ID {
		t.Fatalf("err = %v", err)
	}
	// A session started anyway never becomes active: the wait is bounded.
	sess, err := c.LiveResponse.StartSession(context.Background(), dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	short := fake.Client(carbonblack.WithSessionPolling(carbonblack.PollPolicy{Interval: time.Millisecond, Timeout: 30 * time.Millisecond}))
	if _, err := short.LiveResponse.WaitSession(context.Background(), sess.ID); !errors.Is(err, carbonblack.ErrWaitTimeout) {
		t.Fatalf("wait = %v", err)
	}
}
