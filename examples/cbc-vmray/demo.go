package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// demoTruncation is where the demo's binary store cuts large files (the
// service keeps about 25 MB; a small threshold keeps the demo fast).
const demoTruncation = 64 << 10

// world is the demo's Carbon Black organisation and VMRay platform.
type world struct {
	cbc *carbonblacktest.Server
	vm  *vmraytest.Server
	// files maps a label to the SHA-256 of a demo file; truncated is the
	// SHA-256 of the part of "big" that the binary store holds.
	files     map[string]string
	truncated string
	devices   map[string]carbonblack.Device
	// seeded counts the submissions VMRay knew per file before the run.
	seeded map[string]int
}

// demoFiles are the labels of the files of interest, in report order.
var demoFiles = []string{"dropper", "known", "suspicious", "clean", "big", "unknown"}

// newWorld starts the fakes and seeds them: four Windows hosts and a Mac,
// a new malicious dropper seen on two hosts by alerts and process searches,
// a file VMRay already knows as malicious (one of its indicators is already
// in a threat feed), a suspicious and a clean file, a large file of which
// the binary store holds only the first part (VMRay knows that part), a file
// the binary store does not hold, and files the filters exclude (trusted
// reputation, a Mac).
func newWorld(timing vmraytest.Timing) (*world, error) {
	cbc, err := carbonblacktest.New(carbonblacktest.WithTruncation(demoTruncation), carbonblacktest.WithJobPolls(1),
		carbonblacktest.WithSessionPolls(1))
	if err != nil {
		return nil, err
	}
	vm, err := vmraytest.New(vmraytest.WithTiming(timing))
	if err != nil {
		cbc.Close()
		return nil, err
	}
	w := &world{cbc: cbc, vm: vm, files: map[string]string{}, devices: map[string]carbonblack.Device{}}
	if err := w.seed(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	w.cbc.Close()
	w.vm.Close()
}

func (w *world) seed() error {
	for _, d := range []carbonblack.Device{{Name: "WS-FIN-01", OS: "WINDOWS"}, {Name: "WS-HR-02", OS: "WINDOWS"},
		{Name: "SRV-FILE-03", OS: "WINDOWS"}, {Name: "WS-OPS-04", OS: "WINDOWS"}, {Name: "MAC-DEV-05", OS: "MAC"}} {
		w.devices[d.Name] = w.cbc.AddDevice(d)
	}
	big := make([]byte, 3*demoTruncation+123)
	for i := range big {
		big[i] = byte(i*31 + i/977)
	}
	contents := map[string][]byte{
		"dropper":    []byte("MZ\x90\x00 demo dropper: downloads a second stage"),
		"known":      []byte("MZ\x90\x00 demo banker VMRay has seen before"),
		"suspicious": []byte("MZ\x90\x00 demo packed tool"),
		"clean":      []byte("MZ\x90\x00 demo text editor"),
		"big":        big,
		"trusted":    []byte("MZ\x90\x00 demo signed system tool"),
		"mac":        []byte("\xcf\xfa\xed\xfe demo mac binary"),
	}
	for label, c := range contents {
		h, err := w.cbc.AddBinary(carbonblacktest.Binary{Content: c})
		if err != nil {
			return err
		}
		w.files[label] = h
	}
	w.files["unknown"] = strings.Repeat("5eed", 16)
	w.truncated = sha256Hex(big[:demoTruncation])

	// What VMRay finds, or already knows.
	w.vm.SetOutcome(w.files["dropper"], vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 92,
		Classifications: []string{"Downloader"}, ThreatNames: []string{"Demo.Dropper"},
		VTIs: []vmray.ThreatIndicator{{Category: "Network", Operation: "Downloads an executable", Score: 4},
			{Category: "Persistence", Operation: "Installs a run key", Score: 4}},
		IOCs: dropperIOCs(w.files["dropper"])})
	w.vm.SetOutcome(w.files["suspicious"], vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 55,
		Classifications: []string{"Packer"}, IOCs: vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: common(vmray.VerdictSuspicious),
			Domain: "update.packed-tool.example"}}}})
	known := vmraytest.Sample{Filename: "banker.exe", Content: contents["known"], Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 88, Classifications: []string{"Banker"}, ThreatNames: []string{"Demo.Banker"},
		IOCs: vmray.IOCs{Domains: []vmray.DomainIOC{
			{IOCCommon: common(vmray.VerdictMalicious), Domain: "panel.banker.example"},
			{IOCCommon: common(vmray.VerdictMalicious), Domain: "known-c2.example"}}}}}
	if _, err := w.vm.AddSample(known); err != nil {
		return err
	}
	if _, err := w.vm.AddSample(vmraytest.Sample{Filename: "big.exe", Content: big[:demoTruncation], Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 80, Classifications: []string{"Ransomware"}}}); err != nil {
		return err
	}
	// A threat feed of the organisation already holds one of the banker's domains.
	ctx := context.Background()
	if _, err := w.cbc.Client().Feeds.Create(ctx, carbonblack.FeedInfo{Name: "Threat Intel", ProviderURL: "https://intel.example",
		Summary: "Existing indicators", Category: "Partner"}, carbonblack.Report{ID: carbonblack.NewID(), Title: "Known C2",
		Description: "from a partner", Severity: 7,
		IOCsV2: []carbonblack.IOC{carbonblack.EqualityIOC(carbonblack.FieldNetconnDomain, "known-c2.example")}}); err != nil {
		return err
	}

	// Where Carbon Black saw them.
	now := time.Now().UTC()
	alert := func(id, label, host, path string, pid int64, rep string, ago time.Duration) {
		d := w.devices[host]
		w.cbc.AddAlert(carbonblack.Alert{ID: id, Type: "CB_ANALYTICS", Severity: 7, Reason: "A suspicious process ran",
			DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS, ProcessSHA256: w.files[label],
			ProcessName: path, ProcessPID: carbonblack.FlexInt(pid), ProcessGUID: fmt.Sprintf("%s-%08x-%08x", w.cbc.OrgKey(), d.ID, pid),
			ProcessEffectiveReputation: rep, BackendTimestamp: carbonblack.Timestamp{Time: now.Add(-ago)}})
	}
	process := func(label, host, path string, pid int64, rep string, ago time.Duration) {
		d := w.devices[host]
		t := carbonblack.Timestamp{Time: now.Add(-ago)}
		w.cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x", w.cbc.OrgKey(), d.ID, pid), ProcessHash: []string{w.files[label]},
			ProcessSHA256: w.files[label], ProcessName: path, ProcessPID: carbonblack.IntList{pid},
			ProcessEffectiveReputation: rep, ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
	}
	observation := func(id, label, host, path string, pid int64, ago time.Duration) {
		d := w.devices[host]
		t := carbonblack.Timestamp{Time: now.Add(-ago)}
		w.cbc.AddObservation(carbonblack.Observation{ObservationID: id, ObservationType: "CB_ANALYTICS",
			DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x", w.cbc.OrgKey(), d.ID, pid), ProcessSHA256: w.files[label], ProcessName: path,
			ProcessPID: carbonblack.IntList{pid}, ProcessEffectiveReputation: "NOT_LISTED", DeviceTimestamp: t, BackendTimestamp: t})
	}
	alert("demo-alert-1", "dropper", "WS-FIN-01", `c:\users\ann\downloads\invoice.exe`, 4242, "NOT_LISTED", 2*time.Hour)
	alert("demo-alert-2", "dropper", "WS-HR-02", `c:\users\bob\downloads\invoice.exe`, 5120, "NOT_LISTED", time.Hour)
	process("dropper", "WS-FIN-01", `c:\users\ann\downloads\invoice.exe`, 4242, "NOT_LISTED", 2*time.Hour)
	observation("demo-obs-1", "known", "SRV-FILE-03", `c:\shares\finance\statement.exe`, 3300, 3*time.Hour)
	process("suspicious", "WS-HR-02", `c:\tools\packed.exe`, 777, "NOT_LISTED", 90*time.Minute)
	process("clean", "WS-FIN-01", `c:\program files\editor\editor.exe`, 1200, "NOT_LISTED", 4*time.Hour)
	process("clean", "WS-OPS-04", `c:\program files\editor\editor.exe`, 2200, "NOT_LISTED", 4*time.Hour)
	alert("demo-alert-3", "big", "SRV-FILE-03", `c:\shares\it\setup.exe`, 6100, "NOT_LISTED", 30*time.Minute)
	alert("demo-alert-4", "unknown", "WS-HR-02", `c:\users\bob\appdata\local\temp\x.exe`, 6400, "NOT_LISTED", 20*time.Minute)
	process("trusted", "WS-OPS-04", `c:\windows\system32\tool.exe`, 800, "TRUSTED_WHITE_LIST", time.Hour)
	process("mac", "MAC-DEV-05", `/Applications/Tool.app/Contents/MacOS/tool`, 900, "NOT_LISTED", time.Hour)
	w.seeded = map[string]int{}
	for label, h := range w.files {
		w.seeded[label] = len(w.vm.SubmissionsFor(h))
	}
	return nil
}

