package carbonblack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// Hunt a file hash in process data, ban it and isolate the hosts that ran it.
func Example() {
	fake, err := carbonblacktest.New(carbonblacktest.WithTLS())
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	dev := fake.AddDevice(carbonblack.Device{ID: 3462642, Name: "win10etchangeme"})
	sha := strings.Repeat("ab", 32)
	fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(dev.ID), ProcessName: `c:\temp\evil.exe`,
		ProcessHash: []string{"c7084336325dc8eadfb1e8ff876921c4", sha}, ProcessPID: carbonblack.IntList{2976}})

	c := fake.Client()
	ctx := context.Background()
	devices := map[int64]bool{}
	for p, err := range c.Processes.AllSearchResults(ctx, carbonblack.JobRequest{Query: "process_hash:" + sha, TimeRange: &carbonblack.TimeRange{Window: "-2w"}}) {
		if err != nil {
			panic(err)
		}
		fmt.Println("seen on", p.DeviceName, "pid", p.PID(), "as", p.ProcessName)
		devices[int64(p.DeviceID)] = true
	}
	if _, err := c.Reputations.Ban(ctx, sha, "evil.exe", "Detected as malicious"); err != nil {
		panic(err)
	}
	for id := range devices {
		if err := c.Devices.Quarantine(ctx, true, id); err != nil {
			panic(err)
		}
	}
	d, _ := c.Devices.Get(ctx, dev.ID)
	fmt.Println("banned:", fake.Banned(sha), "quarantined:", d.Quarantined)
	// Output:
	// seen on win10etchangeme pid 2976 as c:\temp\evil.exe
	// banned: true quarantined: true
}

// Download samples from the Unified Binary Store in one batch and detect a
// truncated copy.
func ExampleUBSService_OpenLink() {
	fake, err := carbonblacktest.New(carbonblacktest.WithTruncation(1024))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	small, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("MZ small")})
	big, _ := fake.AddBinary(carbonblacktest.Binary{Content: make([]byte, 4096)})
	c := fake.Client()
	ctx := context.Background()
	links, err := c.UBS.DownloadLinks(ctx, time.Hour, small, big, strings.Repeat("0", 64))
	if err != nil {
		panic(err)
	}
	fmt.Println("found", len(links.Found), "not found", len(links.NotFound))
	for _, l := range links.Found {
		smp, err := c.UBS.OpenLink(ctx, l)
		if err != nil {
			panic(err)
		}
		n, _ := io.Copy(io.Discard, smp)
		err = smp.Verify()
		smp.Close()
		var trunc *carbonblack.TruncatedSampleError
		switch {
		case errors.As(err, &trunc):
			fmt.Println(n, "bytes, truncated; analyse as", trunc.Actual[:8])
		case err == nil:
			fmt.Println(n, "bytes, complete")
		}
	}
	// Output:
	// found 2 not found 1
	// 8 bytes, complete
	// 1024 bytes, truncated; analyse as 5f70bf18
}

// Create a watchlist report with equality IOCs and attach it.
func ExampleWatchlistsService_AddReports() {
	fake, err := carbonblacktest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	c := fake.Client()
	ctx := context.Background()
	wl, err := c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: "VMRay Connector", Description: "Sandbox verdicts", TagsEnabled: true, AlertsEnabled: true})
	if err != nil {
		panic(err)
	}
	sha := strings.Repeat("cd", 32)
	var iocs []carbonblack.IOC
	for _, field := range carbonblack.SHA256Fields {
		iocs = append(iocs, carbonblack.EqualityIOC(field, sha))
	}
	rep, err := c.Reports.Create(ctx, carbonblack.Report{Title: "[malicious] report for " + sha[:8], Description: "https://sandbox.example/1",
		Severity: carbonblack.Severity(97), IOCsV2: iocs})
	if err != nil {
		panic(err)
	}
	wl, err = c.Watchlists.AddReports(ctx, wl.ID, rep.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(wl.ReportIDs), "report with", len(rep.IOCsV2), "IOCs, severity", rep.Severity)
	// Output: 1 report with 6 IOCs, severity 9
}

// Kill a process and delete its file through Live Response.
func ExampleLiveResponseService_Open() {
	fake, err := carbonblacktest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
	path := `C:\Users\bob\invoice.exe`
	_ = fake.AddDeviceProcess(dev.ID, carbonblack.LRProcess{ProcessPID: 601, ProcessPath: path})
	_ = fake.AddDeviceFile(dev.ID, path, []byte("MZ"))
	c := fake.Client()
	ctx := context.Background()
	lr, err := c.LiveResponse.Open(ctx, dev.ID)
	if err != nil {
		panic(err)
	}
	defer lr.Close(ctx)
	procs, _ := lr.ProcessList(ctx)
	for _, p := range procs {
		if strings.EqualFold(p.ProcessPath, path) {
			fmt.Println("kill", p.ProcessPID, lr.Kill(ctx, p.ProcessPID))
		}
	}
	fmt.Println("delete", lr.DeleteFile(ctx, path))
	err = lr.DeleteFile(ctx, path)
	fmt.Println("again:", errors.Is(err, carbonblack.ErrCommandFailed))
	// Output:
	// kill 601 <nil>
	// delete <nil>
	// again: true
}

// Read the standard credentials file.
func ExampleParseCredentials() {
	file := "[default]\nurl = https://defense.conferdeploy.net\ntoken = SECRETKEY/APIID0001\norg_key = ABCD1234\n"
	cr, err := carbonblack.ParseCredentials([]byte(file), "default")
	if err != nil {
		panic(err)
	}
	fmt.Println(cr)
	c, err := carbonblack.NewFromCredentials(cr)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.OrgKey(), c.BaseURL())
	// Output:
	// carbonblack credentials for org ABCD1234 at https://defense.conferdeploy.net (API ID APIID0001)
	// ABCD1234 https://defense.conferdeploy.net
}

// Criteria values are lists of accepted values, scalars or time ranges.
func ExampleCriteria() {
	crit := carbonblack.Criteria{
		"type":                     []string{"WATCHLIST"},
		"device_os":                []string{"WINDOWS"},
		"minimum_severity":         3,
		"backend_update_timestamp": carbonblack.TimeRange{Range: "-1d"},
	}
	b, err := json.Marshal(carbonblack.AlertSearch{Criteria: crit, Rows: 100})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"criteria":{"backend_update_timestamp":{"range":"-1d"},"device_os":["WINDOWS"],"minimum_severity":3,"type":["WATCHLIST"]},"rows":100}
}
