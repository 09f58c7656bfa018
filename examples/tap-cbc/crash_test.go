package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/examples/internal/crashtest"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// childEnv switches the test binary into the connector's main.
const childEnv = "TAP_CBC_TEST_CHILD"

func TestMain(m *testing.M) {
	crashtest.Main(m, childEnv, func() int { return runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr) })
}

// A connector killed with SIGKILL in the middle of its actions and started
// again on the same state file ends in the same state as an uninterrupted
// run: every device isolated and moved once, every file reported and banned
// once, every process killed and delivered to the webhook (receivers drop a
// repeated delivery id), nothing done for the clean PDF, no Live Response
// session left open.
func TestKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	w := startWorld(t)
	// Slow Live Response down so the kill lands while actions are under way.
	w.cbc.InjectFault(carbonblacktest.Fault{Path: "/appservices/v6/orgs/" + w.cbc.OrgKey() + "/liveresponse/", Latency: 120 * time.Millisecond})
	env := w.env(filepath.Join(t.TempDir(), "state.db"))

	first, second := crashtest.KillAndRestart(t, crashtest.Run{ChildEnv: childEnv, Env: env,
		Reached: func() bool { return len(w.cbc.DeviceActions()) > 0 },
		AfterKill: func(out string) {
			before := observe(t, w)
			if len(before.deliveries) == 4 && len(before.tagged) == 3 {
				t.Fatalf("the kill came after every action:\n%s", out)
			}
		}})
	checkEndState(t, w)
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", first, second)
	}
}
