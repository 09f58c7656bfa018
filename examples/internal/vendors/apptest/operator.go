package apptest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// CheckConfig runs app with -check-config (the caller points it at a world
// through the environment) and checks the outcome: every vendor of vendors
// (in order) gets a PASS line, except wrong, which gets a FAIL line and a
// non-zero exit. wrong "" expects all to pass. hide are strings the output
// must not show (the wrong credential).
func CheckConfig[C any](t *testing.T, app runner.App[C], vendors []string, wrong string, hide ...string) {
	t.Helper()
	code, out, errOut := Run(app, "-check-config")
	wantCode := runner.ExitOK
	if wrong != "" {
		wantCode = runner.ExitFailed
	}
	if code != wantCode {
		t.Errorf("-check-config: exit %d, want %d\n%s%s", code, wantCode, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(vendors)+1 || !strings.HasPrefix(lines[0], "PASS config") {
		t.Fatalf("-check-config output, want a config line and one line per vendor of %v:\n%s", vendors, out)
	}
	for i, v := range vendors {
		want := "PASS " + v + ": "
		if v == wrong {
			want = "FAIL " + v + ": "
		}
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %q, want it to start with %q", lines[i+1], want)
		}
	}
	for _, h := range hide {
		if strings.Contains(out+errOut, h) {
			t.Errorf("-check-config shows %q:\n%s%s", h, out, errOut)
		}
	}
}

// WrongCredential names a credential key ("vmray.api_key") and the vendor
// whose check a wrong value of it fails.
type WrongCredential struct{ Vendor, Key string }

// CheckConfigCases runs [CheckConfig] as subtests of t: once as setup leaves
// the environment (every vendor passes), then once per wrong credential set
// through the environment on top of it.
func CheckConfigCases[C any](t *testing.T, app runner.App[C], setup func(t *testing.T), vendors []string, wrong ...WrongCredential) {
	t.Helper()
	t.Run("all pass", func(t *testing.T) {
		setup(t)
		CheckConfig(t, app, vendors, "")
	})
	const bad = "Wrong-Credential-0451"
	for _, w := range wrong {
		t.Run("wrong "+w.Key, func(t *testing.T) {
			setup(t)
			SetEnv(t, EnvVars(app.EnvPrefix, map[string]string{w.Key: bad}))
			CheckConfig(t, app, vendors, w.Vendor, bad)
		})
	}
}

// PrintConfigHidesSecrets sets every secret key of app's configuration
// through the environment to a distinct value, runs app with -print-config
// and checks that no value appears and that each key shows as redacted. The
// caller points app at a world first, so the configuration is valid.
func PrintConfigHidesSecrets[C any](t *testing.T, app runner.App[C]) {
	t.Helper()
	keys := SecretKeys(app.Defaults())
	if len(keys) == 0 {
		t.Fatal("the configuration has no secret keys")
	}
	values := map[string]string{}
	for i, k := range keys {
		values[k] = fmt.Sprintf("Secret-%d-%s-Zq7", i, strings.ReplaceAll(k, ".", "-"))
	}
	SetEnv(t, EnvVars(app.EnvPrefix, values))
	code, out, errOut := Run(app, "-print-config")
	if code != runner.ExitOK {
		t.Fatalf("-print-config: exit %d\n%s%s", code, out, errOut)
	}
	for k, v := range values {
		if strings.Contains(out+errOut, v) {
			t.Errorf("-print-config shows the value of %s", k)
		}
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(out, leaf+`: "[REDACTED]"`) {
			t.Errorf("-print-config does not show %s as redacted:\n%s", k, out)
		}
	}
}

// SecretKeys returns the dotted YAML keys of every [config.Secret] in cfg
// (a pointer to a configuration struct), inlined structs at their parent's
// level.
func SecretKeys(cfg any) []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			key := prefix + name
			if f.Anonymous && strings.Contains(","+opts+",", ",inline,") {
				key = strings.TrimSuffix(prefix, ".")
			}
			switch {
			case f.Type == reflect.TypeFor[config.Secret]():
				keys = append(keys, key)
			case f.Type.Kind() == reflect.Struct:
				if key != "" {
					key += "."
				}
				walk(f.Type, key)
			}
		}
	}
	walk(reflect.TypeOf(cfg).Elem(), "")
	return keys
}
