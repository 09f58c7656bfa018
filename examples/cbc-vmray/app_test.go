package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
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
// settings and a state file in dir.
func worldEnv(w *world, state string) map[string]string {
	env := map[string]string{
		"carbonblack.url": w.cbc.URL(), "carbonblack.org_key": w.cbc.OrgKey(), "carbonblack.api_id": w.cbc.APIID(),
		"carbonblack.api_secret": w.cbc.APISecret(), "vmray.url": w.vm.URL(), "vmray.api_key": vmraytest.DefaultAPIKey,
		"run.state_path": state, "run.ops_listen": "", "run.pipeline.poll_interval": "50ms",
		"selected_verdicts": "malicious,suspicious", "watchlist.verdicts": "malicious,suspicious",
		"ban.enabled": "true", "quarantine.enabled": "true", "carbonblack.settle_delay": "1s",
	}
	return apptest.EnvVars(envPrefix, env)
}

// checkEndState asserts what the fakes hold after the demo world was
// worked through with the demo settings (ban and quarantine on for
// malicious files; reports for malicious and suspicious ones).
func checkEndState(t *testing.T, w *world) {
	t.Helper()
	for label, want := range map[string]int{"dropper": 1, "suspicious": 1, "clean": 1, "known": 0, "big": 0, "unknown": 0,
		"trusted": 0, "mac": 0} {
		if got := w.submissions(label); got != want {
			t.Errorf("%s: %d VMRay submissions, want %d", label, got, want)
		}
	}
	if n := len(w.vm.SubmissionsFor(w.truncated)); n != 1 {
		t.Errorf("the truncated part of big was submitted (%d submissions, 1 seeded)", n-1)
	}
	reported := map[string]int{}
	for _, r := range w.cbc.Reports() {
		reported[reportSHA(r.Title)]++
	}
	for label, want := range map[string]int{"dropper": 1, "known": 1, "big": 1, "suspicious": 1, "clean": 0, "unknown": 0} {
		if reported[w.files[label]] != want {
			t.Errorf("%s: %d watchlist reports, want %d", label, reported[w.files[label]], want)
		}
	}
	if wls := w.cbc.Watchlists(); len(wls) != 1 || len(wls[0].ReportIDs) != 4 || !wls[0].AlertsEnabled {
		t.Errorf("watchlists = %+v", wls)
	}
	banned := map[string]int{}
	for _, o := range w.cbc.Overrides() {
		banned[o.SHA256Hash]++
	}
	for label, want := range map[string]int{"dropper": 1, "known": 1, "big": 1, "suspicious": 0, "clean": 0} {
		if banned[w.files[label]] != want {
			t.Errorf("%s: banned %d times, want %d", label, banned[w.files[label]], want)
		}
	}
	quarantines := map[int64]int{}
	for _, a := range w.cbc.DeviceActions() {
		for _, id := range a.DeviceIDs {
			quarantines[id]++
		}
	}
	for name, want := range map[string]int{"WS-FIN-01": 1, "WS-HR-02": 1, "SRV-FILE-03": 1, "WS-OPS-04": 0, "MAC-DEV-05": 0} {
		if got := quarantines[w.devices[name].ID]; got != want {
			t.Errorf("%s: %d quarantine actions, want %d", name, got, want)
		}
	}
}

func reportSHA(title string) string {
	i := strings.LastIndex(title, " ")
	return title[i+1:]
}

func TestEndToEndAndRestart(t *testing.T) {
	w := startWorld(t, vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	state := filepath.Join(t.TempDir(), "state.db")
	apptest.SetEnv(t, worldEnv(w, state))
	out := apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	checkEndState(t, w)
	// Every sighting was answered: the dropper's report covers both hosts,
	// and each host that saw a malicious file is quarantined.
	if !strings.Contains(out, "verdicts: malicious 3, suspicious 1, clean 1") || !strings.Contains(out, "1 dead letters") {
		t.Errorf("summary:\n%s", out)
	}

	before := len(w.cbc.Requests())
	reports, bans, actions := len(w.cbc.Reports()), len(w.cbc.Overrides()), len(w.cbc.DeviceActions())
	out = apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	checkEndState(t, w)
	if len(w.cbc.Reports()) != reports || len(w.cbc.Overrides()) != bans || len(w.cbc.DeviceActions()) != actions {
		t.Errorf("the second run on the same state acted again:\n%s", out)
	}
	if len(w.cbc.Requests()) == before {
		t.Error("the second run did not collect")
	}
}

func TestDryRunActsOnNothing(t *testing.T) {
	w := startWorld(t, vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1})
	apptest.SetEnv(t, worldEnv(w, filepath.Join(t.TempDir(), "state.db")))
	apptest.RunOK(t, app(), "-once", "-dry-run", "-log-level", "warn")
	if len(w.cbc.Reports()) != 0 || len(w.cbc.Overrides()) != 0 || len(w.cbc.DeviceActions()) != 0 || len(w.cbc.Watchlists()) != 0 {
		t.Errorf("dry run changed Carbon Black: %d reports, %d bans, %d device actions", len(w.cbc.Reports()),
			len(w.cbc.Overrides()), len(w.cbc.DeviceActions()))
	}
	if w.submissions("dropper") != 1 {
		t.Error("dry run did not analyse the unknown files")
	}
}

