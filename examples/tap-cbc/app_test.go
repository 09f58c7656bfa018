package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
)

// startWorld starts the demo world for a test.
func startWorld(t *testing.T, cbcOpts ...carbonblacktest.Option) *world {
	t.Helper()
	w, err := newWorld(t.TempDir(), cbcOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

// setEnv points the connector at w through the environment.
func setEnv(t *testing.T, w *world, state string) {
	apptest.SetEnv(t, w.env(state))
}

// observed is what the fakes saw, in comparable form.
type observed struct {
	hunts       int
	feedReports []string // SHA-256s reported in the feed
	severity    map[string]int
	titles      map[string]string
	bans        []string
	actions     map[string][]string // device action type -> device names, in order
	kills       []int64
	deletes     []string
	openLR      int
	deliveries  []string // "device pid sha256"
	badHooks    int
	commands    []string // distinct command lines (a command may run again after a crash)
	commandRuns int
	tagged      []string
}

func observe(t *testing.T, w *world) observed {
	t.Helper()
	o := observed{actions: map[string][]string{}, severity: map[string]int{}, titles: map[string]string{}}
	o.hunts = w.cbc.CountRequests("POST", "/api/investigate/v2/orgs/"+w.cbc.OrgKey()+"/processes/search_jobs")
	names := map[int64]string{}
	for n, d := range w.devices {
		names[d.ID] = n
	}
	cl := w.cbc.Client()
	if info, err := cl.Feeds.FindByName(t.Context(), demoFeed, false); err == nil && info != nil {
		reports, err := cl.Feeds.Reports(t.Context(), info.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			for _, ioc := range r.IOCsV2 {
				o.feedReports = append(o.feedReports, ioc.Values...)
				for _, v := range ioc.Values {
					o.severity[v], o.titles[v] = r.Severity, r.Title
				}
			}
		}
	}
	for _, ov := range w.cbc.Overrides() {
		o.bans = append(o.bans, ov.SHA256Hash)
	}
	for _, a := range w.cbc.DeviceActions() {
		for _, id := range a.DeviceIDs {
			o.actions[a.ActionType] = append(o.actions[a.ActionType], names[id])
		}
	}
	for _, c := range w.cbc.Commands() {
		switch c.Name {
		case "kill":
			o.kills = append(o.kills, c.PID)
		case "delete file":
			o.deletes = append(o.deletes, names[c.DeviceID]+" "+c.Path)
		}
	}
	o.openLR = len(w.cbc.OpenSessions())
	for _, d := range w.hook.deliveries() {
		o.deliveries = append(o.deliveries, d.process+" "+d.sha256)
	}
	w.hook.mu.Lock()
	o.badHooks = w.hook.bad
	w.hook.mu.Unlock()
	if b, err := os.ReadFile(w.cmdLog); err == nil {
		o.commands = strings.Split(strings.TrimSpace(string(b)), "\n")
		o.commandRuns = len(o.commands)
	}
	for _, vm := range w.nsxVMs() {
		if vm.HasTag(nsxconn.Tag{Tag: demoNSXTag}) {
			o.tagged = append(o.tagged, vm.DisplayName)
		}
	}
	for _, l := range [][]string{o.feedReports, o.bans, o.deletes, o.deliveries, o.commands, o.tagged} {
		slices.Sort(l)
	}
	o.commands = slices.Compact(o.commands)
	for _, l := range o.actions {
		slices.Sort(l)
	}
	slices.Sort(o.kills)
	return o
}

// checkEndState asserts the end state of a complete run of the demo world.
func checkEndState(t *testing.T, w *world) {
	t.Helper()
	o := observe(t, w)
	malicious := []string{invoiceExe.sha256, reportXlsm.sha256}
	slices.Sort(malicious)
	if !slices.Equal(o.feedReports, malicious) {
		t.Errorf("feed reports for %v, want exactly invoice.exe and report.xlsm %v", o.feedReports, malicious)
	}
	if !slices.Equal(o.bans, malicious) {
		t.Errorf("bans %v, want %v", o.bans, malicious)
	}
	hosts := []string{"SRV-FILE-03", "WS-FIN-01", "WS-HR-02"}
	// Isolation and the policy move are per device: once each, never the host that only opened the clean PDF.
	if got := o.actions["QUARANTINE"]; !slices.Equal(got, hosts) {
		t.Errorf("quarantined %v, want %v once each", got, hosts)
	}
	if got := o.actions["UPDATE_POLICY"]; !slices.Equal(got, hosts) {
		t.Errorf("policy moves %v, want %v once each", got, hosts)
	}
	for _, id := range []int64{4242, 5120, 6100} {
		if !slices.Contains(o.kills, id) {
			t.Errorf("process %d not killed (kills %v)", id, o.kills)
		}
	}
	if slices.Contains(o.kills, 7300) || slices.ContainsFunc(o.deletes, func(s string) bool { return strings.Contains(s, "terms.pdf") }) {
		t.Errorf("Live Response acted on the clean PDF: kills %v, deletes %v", o.kills, o.deletes)
	}
	if o.openLR != 0 {
		t.Errorf("%d Live Response sessions left open", o.openLR)
	}
	wantHooks := []string{
		"SRV-FILE-03 pid 6100 " + reportXlsm.sha256,
		"WS-FIN-01 pid 4242 " + invoiceExe.sha256,
		"WS-FIN-01 pid 4388 " + invoiceExe.sha256,
		"WS-HR-02 pid 5120 " + invoiceExe.sha256,
	}
	if !slices.Equal(o.deliveries, wantHooks) || o.badHooks != 0 {
		t.Errorf("webhook deliveries %v (bad %d), want one per process %v", o.deliveries, o.badHooks, wantHooks)
	}
	if len(o.commands) != 4 {
		t.Errorf("commands %v, want one per process (4)", o.commands)
	}
	if !slices.Equal(o.tagged, hosts) {
		t.Errorf("NSX tagged %v, want %v", o.tagged, hosts)
	}
}

func TestEndToEnd(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	out := apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	checkEndState(t, w)
	o := observe(t, w)
	if o.hunts != 3 {
		t.Errorf("process hunts = %d, want one per condemned attachment (3)", o.hunts)
	}
	// The original's title, and TAP's score as severity (92 -> 9, 65 -> 7).
	if got := o.titles[invoiceExe.sha256]; got != "active malware attachment: "+invoiceExe.sha256 {
		t.Errorf("feed report title = %q", got)
	}
	if o.severity[invoiceExe.sha256] != 9 || o.severity[reportXlsm.sha256] != 7 {
		t.Errorf("feed report severities = %v, want 9 and 7", o.severity)
	}
	if o.commandRuns != 4 {
		t.Errorf("command runs = %d, want 4", o.commandRuns)
	}
	for _, want := range []string{"collected 3 evidence records", "verdicts: malicious 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The webhook body carries the e-mail context: every recipient of the invoice.
	for _, d := range w.hook.deliveries() {
		if d.sha256 == invoiceExe.sha256 && !slices.Equal(d.emails, []string{"alice@example.com", "bob@example.com", "carol@example.com"}) {
			t.Errorf("webhook e-mails %v", d.emails)
		}
	}

	// A restart on the same state repeats nothing.
	out = apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	again := observe(t, w)
	if diffObserved(o, again) != "" {
		t.Errorf("the second run acted again: %s", diffObserved(o, again))
	}
	if !strings.Contains(out, "collected 0 evidence records") {
		t.Errorf("second run collected again:\n%s", out)
	}
}

func diffObserved(a, b observed) string {
	var d []string
	if a.hunts != b.hunts {
		d = append(d, "hunts")
	}
	if a.commandRuns != b.commandRuns {
		d = append(d, "command runs")
	}
	for name, pair := range map[string][2][]string{"feed": {a.feedReports, b.feedReports}, "bans": {a.bans, b.bans},
		"quarantine": {a.actions["QUARANTINE"], b.actions["QUARANTINE"]}, "policy": {a.actions["UPDATE_POLICY"], b.actions["UPDATE_POLICY"]},
		"deletes": {a.deletes, b.deletes}, "webhooks": {a.deliveries, b.deliveries}, "commands": {a.commands, b.commands},
		"nsx": {a.tagged, b.tagged}} {
		if !slices.Equal(pair[0], pair[1]) {
			d = append(d, name)
		}
	}
	if !slices.Equal(a.kills, b.kills) {
		d = append(d, "kills")
	}
	return strings.Join(d, ", ")
}

func TestDryRunActsOnNothing(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	apptest.RunOK(t, app(), "-once", "-dry-run", "-log-level", "warn")
	o := observe(t, w)
	if len(o.feedReports)+len(o.bans)+len(o.actions)+len(o.kills)+len(o.deliveries)+len(o.commands)+len(o.tagged) != 0 {
		t.Errorf("dry run acted: %+v", o)
	}
	if o.hunts != 3 {
		t.Errorf("dry run hunts = %d, want 3 (reading is not acting)", o.hunts)
	}
}

func TestActionsOnlyForTheirVerdicts(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	// TAP's verdicts are malicious: actions gated on suspicious never act.
	for _, k := range []string{"ISOLATE", "NSX", "WEBHOOK", "BAN"} {
		t.Setenv(envPrefix+"_"+k+"_VERDICTS", "suspicious")
	}
	t.Setenv(envPrefix+"_COMMAND_ENABLED", "false")
	apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	o := observe(t, w)
	if len(o.actions["QUARANTINE"])+len(o.tagged)+len(o.deliveries)+len(o.bans)+len(o.commands) != 0 {
		t.Errorf("gated actions acted: %+v", o)
	}
	if len(o.actions["UPDATE_POLICY"]) != 3 || len(o.feedReports) != 2 {
		t.Errorf("ungated actions did not act: %+v", o)
	}
}

func TestAllFilesWhenNotOnlySeen(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	t.Setenv(envPrefix+"_CARBONBLACK_ONLY_SEEN_FILES", "false")
	apptest.RunOK(t, app(), "-once", "-log-level", "warn")
	o := observe(t, w)
	// The blocked order.docm never ran; reported and banned anyway. The clean PDF never.
	if len(o.feedReports) != 3 || !slices.Contains(o.bans, orderDocm.sha256) || slices.Contains(o.bans, termsPDF.sha256) {
		t.Errorf("feed %v, bans %v", o.feedReports, o.bans)
	}
	// Seed bug D.4: malwareScore 4 gave severity 0, which Carbon Black refuses.
	if got := o.severity[orderDocm.sha256]; got != 1 {
		t.Errorf("severity of a score-4 attachment = %d, want 1", got)
	}
}

func TestBadConfigurationNamesTheKey(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	env := func(name, value string) map[string]string { return map[string]string{envPrefix + "_" + name: value} }
	// Every secret key, broken next to it, is named without its value.
	apptest.CheckRefused(t, app(), apptest.SecretCases[Config]())
	apptest.CheckRefused(t, app(), []apptest.BadConfig{
		{Name: "missing secret", Env: env("PROOFPOINT_SECRET", ""), Want: []string{"proofpoint.secret"}},
		{Name: "bad verdict", Env: env("ISOLATE_VERDICTS", "evil"), Want: []string{"isolate.verdicts"}},
		{Name: "webhook without URL", Env: env("WEBHOOK_URL", "ftp://x"), Want: []string{"webhook.url"}},
		{Name: "policy without name", Env: env("POLICY_POLICY", ""), Want: []string{"policy.policy"}},
		{Name: "feed cap", Env: map[string]string{envPrefix + "_FEED_REPORT_ENABLED": "true", envPrefix + "_FEED_REPORT_REPORTS_PER_FEED": "0"},
			Want: []string{"feed_report.reports_per_feed", "at least 1"}},
		{Name: "nothing to read", Env: map[string]string{envPrefix + "_PROOFPOINT_INCLUDE_DELIVERED": "false",
			envPrefix + "_PROOFPOINT_INCLUDE_BLOCKED": "false"}, Want: []string{"proofpoint.include_delivered"}},
		{Name: "window too long", Env: env("PROOFPOINT_WINDOW", "2h"), Want: []string{"proofpoint.window"}},
		{Name: "hunt window too long", Env: env("CARBONBLACK_HUNT_WINDOW", "400h"), Want: []string{"carbonblack.hunt_window"}},
		{Name: "hunt retry above its max", Env: env("CARBONBLACK_HUNT_RETRY", "2h"), Want: []string{"carbonblack.hunt_retry", "2h0m0s"}},
		{Name: "unknown key", YAML: "proofpoint:\n  delta: 15\n", Want: []string{"delta"}},
	})
	if o := observe(t, w); o.hunts != 0 || len(o.actions) != 0 {
		t.Errorf("a rejected configuration still ran: %+v", o)
	}
}

func TestDemo(t *testing.T) {
	out := apptest.RunOK(t, app(), "-demo", "-log-level", "warn")
	apptest.WantAll(t, "demo output", out, `feed "Proofpoint TAP": 2 reports`, "isolated devices: SRV-FILE-03, WS-FIN-01, WS-HR-02",
		"NSX VMs tagged \"quarantine\": WS-FIN-01, WS-HR-02, SRV-FILE-03", "banned "+invoiceExe.sha256[:12])
	if strings.Contains(out, termsPDF.sha256[:12]) {
		t.Errorf("the clean PDF appears in the demo's actions:\n%s", out)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	apptest.RunOK(t, app(), "-once", "-dry-run", "-config", "config.example.yaml", "-log-level", "warn")
}
