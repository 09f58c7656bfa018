package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/connector/nsxconn/nsxtest"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// file is one file of the world with its hashes.
type file struct {
	name    string
	content []byte
	sha256  string
	sha1    string
	md5     string
}

func newFile(name, content string) file {
	s2, s1, m := sha256.Sum256([]byte(content)), sha1.Sum([]byte(content)), md5.Sum([]byte(content))
	return file{name: name, content: []byte(content), sha256: hex.EncodeToString(s2[:]), sha1: hex.EncodeToString(s1[:]),
		md5: hex.EncodeToString(m[:])}
}

// The world's files.
var (
	dropper    = newFile("invoice.exe", "MZ\x90\x00 fakeworld: invoice dropper")
	suspicious = newFile("packed.exe", "MZ\x90\x00 fakeworld: packed tool")
	clean      = newFile("editor.exe", "MZ\x90\x00 fakeworld: text editor")
	known      = newFile("banker.exe", "MZ\x90\x00 fakeworld: banker VMRay has seen before")
	missing    = newFile("ghost.exe", "MZ\x90\x00 fakeworld: not in the binary store")
	// history are files VMRay analysed long ago (clean).
	history = []file{
		newFile("setup.exe", "MZ\x90\x00 fakeworld: an installer"),
		newFile("notepad2.exe", "MZ\x90\x00 fakeworld: another editor"),
	}
)

// hosts are the Carbon Black devices; the first three are NSX VMs.
var hosts = []string{"WS-FIN-01", "WS-HR-02", "SRV-FILE-03", "WS-OPS-04"}

// World is the set of running fakes.
type World struct {
	VMRay       *vmraytest.Server
	CarbonBlack *carbonblacktest.Server
	SentinelOne *sentinelonetest.Server
	Proofpoint  *proofpointtest.Server
	NSX         *nsxtest.Server

	// idMu guards the SentinelOne ids the world knows (seeded or added
	// through the control API), which the control API reads back notes and
	// actions of.
	idMu      sync.Mutex
	threatIDs []string
	agentIDs  []string
}

// remember records an id in list.
func (w *World) remember(list *[]string, id string) {
	w.idMu.Lock()
	defer w.idMu.Unlock()
	*list = append(*list, id)
}

// known returns a copy of list.
func (w *World) known(list []string) []string {
	w.idMu.Lock()
	defer w.idMu.Unlock()
	return append([]string(nil), list...)
}

// StartWorld starts every fake (over TLS when tls is set) and seeds it.
func StartWorld(tls bool, now time.Time) (*World, error) {
	w := &World{}
	var err error
	// A page size of two makes every VMRay list of more than two items
	// (the seeded submissions among them) use continuation paging.
	vmOpts := []vmraytest.Option{vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 2}), vmraytest.WithPageSize(2)}
	cbOpts := []carbonblacktest.Option{carbonblacktest.WithJobPolls(1), carbonblacktest.WithSessionPolls(1), carbonblacktest.WithCommandPolls(1)}
	s1Opts := []sentinelonetest.Option{sentinelonetest.WithUploadDelay(200 * time.Millisecond)}
	var ppOpts []proofpointtest.Option
	var nsxOpts []nsxtest.Option
	if tls {
		vmOpts = append(vmOpts, vmraytest.WithTLS())
		cbOpts = append(cbOpts, carbonblacktest.WithTLS())
		s1Opts = append(s1Opts, sentinelonetest.WithTLS())
		ppOpts = append(ppOpts, proofpointtest.WithTLS())
		nsxOpts = append(nsxOpts, nsxtest.WithTLS())
	}
	if w.VMRay, err = vmraytest.New(vmOpts...); err != nil {
		return nil, fmt.Errorf("vmray fake: %w", err)
	}
	if w.CarbonBlack, err = carbonblacktest.New(cbOpts...); err != nil {
		w.Close()
		return nil, fmt.Errorf("carbon black fake: %w", err)
	}
	if w.SentinelOne, err = sentinelonetest.New(s1Opts...); err != nil {
		w.Close()
		return nil, fmt.Errorf("sentinelone fake: %w", err)
	}
	if w.Proofpoint, err = proofpointtest.New(ppOpts...); err != nil {
		w.Close()
		return nil, fmt.Errorf("proofpoint fake: %w", err)
	}
	if w.NSX, err = nsxtest.New(nsxOpts...); err != nil {
		w.Close()
		return nil, fmt.Errorf("nsx fake: %w", err)
	}
	if err := w.seed(now.UTC()); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops every fake that was started.
func (w *World) Close() {
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
	if w.NSX != nil {
		w.NSX.Close()
	}
}

