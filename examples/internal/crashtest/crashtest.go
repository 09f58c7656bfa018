// Package crashtest is the harness of the example connectors' crash tests:
// the test binary re-executes itself as the connector, is killed with
// SIGKILL at a chosen point of a run, and is started again on the same state
// file, so a test can assert the end state equals an uninterrupted run's.
// Start runs such a child for tests that drive several replicas themselves.
package crashtest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Main is called from TestMain: when the variable childEnv is "1" the test
// binary runs connector (the example's main, returning an exit code)
// instead of the tests.
func Main(m *testing.M, childEnv string, connector func() int) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(connector())
	}
	os.Exit(m.Run())
}

// Run describes one kill-and-restart.
type Run struct {
	// ChildEnv is the variable Main checks.
	ChildEnv string
	// Env is added to the child's environment (configuration pointing at
	// the test's fakes, the state file).
	Env map[string]string
	// Args are the connector's flags (default "-once").
	Args []string
	// Reached reports that the kill point has come; it is polled every
	// millisecond for at most 15 s.
	Reached func() bool
	// AfterKill, when set, runs between the kill and the restart with the
	// first run's output (to check the kill came in time).
	AfterKill func(firstOutput string)
}

// KillAndRestart starts the connector, kills it with SIGKILL once
// r.Reached, starts it again on the same state and waits (at most 20 s)
// for it to finish. It fails the test when the kill point is not reached,
// the child finished before the kill, or the restart fails. It returns both
// runs' output for diagnostics.
func KillAndRestart(t *testing.T, r Run) (first, second string) {
	t.Helper()
	var out1, out2 bytes.Buffer
	child := start(t, r, &out1)
	deadline := time.Now().Add(15 * time.Second)
	for !r.Reached() {
		if time.Now().After(deadline) {
			child.Process.Kill()
			child.Wait()
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
	if r.AfterKill != nil {
		r.AfterKill(out1.String())
	}

	child = start(t, r, &out2)
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("restart: %v\n%s", err, out2.String())
		}
	case <-time.After(20 * time.Second):
		child.Process.Kill()
		<-done
		t.Fatalf("the restarted connector did not finish:\n%s", out2.String())
	}
	return out1.String(), out2.String()
}

// Start starts the connector (the test binary running Main's connector) with
// r's environment and arguments, its output going to out, and returns it
// running: the caller signals it (SIGKILL, SIGSTOP and SIGCONT, SIGTERM) and
// waits for it. Tests that run several replicas at once use it.
func Start(t *testing.T, r Run, out io.Writer) *exec.Cmd {
	t.Helper()
	return start(t, r, out)
}

func start(t *testing.T, r Run, out io.Writer) *exec.Cmd {
	t.Helper()
	args := r.Args
	if args == nil {
		args = []string{"-once", "-log-level", "info"}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), r.ChildEnv+"=1")
	for k, v := range r.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
