package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/soarkit/soarkit/examples/internal/crashtest"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// childEnv switches the test binary into the connector's main.
const childEnv = "CBC_VMRAY_TEST_CHILD"

func TestMain(m *testing.M) {
	crashtest.Main(m, childEnv, func() int { return runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr) })
}

// A connector killed with SIGKILL in the middle of a run and started again
// on the same state file ends in the same state as an uninterrupted run: no
// file submitted twice, no report, ban or quarantine repeated, none missing.
// The kill lands once while analyses are awaited (just after the first
// submission) and once while the responders act (just after the first
// watchlist report was written).
func TestKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, tc := range []struct {
		name string
		when func(w *world) bool
	}{
		{"while awaiting", func(w *world) bool {
			return w.submissions("dropper")+w.submissions("suspicious")+w.submissions("clean") > 0
		}},
		{"while responding", func(w *world) bool { return len(w.cbc.Reports()) > 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) { killAndRestart(t, tc.when) })
	}
}

func killAndRestart(t *testing.T, when func(w *world) bool) {
	// Analyses take a while, so the kill lands before the run is over.
	w := startWorld(t, vmraytest.Timing{QueuedFor: 300 * time.Millisecond, InWorkFor: 700 * time.Millisecond})
	env := worldEnv(w, filepath.Join(t.TempDir(), "state.db"))
	first, second := crashtest.KillAndRestart(t, crashtest.Run{ChildEnv: childEnv, Env: env, Reached: func() bool { return when(w) }})
	checkEndState(t, w)
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", first, second)
	}
}
