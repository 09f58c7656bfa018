package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// childEnv switches the test binary into the connector's main.
const childEnv = "TAP_CBC_TEST_CHILD"

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

	var out1 bytes.Buffer
	child := startChild(t, env, &out1)
	deadline := time.Now().Add(15 * time.Second)
	for len(w.cbc.DeviceActions()) == 0 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("no device action within 15 s:\n%s", out1.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := child.Wait()
	if st, ok := err.(*exec.ExitError); !ok || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed (%v): it finished before the kill\n%s", err, out1.String())
	}
	before := observe(t, w)
	if len(before.deliveries) == 4 && len(before.tagged) == 3 {
		t.Fatalf("the kill came after every action:\n%s", out1.String())
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