func TestDemo(t *testing.T) {
	out := apptest.RunOK(t, app(), "-demo", "-log-level", "warn")
	apptest.WantAll(t, "demo output", out, "Run summary", "6 distinct new files", "verdicts: malicious 3, suspicious 1, clean 1",
		"dropper", "UBS file/_download calls: 3", `watchlist "VMRay Connector" (alerts true): 4 reports`,
		"quarantined devices: SRV-FILE-03, WS-FIN-01, WS-HR-02")
}

func TestBadConfiguration(t *testing.T) {
	// Every secret key, broken next to it, is named without its value.
	apptest.CheckRefused(t, app(), apptest.SecretCases[Config]())
	apptest.CheckRefused(t, app(), []apptest.BadConfig{
		{Name: "missing secrets", YAML: "carbonblack:\n  org_key: ABC\n  api_id: ID\n",
			Want: []string{"carbonblack.api_secret", "vmray.api_key", "CBC_VMRAY_VMRAY_API_KEY"}},
		{Name: "unknown key", YAML: "vmray:\n  api_kee: x\n", Want: []string{"api_kee"}},
		{Name: "verdicts", YAML: "ban:\n  verdicts: [suspicious]\nselected_verdicts: [malicious]\n",
			Want: []string{"ban.verdicts", "suspicious is not in selected_verdicts"}},
		{Name: "filters", YAML: "carbonblack:\n  device_os_filters: [WINDOWS, AMIGA]\n  data_sources: [alerts, netflow]\n",
			Want: []string{"carbonblack.device_os_filters", "AMIGA", "carbonblack.data_sources", "netflow"}},
		{Name: "modes", YAML: "vmray:\n  analyzer_mode: fast\n  submission_tags: [\"two words\"]\n",
			Want: []string{"vmray.analyzer_mode", "vmray.submission_tags"}},
		{Name: "env override", Env: map[string]string{"CBC_VMRAY_CARBONBLACK_JOB_ROWS": "20000"}, Want: []string{"carbonblack.job_rows"}},
		{Name: "part rows", YAML: "carbonblack:\n  part_rows: 10000\n", Want: []string{"carbonblack.part_rows", "between 1 and 9999"}},
		{Name: "watchlist cap", YAML: "watchlist:\n  reports_per_watchlist: 0\n", Want: []string{"watchlist.reports_per_watchlist", "at least 1"}},
	})
}

func TestConfigExampleIsComplete(t *testing.T) {
	// config.example.yaml loads (with the secrets from the environment) and
	// holds the defaults.
	t.Setenv("CBC_VMRAY_CARBONBLACK_ORG_KEY", "ABCD1234")
	t.Setenv("CBC_VMRAY_CARBONBLACK_API_ID", "ID")
	t.Setenv("CBC_API_SECRET", "secret")
	t.Setenv("VMRAY_API_KEY", "key")
	got := defaults()
	if err := config.Load("config.example.yaml", got, envPrefix); err != nil {
		t.Fatal(err)
	}
	want := defaults()
	got.CarbonBlack.APISecret, got.VMRay.APIKey = want.CarbonBlack.APISecret, want.VMRay.APIKey
	got.CarbonBlack.OrgKey, got.CarbonBlack.APIID = "", ""
	if a, b := fmt.Sprintf("%+v", *got), fmt.Sprintf("%+v", *want); a != b {
		t.Errorf("config.example.yaml differs from the defaults:\n%s\n---\n%s", a, b)
	}
}
