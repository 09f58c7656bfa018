package carbonblack_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

func TestFlowObservationsAndDevices(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	ctx := context.Background()
	d1 := fake.AddDevice(carbonblack.Device{Name: "WIN-A"})
	d2 := fake.AddDevice(carbonblack.Device{Name: "WIN-B", OS: "MAC", SensorStates: []string{"ACTIVE"}})
	fake.AddDevice(carbonblack.Device{Name: "WIN-C"})
	sha := strings.Repeat("9", 64)
	fake.AddObservation(carbonblack.Observation{DeviceID: carbonblack.FlexInt(d1.ID), AlertCategory: carbonblack.StringList{"THREAT"},
		EventType: carbonblack.StringList{"filemod"}, FilemodName: `c:\temp\drop.exe`, FilemodSHA256: sha})
	fake.AddObservation(carbonblack.Observation{DeviceID: carbonblack.FlexInt(d2.ID), AlertCategory: carbonblack.StringList{"OBSERVED"},
		EventType: carbonblack.StringList{"netconn"}, NetconnDomain: "evil.example", ProcessSHA256: sha,
		NetconnIPv4: carbonblack.IPv4{Addr: netip.MustParseAddr("23.44.229.234")}})
	fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d1.ID), ProcessHash: []string{sha}, ProcessPID: carbonblack.IntList{42}})
	_, _ = fake.AddBinary(carbonblacktest.Binary{Content: []byte("bin"), SHA256: sha})
	c := fake.Client()

	obs, err := collect(c.Observations.AllSearchResults(ctx, carbonblack.JobRequest{Criteria: carbonblack.Criteria{"alert_category": []string{"THREAT"}}}))
	if err != nil || len(obs) != 1 || obs[0].FilemodSHA256 != sha || obs[0].SHA256s()[0] != sha || obs[0].ObservationID == "" {
		t.Fatalf("observations = %+v, %v", obs, err)
	}
	det, err := c.Observations.Details(ctx, carbonblack.ObservationDetails{ObservationIDs: []string{obs[0].ObservationID}})
	if err != nil || len(det) != 1 || det[0].FilemodName != `c:\temp\drop.exe` {
		t.Fatalf("observation details = %+v, %v", det, err)
	}
	if _, err := c.Observations.Details(ctx, carbonblack.ObservationDetails{AlertID: "a", ProcessHash: sha}); !errors.Is(err, carbonblack.ErrInvalidRequest) {
		t.Fatalf("two selectors: %v", err)
	}
	net, err := c.Observations.Details(ctx, carbonblack.ObservationDetails{ProcessHash: sha, DeviceID: d2.ID})
	if err != nil || len(net) != 1 || net[0].NetconnIPv4.String() != "23.44.229.234" || !strings.Contains(string(net[0].Raw), `"netconn_ipv4":388818410`) {
		t.Fatalf("netconn details = %+v, %v", net, err)
	}
	devs, err := c.Devices.ByIDs(ctx, d1.ID, d2.ID)
	if err != nil || len(devs) != 2 {
		t.Fatalf("ByIDs = %+v, %v", devs, err)
	}
	all, err := collect(c.Devices.All(ctx, carbonblack.DeviceSearch{Query: "name:WIN*", Rows: 2}))
	if err != nil || len(all) != 3 {
		t.Fatalf("All = %d, %v", len(all), err)
	}
	mac, err := collect(c.Devices.All(ctx, carbonblack.DeviceSearch{Criteria: carbonblack.Criteria{"os": []string{"MAC"}}}))
	if err != nil || len(mac) != 1 || mac[0].ID != d2.ID || mac[0].LiveResponseEnabled() {
		t.Fatalf("MAC devices = %+v, %v", mac, err)
	}
	sum, err := c.UBS.DeviceSummary(ctx, sha)
	if err != nil || sum.NumDevices != 1 || sum.FirstSeenDeviceID != d1.ID || sum.FirstSeenDeviceName != "WIN-A" {
		t.Fatalf("DeviceSummary = %+v, %v", sum, err)
	}
	if _, err := c.UBS.Metadata(ctx, strings.Repeat("8", 64)); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("unknown metadata: %v", err)
	}
}

