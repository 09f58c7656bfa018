package carbonblackconn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/soarkit/soarkit/connector/memstore"
)

// seedAlerts stores a device and alerts: two on the same file, one trusted
// (excluded by reputation), one on a Mac (excluded by OS), one before the
// look-back.
func seedAlerts(t testing.TB, fake *carbonblacktest.Server) (dev carbonblack.Device, sha string) {
	dev = fake.AddDevice(carbonblack.Device{Name: "WS-0042", OS: "WINDOWS"})
	content := []byte("MZ invoice dropper")
	sha = seedBinary(t, fake, content)
	base := carbonblack.Alert{Type: "CB_ANALYTICS", Severity: 6, DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name,
		DeviceOS: "WINDOWS", ProcessSHA256: sha, ProcessMD5: md5Hex(content), ProcessName: `c:\users\alice\invoice.exe`,
		ProcessEffectiveReputation: "NOT_LISTED"}
	a1 := base
	a1.ID, a1.ProcessGUID, a1.ProcessPID, a1.BackendTimestamp = "alert-1", "7DESJ9GN-1", 4242, ts(t0.Add(-time.Hour))
	a2 := base
	a2.ID, a2.ProcessGUID, a2.ProcessPID, a2.BackendTimestamp = "alert-2", "7DESJ9GN-2", 4343, ts(t0.Add(-30*time.Minute))
	trusted := base
	trusted.ID, trusted.ProcessSHA256, trusted.ProcessEffectiveReputation = "alert-3", strings.Repeat("a", 64), "TRUSTED_WHITE_LIST"
	trusted.BackendTimestamp = ts(t0.Add(-time.Hour))
	mac := base
	mac.ID, mac.ProcessSHA256, mac.DeviceOS, mac.BackendTimestamp = "alert-4", strings.Repeat("b", 64), "MAC", ts(t0.Add(-time.Hour))
	old := base
	old.ID, old.ProcessSHA256, old.BackendTimestamp = "alert-5", strings.Repeat("c", 64), ts(t0.Add(-11*time.Hour))
	for _, a := range []carbonblack.Alert{a1, a2, trusted, mac, old} {
		fake.AddAlert(a)
	}
	return dev, sha
}

