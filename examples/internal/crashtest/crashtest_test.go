package crashtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const childEnv = "CRASHTEST_SELF_CHILD"

// The child appends to a log file slowly: the first run is killed after its
// third line, the second runs to the end.
func TestMain(m *testing.M) {
	Main(m, childEnv, func() int {
		f, err := os.OpenFile(os.Getenv("CRASHTEST_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return 1
		}
		defer f.Close()
		for i := range 5 {
			f.WriteString("line\n")
			if os.Getenv("CRASHTEST_SLOW") == "1" && i >= 2 {
				time.Sleep(time.Second)
			}
		}
		return 0
	})
}

func TestKillAndRestart(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	lines := func() int { b, _ := os.ReadFile(log); return strings.Count(string(b), "\n") }
	killed := -1
	KillAndRestart(t, Run{ChildEnv: childEnv, Env: map[string]string{"CRASHTEST_LOG": log, "CRASHTEST_SLOW": "1"},
		Args: []string{}, Reached: func() bool { return lines() >= 3 }, AfterKill: func(string) { killed = lines() }})
	if killed != 3 {
		t.Fatalf("killed after %d lines, want 3", killed)
	}
	if got := lines(); got != 8 {
		t.Fatalf("%d lines after the restart, want 3 + 5", got)
	}
}
