package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// demoFile is a file of the demo world with its hashes.
type demoFile struct {
	name                string
	content             []byte
	sha256, sha1, md5hx string
}

func newDemoFile(name, content string) demoFile {
	s2, s1, m := sha256.Sum256([]byte(content)), sha1.Sum([]byte(content)), md5.Sum([]byte(content))
	return demoFile{name: name, content: []byte(content), sha256: hex.EncodeToString(s2[:]), sha1: hex.EncodeToString(s1[:]),
		md5hx: hex.EncodeToString(m[:])}
}

// The demo world's files: a dropper every vendor saw, and a tool VMRay finds
// clean.
var (
	demoDropper = newDemoFile("invoice.exe", "MZ\x90\x00 soarkit-mcp demo: invoice dropper")
	demoTool    = newDemoFile("notepad2.exe", "MZ\x90\x00 soarkit-mcp demo: a harmless editor")
)

// Names of the demo world's Carbon Black devices and SentinelOne agents.
const (
	demoHostFinance = "WS-FIN-01"
	demoHostHR      = "WS-HR-02"
	demoHostDC      = "SRV-DC-01"
	demoPolicyDC    = "Domain Controllers"
	demoAgentSales  = "LAPTOP-SALES-7"
	demoAgentLab    = "LAB-MALWARE-1"
	demoSiteLab     = "Malware Lab"
	demoRecipient   = "alice@example.com"
)

// DemoWorld is the demo's in-process fakes of every vendor, seeded with a
// small world: a dropper (malicious in VMRay, with VTIs and IOCs) that ran
// on two Carbon Black workstations and raised alerts, that SentinelOne
// detected on two laptops (one in a lab site), and that Proofpoint TAP saw
// attached to a message delivered to two recipients; a domain controller in
// its own policy; and a clean tool VMRay knows.
type DemoWorld struct {
	VMRay       *vmraytest.Server
	CarbonBlack *carbonblacktest.Server
	SentinelOne *sentinelonetest.Server
	Proofpoint  *proofpointtest.Server
}

// StartDemo starts and seeds the fakes.
func StartDemo(now time.Time) (*DemoWorld, error) {
	w := &DemoWorld{}
	var err error
	if w.VMRay, err = vmraytest.New(vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})); err != nil {
		return nil, fmt.Errorf("vmray fake: %w", err)
	}
	if w.CarbonBlack, err = carbonblacktest.New(carbonblacktest.WithJobPolls(1)); err != nil {
		w.Close()
		return nil, fmt.Errorf("carbon black fake: %w", err)
	}
	if w.SentinelOne, err = sentinelonetest.New(); err != nil {
		w.Close()
		return nil, fmt.Errorf("sentinelone fake: %w", err)
	}
	if w.Proofpoint, err = proofpointtest.New(); err != nil {
		w.Close()
		return nil, fmt.Errorf("proofpoint fake: %w", err)
	}
	now = now.UTC()
	if err := errors.Join(w.seedVMRay(), w.seedCarbonBlack(now), w.seedSentinelOne(now), w.seedProofpoint(now)); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the fakes.
func (w *DemoWorld) Close() {
	if w.VMRay != nil {
		w.VMRay.Close()
	}
	if w.CarbonBlack != nil {
		w.CarbonBlack.Close()
	}
	if w.SentinelOne != nil {
		w.SentinelOne.Close()
	}
	if w.Proofpoint != nil {
		w.Proofpoint.Close()
	}
}

// Configure points cfg at the fakes, with the action log and the audit log
// in dir.
func (w *DemoWorld) Configure(cfg *Config, dir string) {
	cfg.VMRay.URL, cfg.VMRay.APIKey = w.VMRay.URL(), config.NewSecret(vmraytest.DefaultAPIKey)
	cfg.CarbonBlack.URL, cfg.CarbonBlack.OrgKey = w.CarbonBlack.URL(), w.CarbonBlack.OrgKey()
	cfg.CarbonBlack.APIID, cfg.CarbonBlack.APISecret = w.CarbonBlack.APIID(), config.NewSecret(w.CarbonBlack.APISecret())
	cfg.SentinelOne.URL, cfg.SentinelOne.APIToken = w.SentinelOne.URL(), config.NewSecret(w.SentinelOne.Token())
	cfg.Proofpoint.URL, cfg.Proofpoint.Principal = w.Proofpoint.URL(), w.Proofpoint.Principal()
	cfg.Proofpoint.Secret = config.NewSecret(w.Proofpoint.Secret())
	cfg.StatePath = filepath.Join(dir, "soarkit-mcp.db")
	cfg.Audit.Path = filepath.Join(dir, "soarkit-mcp-audit.jsonl")
	cfg.Limits.PollInterval = 200 * time.Millisecond
}

func (w *DemoWorld) seedVMRay() error {
	mal := vmray.IOCCommon{Verdict: vmray.VerdictMalicious}
	dropper := vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 92,
		Classifications: []string{"Downloader"}, ThreatNames: []string{"Demo.Dropper"},
		VTIs: []vmray.ThreatIndicator{{Category: "Network", Operation: "Downloads an executable", Score: 4},
			{Category: "Persistence", Operation: "Installs a run key", Score: 3}},
		IOCs: vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: mal, Domain: "stage2.demo.example"}},
			IPs: []vmray.IPIOC{{IOCCommon: mal, IPAddress: "198.51.100.23"}}}}
	w.VMRay.SetOutcome(demoDropper.sha256, dropper)
	if _, err := w.VMRay.AddSample(vmraytest.Sample{Filename: demoDropper.name, Content: demoDropper.content, Outcome: dropper}); err != nil {
		return fmt.Errorf("vmray fake: %w", err)
	}
	_, err := w.VMRay.AddSample(vmraytest.Sample{Filename: demoTool.name, Content: demoTool.content,
		Outcome: vmraytest.Outcome{Verdict: vmray.VerdictClean}})
	return err
}

