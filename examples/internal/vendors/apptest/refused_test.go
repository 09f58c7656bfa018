package apptest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// tiny is a connector with one required key and one secret.
type tiny struct {
	Run    runner.Settings `yaml:"run"`
	Target string          `yaml:"target"`
	Token  config.Secret   `yaml:"token"`
}

func (c *tiny) Validate() error {
	var p config.Problems
	p.Require("target", c.Target)
	if c.Token.IsZero() {
		p.Add("token", "is required (set %s)", config.EnvName("TINY", "token"))
	}
	if c.Target == "echo" {
		// A deliberately bad message that repeats the secret.
		p.Add("target", "token %s", c.Token.Value())
	}
	return p.Err()
}

func tinyApp(built *int) runner.App[tiny] {
	return runner.App[tiny]{
		Name: "tiny", EnvPrefix: "TINY",
		Defaults: func() *tiny { return &tiny{Run: runner.DefaultSettings("tiny")} },
		Settings: func(c *tiny) *runner.Settings { return &c.Run },
		Build: func(context.Context, *tiny, runner.Env) (runner.Parts, error) {
			*built++
			return runner.Parts{}, errors.New("tiny builds nothing")
		},
		Demo: func(context.Context, *tiny, runner.Env) (func(io.Writer), func(), error) {
			return nil, nil, errors.New("no demo")
		},
	}
}

func TestRefusal(t *testing.T) {
	var built int
	app := tinyApp(&built)
	for _, tc := range []struct {
		name  string
		c     BadConfig
		wrong []string // substrings of Refusal's answer; none: ""
	}{
		{"refused and named", BadConfig{YAML: "target: x\n", Want: []string{"token", "TINY_TOKEN"}}, nil},
		{"unknown key", BadConfig{YAML: "targte: x\n", Want: []string{"targte"}}, nil},
		{"key not named", BadConfig{YAML: "target: x\n", Want: []string{"target.port"}},
			[]string{`error output lacks "target.port"`}},
		{"secret shown", BadConfig{YAML: "target: echo\ntoken: hunter2\n", Hide: []string{"hunter2"}},
			[]string{`error output shows "hunter2"`}},
		{"accepted", BadConfig{YAML: "target: x\ntoken: t\n"}, []string{"exit 1, want 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Refusal(app, t.TempDir(), tc.c)
			if len(tc.wrong) == 0 && got != "" {
				t.Errorf("Refusal found a fault:\n%s", got)
			}
			for _, w := range tc.wrong {
				if !strings.Contains(got, w) {
					t.Errorf("Refusal %q lacks %q", got, w)
				}
			}
		})
	}
	if built != 1 {
		t.Errorf("Build ran %d times, want once (only for the accepted configuration)", built)
	}
}

func TestRunAndEnvironment(t *testing.T) {
	var built int
	vars := EnvVars("TINY", map[string]string{"target": "x", "token": "t", "run.ops_listen": ""})
	want := map[string]string{"TINY_TARGET": "x", "TINY_TOKEN": "t", "TINY_RUN_OPS_LISTEN": ""}
	if len(vars) != len(want) {
		t.Fatalf("EnvVars %v, want %v", vars, want)
	}
	for k, v := range want {
		if got, ok := vars[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	SetEnv(t, vars)
	code, stdout, stderr := Run(tinyApp(&built), "-once", "-state", "x")
	if code != runner.ExitUsage || stdout != "" || !strings.Contains(stderr, "-state") {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr = Run(tinyApp(&built), "-once"); code != runner.ExitFailed || !strings.Contains(stderr, "tiny builds nothing") {
		t.Errorf("configured from the environment: exit %d, stderr %q", code, stderr)
	}
	if built != 1 {
		t.Errorf("Build ran %d times, want 1", built)
	}
}

func TestCheckRefusedSetsTheEnvironment(t *testing.T) {
	var built int
	CheckRefused(t, tinyApp(&built), []BadConfig{
		{Name: "env override", YAML: "target: x\ntoken: t\n", Env: map[string]string{"TINY_TARGET": " "}, Want: []string{"target: is required"}},
	})
	if built != 0 {
		t.Errorf("a refused configuration was built %d times", built)
	}
}