func (w *World) seed(now time.Time) error {
	return errors.Join(w.seedVMRay(), w.seedCarbonBlack(now), w.seedSentinelOne(now), w.seedProofpoint(now), w.seedNSX())
}

func (w *World) seedVMRay() error {
	w.VMRay.SetOutcome(dropper.sha256, vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 92,
		Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"},
		VTIs: []vmray.ThreatIndicator{{Category: "Network", Operation: "Downloads an executable", Score: 4}},
		IOCs: dropperIOCs()})
	w.VMRay.SetOutcome(suspicious.sha256, vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 55, Classifications: []string{"Packer"}})
	w.VMRay.SetOutcome(clean.sha256, vmraytest.Outcome{Verdict: vmray.VerdictClean, Score: 0})
	_, err := w.VMRay.AddSample(vmraytest.Sample{Filename: known.name, Content: known.content, Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 88, Classifications: []string{"Banker"}, ThreatNames: []string{"FakeWorld.Banker"},
		IOCs: dropperIOCs()}})
	if err != nil {
		return err
	}
	// Older, clean analyses: with the banker they fill more than one page of
	// submissions.
	for _, f := range history {
		if _, err := w.VMRay.AddSample(vmraytest.Sample{Filename: f.name, Content: f.content,
			Outcome: vmraytest.Outcome{Verdict: vmray.VerdictClean}}); err != nil {
			return err
		}
	}
	return nil
}

