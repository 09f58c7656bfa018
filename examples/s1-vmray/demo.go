package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// demoArchivePassword protects the demo's archive sample.
const demoArchivePassword = "infected"

// world is the demo's SentinelOne console and VMRay platform.
type world struct {
	s1 *sentinelonetest.Server
	vm *vmraytest.Server
	// files maps a label to the SHA1 of a demo file.
	files   map[string]string
	agents  map[string]sentinelone.Agent
	emea    sentinelone.Site
	threats map[string][]sentinelone.Threat // per file label
	seeded  map[string]int                  // VMRay submissions per file before the run
}

// demoFiles are the labels of the files of interest, in report order.
var demoFiles = []string{"dropper", "known", "suspicious", "clean", "archive", "dv-tool", "uncollected", "offline"}

func sha1Hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// newWorld starts the fakes and seeds them: two sites; four agents (one
// Linux server offline, a Mac); a new malicious dropper reported as three
// threats (two online agents in different sites and the offline server); a
// file VMRay already knows as malicious; new suspicious and clean files (the
// clean one as a malicious-confidence threat, which becomes a false
// positive, and as an n/a one, which does not); a password-protected archive
// VMRay finds malicious; a tool Deep Visibility saw running on two agents
// that no threat names; a threat whose file the agent could not collect; a
// threat only on the offline server; and a Deep Visibility record of the
// dropper (handled as a threat, not again as a process).
func newWorld(timing vmraytest.Timing) (*world, error) {
	s1, err := sentinelonetest.New(sentinelonetest.WithQueryPolls(1))
	if err != nil {
		return nil, err
	}
	vm, err := vmraytest.New(vmraytest.WithTiming(timing))
	if err != nil {
		s1.Close()
		return nil, err
	}
	w := &world{s1: s1, vm: vm, files: map[string]string{}, agents: map[string]sentinelone.Agent{},
		threats: map[string][]sentinelone.Threat{}}
	if err := w.seed(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	w.s1.Close()
	w.vm.Close()
}

func (w *world) seed() error {
	w.emea = w.s1.AddSite(sentinelone.Site{Name: "EMEA Site-2", AccountID: sentinelonetest.DefaultAccountID,
		AccountName: sentinelonetest.DefaultAccountName, SKU: "Complete"})
	for _, a := range []sentinelone.Agent{
		{ComputerName: "WS-FIN-01", IsActive: true},
		{ComputerName: "WS-HR-02", IsActive: true, SiteID: w.emea.ID, SiteName: w.emea.Name},
		{ComputerName: "SRV-DB-03", IsActive: false, OSType: sentinelone.OSLinux, SiteID: w.emea.ID, SiteName: w.emea.Name},
		{ComputerName: "MAC-DEV-04", IsActive: true, OSType: sentinelone.OSMacOS},
	} {
		w.agents[a.ComputerName] = w.s1.AddAgent(a)
	}
	archive, err := encryptedZip("invoice.pdf.exe", []byte("MZ\x90\x00 demo payload inside an archive"), demoArchivePassword)
	if err != nil {
		return err
	}
	contents := map[string][]byte{
		"dropper":     []byte("MZ\x90\x00 demo dropper: downloads a second stage"),
		"known":       []byte("\xcf\xfa\xed\xfe demo banker VMRay has seen before"),
		"suspicious":  []byte("MZ\x90\x00 demo packed tool"),
		"clean":       []byte("MZ\x90\x00 demo text editor"),
		"archive":     archive,
		"dv-tool":     []byte("MZ\x90\x00 demo remote admin tool"),
		"uncollected": []byte("MZ\x90\x00 demo file the agent lost"),
		"offline":     []byte("\x7fELF demo miner"),
	}
	for label, c := range contents {
		w.files[label] = sha1Hex(c)
	}
	w.vm.SetOutcome(w.files["dropper"], vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 92,
		Classifications: []string{"Downloader"}, ThreatNames: []string{"Demo.Dropper"},
		VTIs: []vmray.ThreatIndicator{{Category: "Network", Operation: "Downloads an executable", Score: 4},
			{Category: "Persistence", Operation: "Installs a run key", Score: 4}},
		IOCs: vmray.IOCs{
			Domains: []vmray.DomainIOC{{IOCCommon: common(vmray.VerdictMalicious), Domain: "dl.badcdn.example"}},
			IPs:     []vmray.IPIOC{{IOCCommon: common(vmray.VerdictMalicious), IPAddress: "203.0.113.66"}},
			URLs:    []vmray.URLIOC{{IOCCommon: common(vmray.VerdictMalicious), URL: "http://dl.badcdn.example/stage2.bin"}}}})
	w.vm.SetOutcome(w.files["suspicious"], vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 55, Classifications: []string{"Packer"}})
	w.vm.SetOutcome(w.files["clean"], vmraytest.Outcome{Verdict: vmray.VerdictClean})
	w.vm.SetOutcome(w.files["archive"], vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 80, Classifications: []string{"Trojan"},
		ThreatNames: []string{"Demo.Archived"}})
	w.vm.SetOutcome(w.files["dv-tool"], vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 75, Classifications: []string{"RAT"}})
	if _, err := w.vm.AddSample(vmraytest.Sample{Filename: "banker", Content: contents["known"], Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 88, Classifications: []string{"Banker"}, ThreatNames: []string{"Demo.Banker"}}}); err != nil {
		return err
	}

	threat := func(label, agent, path, confidence string, collectable bool) {
		a := w.agents[agent]
		t := w.s1.AddThreat(sentinelone.Threat{
			ThreatInfo: sentinelone.ThreatInfo{SHA1: w.files[label], FilePath: sentinelone.FlexString(path), ConfidenceLevel: confidence,
				ThreatName: path[strings.LastIndexAny(path, `\/`)+1:], Classification: "Malware", FileSize: int64(len(contents[label]))},
			AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: a.ID},
		})
		f := sentinelonetest.File{Content: contents[label]}
		if !collectable {
			f = sentinelonetest.File{Reason: "File not found"}
		}
		w.s1.SetThreatFile(t.ID, f)
		w.threats[label] = append(w.threats[label], t)
	}
	threat("dropper", "WS-FIN-01", `C:\Users\ann\Downloads\invoice.exe`, sentinelone.ConfidenceMalicious, true)
	threat("dropper", "WS-HR-02", `C:\Users\bob\Downloads\invoice.exe`, sentinelone.ConfidenceSuspicious, true)
	threat("dropper", "SRV-DB-03", `/home/svc/invoice.exe`, sentinelone.ConfidenceMalicious, true)
	threat("known", "MAC-DEV-04", `/Users/dev/Downloads/statement`, sentinelone.ConfidenceMalicious, true)
	threat("suspicious", "WS-HR-02", `C:\Tools\packed.exe`, sentinelone.ConfidenceSuspicious, true)
	threat("clean", "WS-FIN-01", `C:\Program Files\Editor\editor.exe`, sentinelone.ConfidenceMalicious, true)
	threat("clean", "MAC-DEV-04", `/Applications/Editor.app/Contents/MacOS/editor`, sentinelone.ConfidenceNA, true)
	threat("archive", "WS-FIN-01", `C:\Users\ann\Downloads\invoice.zip`, sentinelone.ConfidenceMalicious, true)
	threat("uncollected", "WS-HR-02", `C:\Users\bob\AppData\Local\Temp\x.exe`, sentinelone.ConfidenceMalicious, false)
	threat("offline", "SRV-DB-03", `/tmp/.x/miner`, sentinelone.ConfidenceMalicious, true)

	// Deep Visibility saw the admin tool on two agents, and the dropper.
	now := time.Now().UTC()
	process := func(label, agent, path string, ago time.Duration) {
		a := w.agents[agent]
		at := sentinelone.NewTime(now.Add(-ago))
		w.s1.AddDVEvents(sentinelone.DVEvent{ObjectType: "process", EventType: "Process Creation", CreatedAt: at, ProcessStartTime: at,
			AgentID: a.ID, AgentName: a.ComputerName, AgentOS: a.OSType, SiteID: a.SiteID, SiteName: a.SiteName, AccountID: a.AccountID,
			ProcessName: path[strings.LastIndex(path, `\`)+1:], ProcessImagePath: path, ProcessImageSha1Hash: w.files[label]})
		w.s1.AddAgentFile(a.ID, sentinelonetest.File{Path: path, Content: contents[label]})
	}
	process("dv-tool", "WS-FIN-01", `C:\ProgramData\rat\agent.exe`, 20*time.Minute)
	process("dv-tool", "WS-HR-02", `C:\ProgramData\rat\agent.exe`, 10*time.Minute)
	process("dropper", "WS-FIN-01", `C:\Users\ann\Downloads\invoice.exe`, 5*time.Minute)

	w.seeded = map[string]int{}
	for label, h := range w.files {
		w.seeded[label] = len(w.vm.SubmissionsFor(h))
	}
	return nil
}

func common(v vmray.Verdict) vmray.IOCCommon { return vmray.IOCCommon{Verdict: v} }

// demo starts the world and points the configuration at it, with fast
// polling and the actions on, so one run shows the whole flow.
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
	for k, v := range demoSettings(w) {
		setKey(c, k, v)
	}
	c.SentinelOne.APIToken = config.NewSecret(w.s1.Token())
	c.VMRay.APIKey = config.NewSecret(vmraytest.DefaultAPIKey)
	c.VMRay.ArchivePassword = config.NewSecret(demoArchivePassword)
}

// demoSettings are the demo's configuration, by key (the tests pass the
// same through the environment).
func demoSettings(w *world) map[string]string {
	return map[string]string{
		"sentinelone.url": w.s1.URL(), "vmray.url": w.vm.URL(),
		"sentinelone.collect_methods": "threat,deep-visibility", "sentinelone.fetch_poll_interval": "20ms",
		"sentinelone.fetch_timeout": "5s", "sentinelone.offline_retry": "20ms", "sentinelone.dv_poll_interval": "20ms",
		"sentinelone.settle_delay":   "1s",
		"run.pipeline.poll_interval": "50ms", "selected_verdicts": "malicious,suspicious",
		"note.verdicts": "malicious,suspicious", "vmray.send_custom_submission_tags": "true",
		"indicators.enabled": "true", "dv_blocklist.enabled": "true",
		"kill.enabled": "true", "initiate_scan.enabled": "true",
	}
}

// setKey applies one demo setting to c.
func setKey(c *Config, key, v string) {
	list := strings.Split(v, ",")
	on := v == "true"
	d, _ := time.ParseDuration(v)
	switch key {
	case "sentinelone.url":
		c.SentinelOne.URL = v
	case "vmray.url":
		c.VMRay.URL = v
	case "sentinelone.collect_methods":
		c.SentinelOne.CollectMethods = list
	case "sentinelone.fetch_poll_interval":
		c.SentinelOne.FetchPollInterval = d
	case "sentinelone.fetch_timeout":
		c.SentinelOne.FetchTimeout = d
	case "sentinelone.offline_retry":
		c.SentinelOne.OfflineRetry = d
	case "sentinelone.settle_delay":
		c.SentinelOne.SettleDelay = d
	case "sentinelone.dv_poll_interval":
		c.SentinelOne.DVPollInterval = d
	case "run.pipeline.poll_interval":
		c.Run.Pipeline.PollInterval = d
	case "selected_verdicts":
		c.SelectedVerdicts = list
	case "note.verdicts":
		c.Note.Verdicts = list
	case "vmray.send_custom_submission_tags":
		c.VMRay.SendCustomSubmissionTags = on
	case "indicators.enabled":
		c.Indicators.Enabled = on
	case "dv_blocklist.enabled":
		c.DVBlocklist.Enabled = on
	case "kill.enabled":
		c.Kill.Enabled = on
	case "initiate_scan.enabled":
		c.InitiateScan.Enabled = on
	}
}

// report prints what the fakes saw.
func (w *world) report(out io.Writer) {
	fmt.Fprintln(out, "\nWhat the fakes saw")
	fmt.Fprintln(out, "  VMRay submissions made by this run, per file (tags):")
	for _, label := range demoFiles {
		subs := w.vm.SubmissionsFor(w.files[label])
		var tags []string
		for _, s := range subs[w.seeded[label]:] {
			tags = append(tags, strings.Join(s.Tags, ","))
		}
		fmt.Fprintf(out, "    %-11s %s…  %d  %s\n", label, w.files[label][:12], w.submissions(label), strings.Join(tags, " "))
	}
	fmt.Fprintln(out, "  SentinelOne threats: notes, actions")
	for _, label := range demoFiles {
		for _, t := range w.threats[label] {
			th, _ := w.s1.Threat(t.ID)
			fmt.Fprintf(out, "    %-11s %-10s %-10s notes %d  verdict %-14s %s\n", label, t.AgentRealtimeInfo.AgentComputerName,
				t.ThreatInfo.ConfidenceLevel, len(w.s1.Notes(t.ID)), th.ThreatInfo.AnalystVerdict, strings.Join(w.s1.ThreatActions(t.ID), " "))
		}
	}
	names := make([]string, 0, len(w.agents))
	for n := range w.agents {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintln(out, "  SentinelOne agent actions:")
	for _, n := range names {
		fmt.Fprintf(out, "    %-10s %s\n", n, strings.Join(w.s1.AgentActions(w.agents[n].ID), " "))
	}
	fmt.Fprintf(out, "  blocklist entries: %d, threat intelligence indicators: %d\n", len(w.s1.Restrictions()), len(w.s1.IOCs()))
}

// submissions counts the submissions of a demo file made since seeding.
func (w *world) submissions(label string) int {
	return len(w.vm.SubmissionsFor(w.files[label])) - w.seeded[label]
}
