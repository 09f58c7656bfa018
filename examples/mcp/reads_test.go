package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestHashVerdict(t *testing.T) {
	env := newEnv(t, nil, nil)
	for _, h := range []string{demoDropper.sha256, strings.ToUpper(demoDropper.sha1), demoDropper.md5hx} {
		var v VerdictOutput
		env.mustCall(t, "vmray_hash_verdict", map[string]any{"hash": h}, &v)
		if !v.Found || v.Verdict != "malicious" || v.Score != 92 || v.SampleSHA256 != demoDropper.sha256 {
			t.Fatalf("%s: verdict %+v", h, v)
		}
		if len(v.VTIs) != 2 || v.VTIs[0].Operation != "Downloads an executable" || v.VTIs[0].Score != 4 {
			t.Errorf("VTIs %+v, want highest score first", v.VTIs)
		}
		iocs := map[string]bool{}
		for _, i := range v.IOCs {
			iocs[i.Type+"="+i.Value] = true
		}
		if !iocs["domain=stage2.demo.example"] || !iocs["ip=198.51.100.23"] {
			t.Errorf("IOCs %+v", v.IOCs)
		}
		if !strings.HasPrefix(v.Link, "http") || v.Classifications[0] != "Downloader" {
			t.Errorf("link %q, classifications %v", v.Link, v.Classifications)
		}
	}

	var v VerdictOutput
	env.mustCall(t, "vmray_hash_verdict", map[string]any{"hash": demoDropper.sha256, "max_iocs": 1}, &v)
	if len(v.IOCs) != 1 || !v.IOCsTruncated || v.IOCCount < 2 {
		t.Errorf("max_iocs 1: %d IOCs of %d, truncated %v", len(v.IOCs), v.IOCCount, v.IOCsTruncated)
	}
	unknown := strings.Repeat("ab", 32)
	env.mustCall(t, "vmray_hash_verdict", map[string]any{"hash": unknown}, &v)
	if v.Found || v.Hash != unknown {
		t.Errorf("unknown file: %+v", v)
	}
	if msg := env.mustFail(t, "vmray_hash_verdict", map[string]any{"hash": "not-a-hash"}); !strings.Contains(msg, "not a SHA-256") {
		t.Errorf("bad hash error: %s", msg)
	}
}

func TestSubmitSampleWaitsForTheVerdict(t *testing.T) {
	env := newEnv(t, nil, nil)
	content := "MZ\x90\x00 a new file for the sandbox"
	var out SubmitOutput
	env.mustCall(t, "vmray_submit_sample", map[string]any{"file_name": "new.exe",
		"content_base64": base64.StdEncoding.EncodeToString([]byte(content)), "wait_seconds": 30}, &out)
	if out.SubmissionID == 0 || !out.Finished || out.Verdict == nil || !out.Verdict.Found || out.Link == "" {
		t.Fatalf("submission %+v", out)
	}
	if got := len(env.world.VMRay.Requests()); got == 0 {
		t.Fatal("the fake saw no request")
	}

	out = SubmitOutput{}
	env.mustCall(t, "vmray_submit_sample", map[string]any{"url": "https://phish.demo.example/login"}, &out)
	if out.SubmissionID == 0 || out.Finished || out.Verdict != nil {
		t.Errorf("no wait: %+v", out)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "give url"},
		{map[string]any{"url": "https://x.example", "content_base64": "AA=="}, "not both"},
		{map[string]any{"file_name": "a.exe", "content_base64": "%%%"}, "not standard base64"},
		{map[string]any{"content_base64": "AA=="}, "file_name is required"},
	} {
		if msg := env.mustFail(t, "vmray_submit_sample", tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("%v: error %q, want %q", tc.args, msg, tc.want)
		}
	}
}

func TestSubmitSampleSizeLimit(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Limits.MaxUploadBytes = 16 }, nil)
	msg := env.mustFail(t, "vmray_submit_sample", map[string]any{"file_name": "big.exe",
		"content_base64": base64.StdEncoding.EncodeToString(make([]byte, 64))})
	if !strings.Contains(msg, "larger than the server's limit of 16 bytes") {
		t.Errorf("error %q", msg)
	}
	if n := len(env.world.VMRay.Requests()); n != 0 {
		t.Errorf("%d requests reached VMRay", n)
	}
}