// dropperIOCs fills every IOC list, each item with its own lists filled,
// as VMRay reports a downloader.
func dropperIOCs() vmray.IOCs {
	mal := vmray.IOCCommon{Verdict: vmray.VerdictMalicious}
	sus := vmray.IOCCommon{Verdict: vmray.VerdictSuspicious}
	parents := vmray.ParentProcesses{ParentProcessesNames: []string{"invoice.exe"}, ParentProcessesIDs: []int64{1}}
	hashes := []vmray.IOCHashes{{MD5: dropper.md5, SHA1: dropper.sha1, SHA256: dropper.sha256}}
	path := `C:\Users\alice\AppData\Local\Temp\stage2.exe`
	return vmray.IOCs{
		Files: []vmray.FileIOC{{IOCCommon: mal, ParentProcesses: parents, Filename: path, Filenames: []string{path},
			Hashes: hashes, MimeType: "application/vnd.microsoft.portable-executable", Operations: []string{"create", "write"},
			Categories: []string{"Dropped File"}, Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"},
			VTIs: []string{"Drops an executable"}}},
		Filenames: []vmray.FilenameIOC{{IOCCommon: mal, Filename: path, Operations: []string{"create"}, Categories: []string{"Dropped File"},
			Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"}}},
		Mutexes: []vmray.MutexIOC{{IOCCommon: sus, ParentProcesses: parents, MutexName: "Global\\fakeworld-once",
			Operations: []string{"create"}, Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"}}},
		Registry: []vmray.RegistryIOC{{IOCCommon: mal, ParentProcesses: parents,
			RegKeyName: `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run\stage2`, RegKeyValueTypes: []string{"REG_SZ"},
			Operations: []string{"write"}, Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"}}},
		IPs: []vmray.IPIOC{{IOCCommon: mal, ParentProcesses: parents, IPAddress: "198.51.100.23", Protocols: []string{"TCP"},
			Domains: []string{"stage2.fakeworld.example"}, Country: "United States", CountryCode: "US", Sources: []string{"Pcap"}}},
		URLs: []vmray.URLIOC{{IOCCommon: mal, ParentProcesses: parents, URL: "http://stage2.fakeworld.example/payload.bin",
			OriginalURLs: []string{"http://stage2.fakeworld.example/payload.bin"}, Categories: []string{"Contacted"},
			Methods: []string{"GET"}, UserAgents: []string{"Mozilla/5.0"}, IPAddresses: []string{"198.51.100.23"},
			Countries: []string{"United States"}, CountryCodes: []string{"US"}, Sources: []string{"Pcap"}}},
		Domains: []vmray.DomainIOC{{IOCCommon: mal, ParentProcesses: parents, Domain: "stage2.fakeworld.example",
			OriginalDomains: []string{"stage2.fakeworld.example"}, Protocols: []string{"DNS"}, IPAddresses: []string{"198.51.100.23"},
			Countries: []string{"United States"}, CountryCodes: []string{"US"}, Sources: []string{"Pcap"}}},
		EmailAddresses: []vmray.EmailAddressIOC{{IOCCommon: sus, EmailAddress: "billing@evil.example", Subjects: []string{"Your invoice"},
			Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"}}},
		Emails: []vmray.EmailIOC{{IOCCommon: mal, Sender: "billing@evil.example", Subject: "Your invoice",
			Recipients: []string{"alice@example.com", "bob@example.com"}, AttachmentTypes: []string{"exe"}, Hashes: hashes,
			Classifications: []string{"Downloader"}, ThreatNames: []string{"FakeWorld.Dropper"}}},
		Processes: []vmray.ProcessIOC{{IOCCommon: mal, ParentProcesses: parents, ProcessNames: []string{"stage2.exe"},
			ImageNames: []string{"stage2.exe"}, CmdLine: path + " /silent", Classifications: []string{"Downloader"},
			ThreatNames: []string{"FakeWorld.Dropper"}}},
	}
}

func (w *World) seedCarbonBlack(now time.Time) error {
	devices := map[string]carbonblack.Device{}
	for _, h := range hosts {
		devices[h] = w.CarbonBlack.AddDevice(carbonblack.Device{Name: h, OS: "WINDOWS", PolicyName: "Standard"})
	}
	w.CarbonBlack.AddPolicy(carbonblack.Policy{Name: "Isolation", Description: "Blocks everything but the EDR"})
	for _, f := range []file{dropper, suspicious, clean, known} {
		if _, err := w.CarbonBlack.AddBinary(carbonblacktest.Binary{Content: f.content}); err != nil {
			return err
		}
	}
	process := func(f file, host, path string, pid int64, ago time.Duration) error {
		d := devices[host]
		t := carbonblack.Timestamp{Time: now.Add(-ago)}
		guid := fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f210", w.CarbonBlack.OrgKey(), d.ID, pid)
		w.CarbonBlack.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: guid, ProcessHash: []string{f.md5, f.sha256}, ProcessSHA256: f.sha256, ProcessName: path,
			ProcessPID: carbonblack.IntList{pid}, ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: t, DeviceTimestamp: t,
			BackendTimestamp: t})
		w.CarbonBlack.AddAlert(carbonblack.Alert{ID: "fakeworld-" + guid, Type: "CB_ANALYTICS", Severity: 6,
			Reason: "A process ran a file of interest", DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessSHA256: f.sha256, ProcessName: path, ProcessPID: carbonblack.FlexInt(pid), ProcessGUID: guid,
			ProcessEffectiveReputation: "NOT_LISTED", BackendTimestamp: t})
		w.CarbonBlack.AddObservation(carbonblack.Observation{ObservationID: "fakeworld-obs-" + guid,
			ObservationType: "CB_ANALYTICS", ObservationDescription: "A process ran a file of interest",
			AlertID: carbonblack.StringList{"fakeworld-" + guid}, AlertCategory: carbonblack.StringList{"THREAT"},
			BackendTimestamp: t, DeviceTimestamp: t, DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			EventType: carbonblack.StringList{"childproc"}, ProcessGUID: guid, ProcessHash: []string{f.md5, f.sha256},
			ProcessSHA256: f.sha256, ProcessName: path, ProcessPID: carbonblack.IntList{pid},
			ProcessEffectiveReputation: "NOT_LISTED"})
		if err := w.CarbonBlack.AddDeviceProcess(d.ID, carbonblack.LRProcess{ProcessPID: pid, ProcessPath: path}); err != nil {
			return err
		}
		return w.CarbonBlack.AddDeviceFile(d.ID, path, f.content)
	}
	return errors.Join(
		process(dropper, "WS-FIN-01", `c:\users\alice\downloads\invoice.exe`, 4242, 50*time.Minute),
		process(dropper, "WS-HR-02", `c:\users\bob\downloads\invoice.exe`, 5120, 40*time.Minute),
		process(suspicious, "WS-HR-02", `c:\tools\packed.exe`, 777, 90*time.Minute),
		process(clean, "WS-OPS-04", `c:\program files\editor\editor.exe`, 2200, 2*time.Hour),
		process(known, "SRV-FILE-03", `c:\shares\finance\statement.exe`, 3300, 3*time.Hour),
		process(missing, "WS-OPS-04", `c:\users\dave\appdata\local\temp\ghost.exe`, 6400, 20*time.Minute),
	)
}

func (w *World) seedSentinelOne(now time.Time) error {
	var agents []sentinelone.Agent
	for i, name := range []string{"LAPTOP-SALES-7", "LAPTOP-DEV-9"} {
		agents = append(agents, w.SentinelOne.AddAgent(sentinelone.Agent{ComputerName: name, IsActive: true,
			OSType: "windows", UUID: fmt.Sprintf("a1b2c3d4-0000-4000-8000-%012d", i+1)}))
		w.remember(&w.agentIDs, agents[i].ID)
	}
	threat := func(f file, agent sentinelone.Agent, path, confidence string, ago time.Duration) error {
		t := w.SentinelOne.AddThreat(sentinelone.Threat{
			ThreatInfo: sentinelone.ThreatInfo{ThreatName: f.name, Classification: "Malware", ConfidenceLevel: confidence,
				SHA1: f.sha1, FilePath: sentinelone.String(path), FileSize: int64(len(f.content)),
				CreatedAt: sentinelone.NewTime(now.Add(-ago))},
			AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
		w.remember(&w.threatIDs, t.ID)
		if !w.SentinelOne.SetThreatFile(t.ID, sentinelonetest.File{Path: path, Content: f.content}) {
			return fmt.Errorf("sentinelone fake: threat %s has no file", t.ID)
		}
		// The Deep Visibility process events of the threat's storyline.
		at := sentinelone.NewTime(now.Add(-ago))
		w.SentinelOne.AddDVEvents(sentinelone.DVEvent{ID: "fakeworld-dv-" + t.ID, ObjectType: "process", EventType: "Process Creation",
			CreatedAt: at, EventTime: at, AgentID: agent.ID, AgentName: agent.ComputerName, AgentUUID: agent.UUID, AgentOS: "windows",
			SiteID: sentinelonetest.DefaultSiteID, SiteName: sentinelonetest.DefaultSiteName, AccountID: sentinelonetest.DefaultAccountID,
			Pid: "4242", ParentPid: "1337", ProcessName: f.name, ProcessImagePath: path, ProcessImageSha1Hash: f.sha1,
			ProcessCmd: `"` + path + `"`, ProcessStartTime: at, ParentProcessName: "explorer.exe", RelatedToThreat: true,
			Storyline: t.ThreatInfo.Storyline})
		return nil
	}
	return errors.Join(
		threat(dropper, agents[0], `C:\Users\sam\Downloads\invoice.exe`, "malicious", 30*time.Minute),
		threat(dropper, agents[1], `C:\Users\dana\Downloads\invoice.exe`, "malicious", 20*time.Minute),
		threat(clean, agents[1], `C:\Program Files\Editor\editor.exe`, "suspicious", 10*time.Minute),
	)
}

func (w *World) seedProofpoint(now time.Time) error {
	part := func(f file) proofpoint.MessagePart {
		return proofpoint.MessagePart{Disposition: "attached", Filename: f.name, SHA256: f.sha256, MD5: f.md5,
			ContentType: "application/octet-stream", SandboxStatus: "threat"}
	}
	info := proofpoint.ThreatInfo{ThreatID: dropper.sha256, Threat: dropper.sha256, ThreatType: "attachment",
		Classification: "malware", ThreatStatus: "active", ThreatTime: proofpoint.Time{Time: now.Add(-50 * time.Minute)},
		ThreatURL: "https://threatinsight.proofpoint.com/fakeworld/threat/email/" + dropper.sha256}
	rcpt := []string{"alice@example.com", "bob@example.com"}
	w.Proofpoint.AddDeliveredMessage(proofpoint.Message{GUID: "fakeworld-guid-0001", ID: "evt-fakeworld-0001",
		MessageTime: proofpoint.Time{Time: now.Add(-45 * time.Minute)}, Sender: "billing@evil.example",
		FromAddress: proofpoint.Addresses{"billing@evil.example"}, Recipient: rcpt, ToAddresses: rcpt, Subject: "Your invoice",
		MalwareScore: 92, MessageParts: []proofpoint.MessagePart{part(dropper), part(clean)},
		ThreatsInfoMap: []proofpoint.ThreatInfo{info}}, time.Time{})
	blockedInfo := info
	blockedInfo.ThreatID, blockedInfo.Threat = suspicious.sha256, suspicious.sha256
	blockedInfo.ThreatURL = "https://threatinsight.proofpoint.com/fakeworld/threat/email/" + suspicious.sha256
	w.Proofpoint.AddBlockedMessage(proofpoint.Message{GUID: "fakeworld-guid-0002", ID: "evt-fakeworld-0002",
		MessageTime: proofpoint.Time{Time: now.Add(-35 * time.Minute)}, Sender: "tools@evil.example",
		FromAddress: proofpoint.Addresses{"tools@evil.example"}, Recipient: []string{"carol@example.com"},
		ToAddresses: []string{"carol@example.com"}, Subject: "The tool you asked for", MalwareScore: 70,
		QuarantineFolder: "Attachment Defense", QuarantineRule: "module.sandbox.threat",
		MessageParts: []proofpoint.MessagePart{part(suspicious)}, ThreatsInfoMap: []proofpoint.ThreatInfo{blockedInfo}}, time.Time{})
	return nil
}

func (w *World) seedNSX() error {
	for i, h := range hosts[:3] {
		w.NSX.AddVM(nsxconn.VirtualMachine{ExternalID: fmt.Sprintf("5012c3a5-%04d-4f2e-8a1d-fakeworld%03d", i, i), DisplayName: h})
	}
	return nil
}
