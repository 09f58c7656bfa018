package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/config"
)

type testConfig struct {
	Run    Settings `yaml:"run"`
	Source struct {
		Files int `yaml:"files"`
	} `yaml:"source"`
}

func (c *testConfig) Validate() error {
	var p config.Problems
	if c.Source.Files < 0 {
		p.Add("source.files", "must not be negative")
	}
	return p.Err()
}

// listSource reports Files evidence records once.
type listSource struct{ files int }

func (s listSource) Name() string { return "list" }
func (s listSource) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	if string(cp) == "done" {
		return connector.Batch{Next: cp}, nil
	}
	var ev []connector.Evidence
	for i := range s.files {
		v := connector.Verdict{Kind: connector.Malicious}
		ev = append(ev, connector.Evidence{
			Hashes:        connector.Hashes{SHA256: fmt.Sprintf("%064x", i+1)},
			Sightings:     []connector.Sighting{{DeviceID: "d1"}},
			SourceVerdict: &v,
		})
	}
	return connector.Batch{Evidence: ev, Next: connector.Checkpoint("done")}, nil
}

type recorder struct {
	mu    sync.Mutex
	calls int
}

func (r *recorder) Name() string           { return "recorder" }
func (r *recorder) Scope() connector.Scope { return connector.ScopeEvidence }
func (r *recorder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return connector.Result{Status: connector.Acted}, nil
}

func testApp(rec *recorder, demoCalled *bool) App[testConfig] {
	return App[testConfig]{
		Name:      "test-conn",
		EnvPrefix: "TEST_CONN",
		Defaults: func() *testConfig {
			c := &testConfig{Run: DefaultSettings("test-conn")}
			c.Source.Files = 3
			return c
		},
		Settings: func(c *testConfig) *Settings { return &c.Run },
		Build: func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
			return Parts{Sources: []connector.Source{listSource{files: c.Source.Files}}, Analyzer: connector.PassThrough("source"),
				Responders: []connector.Responder{rec}}, nil
		},
		Demo: func(ctx context.Context, c *testConfig, env Env) (func(io.Writer), func(), error) {
			*demoCalled = true
			c.Source.Files = 5
			return func(w io.Writer) { fmt.Fprintln(w, "demo report: 5 files") }, func() {}, nil
		},
	}
}

func runMain(t *testing.T, app App[testConfig], args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(app, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestOnceRunsAndIsIdempotentAcrossRestarts(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	t.Setenv("TEST_CONN_RUN_STATE_PATH", state)
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	rec := &recorder{}
	var demo bool
	code, out, errOut := runMain(t, testApp(rec, &demo), "-once", "-log-level", "warn")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if rec.calls != 3 || !strings.Contains(out, "collected 3 evidence records") || !strings.Contains(out, "malicious 3") {
		t.Fatalf("calls %d, output:\n%s", rec.calls, out)
	}
	code, out, _ = runMain(t, testApp(rec, &demo), "-once")
	if code != ExitOK || rec.calls != 3 {
		t.Fatalf("second run acted again: %d calls\n%s", rec.calls, out)
	}
	if demo {
		t.Fatal("demo ran without -demo")
	}
}

func TestDryRunActsOnNothing(t *testing.T) {
	t.Setenv("TEST_CONN_RUN_STATE_PATH", filepath.Join(t.TempDir(), "s.db"))
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	rec := &recorder{}
	var demo bool
	code, out, errOut := runMain(t, testApp(rec, &demo), "-once", "-dry-run")
	if code != ExitOK || rec.calls != 0 {
		t.Fatalf("exit %d, %d calls in dry run\n%s%s", code, rec.calls, out, errOut)
	}
}

func TestDemoMode(t *testing.T) {
	rec := &recorder{}
	var demo bool
	code, out, errOut := runMain(t, testApp(rec, &demo), "-demo")
	if code != ExitOK || !demo || rec.calls != 5 || !strings.Contains(out, "demo report: 5 files") {
		t.Fatalf("exit %d demo %v calls %d\n%s%s", code, demo, rec.calls, out, errOut)
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	rec := &recorder{}
	var demo bool
	app := testApp(rec, &demo)
	if code, out, _ := runMain(t, app, "-version"); code != ExitOK || !strings.HasPrefix(out, "test-conn (soarkit ") {
		t.Fatalf("-version: %d %q", code, out)
	}
	if code, _, _ := runMain(t, app, "-bogus"); code != ExitUsage {
		t.Fatalf("unknown flag: %d", code)
	}
	if code, _, _ := runMain(t, app, "extra"); code != ExitUsage {
		t.Fatalf("extra argument: %d", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("run:\n  interval: 10ms\n  log_format: xml\nsource:\n  files: -1\n"), 0o600)
	code, _, errOut := runMain(t, app, "-config", bad, "-once")
	if code != ExitUsage || !strings.Contains(errOut, "source.files") {
		t.Fatalf("validation: %d %s", code, errOut)
	}
	os.WriteFile(bad, []byte("run:\n  interval: 10ms\n  log_format: xml\n"), 0o600)
	code, _, errOut = runMain(t, app, "-config", bad, "-once")
	if code != ExitUsage || !strings.Contains(errOut, "run.interval") || !strings.Contains(errOut, "run.log_format") {
		t.Fatalf("settings validation: %d %s", code, errOut)
	}
	os.WriteFile(bad, []byte("run:\n  intervall: 1m\n"), 0o600)
	if code, _, errOut := runMain(t, app, "-config", bad); code != ExitUsage || !strings.Contains(errOut, "intervall") {
		t.Fatalf("unknown key: %d %s", code, errOut)
	}
	t.Setenv("TEST_CONN_RUN_STATE_PATH", filepath.Join(t.TempDir(), "missing-dir", "x", "s.db"))
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	if code, _, errOut := runMain(t, app, "-once"); code != ExitFailed || !strings.Contains(errOut, "opening state") {
		t.Fatalf("unopenable state: %d %s", code, errOut)
	}
}