func TestAlertSourceCollectsFilteredWindow(t *testing.T) {
	fake, clock := newFake(t)
	dev, sha := seedAlerts(t, fake)
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{
		Window: carbonblackconn.WindowOptions{Now: clock.Now}, NoPrefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.More {
		t.Error("More set for a window that reaches now")
	}
	devID := fmt.Sprint(dev.ID)
	want := []connector.Evidence{{
		Hashes: connector.Hashes{SHA256: sha, MD5: md5Hex([]byte("MZ invoice dropper"))}, FileName: "invoice.exe", Source: "cbc-alerts",
		Sightings: []connector.Sighting{
			{Source: "cbc-alerts", Time: t0.Add(-time.Hour), DeviceID: devID, DeviceName: "WS-0042", OS: "windows",
				ProcessGUID: "7DESJ9GN-1", PID: 4242, FilePath: `c:\users\alice\invoice.exe`,
				Attributes: map[string]string{"alert_id": "alert-1", "alert_type": "CB_ANALYTICS", "alert_severity": "6", "reputation": "NOT_LISTED"}},
			{Source: "cbc-alerts", Time: t0.Add(-30 * time.Minute), DeviceID: devID, DeviceName: "WS-0042", OS: "windows",
				ProcessGUID: "7DESJ9GN-2", PID: 4343, FilePath: `c:\users\alice\invoice.exe`,
				Attributes: map[string]string{"alert_id": "alert-2", "alert_type": "CB_ANALYTICS", "alert_severity": "6", "reputation": "NOT_LISTED"}},
		},
	}}
	if diff := cmp.Diff(want, b.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
	var body struct {
		Query     string `json:"query"`
		TimeRange struct {
			Start, End string
		} `json:"time_range"`
	}
	reqs := fake.Requests()
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	wantQuery := "!process_effective_reputation:TRUSTED_WHITE_LIST AND !process_effective_reputation:LOCAL_WHITE AND " +
		"!process_effective_reputation:COMPANY_WHITE_LIST AND !process_effective_reputation:COMMON_WHITE_LIST AND " +
		"!process_effective_reputation:ADAPTIVE_WHITE_LIST AND device_os:WINDOWS"
	if body.Query != wantQuery {
		t.Errorf("query = %q, want %q", body.Query, wantQuery)
	}
	if body.TimeRange.Start != "2026-03-01T02:00:00.000Z" || body.TimeRange.End != "2026-03-01T12:00:00.000Z" {
		t.Errorf("time range = %+v, want the 10 h look-back in UTC", body.TimeRange)
	}

	// The next collection resumes at the checkpoint (minus the overlap) and
	// sees only the new alert.
	clock.Advance(time.Hour)
	late := fake.AddAlert(carbonblack.Alert{ID: "alert-6", Type: "WATCHLIST", DeviceID: carbonblack.FlexInt(dev.ID), DeviceOS: "WINDOWS",
		ProcessSHA256: strings.Repeat("d", 64), ProcessEffectiveReputation: "NOT_LISTED", BackendTimestamp: ts(t0.Add(30 * time.Minute))})
	b2, err := src.Collect(context.Background(), b.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(b2.Evidence) != 1 || b2.Evidence[0].Hashes.SHA256 != late.ProcessSHA256 {
		t.Errorf("second window: %+v, want only the new alert", b2.Evidence)
	}
	reqs = fake.Requests()
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.TimeRange.Start != "2026-03-01T11:55:00.000Z" || body.TimeRange.End != "2026-03-01T13:00:00.000Z" {
		t.Errorf("second time range = %+v", body.TimeRange)
	}
}

func TestFiltersQuery(t *testing.T) {
	for _, tc := range []struct {
		f    carbonblackconn.Filters
		want string
	}{
		{carbonblackconn.Filters{ExcludeReputations: []string{}, DeviceOS: []string{}}, ""},
		{carbonblackconn.Filters{ExcludeReputations: []string{"pup"}, DeviceOS: []string{"windows", "LINUX"}},
			"!process_effective_reputation:PUP AND (device_os:WINDOWS OR device_os:LINUX)"},
	} {
		src, err := carbonblackconn.NewAlertSource(&carbonblack.Client{}, carbonblackconn.SourceOptions{Filters: tc.f})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.Query(); got != tc.want {
			t.Errorf("Query() = %q, want %q", got, tc.want)
		}
	}
	_, err := carbonblackconn.NewAlertSource(&carbonblack.Client{}, carbonblackconn.SourceOptions{
		Filters: carbonblackconn.Filters{DeviceOS: []string{"AMIGA"}}})
	if err == nil || !strings.Contains(err.Error(), "AMIGA") {
		t.Errorf("unknown OS: %v", err)
	}
}

func TestAlertSourceSplitsLongBacklog(t *testing.T) {
	fake, clock := newFake(t)
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true,
		Window: carbonblackconn.WindowOptions{Now: clock.Now, LookBack: 60 * time.Hour, MaxWindow: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	var cp connector.Checkpoint
	n := 0
	for {
		b, err := src.Collect(context.Background(), cp)
		if err != nil {
			t.Fatal(err)
		}
		n++
		cp = b.Next
		if !b.More {
			break
		}
		if n > 5 {
			t.Fatal("no progress")
		}
	}
	if n != 3 {
		t.Errorf("a 60 h backlog took %d windows of 24 h, want 3", n)
	}
}

// seedProcesses stores n processes of distinct files on one device, a minute
// apart, ending at t0.
func seedProcesses(t testing.TB, fake *carbonblacktest.Server, n int) []string {
	dev := fake.AddDevice(carbonblack.Device{Name: "SRV-DB01", OS: "WINDOWS"})
	var hashes []string
	for i := range n {
		content := fmt.Appendf(nil, "MZ process %d", i)
		sha := sha256Hex(content)
		hashes = append(hashes, sha)
		start := t0.Add(-time.Duration(n-i) * time.Minute)
		fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name, DeviceOS: "WINDOWS",
			ProcessGUID: fmt.Sprintf("7DESJ9GN-%04d", i), ProcessHash: []string{md5Hex(content), sha}, ProcessSHA256: sha,
			ProcessName: fmt.Sprintf(`c:\tools\tool%d.exe`, i), ProcessPID: carbonblack.IntList{int64(1000 + i)},
			ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: ts(start), DeviceTimestamp: ts(start),
			BackendTimestamp: ts(start)})
	}
	return hashes
}

func TestProcessSourceReadsEveryResult(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 23)
	src, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true, JobRows: 5,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, ev := range collectAll(t, src, nil).evidence() {
		got[ev.Hashes.SHA256] = true
		if len(ev.Sightings) != 1 || ev.Sightings[0].PID < 1000 || ev.Sightings[0].ProcessGUID == "" || ev.Hashes.MD5 == "" {
			t.Errorf("evidence %+v lacks process details", ev)
		}
	}
	for _, h := range hashes {
		if !got[h] {
			t.Errorf("process file %s missing: a search job's row limit cut the results", h[:12])
		}
	}
	if jobs := fake.CountRequests("POST", "/api/investigate/v2/orgs/"+fake.OrgKey()+"/processes/search_jobs"); jobs < 5 {
		t.Errorf("%d search jobs for 23 results at 5 rows a job; the window was not split", jobs)
	}
	var body struct {
		Query  string   `json:"query"`
		Fields []string `json:"fields"`
		Rows   int      `json:"rows"`
	}
	for _, r := range fake.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/processes/search_jobs") {
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if !strings.Contains(body.Query, "!process_effective_reputation:TRUSTED_WHITE_LIST") ||
		!strings.Contains(body.Query, "process_start_time:[2026-03-01T02:00:00.000Z TO 2026-03-01T12:00:00.000Z]") ||
		body.Rows != 5 || !strings.Contains(strings.Join(body.Fields, ","), "process_sha256") {
		t.Errorf("process job body = %+v", body)
	}
}

func TestObservationSource(t *testing.T) {
	fake, clock := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-0007", OS: "WINDOWS"})
	sha := strings.Repeat("e", 64)
	fake.AddObservation(carbonblack.Observation{ObservationID: "obs-1", ObservationType: "CB_ANALYTICS",
		DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name, DeviceOS: "WINDOWS", ProcessGUID: "7DESJ9GN-obs",
		ProcessSHA256: sha, ProcessName: `c:\temp\x.exe`, ProcessPID: carbonblack.IntList{77},
		ProcessEffectiveReputation: "NOT_LISTED", DeviceTimestamp: ts(t0.Add(-time.Hour)), BackendTimestamp: ts(t0.Add(-time.Hour))})
	fake.AddObservation(carbonblack.Observation{ObservationID: "obs-2", DeviceID: carbonblack.FlexInt(dev.ID), DeviceOS: "WINDOWS",
		ProcessSHA256: strings.Repeat("f", 64), ProcessEffectiveReputation: "COMMON_WHITE_LIST",
		DeviceTimestamp: ts(t0.Add(-time.Hour)), BackendTimestamp: ts(t0.Add(-time.Hour))})
	src, err := carbonblackconn.NewObservationSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Evidence) != 1 || b.Evidence[0].Hashes.SHA256 != sha {
		t.Fatalf("evidence = %+v, want only the file not on an allow list", b.Evidence)
	}
	s := b.Evidence[0].Sightings[0]
	if s.Source != "cbc-observations" || s.PID != 77 || s.ProcessGUID != "7DESJ9GN-obs" || s.Attributes["observation_id"] != "obs-1" {
		t.Errorf("sighting = %+v", s)
	}
}