func common(v vmray.Verdict) vmray.IOCCommon { return vmray.IOCCommon{Verdict: v} }

// dropperIOCs are the indicators VMRay reports for the dropper, of every
// type the watchlist mapping knows (and an IPv6 address it leaves out).
func dropperIOCs(sha string) vmray.IOCs {
	m := common(vmray.VerdictMalicious)
	return vmray.IOCs{
		Files: []vmray.FileIOC{{IOCCommon: m, Filename: `C:\Users\Public\svc.exe`, Filenames: []string{`C:\Users\Public\svc.exe`},
			Hashes: []vmray.IOCHashes{{SHA256: strings.Repeat("d0", 32)}}}},
		Domains:   []vmray.DomainIOC{{IOCCommon: m, Domain: "dl.badcdn.example"}},
		IPs:       []vmray.IPIOC{{IOCCommon: m, IPAddress: "203.0.113.66"}, {IOCCommon: m, IPAddress: "2001:db8::66"}},
		URLs:      []vmray.URLIOC{{IOCCommon: m, URL: "http://dl.badcdn.example:8080/stage2.bin"}},
		Registry:  []vmray.RegistryIOC{{IOCCommon: m, RegKeyName: `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\svc`}},
		Processes: []vmray.ProcessIOC{{IOCCommon: m, ImageNames: []string{"svc.exe"}, CmdLine: `"C:\Users\Public\svc.exe" -k run`}},
	}
}

