package config

import (
	"strings"
	"testing"
	"time"
)

// section has one field of every kind a connector's configuration uses, next
// to a credential.
type section struct {
	APIKey   Secret        `yaml:"api_key"`
	Password Secret        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`
	Enabled  bool          `yaml:"enabled"`
	Verdicts []string      `yaml:"verdicts"`
	URL      string        `yaml:"url"`
	Workers  int           `yaml:"workers"`
}

type redactConfig struct {
	Vendor section `yaml:"vendor"`
}

// Every go-yaml failure next to a credential names the line and the key but
// repeats no value: neither the credential nor the offending value.
func TestYAMLErrorsNeverEchoValues(t *testing.T) {
	const plant = "PLANTED-c0ffee"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"misspelt neighbour", "vendor:\n  api_key: PLANTED-c0ffee1\n  api_kye: PLANTED-c0ffee2\n", []string{"line 3", `"api_kye"`}},
		{"misspelt secret key", "vendor:\n  pasword: PLANTED-c0ffee1\n  url: https://x\n", []string{"line 2", `"pasword"`}},
		{"secret as a list", "vendor:\n  api_key: [PLANTED-c0ffee1, b]\n", []string{"line 2", "api_key: wrong type", "sequence"}},
		{"secret as a mapping", "vendor:\n  password: {v: PLANTED-c0ffee1}\n", []string{"line 2", "password: wrong type", "mapping"}},
		{"int next to secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  workers: PLANTED-c0ffee2\n", []string{"line 3", "workers: wrong type", "whole number"}},
		{"bool next to secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  enabled: PLANTED-c0ffee2\n", []string{"line 3", "enabled: wrong type"}},
		{"list next to secret", "vendor:\n  password: PLANTED-c0ffee1\n  verdicts: PLANTED-c0ffee2\n", []string{"line 3", "verdicts:"}},
		{"string next to secret", "vendor:\n  password: PLANTED-c0ffee1\n  url: {a: PLANTED-c0ffee2}\n", []string{"line 3", "url: wrong type"}},
		{"duration next to secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  timeout: PLANTED-c0ffee2\n", []string{"duration"}},
		{"overflow next to secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  workers: 99999999999999999999999\n", []string{"workers: number out of range"}},
		{"syntax error after secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  : : PLANTED-c0ffee2\n", []string{"line 3", "invalid YAML"}},
		{"unterminated quote", "vendor:\n  api_key: \"PLANTED-c0ffee1\n  url: x\n", []string{"line 2", "invalid YAML"}},
		{"tab indentation", "vendor:\n  api_key: PLANTED-c0ffee1\n\turl: x\n", []string{"invalid YAML"}},
		{"duplicate secret", "vendor:\n  api_key: PLANTED-c0ffee1\n  api_key: PLANTED-c0ffee2\n", []string{"line 3", `"api_key" is set twice`}},
		{"unknown alias", "vendor:\n  api_key: PLANTED-c0ffee1\n  url: *PLANTED-c0ffee2\n", []string{"line 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg redactConfig
			err := Load(writeFile(t, "c.yaml", tc.yaml), &cfg, "REDACT")
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, plant) || strings.Contains(msg, "99999") {
				t.Fatalf("error repeats a value:\n%s", msg)
			}
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("error quotes source lines:\n%s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestSecretScalarsStillLoad(t *testing.T) {
	var cfg redactConfig
	path := writeFile(t, "c.yaml", "vendor:\n  api_key: 12345\n  password: \"p@ss: word\"\n")
	if err := Load(path, &cfg, "REDACT"); err != nil {
		t.Fatal(err)
	}
	if cfg.Vendor.APIKey.Value() != "12345" || cfg.Vendor.Password.Value() != "p@ss: word" {
		t.Fatalf("loaded %q %q", cfg.Vendor.APIKey.Value(), cfg.Vendor.Password.Value())
	}
}

func TestEnvironmentErrorsNeverEchoValues(t *testing.T) {
	for _, name := range []string{"REDACT_VENDOR_WORKERS", "REDACT_VENDOR_ENABLED", "REDACT_VENDOR_TIMEOUT"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "PLANTED-c0ffee-env")
			var cfg redactConfig
			err := Load("", &cfg, "REDACT")
			if err == nil || strings.Contains(err.Error(), "PLANTED") || !strings.Contains(err.Error(), name) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
