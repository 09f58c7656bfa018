package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/examples/internal/runner"
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
	t.Helper()
	for k, v := range w.env(state) {
		t.Setenv(k, v)
	}
}

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runner.Main(app(), args, &out, &errOut)
	return code, out.String(), errOut.String()
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
	code, out, errOut := runMain(t, "-once", "-log-level", "warn")
	if code != runner.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
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
	code, out, errOut = runMain(t, "-once", "-log-level", "warn")
	if code != runner.ExitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
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
	code, out, errOut := runMain(t, "-once", "-dry-run", "-log-level", "warn")
	if code != runner.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
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
	if code, out, errOut := runMain(t, "-once", "-log-level", "warn"); code != runner.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
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
	if code, out, errOut := runMain(t, "-once", "-log-level", "warn"); code != runner.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
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
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
		key  string
	}{
		{name: "missing secret", env: map[string]string{"PROOFPOINT_SECRET": ""}, key: "proofpoint.secret"},
		{name: "bad verdict", env: map[string]string{"ISOLATE_VERDICTS": "evil"}, key: "isolate.verdicts"},
		{name: "webhook without URL", env: map[string]string{"WEBHOOK_URL": "ftp://x"}, key: "webhook.url"},
		{name: "policy without name", env: map[string]string{"POLICY_POLICY": ""}, key: "policy.policy"},
		{name: "nothing to read", env: map[string]string{"PROOFPOINT_INCLUDE_DELIVERED": "false", "PROOFPOINT_INCLUDE_BLOCKED": "false"}, key: "proofpoint.include_delivered"},
		{name: "window too long", env: map[string]string{"PROOFPOINT_WINDOW": "2h"}, key: "proofpoint.window"},
		{name: "hunt window too long", env: map[string]string{"CARBONBLACK_HUNT_WINDOW": "400h"}, key: "carbonblack.hunt_window"},
		{name: "unknown key", file: "proofpoint:\n  delta: 15\n", key: "delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
			for k, v := range tc.env {
				t.Setenv(envPrefix+"_"+k, v)
			}
			args := []string{"-once"}
			if tc.file != "" {
				path := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-config", path)
			}
			code, _, errOut := runMain(t, args...)
			if code != runner.ExitUsage || !strings.Contains(errOut, tc.key) {
				t.Errorf("exit %d, stderr %q; want a usage error naming %s", code, errOut, tc.key)
			}
		})
	}
	if o := observe(t, w); o.hunts != 0 || len(o.actions) != 0 {
		t.Errorf("a rejected configuration still ran: %+v", o)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runMain(t, "-demo", "-log-level", "warn")
	if code != runner.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{`feed "Proofpoint TAP": 2 reports`, "isolated devices: SRV-FILE-03, WS-FIN-01, WS-HR-02",
		"NSX VMs tagged \"quarantine\": WS-FIN-01, WS-HR-02, SRV-FILE-03", "banned " + invoiceExe.sha256[:12]} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, termsPDF.sha256[:12]) {
		t.Errorf("the clean PDF appears in the demo's actions:\n%s", out)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	w := startWorld(t)
	setEnv(t, w, filepath.Join(t.TempDir(), "state.db"))
	code, out, errOut := runMain(t, "-once", "-dry-run", "-config", "config.example.yaml", "-log-level", "warn")
	if code != runner.ExitOK {
		t.Fatalf("config.example.yaml: exit %d\n%s\n%s", code, out, errOut)
	}
}