func TestFlowWatchlistMaintenance(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	ctx := context.Background()
	c := fake.Client()
	mk := func(title string) string {
		r, err := c.Reports.Create(ctx, carbonblack.Report{Title: title, Description: "d", Severity: 4,
			IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC(carbonblack.FieldNetconnDomain, "evil.example")}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	a, b := mk("a"), mk("b")
	wl, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "hunt", ReportIDs: []string{a}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watchlists.AddReports(ctx, wl.ID, b, a, b); err != nil {
		t.Fatal(err)
	}
	got, err := c.Watchlists.RemoveReports(ctx, wl.ID, a)
	if err != nil || len(got.ReportIDs) != 1 || got.ReportIDs[0] != b {
		t.Fatalf("RemoveReports = %+v, %v", got, err)
	}
	if _, err := c.Watchlists.RemoveReports(ctx, wl.ID, b); !errors.Is(err, carbonblack.ErrBadRequest) {
		t.Fatalf("emptying a report watchlist: %v", err)
	}
	if err := c.Watchlists.SetAlerts(ctx, wl.ID, true); err != nil {
		t.Fatal(err)
	}
	if w, _ := c.Watchlists.FindByName(ctx, "hunt"); !w.AlertsEnabled {
		t.Fatal("alerts not enabled")
	}
	if err := c.Reports.Ignore(ctx, b); err != nil {
		t.Fatal(err)
	}
	if ig, err := c.Reports.Ignored(ctx, b); err != nil || !ig {
		t.Fatalf("Ignored = %v, %v", ig, err)
	}
	rep, err := c.Reports.Get(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	rep.Title = "b2"
	if up, err := c.Reports.Update(ctx, *rep); err != nil || up.Title != "b2" {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	if err := c.Watchlists.Delete(ctx, wl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Watchlists.Get(ctx, wl.ID); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("deleted watchlist: %v", err)
	}
	if err := c.Reports.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	pub := fake.AddPublicFeed(carbonblack.FeedInfo{Name: "AlienVault", ProviderURL: "https://otx.example", Summary: "s", Category: "Open Source"})
	if _, err := c.Feeds.FindByName(ctx, "AlienVault", false); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("public feed listed without include_public: %v", err)
	}
	if f, err := c.Feeds.FindByName(ctx, "AlienVault", true); err != nil || f.ID != pub.ID || f.Access != "public" {
		t.Fatalf("public feed = %+v, %v", f, err)
	}
}

func TestFlowLiveResponseDirectoryAndRegistry(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
	_ = fake.AddDeviceFile(dev.ID, `C:\Temp\a.txt`, []byte("aaa"))
	_ = fake.AddDeviceFile(dev.ID, `C:\Temp\sub\b.txt`, []byte("b"))
	c := fake.Client()
	ctx := context.Background()
	lr, err := c.LiveResponse.Open(ctx, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close(ctx)
	files, err := lr.ListDirectory(ctx, `C:\Temp\`)
	if err != nil || len(files) != 2 || files[0].Filename != "a.txt" || files[0].Size != 3 || !files[1].IsDir() {
		t.Fatalf("ListDirectory = %+v, %v", files, err)
	}
	if _, err := lr.ListDirectory(ctx, `C:\Nowhere\`); !errors.Is(err, carbonblack.ErrCommandFailed) {
		t.Fatalf("missing directory: %v", err)
	}
	for _, k := range []string{`HKLM\SOFTWARE\Evil`, `HKLM\SOFTWARE\Evil\Run`} {
		if err := lr.CreateRegistryKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	subs, _, err := lr.ListRegistryKey(ctx, `HKLM\SOFTWARE\Evil`)
	if err != nil || len(subs) != 1 || subs[0] != "Run" {
		t.Fatalf("ListRegistryKey = %v, %v", subs, err)
	}
	if err := lr.Kill(ctx, 99999); !errors.Is(err, carbonblack.ErrCommandFailed) {
		t.Fatalf("kill of an unknown pid: %v", err)
	}
	if len(fake.RegistryKeys(dev.ID)) != 2 {
		t.Fatalf("registry = %v", fake.RegistryKeys(dev.ID))
	}
}

func TestFlowProcessSummary(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
	id := carbonblack.FlexInt(dev.ID)
	fake.AddProcess(carbonblack.Process{DeviceID: id, ProcessGUID: "G-parent", ProcessName: "explorer.exe", ProcessPID: carbonblack.IntList{100}})
	fake.AddProcess(carbonblack.Process{DeviceID: id, ProcessGUID: "G-me", ParentGUID: "G-parent", ProcessName: "evil.exe", ProcessPID: carbonblack.IntList{200}})
	fake.AddProcess(carbonblack.Process{DeviceID: id, ProcessGUID: "G-sib", ParentGUID: "G-parent", ProcessName: "notepad.exe"})
	fake.AddProcess(carbonblack.Process{DeviceID: id, ProcessGUID: "G-child", ParentGUID: "G-me", ProcessName: "cmd.exe"})
	c := fake.Client()
	sum, err := c.Processes.Summary(context.Background(), "G-me", &carbonblack.TimeRange{Window: "-1d"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Process.PID() != 200 || int64(sum.Process.DeviceID) != dev.ID || sum.Process.DeviceName != "WIN10" ||
		sum.Parent.ProcessGUID != "G-parent" || len(sum.Siblings) != 1 || len(sum.Children) != 1 || sum.Children[0].ProcessName != "cmd.exe" {
		t.Fatalf("summary = %+v", sum)
	}
	if _, err := c.Processes.Summary(context.Background(), "G-unknown", nil); !errors.Is(err, carbonblack.ErrNotFound) {
		t.Fatalf("unknown process: %v", err)
	}
}

func TestFlowSampleLimitsAndFormat(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	sha, _ := fake.AddBinary(carbonblacktest.Binary{Content: make([]byte, 64<<10)})
	ctx := context.Background()
	small := fake.Client(carbonblack.WithMaxSampleBytes(1 << 10))
	smp, err := small.UBS.Open(ctx, sha)
	if err == nil {
		_, err = io.Copy(io.Discard, smp)
		smp.Close()
	}
	if !errors.Is(err, carbonblack.ErrResponseTooLarge) {
		t.Fatalf("over the sample cap: %v", err)
	}
	// An expired or forged link answers S3's XML error, never a zip.
	_, err = fake.Client().UBS.OpenLink(ctx, carbonblack.DownloadLink{SHA256: sha, URL: fake.StorageURL() + "/cdc-file-storage/" + sha + ".zip?X-Amz-Signature=forged"})
	if !errors.Is(err, carbonblack.ErrForbidden) {
		t.Fatalf("forged link: %v", err)
	}
}