func (w *DemoWorld) seedCarbonBlack(now time.Time) error {
	dc := w.CarbonBlack.AddPolicy(carbonblack.Policy{Name: demoPolicyDC, Description: "Tier 0 servers"})
	devices := map[string]carbonblack.Device{}
	for _, h := range []string{demoHostFinance, demoHostHR} {
		devices[h] = w.CarbonBlack.AddDevice(carbonblack.Device{Name: h, OS: "WINDOWS", PolicyName: "Standard"})
	}
	devices[demoHostDC] = w.CarbonBlack.AddDevice(carbonblack.Device{Name: demoHostDC, OS: "WINDOWS", PolicyID: dc.ID,
		PolicyName: dc.Name})
	for i, h := range []string{demoHostFinance, demoHostHR} {
		d := devices[h]
		pid := int64(4242 + i)
		t := carbonblack.Timestamp{Time: now.Add(-time.Duration(50-10*i) * time.Minute)}
		guid := fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f210", w.CarbonBlack.OrgKey(), d.ID, pid)
		path := `c:\users\` + []string{"alice", "bob"}[i] + `\downloads\invoice.exe`
		w.CarbonBlack.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: guid, ProcessHash: []string{demoDropper.md5hx, demoDropper.sha256}, ProcessSHA256: demoDropper.sha256,
			ProcessName: path, ProcessPID: carbonblack.IntList{pid}, ProcessCmdline: carbonblack.StringList{path + " /silent"},
			ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
		w.CarbonBlack.AddAlert(carbonblack.Alert{ID: fmt.Sprintf("demo-alert-%d", i+1), Type: "CB_ANALYTICS", Severity: 7 - i,
			Reason: "A process ran a file of interest", DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessSHA256: demoDropper.sha256, ProcessName: path, ProcessPID: carbonblack.FlexInt(pid), ProcessGUID: guid,
			ProcessEffectiveReputation: "NOT_LISTED", BackendTimestamp: t})
	}
	return nil
}

func (w *DemoWorld) seedSentinelOne(now time.Time) error {
	lab := w.SentinelOne.AddSite(sentinelone.Site{Name: demoSiteLab})
	sales := w.SentinelOne.AddAgent(sentinelone.Agent{ComputerName: demoAgentSales, IsActive: true, OSType: "windows",
		UUID: "a1b2c3d4-0000-4000-8000-000000000001"})
	labAgent := w.SentinelOne.AddAgent(sentinelone.Agent{ComputerName: demoAgentLab, IsActive: true, OSType: "windows",
		UUID: "a1b2c3d4-0000-4000-8000-000000000002", SiteID: lab.ID, SiteName: lab.Name})
	for i, ag := range []sentinelone.Agent{sales, labAgent} {
		w.SentinelOne.AddThreat(sentinelone.Threat{
			ThreatInfo: sentinelone.ThreatInfo{ThreatName: demoDropper.name, Classification: "Malware", ConfidenceLevel: "malicious",
				SHA1: demoDropper.sha1, SHA256: demoDropper.sha256, MD5: demoDropper.md5hx,
				FilePath: sentinelone.FlexString(`C:\Users\sam\Downloads\invoice.exe`), FileSize: int64(len(demoDropper.content)),
				CreatedAt: sentinelone.NewTime(now.Add(-time.Duration(30-10*i) * time.Minute))},
			AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID}})
	}
	return nil
}

func (w *DemoWorld) seedProofpoint(now time.Time) error {
	rcpt := []string{demoRecipient, "bob@example.com"}
	threatURL := "https://threatinsight.proofpoint.com/demo/threat/email/" + demoDropper.sha256
	w.Proofpoint.AddDeliveredMessage(proofpoint.Message{GUID: "demo-guid-0001", ID: "evt-demo-0001",
		MessageTime: proofpoint.Time{Time: now.Add(-45 * time.Minute)}, Sender: "billing@evil.example",
		FromAddress: proofpoint.Addresses{"billing@evil.example"}, Recipient: rcpt, ToAddresses: rcpt, Subject: "Your invoice",
		MalwareScore: 92, MessageParts: []proofpoint.MessagePart{{Disposition: "attached", Filename: demoDropper.name,
			SHA256: demoDropper.sha256, MD5: demoDropper.md5hx, ContentType: "application/octet-stream", SandboxStatus: "threat"}},
		ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatID: demoDropper.sha256, Threat: demoDropper.sha256, ThreatType: "attachment",
			Classification: "malware", ThreatStatus: "active", ThreatTime: proofpoint.Time{Time: now.Add(-50 * time.Minute)},
			ThreatURL: threatURL}}}, time.Time{})
	w.Proofpoint.AddPermittedClick(proofpoint.Click{ID: "click-demo-0001", GUID: "demo-guid-0002", MessageID: "<demo-2@evil.example>",
		ClickTime: proofpoint.Time{Time: now.Add(-20 * time.Minute)}, ClickIP: "192.0.2.10", Recipient: demoRecipient,
		Sender: "it@evil.example", URL: "https://login.demo.example/reset", Classification: "phish", ThreatStatus: "active",
		ThreatID: "demo-url-threat", ThreatURL: "https://threatinsight.proofpoint.com/demo/threat/url/demo-url-threat"}, time.Time{})
	return nil
}
