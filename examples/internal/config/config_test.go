package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type vmraySection struct {
	URL      string        `yaml:"url"`
	APIKey   Secret        `yaml:"api_key"`
	Timeout  time.Duration `yaml:"timeout"`
	Insecure bool          `yaml:"insecure"`
}

type testConfig struct {
	Name    string       `yaml:"name"`
	Workers int          `yaml:"workers"`
	Tags    []string     `yaml:"tags"`
	Ratio   float64      `yaml:"ratio"`
	VMRay   vmraySection `yaml:"vmray"`
}

func (c *testConfig) Validate() error {
	var p Problems
	p.Require("vmray.url", c.VMRay.URL)
	if c.VMRay.APIKey.IsZero() {
		p.Add("vmray.api_key", "is required (set TEST_VMRAY_API_KEY or TEST_VMRAY_API_KEY_FILE)")
	}
	if c.Workers < 1 {
		p.Add("workers", "must be at least 1, got %d", c.Workers)
	}
	return p.Err()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileThenEnvironment(t *testing.T) {
	path := writeFile(t, "c.yaml", "name: cbc\nworkers: 2\ntags: [a, b]\nvmray:\n  url: https://vmray.example\n  timeout: 90s\n")
	t.Setenv("TEST_WORKERS", "8")
	t.Setenv("TEST_VMRAY_API_KEY", "key-from-env-123")
	t.Setenv("TEST_TAGS", "x, y,,z")
	t.Setenv("TEST_RATIO", "0.5")
	t.Setenv("TEST_VMRAY_INSECURE", "true")
	cfg := testConfig{Workers: 1}
	if err := Load(path, &cfg, "test"); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "cbc" || cfg.Workers != 8 || strings.Join(cfg.Tags, "|") != "x|y|z" || cfg.Ratio != 0.5 ||
		cfg.VMRay.URL != "https://vmray.example" || cfg.VMRay.Timeout != 90*time.Second || !cfg.VMRay.Insecure ||
		cfg.VMRay.APIKey.Value() != "key-from-env-123" {
		t.Fatalf("loaded %+v", cfg)
	}
}

func TestSecretSources(t *testing.T) {
	keyFile := writeFile(t, "key", "key-from-file-456\n")
	t.Setenv("TEST_VMRAY_API_KEY_FILE", keyFile)
	cfg := testConfig{Workers: 1, VMRay: vmraySection{URL: "https://x"}}
	if err := Load("", &cfg, "TEST"); err != nil {
		t.Fatal(err)
	}
	if cfg.VMRay.APIKey.Value() != "key-from-file-456" {
		t.Fatalf("file secret = %q", cfg.VMRay.APIKey.Value())
	}

	t.Setenv("OTHER_VAR", "key-by-reference-789")
	path := writeFile(t, "c.yaml", "workers: 1\nvmray:\n  url: https://x\n  api_key: env:OTHER_VAR\n")
	os.Unsetenv("TEST_VMRAY_API_KEY_FILE")
	cfg = testConfig{}
	if err := Load(path, &cfg, "TEST"); err != nil {
		t.Fatal(err)
	}
	if cfg.VMRay.APIKey.Value() != "key-by-reference-789" {
		t.Fatalf("env reference = %q", cfg.VMRay.APIKey.Value())
	}

	path = writeFile(t, "c.yaml", "workers: 1\nvmray:\n  url: https://x\n  api_key: file:"+keyFile+"\n")
	cfg = testConfig{}
	if err := Load(path, &cfg, "TEST"); err != nil || cfg.VMRay.APIKey.Value() != "key-from-file-456" {
		t.Fatalf("file reference: %v %q", err, cfg.VMRay.APIKey.Value())
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := NewSecret("super-secret-value")
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "key", s, "struct", vmraySection{APIKey: s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%+v", vmraySection{APIKey: s}), logs.String()} {
		if strings.Contains(out, "super-secret-value") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if b, _ := s.MarshalText(); string(b) != "[REDACTED]" {
		t.Fatalf("MarshalText = %s", b)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"unknown key", "workers: 1\nvmray:\n  urll: https://x\n", nil, []string{"urll"}},
		{"wrong type", "workers: many\n", nil, []string{"workers"}},
		{"bad env int", "", map[string]string{"TEST_WORKERS": "many"}, []string{"workers: TEST_WORKERS", "not a whole number"}},
		{"bad env duration", "", map[string]string{"TEST_VMRAY_TIMEOUT": "10"}, []string{"vmray.timeout", "not a duration"}},
		{"missing secret file", "", map[string]string{"TEST_VMRAY_API_KEY_FILE": "/nonexistent/key"}, []string{"vmray.api_key", "TEST_VMRAY_API_KEY_FILE"}},
		{"unset env reference", "vmray:\n  api_key: env:NOPE_NOT_SET\n", nil, []string{"NOPE_NOT_SET is not set"}},
		{"validation", "workers: 0\n", nil, []string{"vmray.url: is required", "vmray.api_key: is required", "workers: must be at least 1, got 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, "c.yaml", tc.yaml)
			}
			cfg := testConfig{Workers: 1}
			err := Load(path, &cfg, "TEST")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	var ce *Error
	cfg := testConfig{}
	if err := Load("", &cfg, "TEST"); !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("validation error = %v", err)
	}
	if err := Load("/nonexistent.yaml", &cfg, "TEST"); err == nil {
		t.Fatal("missing file accepted")
	}
	if err := Load("", cfg, "TEST"); err == nil {
		t.Fatal("non-pointer accepted")
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("cbc_vmray", "vmray.api-key"); got != "CBC_VMRAY_VMRAY_API_KEY" {
		t.Fatalf("EnvName = %s", got)
	}
}

type Gate struct {
	Enabled  bool     `yaml:"enabled"`
	Verdicts []string `yaml:"verdicts"`
}

type withInline struct {
	Ban struct {
		Gate        `yaml:",inline"`
		Description string `yaml:"description"`
	} `yaml:"ban"`
}

func TestInlineStructsShareTheParentKey(t *testing.T) {
	t.Setenv("TEST_BAN_ENABLED", "true")
	t.Setenv("TEST_BAN_VERDICTS", "malicious")
	path := writeFile(t, "c.yaml", "ban:\n  description: from yaml\n")
	var c withInline
	if err := Load(path, &c, "TEST"); err != nil {
		t.Fatal(err)
	}
	if !c.Ban.Enabled || strings.Join(c.Ban.Verdicts, ",") != "malicious" || c.Ban.Description != "from yaml" {
		t.Fatalf("loaded %+v", c.Ban)
	}
}
