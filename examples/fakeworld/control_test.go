package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// freeAddrs returns n loopback addresses whose ports were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// ctl is a client of the control API.
type ctl struct {
	t    *testing.T
	base string
}

// call sends a control request and decodes a JSON answer into out (when
// not nil), failing the test unless the status is want.
func (c ctl) call(method, path string, body any, want int, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// TestControlAPI starts fakeworld on fixed ports and drives every call of
// the control API over HTTP, with the vendor clients acting on the fakes
// in between, as a tool in another language would.
func TestControlAPI(t *testing.T) {
	addrs := freeAddrs(t, len(serviceNames()))
	var args []string
	for i, n := range serviceNames() {
		args = append(args, "-listen", n+"="+addrs[i])
	}
	envFile := filepath.Join(t.TempDir(), "fakeworld.env")
	args = append(args, "-env-file", envFile)
	ready := make(chan *Service, 1)
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() { done <- run(args, &out, &errOut, ready) }()
	var svc *Service
	select {
	case svc = <-ready:
	case code := <-done:
		t.Fatalf("fakeworld exited %d: %s", code, errOut.String())
	}
	defer func() { svc.Close() }()
	for i, n := range serviceNames() {
		if svc.URL(n) != "http://"+addrs[i] {
			t.Fatalf("%s listens on %s, asked %s", n, svc.URL(n), addrs[i])
		}
	}
	c := ctl{t: t, base: svc.URL("control")}
	ctx := context.Background()

	// Health and environment.
	c.call("GET", "/health", nil, 200, nil)
	var all map[string]map[string]string
	c.call("GET", "/env", nil, 200, &all)
	if all["cbc-vmray"]["CBC_VMRAY_VMRAY_URL"] != "http://"+addrs[1] || all["tap-cbc"]["TAP_CBC_WEBHOOK_URL"] != "http://"+addrs[0]+"/webhook" {
		t.Fatalf("env = %v", all)
	}
	var one map[string]string
	c.call("GET", "/env?example=s1-vmray", nil, 200, &one)
	if one["S1_VMRAY_SENTINELONE_URL"] != "http://"+addrs[3] {
		t.Fatalf("s1 env = %v", one)
	}
	c.call("GET", "/env?example=nope", nil, 404, nil)
	if b, err := os.ReadFile(envFile); err != nil || !strings.Contains(string(b), "export TAP_CBC_PROOFPOINT_URL='http://"+addrs[4]+"'") {
		t.Fatalf("env file: %v\n%s", err, b)
	}

	// VMRay: seed a sample and an outcome, submit, unlock, read back.
	var seededSubs []vmray.Submission
	c.call("GET", "/vmray/submissions", nil, 200, &seededSubs)
	var smp vmray.Sample
	c.call("POST", "/vmray/samples", map[string]any{"filename": "seeded.exe", "content": "MZ seeded by the control API", "locked": true,
		"outcome": map[string]any{"verdict": "malicious", "score": 90, "threat_names": []string{"Seeded"}}}, 201, &smp)
	newHash := strings.Repeat("5e", 32)
	c.call("POST", "/vmray/outcomes", map[string]any{"sha256": newHash, "outcome": map[string]any{"verdict": "suspicious"}}, 204, nil)
	c.call("POST", "/vmray/outcomes", map[string]any{"sha256": "short"}, 400, nil)
	var samples []vmray.Sample
	c.call("GET", "/vmray/samples", nil, 200, &samples)
	if len(samples) < 2 || samples[len(samples)-1].SHA256 != smp.SHA256 {
		t.Fatalf("samples = %+v", samples)
	}
	vm, err := vmray.New(svc.URL("vmray"), vmraytest.DefaultAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Submissions.SubmitFile(ctx, "x.exe", strings.NewReader("MZ submitted through the stable port"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Samples.UnlockReports(ctx, smp.ID); err != nil {
		t.Fatal(err)
	}
	var subs []vmray.Submission
	c.call("GET", "/vmray/submissions", nil, 200, &subs)
	if len(subs) != len(seededSubs)+2 || subs[len(subs)-1].Filename != "x.exe" {
		t.Fatalf("submissions = %+v", subs)
	}
	c.call("GET", "/vmray/submissions?sha256="+smp.SHA256, nil, 200, &subs)
	if len(subs) != 1 || subs[0].Filename != "seeded.exe" {
		t.Fatalf("submissions of the seeded sample = %+v", subs)
	}
	var unlocks []vmraytest.Unlock
	c.call("GET", "/vmray/unlocks", nil, 200, &unlocks)
	if len(unlocks) != 1 || unlocks[0].SampleID != smp.ID {
		t.Fatalf("unlocks = %+v", unlocks)
	}

	// Carbon Black: seed, act with the client, read back.
	var dev carbonblack.Device
	c.call("POST", "/carbonblack/devices", map[string]any{"name": "WS-CTL-09", "os": "WINDOWS"}, 201, &dev)
	c.call("POST", "/carbonblack/alerts", map[string]any{"id": "ctl-alert-1", "type": "CB_ANALYTICS", "device_id": dev.ID,
		"process_sha256": strings.Repeat("ab", 32), "backend_timestamp": "2026-03-01T12:00:00.000Z"}, 201, nil)
	c.call("POST", "/carbonblack/processes", map[string]any{"process_guid": "ORG-ctl-1", "device_id": dev.ID,
		"process_sha256": strings.Repeat("ab", 32), "process_name": `c:\ctl.exe`}, 204, nil)
	c.call("POST", "/carbonblack/observations", map[string]any{"observation_id": "obs-ctl-1", "device_id": dev.ID}, 204, nil)
	var bin map[string]string
	c.call("POST", "/carbonblack/binaries", map[string]any{"content_base64": "TVogY3Rs"}, 201, &bin)
	if len(bin["sha256"]) != 64 {
		t.Fatalf("binary = %v", bin)
	}
	c.call("POST", "/carbonblack/binaries", map[string]any{"content": "a", "content_base64": "YQ=="}, 400, nil)
	c.call("POST", "/carbonblack/device-files", map[string]any{"device_id": dev.ID, "path": `c:\ctl.exe`, "content": "MZ ctl"}, 204, nil)
	c.call("POST", "/carbonblack/device-processes", map[string]any{"device_id": dev.ID,
		"process": map[string]any{"process_pid": 4321, "process_path": `c:\ctl.exe`}}, 204, nil)
	c.call("POST", "/carbonblack/device-files", map[string]any{"device_id": 999999, "path": `c:\x`, "content": "x"}, 400, nil)
	var alerts []carbonblack.Alert
	c.call("GET", "/carbonblack/alerts", nil, 200, &alerts)
	if alerts[len(alerts)-1].ID != "ctl-alert-1" {
		t.Fatalf("alerts end with %+v", alerts[len(alerts)-1])
	}
	cb, err := carbonblack.New(svc.URL("carbonblack"), carbonblacktest.DefaultOrgKey, carbonblacktest.DefaultAPIID, carbonblacktest.DefaultAPISecret,
		carbonblack.WithSessionPolling(carbonblack.PollPolicy{Interval: 10 * time.Millisecond, Timeout: 10 * time.Second}),
		carbonblack.WithCommandPolling(carbonblack.PollPolicy{Interval: 10 * time.Millisecond, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Reputations.Ban(ctx, bin["sha256"], "ctl.exe", "banned by the control test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Reports.Create(ctx, carbonblack.Report{Title: "ctl", Description: "d", Severity: 5, Timestamp: 1772366400,
		IOCsV2: []carbonblack.IOC{{ID: "1", MatchType: "equality", Field: "process_hash", Values: []string{bin["sha256"]}}}}); err != nil {
		t.Fatal(err)
	}
	if err := cb.Devices.Quarantine(ctx, true, dev.ID); err != nil {
		t.Fatal(err)
	}
	lr, err := cb.LiveResponse.Open(ctx, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := lr.Kill(ctx, 4321); err != nil {
		t.Fatal(err)
	}
	_ = lr.Close(ctx)
	var bans []carbonblack.ReputationOverride
	c.call("GET", "/carbonblack/bans", nil, 200, &bans)
	var reports []carbonblack.Report
	c.call("GET", "/carbonblack/reports", nil, 200, &reports)
	var watchlists []carbonblack.Watchlist
	c.call("GET", "/carbonblack/watchlists", nil, 200, &watchlists)
	var actions []carbonblacktest.DeviceAction
	c.call("GET", "/carbonblack/device-actions", nil, 200, &actions)
	var cmds []carbonblacktest.CommandRecord
	c.call("GET", "/carbonblack/liveresponse/commands", nil, 200, &cmds)
	if len(bans) != 1 || bans[0].SHA256Hash != bin["sha256"] || len(reports) != 1 || reports[0].Title != "ctl" || watchlists == nil ||
		len(actions) != 1 || actions[0].ActionType != "QUARANTINE" || len(cmds) != 1 || cmds[0].PID != 4321 {
		t.Fatalf("read back: bans %+v reports %+v watchlists %v actions %+v commands %+v", bans, reports, watchlists, actions, cmds)
	}

	// SentinelOne: seed, act, read back.
	var agent sentinelone.Agent
	c.call("POST", "/sentinelone/agents", map[string]any{"computerName": "CTL-LAPTOP", "isActive": true, "osType": "windows"}, 201, &agent)
	var threat sentinelone.Threat
	c.call("POST", "/sentinelone/threats", map[string]any{
		"threat": map[string]any{"threatInfo": map[string]any{"threatName": "ctl.exe", "sha1": strings.Repeat("c1", 20),
			"filePath": `C:\ctl.exe`}, "agentRealtimeInfo": map[string]any{"agentId": agent.ID}},
		"file": map[string]any{"path": `C:\ctl.exe`, "content": "MZ ctl threat"}}, 201, &threat)
	c.call("POST", "/sentinelone/agent-files", map[string]any{"agent_id": agent.ID, "path": `C:\other.exe`, "content": "MZ"}, 204, nil)
	c.call("POST", "/sentinelone/agent-files", map[string]any{"agent_id": "nope", "path": `C:\x`, "content": "x"}, 404, nil)
	s1, err := sentinelone.New(svc.URL("sentinelone"), sentinelonetest.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Threats.AddNote(ctx, sentinelone.ThreatFilter{IDs: []string{threat.ID}}, "seen by the control test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Threats.Mitigate(ctx, sentinelone.MitigateKill, []string{threat.ID}, sentinelone.Scope{}); err != nil {
		t.Fatal(err)
	}
	scope := sentinelone.Scope{SiteIDs: []string{sentinelonetest.DefaultSiteID}}
	if _, err := s1.Blocklist.Create(ctx, scope, sentinelone.NewRestriction{Value: strings.Repeat("c1", 20), OSType: "windows"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.ThreatIntelligence.CreateIOCs(ctx, scope, []sentinelone.IOC{{Type: "SHA1", Value: strings.Repeat("c1", 20), Source: "ctl"}}); err != nil {
		t.Fatal(err)
	}
	var notes map[string][]sentinelone.Note
	c.call("GET", "/sentinelone/notes", nil, 200, &notes)
	var notesOne map[string][]sentinelone.Note
	c.call("GET", "/sentinelone/notes?threat_id="+threat.ID, nil, 200, &notesOne)
	var blocked []sentinelone.Restriction
	c.call("GET", "/sentinelone/blocklist", nil, 200, &blocked)
	var iocs []sentinelone.IOC
	c.call("GET", "/sentinelone/iocs", nil, 200, &iocs)
	var s1Actions struct {
		Threats map[string][]string `json:"threats"`
		Agents  map[string][]string `json:"agents"`
	}
	c.call("GET", "/sentinelone/actions", nil, 200, &s1Actions)
	if len(notes[threat.ID]) != 1 || len(notesOne[threat.ID]) != 1 || len(blocked) != 1 || len(iocs) != 1 ||
		!slices.Contains(s1Actions.Threats[threat.ID], "mitigate/kill") {
		t.Fatalf("read back: notes %v blocklist %+v iocs %+v actions %+v", notes, blocked, iocs, s1Actions)
	}

	// Proofpoint: seed a message and a click, read them through TAP.
	now := time.Now().UTC()
	c.call("POST", "/proofpoint/messages", map[string]any{"kind": "delivered", "message": map[string]any{"GUID": "ctl-guid-1",
		"messageTime": now.Add(-10 * time.Minute), "recipient": []string{"eve@example.com"}, "messageParts": []any{}}}, 204, nil)
	c.call("POST", "/proofpoint/clicks", map[string]any{"kind": "permitted", "click": map[string]any{"id": "ctl-click-1",
		"clickTime": now.Add(-5 * time.Minute), "recipient": "eve@example.com", "url": "http://evil.example/"}}, 204, nil)
	c.call("POST", "/proofpoint/messages", map[string]any{"kind": "sideways"}, 400, nil)
	c.call("POST", "/proofpoint/clicks", map[string]any{"kind": "sideways"}, 400, nil)
	req, _ := http.NewRequest("GET", svc.URL("proofpoint")+"/v2/siem/all?format=json&sinceSeconds=3600", nil)
	req.SetBasicAuth(proofpointtest.DefaultPrincipal, proofpointtest.DefaultSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tap, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(tap), "ctl-guid-1") || !strings.Contains(string(tap), "ctl-click-1") {
		t.Fatalf("TAP answer %d: %s", resp.StatusCode, tap)
	}

	// Webhook receiver.
	hook, err := http.Post(svc.URL("control")+"/webhook", "application/json", strings.NewReader(`{"sha256":"ab"}`))
	if err != nil {
		t.Fatal(err)
	}
	hook.Body.Close()
	var calls []webhookCall
	c.call("GET", "/webhook/calls", nil, 200, &calls)
	if len(calls) != 1 || string(calls[0].Body) != `{"sha256":"ab"}` {
		t.Fatalf("webhook calls = %+v", calls)
	}

	// Recorded requests, with credentials redacted.
	var reqs []requestView
	c.call("GET", "/requests/carbonblack", nil, 200, &reqs)
	if len(reqs) == 0 || reqs[0].Header["X-Auth-Token"][0] != "REDACTED" {
		t.Fatalf("requests = %+v", reqs)
	}
	for _, n := range []string{"vmray", "sentinelone", "proofpoint", "nsx"} {
		c.call("GET", "/requests/"+n, nil, 200, &reqs)
	}
	c.call("GET", "/requests/bogus", nil, 404, nil)

	// Faults: one 503, then normal answers; a cleared fault is gone.
	c.call("POST", "/faults/vmray", map[string]any{"path": "/rest/system_info", "status": 503, "times": 1}, 204, nil)
	sysInfo := func() int {
		req, _ := http.NewRequest("GET", svc.URL("vmray")+"/rest/system_info", nil)
		req.Header.Set("Authorization", "api_key "+vmraytest.DefaultAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := [2]int{sysInfo(), sysInfo()}; got != [2]int{503, 200} {
		t.Fatalf("statuses with a one-time fault: %v", got)
	}
	c.call("POST", "/faults/vmray", map[string]any{"path": "/rest/system_info", "status": 500}, 204, nil)
	c.call("DELETE", "/faults/vmray", nil, 204, nil)
	if got := sysInfo(); got != 200 {
		t.Fatalf("after clearing: %d", got)
	}
	c.call("POST", "/faults/vmray", map[string]any{"latency": "soon"}, 400, nil)
	c.call("POST", "/faults/vmray", map[string]any{"path": "/x"}, 400, nil)
	c.call("POST", "/faults/nsx", map[string]any{"status": 500}, 400, nil)
	for _, n := range []string{"carbonblack", "sentinelone", "proofpoint"} {
		c.call("POST", "/faults/"+n, map[string]any{"latency": "1ms", "times": 1}, 204, nil)
		c.call("DELETE", "/faults/"+n, nil, 204, nil)
	}

	// Reset: back to the seeded world behind the same ports.
	c.call("POST", "/reset", nil, 204, nil)
	c.call("GET", "/carbonblack/bans", nil, 200, &bans)
	c.call("GET", "/vmray/submissions", nil, 200, &subs)
	c.call("GET", "/webhook/calls", nil, 200, &calls)
	c.call("GET", "/requests/vmray", nil, 200, &reqs)
	c.call("GET", "/carbonblack/alerts", nil, 200, &alerts)
	if len(bans) != 0 || len(subs) != len(seededSubs) || len(calls) != 0 || len(reqs) != 0 || alerts[len(alerts)-1].ID == "ctl-alert-1" {
		t.Fatalf("after reset: bans %d submissions %d webhook calls %d requests %d, last alert %s", len(bans), len(subs), len(calls), len(reqs), alerts[len(alerts)-1].ID)
	}
	if got := sysInfo(); got != 200 || svc.URL("vmray") != "http://"+addrs[1] {
		t.Fatalf("after reset the VMRay port answers %d at %s", got, svc.URL("vmray"))
	}
}

// TestPrintEnvWithFixedPorts checks that -print-env prints the export lines
// of a world on fixed ports without starting it, and refuses otherwise.
func TestPrintEnvWithFixedPorts(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-base-port", "18000", "-print-env", "tap-cbc"}, &out, &errOut, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"export TAP_CBC_PROOFPOINT_URL='http://127.0.0.1:18004'", "export TAP_CBC_CARBONBLACK_URL='http://127.0.0.1:18002'",
		"export TAP_CBC_NSX_URL='http://127.0.0.1:18005'", "export TAP_CBC_WEBHOOK_URL='http://127.0.0.1:18000/webhook'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %s in\n%s", want, out.String())
		}
	}
	for _, bad := range [][]string{
		{"-print-env", "cbc-vmray"},
		{"-base-port", "18000", "-tls", "-print-env", "cbc-vmray"},
		{"-listen", "vmray"},
		{"-listen", "mystery=127.0.0.1:1"},
		{"-base-port", "65533"},
	} {
		errOut.Reset()
		if code := run(bad, &out, &errOut, nil); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, %q", bad, code, errOut.String())
		}
	}
}
