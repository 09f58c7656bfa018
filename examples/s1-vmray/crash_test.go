package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// childEnv switches the test binary into the connector's main.
const childEnv = "S1_VMRAY_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func startChild(t *testing.T, env map[string]string, out *bytes.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-once", "-log-level", "info")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// A connector killed with SIGKILL in the middle of a run and started again
// on the same state file ends in the same state as an uninterrupted run: no
// file submitted twice, no note, mitigation, scan, blocklist entry or
// indicator repeated, none missing. The kill lands once while analyses are
// awaited (just after the first submission) and once while the responders
// act (just after the first threat note was written).
func TestKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, tc := range []struct {
		name string
		when func(w *world) bool
	}{
		{"while awaiting", func(w *world) bool {
			n := 0
			for _, label := range demoFiles {
				n += w.submissions(label)
			}
			return n > 0
		}},
		{"while responding", func(w *world) bool {
			for _, ts := range w.threats {
				for _, th := range ts {
					if len(w.s1.Notes(th.ID)) > 0 {
						return true
					}
				}
			}
			return false
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { killAndRestart(t, tc.when) })
	}
}

func killAndRestart(t *testing.T, when func(w *world) bool) {
	// Analyses take a while, so the kill lands before the run is over.
	w := startWorld(t, vmraytest.Timing{QueuedFor: 300 * time.Millisecond, InWorkFor: 700 * time.Millisecond})
	env := worldEnv(w, filepath.Join(t.TempDir(), "state.db"))

	var out1 bytes.Buffer
	child := startChild(t, env, &out1)
	deadline := time.Now().Add(15 * time.Second)
	for !when(w) {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("the kill point was not reached within 15 s:\n%s", out1.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := child.Wait()
	if st, ok := err.(*exec.ExitError); !ok || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed (%v): it finished before the kill\n%s", err, out1.String())
	}

	var out2 bytes.Buffer
	child = startChild(t, env, &out2)
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("restart: %v\n%s", err, out2.String())
		}
	case <-time.After(20 * time.Second):
		child.Process.Kill()
		t.Fatalf("the restarted connector did not finish:\n%s", out2.String())
	}
	checkEndState(t, w)
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", out1.String(), out2.String())
	}
}
