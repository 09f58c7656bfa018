package apptest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

// DeployDir is the repository's deployment kit, seen from an example's
// directory.
var DeployDir = filepath.Join("..", "..", "deploy")

// CheckDeployKit checks that the deployment kit's files for app (its
// systemd unit, and its Kubernetes manifest when there is one) match the
// connector: every variable they set names a configuration key of app, every
// secret comes from a file (LoadCredential or a mounted Secret), and the ops
// port is app's default.
func CheckDeployKit[C any](t *testing.T, app runner.App[C]) {
	t.Helper()
	keys := envKeys(app)
	secrets := map[string]bool{}
	for _, k := range SecretKeys(app.Defaults()) {
		secrets[config.EnvName(app.EnvPrefix, k)+"_FILE"] = true
	}
	_, port, _ := strings.Cut(runner.DefaultOpsListen(app.Name), ":")

	unit := filepath.Join(DeployDir, "systemd", app.Name+".service")
	env, credentials, err := readUnit(unit)
	if err != nil {
		t.Fatal(err)
	}
	checkVars(t, unit, app.EnvPrefix, env, keys, secrets)
	for name, value := range env {
		if secrets[name] {
			cred := strings.TrimPrefix(value, "%d/")
			if cred == value || !slices.Contains(credentials, cred) {
				t.Errorf("%s: %s=%s is not a loaded credential (%v)", unit, name, value, credentials)
			}
		}
	}
	if got := env[config.EnvName(app.EnvPrefix, "run.ops_listen")]; got != runner.DefaultOpsListen(app.Name) {
		t.Errorf("%s: ops_listen %q, want %s", unit, got, runner.DefaultOpsListen(app.Name))
	}
	fromCredentials := 0
	for name := range env {
		if secrets[name] {
			fromCredentials++
		}
	}
	if fromCredentials == 0 {
		t.Errorf("%s: no secret comes from a credential", unit)
	}

	manifest := filepath.Join(DeployDir, "kubernetes", app.Name+".yaml")
	raw, err := os.ReadFile(manifest)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	kenv, kport, err := readStatefulSet(raw)
	if err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	checkVars(t, manifest, app.EnvPrefix, kenv, keys, secrets)
	if kport != port {
		t.Errorf("%s: container port %s, want %s", manifest, kport, port)
	}
}

// checkVars reports each variable with app's prefix that names no key.
func checkVars(t *testing.T, file, prefix string, env map[string]string, keys, secrets map[string]bool) {
	t.Helper()
	for name := range env {
		if !strings.HasPrefix(name, prefix+"_") {
			t.Errorf("%s: %s lacks the prefix %s_", file, name, prefix)
			continue
		}
		if !keys[name] && !secrets[name] {
			t.Errorf("%s: %s names no configuration key", file, name)
		}
		if !strings.HasSuffix(name, "_FILE") && secrets[name+"_FILE"] {
			t.Errorf("%s: secret %s given as a value; use %s_FILE", file, name, name)
		}
	}
}

// envKeys returns the variable of every key of app's configuration.
func envKeys[C any](app runner.App[C]) map[string]bool {
	var out bytes.Buffer
	if err := runner.PrintConfig(&out, app.Defaults()); err != nil {
		panic(err)
	}
	keys := map[string]bool{}
	var path []string
	indent := regexp.MustCompile(`^( *)([a-z0-9_]+):`)
	s := bufio.NewScanner(&out)
	for s.Scan() {
		m := indent.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		depth := len(m[1]) / 2
		path = append(path[:min(depth, len(path))], m[2])
		keys[config.EnvName(app.EnvPrefix, strings.Join(path, "."))] = true
	}
	return keys
}

// readUnit returns a systemd unit's Environment= variables and its
// LoadCredential= names.
func readUnit(path string) (env map[string]string, credentials []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	env = map[string]string{}
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			name, value, _ := strings.Cut(v, "=")
			env[name] = value
		}
		if v, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			name, _, _ := strings.Cut(v, ":")
			credentials = append(credentials, name)
		}
	}
	return env, credentials, nil
}

// readStatefulSet returns the environment and the first container port of
// the StatefulSet in a multi-document manifest.
func readStatefulSet(raw []byte) (env map[string]string, port string, err error) {
	for doc := range bytes.SplitSeq(raw, []byte("\n---\n")) {
		var obj struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Replicas int `yaml:"replicas"`
				Template struct {
					Spec struct {
						Containers []struct {
							Env []struct {
								Name  string `yaml:"name"`
								Value string `yaml:"value"`
							} `yaml:"env"`
							Ports []struct {
								ContainerPort int `yaml:"containerPort"`
							} `yaml:"ports"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, "", err
		}
		if obj.Kind != "StatefulSet" {
			continue
		}
		if obj.Spec.Replicas != 1 {
			return nil, "", errors.New("the bbolt state file needs exactly one replica")
		}
		cs := obj.Spec.Template.Spec.Containers
		if len(cs) != 1 || len(cs[0].Ports) == 0 {
			return nil, "", errors.New("want one container with a port")
		}
		env = map[string]string{}
		for _, e := range cs[0].Env {
			env[e.Name] = e.Value
		}
		return env, strconv.Itoa(cs[0].Ports[0].ContainerPort), nil
	}
	return nil, "", errors.New("no StatefulSet")
}