func TestCarbonBlackAlertsPaginate(t *testing.T) {
	env := newEnv(t, nil, nil)
	var first, second Page[AlertItem]
	env.mustCall(t, "cbc_alerts", map[string]any{"sha256": demoDropper.sha256, "page_size": 1}, &first)
	if len(first.Items) != 1 || first.NextCursor == "" || first.Total != 2 {
		t.Fatalf("first page %+v", first)
	}
	env.mustCall(t, "cbc_alerts", map[string]any{"sha256": demoDropper.sha256, "page_size": 1, "cursor": first.NextCursor}, &second)
	if len(second.Items) != 1 || second.NextCursor != "" || second.Items[0].ID == first.Items[0].ID {
		t.Fatalf("second page %+v after %+v", second, first)
	}
	for _, a := range append(first.Items, second.Items...) {
		if a.ProcessSHA256 != demoDropper.sha256 || a.DeviceName == "" || !strings.Contains(a.Link, "/alerts?") {
			t.Errorf("alert %+v", a)
		}
	}
	if first.Items[0].Time.Before(second.Items[0].Time) {
		t.Errorf("not newest first: %+v then %+v", first.Items[0], second.Items[0])
	}
	if msg := env.mustFail(t, "cbc_alerts", map[string]any{"cursor": "garbage!"}); !strings.Contains(msg, "cursor") {
		t.Errorf("bad cursor error %q", msg)
	}
}

func TestCarbonBlackAlertsSizeBound(t *testing.T) {
	env := newEnv(t, nil, nil)
	env.app.cfg.Limits.MaxResultBytes = 300 // below the configurable minimum: one alert is larger
	var p Page[AlertItem]
	env.mustCall(t, "cbc_alerts", map[string]any{"sha256": demoDropper.sha256}, &p)
	if len(p.Items) != 1 || !p.Truncated || p.NextCursor == "" {
		t.Fatalf("page %+v: want one alert, truncated, with a cursor", p)
	}
	var rest Page[AlertItem]
	env.mustCall(t, "cbc_alerts", map[string]any{"sha256": demoDropper.sha256, "cursor": p.NextCursor}, &rest)
	if len(rest.Items) != 1 || rest.Items[0].ID == p.Items[0].ID {
		t.Fatalf("rest %+v", rest)
	}
}

func TestCarbonBlackProcessSearchAndDevice(t *testing.T) {
	env := newEnv(t, nil, nil)
	var first, second Page[ProcessItem]
	q := map[string]any{"query": "process_hash:" + demoDropper.sha256, "page_size": 1}
	env.mustCall(t, "cbc_process_search", q, &first)
	if len(first.Items) != 1 || first.NextCursor == "" {
		t.Fatalf("first page %+v", first)
	}
	jobs := env.world.CarbonBlack.CountRequests("POST", "/api/investigate/v2/orgs/"+env.world.CarbonBlack.OrgKey()+"/processes/search_jobs")
	q["cursor"] = first.NextCursor
	env.mustCall(t, "cbc_process_search", q, &second)
	if len(second.Items) != 1 || second.NextCursor != "" || second.Items[0].GUID == first.Items[0].GUID {
		t.Fatalf("second page %+v", second)
	}
	if again := env.world.CarbonBlack.CountRequests("POST", "/api/investigate/v2/orgs/"+env.world.CarbonBlack.OrgKey()+"/processes/search_jobs"); again != jobs || jobs != 1 {
		t.Errorf("search jobs started: %d then %d, want the cursor to reuse the first", jobs, again)
	}
	p := first.Items[0]
	if p.SHA256 != demoDropper.sha256 || p.PID == 0 || !strings.Contains(p.Cmdline, "/silent") || !strings.Contains(p.Link, "processGUID=") {
		t.Errorf("process %+v", p)
	}

	var d DeviceOutput
	env.mustCall(t, "cbc_device", map[string]any{"device_id": p.DeviceID}, &d)
	if d.ID != p.DeviceID || d.Name != p.DeviceName || d.Quarantined || !strings.Contains(d.Link, "inventory") {
		t.Errorf("device %+v", d)
	}
	env.mustCall(t, "cbc_device", map[string]any{"name": strings.ToLower(demoHostDC)}, &d)
	if d.Name != demoHostDC || d.PolicyName != demoPolicyDC {
		t.Errorf("device by name %+v", d)
	}
	if msg := env.mustFail(t, "cbc_device", map[string]any{"device_id": 999999}); !strings.Contains(msg, "999999") {
		t.Errorf("unknown device error %q", msg)
	}
	if msg := env.mustFail(t, "cbc_process_search", map[string]any{"query": "x", "window": "2 weeks"}); !strings.Contains(msg, "window") {
		t.Errorf("bad window error %q", msg)
	}
}