// demo starts the world and points the configuration at it, with fast
// polling and every action on, so one run shows the whole flow.
func demo(ctx context.Context, c *Config, env runner.Env) (func(io.Writer), func(), error) {
	w, err := newWorld(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	if err != nil {
		return nil, nil, err
	}
	w.configure(c)
	return w.report, w.close, nil
}

// configure points c at the world's fakes with the demo's settings.
func (w *world) configure(c *Config) {
	c.CarbonBlack.URL, c.CarbonBlack.OrgKey = w.cbc.URL(), w.cbc.OrgKey()
	c.CarbonBlack.APIID, c.CarbonBlack.APISecret = w.cbc.APIID(), config.NewSecret(w.cbc.APISecret())
	c.VMRay.URL, c.VMRay.APIKey = w.vm.URL(), config.NewSecret(vmraytest.DefaultAPIKey)
	c.Run.Pipeline.PollInterval = 50 * time.Millisecond
	c.SelectedVerdicts = []string{"malicious", "suspicious"}
	c.Watchlist.Verdicts = []string{"malicious", "suspicious"}
	c.Ban.Enabled, c.Quarantine.Enabled = true, true
	// The fakes apply requests at once: a quarantine in flight at a crash
	// needs only a short wait before it is asked for again.
	c.CarbonBlack.SettleDelay = time.Second
}

// report prints what the fakes saw.
func (w *world) report(out io.Writer) {
	fmt.Fprintln(out, "\nWhat the fakes saw")
	fmt.Fprintln(out, "  VMRay submissions made by this run, per file:")
	for _, label := range demoFiles {
		fmt.Fprintf(out, "    %-11s %s…  %d\n", label, w.files[label][:12], w.submissions(label))
	}
	fmt.Fprintf(out, "  Carbon Black UBS file/_download calls: %d\n", w.cbc.CountRequests("POST", "/ubs/v1/"))
	for _, wl := range w.cbc.Watchlists() {
		fmt.Fprintf(out, "  watchlist %q (alerts %v): %d reports\n", wl.Name, wl.AlertsEnabled, len(wl.ReportIDs))
	}
	for _, r := range w.cbc.Reports() {
		fmt.Fprintf(out, "    %s: severity %d, %d IOCs\n", r.Title, r.Severity, len(r.IOCsV2))
	}
	for _, o := range w.cbc.Overrides() {
		fmt.Fprintf(out, "  banned %s… (%s)\n", o.SHA256Hash[:12], o.Filename)
	}
	var isolated []string
	for name, d := range w.devices {
		if now, ok := w.cbc.Device(d.ID); ok && now.Quarantined {
			isolated = append(isolated, name)
		}
	}
	slices.Sort(isolated)
	fmt.Fprintf(out, "  quarantined devices: %s\n", strings.Join(isolated, ", "))
}

// submissions counts the submissions of a demo file made since seeding.
func (w *world) submissions(label string) int {
	return len(w.vm.SubmissionsFor(w.files[label])) - w.seeded[label]
}