func TestSourceConformance(t *testing.T) {
	for name, mk := range map[string]func(*carbonblack.Client, carbonblackconn.SourceOptions) (*carbonblackconn.Source, error){
		"alerts": carbonblackconn.NewAlertSource, "processes": carbonblackconn.NewProcessSource,
		"observations": carbonblackconn.NewObservationSource,
	} {
		t.Run(name, func(t *testing.T) {
			connectortest.TestSource(t, connectortest.SourceHarness{New: func(t *testing.T) connector.Source {
				fake, clock := newFake(t)
				seedAlerts(t, fake)
				for i, h := range seedProcesses(t, fake, 3) {
					if _, err := fake.AddBinary(carbonblacktest.Binary{Content: fmt.Appendf(nil, "MZ process %d", i)}); err != nil {
						t.Fatal(err)
					}
					fake.AddObservation(carbonblack.Observation{ObservationID: fmt.Sprint("obs-", i), DeviceID: 1000, DeviceOS: "WINDOWS",
						ProcessSHA256: h, ProcessName: `c:\tools\x.exe`, ProcessEffectiveReputation: "NOT_LISTED",
						DeviceTimestamp: ts(t0.Add(-time.Hour)), BackendTimestamp: ts(t0.Add(-time.Hour))})
				}
				src, err := mk(fake.Client(), carbonblackconn.SourceOptions{Window: carbonblackconn.WindowOptions{Now: clock.Now}})
				if err != nil {
					t.Fatal(err)
				}
				return src
			}})
		})
	}
}

