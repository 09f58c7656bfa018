package apptest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/runner"
)

// BadConfig is a configuration a connector must refuse.
type BadConfig struct {
	// Name names the subtest.
	Name string
	// YAML is the configuration file's content ("" is an empty file).
	YAML string
	// Env are environment variables set for this case only.
	Env map[string]string
	// Want are strings the error output must hold (keys, variable names).
	Want []string
	// Hide are strings the error output must not hold (secrets).
	Hide []string
}

// Refusal runs app once with c.YAML as its configuration file (written into
// dir) and describes, one line each, what is wrong with the outcome: "" when
// it exited with [runner.ExitUsage] and its error output holds every c.Want
// and no c.Hide. The caller sets c.Env.
func Refusal[C any](app runner.App[C], dir string, c BadConfig) string {
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(c.YAML), 0o600); err != nil {
		return err.Error()
	}
	code, _, errOut := Run(app, "-config", path, "-once")
	var wrong []string
	if code != runner.ExitUsage {
		wrong = append(wrong, fmt.Sprintf("exit %d, want %d", code, runner.ExitUsage))
	}
	for _, w := range c.Want {
		if !strings.Contains(errOut, w) {
			wrong = append(wrong, fmt.Sprintf("error output lacks %q", w))
		}
	}
	for _, h := range c.Hide {
		if strings.Contains(errOut, h) {
			wrong = append(wrong, fmt.Sprintf("error output shows %q", h))
		}
	}
	if len(wrong) == 0 {
		return ""
	}
	return strings.Join(wrong, "\n") + "\nerror output:\n" + errOut
}

// CheckRefused runs every case as a subtest of t with its environment and
// reports a failure for each case [Refusal] finds wrong.
func CheckRefused[C any](t *testing.T, app runner.App[C], cases []BadConfig) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			SetEnv(t, c.Env)
			if wrong := Refusal(app, t.TempDir(), c); wrong != "" {
				t.Error(wrong)
			}
		})
	}
}