func TestSentinelOneThreatsAndAgents(t *testing.T) {
	env := newEnv(t, nil, nil)
	var first, second Page[ThreatItem]
	env.mustCall(t, "s1_threats", map[string]any{"hash": demoDropper.sha1, "page_size": 1}, &first)
	if len(first.Items) != 1 || first.NextCursor == "" || first.Total != 2 {
		t.Fatalf("first page %+v", first)
	}
	env.mustCall(t, "s1_threats", map[string]any{"hash": demoDropper.sha1, "page_size": 1, "cursor": first.NextCursor}, &second)
	if len(second.Items) != 1 || second.Items[0].ID == first.Items[0].ID || second.NextCursor != "" {
		t.Fatalf("second page %+v", second)
	}
	th := first.Items[0]
	if th.SHA256 != demoDropper.sha256 || th.ComputerName == "" || th.Confidence != "malicious" ||
		!strings.HasSuffix(th.Link, "/incidents/threats/"+th.ID+"/overview") {
		t.Errorf("threat %+v", th)
	}

	var agents Page[AgentItem]
	env.mustCall(t, "s1_agents", map[string]any{"computer_name": "LAB"}, &agents)
	if len(agents.Items) != 1 || agents.Items[0].ComputerName != demoAgentLab || agents.Items[0].SiteName != demoSiteLab ||
		!agents.Items[0].Active || !strings.Contains(agents.Items[0].Link, agents.Items[0].ID) {
		t.Fatalf("agents %+v", agents)
	}
	if msg := env.mustFail(t, "s1_agents", map[string]any{"agent_id": "x1"}); !strings.Contains(msg, "not a SentinelOne id") {
		t.Errorf("bad id error %q", msg)
	}
}

func TestProofpointEventsForARecipient(t *testing.T) {
	env := newEnv(t, nil, nil)
	var all Page[EventItem]
	env.mustCall(t, "proofpoint_events", map[string]any{"recipient": strings.ToUpper(demoRecipient), "hours": 2}, &all)
	if len(all.Items) != 2 || all.NextCursor != "" {
		t.Fatalf("events %+v", all)
	}
	msg, click := all.Items[0], all.Items[1]
	if msg.Kind != "message_delivered" || msg.Subject != "Your invoice" || len(msg.Attachments) != 1 ||
		msg.Attachments[0].SHA256 != demoDropper.sha256 || !strings.Contains(msg.Link, demoDropper.sha256) {
		t.Errorf("message %+v", msg)
	}
	if click.Kind != "click_permitted" || click.URL == "" || !strings.Contains(click.Link, "demo-url-threat") {
		t.Errorf("click %+v", click)
	}

	var page Page[EventItem]
	env.mustCall(t, "proofpoint_events", map[string]any{"recipient": demoRecipient, "hours": 2, "page_size": 1}, &page)
	if len(page.Items) != 1 || page.NextCursor == "" || page.Items[0].GUID != msg.GUID {
		t.Fatalf("first page %+v", page)
	}
	env.mustCall(t, "proofpoint_events", map[string]any{"recipient": demoRecipient, "hours": 2, "page_size": 1,
		"cursor": page.NextCursor}, &page)
	if len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].GUID != click.GUID {
		t.Fatalf("second page %+v", page)
	}

	env.mustCall(t, "proofpoint_events", map[string]any{"recipient": "bob@example.com", "hours": 2}, &all)
	if len(all.Items) != 1 || all.Items[0].Kind != "message_delivered" {
		t.Errorf("bob's events %+v", all)
	}
	if msg := env.mustFail(t, "proofpoint_events", map[string]any{"hours": 100}); !strings.Contains(msg, "proofpoint.max_window") {
		t.Errorf("long window error %q", msg)
	}
}

func TestProofpointWindowsAreSplitIntoValidTAPWindows(t *testing.T) {
	env := newEnv(t, nil, nil)
	end := env.clock.Now().Add(-2 * time.Minute).UTC().Truncate(time.Second)
	start := end.Add(-(time.Hour + 10*time.Second))
	var p Page[EventItem]
	env.mustCall(t, "proofpoint_events", map[string]any{"recipient": demoRecipient, "start": start.Format(time.RFC3339),
		"end": end.Format(time.RFC3339)}, &p)
	if len(p.Items) != 2 || p.NextCursor != "" {
		t.Fatalf("events %+v", p)
	}
	var windows []string
	for _, r := range env.world.Proofpoint.Requests() {
		if strings.Contains(r.Path, "/siem/all") {
			windows = append(windows, r.Query.Get("interval"))
		}
	}
	want := []string{
		start.Format("2006-01-02T15:04:05Z") + "/" + end.Add(-30*time.Second).Format("2006-01-02T15:04:05Z"),
		end.Add(-30*time.Second).Format("2006-01-02T15:04:05Z") + "/" + end.Format("2006-01-02T15:04:05Z"),
	}
	if strings.Join(windows, " ") != strings.Join(want, " ") {
		t.Errorf("TAP windows %v, want %v", windows, want)
	}
	if msg := env.mustFail(t, "proofpoint_events", map[string]any{"start": end.Add(-10 * time.Second).Format(time.RFC3339),
		"end": end.Format(time.RFC3339)}); !strings.Contains(msg, "at least 30s") {
		t.Errorf("short window: %q", msg)
	}
}
