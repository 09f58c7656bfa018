package apptest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
)

type Config struct {
	Run    runner.Settings `yaml:"run"`
	Target string          `yaml:"target"`
}

func (c *Config) Validate() error {
	var p config.Problems
	p.Require("target", c.Target)
	return p.Err()
}

func ExampleRefusal() {
	app := runner.App[Config]{
		Name: "demo", EnvPrefix: "DEMO",
		Defaults: func() *Config { return &Config{Run: runner.DefaultSettings("demo")} },
		Settings: func(c *Config) *runner.Settings { return &c.Run },
		Build: func(context.Context, *Config, runner.Env) (runner.Parts, error) {
			return runner.Parts{}, errors.New("not reached")
		},
		Demo: func(context.Context, *Config, runner.Env) (func(io.Writer), func(), error) {
			return nil, nil, errors.New("no demo")
		},
	}
	dir, err := os.MkdirTemp("", "apptest")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	fmt.Printf("%q\n", apptest.Refusal(app, dir, apptest.BadConfig{YAML: "run:\n  log_level: info\n", Want: []string{"target"}}))
	// Output:
	// ""
}
