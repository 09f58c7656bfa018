package apptest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// Run runs app with args as [runner.Main] does and returns its exit code,
// standard output and error output.
func Run[C any](app runner.App[C], args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runner.Main(app, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// RunOK runs app with args and returns its standard output; it stops t
// with both outputs unless the run exits with [runner.ExitOK].
func RunOK[C any](t *testing.T, app runner.App[C], args ...string) (stdout string) {
	t.Helper()
	code, out, errOut := Run(app, args...)
	if code != runner.ExitOK {
		t.Fatalf("%s %s: exit %d\n%s\n%s", app.Name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// WantAll reports on t every one of wants that text (named what in the
// message, for example "demo output") lacks.
func WantAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// EnvVars turns settings keyed by dotted YAML path ("vmray.url") into the
// environment variables that override them under prefix
// ("CBC_VMRAY_VMRAY_URL").
func EnvVars(prefix string, settings map[string]string) map[string]string {
	out := make(map[string]string, len(settings))
	for k, v := range settings {
		out[config.EnvName(prefix, k)] = v
	}
	return out
}

// SetEnv sets every variable of env for the rest of t.
func SetEnv(t *testing.T, env map[string]string) {
	for k, v := range env {
		t.Setenv(k, v)
	}
}
