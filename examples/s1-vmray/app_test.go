package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// startWorld starts the demo world for a test.
func startWorld(t *testing.T, timing vmraytest.Timing) *world {
	t.Helper()
	w, err := newWorld(timing)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

// worldEnv is the environment that points the connector at w with the demo's
// settings and a state file.
func worldEnv(w *world, state string) map[string]string {
	env := demoSettings(w)
	env["sentinelone.api_token"] = w.s1.Token()
	env["vmray.api_key"] = vmraytest.DefaultAPIKey
	env["vmray.archive_password"] = demoArchivePassword
	env["run.state_path"] = state
	env["run.ops_listen"] = ""
	return apptest.EnvVars(envPrefix, env)
}

// effects is what the connector changed in SentinelOne, for comparisons
// between runs.
type effects struct {
	notes, threatActions, agentActions map[string]int
	restrictions, iocs                 int
}

func (w *world) effects() effects {
	e := effects{notes: map[string]int{}, threatActions: map[string]int{}, agentActions: map[string]int{}}
	for _, ts := range w.threats {
		for _, t := range ts {
			e.notes[t.ID] = len(w.s1.Notes(t.ID))
			e.threatActions[t.ID] = len(w.s1.ThreatActions(t.ID))
		}
	}
	for _, a := range w.agents {
		e.agentActions[a.ID] = len(w.s1.AgentActions(a.ID))
	}
	e.restrictions, e.iocs = len(w.s1.Restrictions()), len(w.s1.IOCs())
	return e
}

// count returns how often action appears in list.
func count(list []string, action string) int {
	n := 0
	for _, a := range list {
		if a == action {
			n++
		}
	}
	return n
}

// checkEndState asserts what the fakes hold after the demo world was
// worked through with the demo settings.
func checkEndState(t *testing.T, w *world) {
	t.Helper()
	// One submission per distinct new hash, none for known or undeliverable
	// files, whatever the number of threats.
	for label, want := range map[string]int{"dropper": 1, "suspicious": 1, "clean": 1, "archive": 1, "dv-tool": 1, "known": 0,
		"uncollected": 0, "offline": 0} {
		if got := w.submissions(label); got != want {
			t.Errorf("%s: %d VMRay submissions, want %d", label, got, want)
		}
	}
	if subs := w.vm.SubmissionsFor(w.files["dropper"]); len(subs) > 0 {
		if tags := subs[len(subs)-1].Tags; !slices.Equal(tags, []string{"SentinelOne", "Default_site", "EMEA_Site_2"}) {
			t.Errorf("dropper submission tags %v, want the static tag and both site names", tags)
		}
	}
	// Every threat of an actionable file is noted once, whatever its
	// agent's state; a clean file's threat gets the false-positive note
	// only when its confidence level is configured.
	wantNotes := map[string][]int{"dropper": {1, 1, 1}, "known": {1}, "suspicious": {1}, "clean": {1, 0}, "archive": {1},
		"uncollected": {0}, "offline": {0}}
	wantKill := map[string][]int{"dropper": {1, 1, 1}, "known": {1}, "suspicious": {0}, "clean": {0, 0}, "archive": {1},
		"uncollected": {0}, "offline": {0}}
	for label, ts := range w.threats {
		for i, th := range ts {
			notes := w.s1.Notes(th.ID)
			if len(notes) != wantNotes[label][i] {
				t.Errorf("%s threat %d on %s: %d notes, want %d", label, i, th.AgentRealtimeInfo.AgentComputerName, len(notes), wantNotes[label][i])
			}
			for _, n := range notes {
				if !strings.Contains(n.Text, "Evidence SHA1: "+w.files[label]) {
					t.Errorf("%s note %q names another file", label, n.Text)
				}
			}
			if got := count(w.s1.ThreatActions(th.ID), "mitigate/kill"); got != wantKill[label][i] {
				t.Errorf("%s threat %d: killed %d times, want %d", label, i, got, wantKill[label][i])
			}
		}
	}
	clean := w.threats["clean"]
	if th, _ := w.s1.Threat(clean[0].ID); th.ThreatInfo.AnalystVerdict != sentinelone.VerdictFalsePositive {
		t.Errorf("clean threat with confidence malicious: analyst verdict %q, want false_positive", th.ThreatInfo.AnalystVerdict)
	}
	if th, _ := w.s1.Threat(clean[1].ID); th.ThreatInfo.AnalystVerdict != sentinelone.VerdictUndefined {
		t.Errorf("clean threat with confidence n/a: analyst verdict %q, want it untouched", th.ThreatInfo.AnalystVerdict)
	}
	// Mitigations name threat ids only.
	threatIDs := map[string]bool{}
	for _, ts := range w.threats {
		for _, th := range ts {
			threatIDs[th.ID] = true
		}
	}
	for _, r := range w.s1.Requests() {
		if r.Path != sentinelone.APIPrefix+"/threats/mitigate/kill" {
			continue
		}
		var body struct {
			Filter struct {
				IDs []string `json:"ids"`
			} `json:"filter"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Filter.IDs) != 1 || !threatIDs[body.Filter.IDs[0]] {
			t.Errorf("kill request %s: filter ids must be one threat id", r.Body)
		}
	}
	// A scan per agent that saw a malicious file; none for suspicious or
	// clean files only.
	for name, want := range map[string]int{"WS-FIN-01": 1, "WS-HR-02": 1, "SRV-DB-03": 1, "MAC-DEV-04": 1} {
		if got := count(w.s1.AgentActions(w.agents[name].ID), "initiate-scan"); got != want {
			t.Errorf("%s: %d scans, want %d", name, got, want)
		}
	}
	// The blocklist holds each malicious hash once per OS that saw it,
	// including the Deep Visibility-only tool.
	blocked := map[string]int{}
	for _, r := range w.s1.Restrictions() {
		blocked[r.Value+"/"+r.OSType]++
	}
	want := map[string]int{w.files["dropper"] + "/windows": 1, w.files["dropper"] + "/linux": 1, w.files["known"] + "/macos": 1,
		w.files["archive"] + "/windows": 1, w.files["dv-tool"] + "/windows": 1}
	if fmt.Sprint(blocked) != fmt.Sprint(want) {
		t.Errorf("blocklist %v, want %v", blocked, want)
	}
	var values []string
	for _, ioc := range w.s1.IOCs() {
		values = append(values, ioc.Type+"="+ioc.Value)
	}
	slices.Sort(values)
	if !slices.Equal(values, []string{"DNS=dl.badcdn.example", "IPV4=203.0.113.66", "URL=http://dl.badcdn.example/stage2.bin"}) {
		t.Errorf("indicators %v", values)
	}
}

func TestEndToEndAndRestart(t *testing.T) {
	w := startWorld(t, vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	state := filepath.Join(t.TempDir(), "state.db")
	apptest.SetEnv(t, worldEnv(w, state))
	out := apptest.RunOK(t, app(), "-once", "-log-level", "error")
	checkEndState(t, w)
	if !strings.Contains(out, "verdicts: malicious 4, suspicious 1, clean 1") || !strings.Contains(out, "1 dead letters (fetch 1)") || !strings.Contains(out, "pending: 1 items") {
		t.Errorf("summary:\n%s", out)
	}
	// The archive went to VMRay with its password.
	sent := false
	for _, r := range w.vm.Requests() {
		if r.Method == "POST" && strings.Contains(string(r.Body), demoArchivePassword) {
			sent = true
		}
	}
	if !sent {
		t.Error("no submission carried the archive password")
	}

	before, requests := w.effects(), len(w.s1.Requests())
	out = apptest.RunOK(t, app(), "-once", "-log-level", "error")
	checkEndState(t, w)
	if after := w.effects(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the second run on the same state acted again:\nbefore %v\nafter  %v\n%s", before, after, out)
	}
	if len(w.s1.Requests()) == requests {
		t.Error("the second run did not collect")
	}
}

func TestDryRunActsOnNothing(t *testing.T) {
	w := startWorld(t, vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	apptest.SetEnv(t, worldEnv(w, filepath.Join(t.TempDir(), "state.db")))
	apptest.RunOK(t, app(), "-once", "-dry-run", "-log-level", "error")
	e := w.effects()
	for id, n := range e.notes {
		if n != 0 {
			t.Errorf("dry run noted threat %s", id)
		}
	}
	for _, ts := range w.threats {
		for _, th := range ts {
			for _, a := range w.s1.ThreatActions(th.ID) {
				if a != "fetch-file" {
					t.Errorf("dry run acted on threat %s: %s", th.ID, a)
				}
			}
		}
	}
	for name, a := range w.agents {
		for _, act := range w.s1.AgentActions(a.ID) {
			if act != "fetch-files" {
				t.Errorf("dry run acted on agent %s: %s", name, act)
			}
		}
	}
	if e.restrictions != 0 || e.iocs != 0 {
		t.Errorf("dry run changed SentinelOne: %d blocklist entries, %d indicators", e.restrictions, e.iocs)
	}
	if w.submissions("dropper") != 1 {
		t.Error("dry run did not analyse the unknown files")
	}
}

func TestGatesFollowTheConfiguration(t *testing.T) {
	// The original defaults: only malicious files act, and only the note
	// and the false-positive update are on.
	w := startWorld(t, vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	env := worldEnv(w, filepath.Join(t.TempDir(), "state.db"))
	for _, k := range []string{"selected_verdicts", "note.verdicts", "indicators.enabled", "dv_blocklist.enabled", "kill.enabled",
		"initiate_scan.enabled", "sentinelone.collect_methods"} {
		delete(env, config.EnvName(envPrefix, k))
	}
	env[config.EnvName(envPrefix, "sentinelone.confidence_levels")] = "malicious"
	env[config.EnvName(envPrefix, "vmray.custom_tag_property")] = "siteId" // the original's spelling
	apptest.SetEnv(t, env)
	apptest.RunOK(t, app(), "-once", "-log-level", "error")
	if w.submissions("dv-tool") != 0 || w.submissions("suspicious") != 0 {
		t.Error("deep visibility or suspicious-confidence threats were collected although off")
	}
	if subs := w.vm.SubmissionsFor(w.files["archive"]); len(subs) != 1 || !slices.Equal(subs[0].Tags, []string{"SentinelOne", sentinelonetest.DefaultSiteID}) {
		t.Errorf("archive submissions %+v, want one tagged with the site id", subs)
	}
	if n := len(w.s1.Notes(w.threats["dropper"][1].ID)); n != 0 {
		t.Errorf("a threat of confidence suspicious was noted (%d) although only malicious ones are collected", n)
	}
	for _, label := range []string{"dropper", "known", "archive"} {
		if n := len(w.s1.Notes(w.threats[label][0].ID)); n != 1 {
			t.Errorf("%s: %d notes, want 1", label, n)
		}
		for _, a := range w.s1.ThreatActions(w.threats[label][0].ID) {
			if a != "fetch-file" && a != "notes" {
				t.Errorf("%s: action %s is off by default", label, a)
			}
		}
	}
	if th, _ := w.s1.Threat(w.threats["clean"][0].ID); th.ThreatInfo.AnalystVerdict != sentinelone.VerdictFalsePositive {
		t.Error("the false-positive update (on by default, as in the original code) did not happen")
	}
	if e := w.effects(); e.restrictions != 0 || e.iocs != 0 {
		t.Errorf("default configuration blocked %d hashes and created %d indicators", e.restrictions, e.iocs)
	}
}

func TestDemo(t *testing.T) {
	out := apptest.RunOK(t, app(), "-demo", "-log-level", "error")
	apptest.WantAll(t, "demo output", out, "Run summary", "8 distinct new files", "verdicts: malicious 4, suspicious 1, clean 1", "1 dead letters (fetch 1)", "pending: 1 items",
		"dropper", "SentinelOne,Default_site,EMEA_Site_2", "analyst-verdict/false_positive", "blocklist entries: 5, threat intelligence indicators: 3")
}

func TestBadConfiguration(t *testing.T) {
	// Every secret key, broken next to it, is named without its value.
	apptest.CheckRefused(t, app(), apptest.SecretCases[Config]())
	apptest.CheckRefused(t, app(), []apptest.BadConfig{
		{Name: "missing secrets", YAML: "sentinelone:\n  site_ids: []\n",
			Want: []string{"sentinelone.api_token", "S1_VMRAY_SENTINELONE_API_TOKEN", "vmray.api_key"}},
		{Name: "unknown key", YAML: "sentinelone:\n  api_tokn: x\n", Want: []string{"api_tokn"}},
		{Name: "verdicts", YAML: "kill:\n  verdicts: [suspicious]\nselected_verdicts: [malicious]\n",
			Want: []string{"kill.verdicts", "suspicious is not in selected_verdicts"}},
		{Name: "methods", YAML: "sentinelone:\n  collect_methods: [threat, netflow]\n  download_method: ftp\n  confidence_levels: [high]\n",
			Want: []string{"sentinelone.collect_methods", "netflow", "sentinelone.download_method", "ftp", "sentinelone.confidence_levels", "high"}},
		// The rejected password must not leak into the error output.
		{Name: "password", Env: map[string]string{"S1_VMRAY_SENTINELONE_FETCH_PASSWORD": "short"},
			Want: []string{"sentinelone.fetch_password"}, Hide: []string{"short"}},
		{Name: "ids and scopes", YAML: "sentinelone:\n  site_ids: [emea]\nthreat_blocklist:\n  target_scope: planet\nnote:\n  ioc_fields: [cmdline]\n",
			Want: []string{"sentinelone.site_ids", "threat_blocklist.target_scope", "note.ioc_fields", "cmdline"}},
		{Name: "env override", Env: map[string]string{"S1_VMRAY_SENTINELONE_DV_LIMIT": "0"}, Want: []string{"sentinelone.dv_limit"}},
	})
}

func TestConfigExampleIsComplete(t *testing.T) {
	// config.example.yaml loads (with the secrets from the environment) and
	// holds the defaults.
	t.Setenv("S1_API_TOKEN", "token")
	t.Setenv("VMRAY_API_KEY", "key")
	got := defaults()
	if err := config.Load("config.example.yaml", got, envPrefix); err != nil {
		t.Fatal(err)
	}
	want := defaults()
	got.SentinelOne.APIToken, got.VMRay.APIKey = want.SentinelOne.APIToken, want.VMRay.APIKey
	if a, b := fmt.Sprintf("%+v", *got), fmt.Sprintf("%+v", *want); a != b {
		t.Errorf("config.example.yaml differs from the defaults:\n%s\n---\n%s", a, b)
	}
}

func TestDemoArchiveIsARealEncryptedZip(t *testing.T) {
	z, err := encryptedZip("invoice.pdf.exe", []byte("MZ payload"), demoArchivePassword)
	if err != nil {
		t.Fatal(err)
	}
	r, err := zipx.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	f := r.Files()[0]
	if !f.Encrypted() || f.Name != "invoice.pdf.exe" {
		t.Fatalf("entry %+v", f)
	}
	if _, err := f.OpenWithPassword("wrong-password"); err == nil {
		t.Error("a wrong password opened the archive")
	}
	rc, err := f.OpenWithPassword(demoArchivePassword)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || string(b) != "MZ payload" {
		t.Errorf("content %q, %v", b, err)
	}
}