func TestFetchBatchesDownloadLinks(t *testing.T) {
	fake, _ := newFake(t)
	var hashes []string
	contents := map[string][]byte{}
	for i := range 6 {
		c := fmt.Appendf(nil, "MZ sample %d", i)
		h := seedBinary(t, fake, c)
		hashes, contents[h] = append(hashes, h), c
	}
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{BatchWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(hashes))
	for i, h := range hashes {
		wg.Go(func() {
			s, err := bin.Fetch(context.Background(), h, "")
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Body.Close()
			b, err := io.ReadAll(s.Body)
			if err == nil && string(b) != string(contents[h]) {
				err = fmt.Errorf("content of %s differs", h[:8])
			}
			if s.Truncated || s.Hashes.SHA256 != h || s.Name != h || s.Size != int64(len(contents[h])) {
				err = fmt.Errorf("sample %+v", s)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 1 {
		t.Errorf("%d file/_download calls for 6 concurrent fetches, want 1", n)
	}
	// A delivered file's link is not kept (the cache holds only links still to be used), so fetching it again
	// asks for a new one.
	s, err := bin.Fetch(context.Background(), hashes[0], "x.exe")
	if err != nil {
		t.Fatal(err)
	}
	s.Body.Close()
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 2 {
		t.Errorf("%d file/_download calls after fetching a file again, want 2", n)
	}
}

func TestCollectPrefetchesLinks(t *testing.T) {
	fake, clock := newFake(t)
	seedAlerts(t, fake)
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 1 {
		t.Fatalf("%d file/_download calls at collection, want 1", n)
	}
	s, err := src.Fetch(context.Background(), b.Evidence[0])
	if err != nil {
		t.Fatal(err)
	}
	s.Body.Close()
	if s.Name != "invoice.exe" {
		t.Errorf("sample name %q", s.Name)
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 1 {
		t.Errorf("the fetch asked for a link again although the collection prefetched it (%d calls)", n)
	}
}

func TestFetchTruncatedSample(t *testing.T) {
	fake, _ := newFake(t, carbonblacktest.WithTruncation(4096))
	full := make([]byte, 3*4096+11)
	for i := range full {
		full[i] = byte(i * 7)
	}
	sha := seedBinary(t, fake, full)
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{SpoolMemory: 1000, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := bin.Fetch(context.Background(), sha, "big.exe")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s.Body)
	s.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Truncated || s.Size != 4096 || s.Hashes.SHA256 != sha256Hex(full[:4096]) || string(got) != string(full[:4096]) {
		t.Errorf("truncated sample: truncated=%v size=%d hash=%s, want the first 4096 bytes under their own hash",
			s.Truncated, s.Size, s.Hashes.SHA256)
	}
}

func TestFetchErrors(t *testing.T) {
	fake, _ := newFake(t)
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{BatchWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err = bin.Fetch(context.Background(), strings.Repeat("0", 64), "")
		if !connector.IsPermanent(err) || !errors.Is(err, carbonblackconn.ErrNotInUBS) {
			t.Errorf("unknown file: %v, want a permanent ErrNotInUBS", err)
		}
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 1 {
		t.Errorf("the answer \"not found\" was not remembered: %d calls", n)
	}
	retry, err2 := fake.AddBinary(carbonblacktest.Binary{Content: []byte("MZ later"), TransientErrors: 100})
	if err2 != nil {
		t.Fatal(err2)
	}
	_, err = bin.Fetch(context.Background(), retry, "")
	if _, ok := connector.RetryAfter(err); !ok || connector.IsPermanent(err) {
		t.Errorf("file UBS cannot serve now: %v, want retry later", err)
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/ubs/", Status: 503})
	_, err = bin.Fetch(context.Background(), seedBinary(t, fake, []byte("MZ 5xx")), "")
	if err == nil || connector.IsPermanent(err) {
		t.Errorf("5xx: %v, want a transient error", err)
	}
	fake.ClearFaults()
	fake.InjectFault(carbonblacktest.Fault{Path: "/ubs/", Status: 403})
	_, err = bin.Fetch(context.Background(), seedBinary(t, fake, []byte("MZ denied")), "")
	if !connector.IsPermanent(err) {
		t.Errorf("403: %v, want a permanent error", err)
	}
}

// The engine looks a truncated sample's own hash up and does not upload it
// when the analyzer knows it; the full file is submitted only when neither is
// known.
func TestPipelineLooksUpTruncatedHash(t *testing.T) {
	fake, clock := newFake(t, carbonblacktest.WithTruncation(2048))
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-1", OS: "WINDOWS"})
	full := make([]byte, 5000)
	for i := range full {
		full[i] = byte(i)
	}
	sha := seedBinary(t, fake, full)
	fake.AddAlert(carbonblack.Alert{ID: "a1", DeviceID: carbonblack.FlexInt(dev.ID), DeviceOS: "WINDOWS", ProcessSHA256: sha,
		ProcessEffectiveReputation: "NOT_LISTED", ProcessName: `c:\big.exe`, BackendTimestamp: ts(t0.Add(-time.Minute))})
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	an := connectortest.NewAnalyzer("sandbox")
	an.Know(connector.Hashes{SHA256: sha256Hex(full[:2048])}, connector.Verdict{Kind: connector.Malicious})
	p, err := connector.New(connector.Config{Store: memstore.New(), Sources: []connector.Source{src}, Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(an.Submissions()) != 0 || sum.Verdicts[connector.Malicious] != 1 || sum.Fetched != 1 {
		t.Errorf("summary %+v, submissions %d: want the truncated hash's verdict and no upload", sum, len(an.Submissions()))
	}
}

func TestWindowOptions(t *testing.T) {
	fake, clock := newFake(t)
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Collect(context.Background(), connector.Checkpoint("not json")); !connector.IsPermanent(err) {
		t.Errorf("unreadable checkpoint: %v, want permanent", err)
	}
	for _, w := range []carbonblackconn.WindowOptions{{LookBack: -time.Hour}, {Overlap: time.Hour, MaxWindow: time.Minute}} {
		if _, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{Window: w}); err == nil {
			t.Errorf("window options %+v accepted", w)
		}
	}
	fake.InjectFault(carbonblacktest.Fault{Path: "/api/alerts/", Status: 500})
	if _, err := src.Collect(context.Background(), nil); err == nil || connector.IsPermanent(err) {
		t.Errorf("5xx during collection: %v, want transient", err)
	}
	fake.ClearFaults()
	fake.InjectFault(carbonblacktest.Fault{Path: "/api/alerts/", Status: 401})
	if _, err := src.Collect(context.Background(), nil); !connector.IsPermanent(err) {
		t.Errorf("401 during collection: %v, want permanent", err)
	}
}

// A cached link the object store refuses (it expired early, or the clocks
// disagree) is asked for again once.
func TestFetchRenewsRefusedLink(t *testing.T) {
	fake, clock := newFake(t)
	sha := seedBinary(t, fake, []byte("MZ renew me"))
	frozen := func() time.Time { return t0 }
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{Now: frozen, BatchWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := bin.Prefetch(context.Background(), sha); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // the fake's links have expired; the cache does not know
	s, err := bin.Fetch(context.Background(), sha, "")
	if err != nil {
		t.Fatalf("fetch with an expired link: %v", err)
	}
	s.Body.Close()
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 2 {
		t.Errorf("%d file/_download calls, want 2 (prefetch, renewal)", n)
	}
}

// Prefetch asks for a large window's links in calls of 100 hashes and caches every answer, so the fetches that
// follow make no call of their own.
func TestPrefetchLargeWindow(t *testing.T) {
	fake, _ := newFake(t)
	var hashes []string
	for i := range 1000 {
		hashes = append(hashes, seedBinary(t, fake, fmt.Appendf(nil, "MZ prefetched %d", i)))
	}
	bin, err := carbonblackconn.NewBinaries(fake.Client(), carbonblackconn.BinariesOptions{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if err := bin.Prefetch(context.Background(), hashes...); err != nil {
		t.Fatal(err)
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 10 {
		t.Errorf("%d file/_download calls for 1,000 hashes, want 10", n)
	}
	for _, sha := range []string{hashes[0], hashes[999]} {
		s, err := bin.Fetch(context.Background(), sha, "")
		if err != nil {
			t.Fatalf("fetch %s: %v", sha, err)
		}
		s.Body.Close()
	}
	if n := fake.CountRequests("POST", "/ubs/v1/"); n != 10 {
		t.Errorf("%d file/_download calls after two fetches, want still 10 (links cached)", n)
	}
}
