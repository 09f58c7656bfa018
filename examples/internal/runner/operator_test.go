package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/ops"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

type secretConfig struct {
	Run     Settings      `yaml:"run"`
	Token   config.Secret `yaml:"token"`
	Missing config.Secret `yaml:"missing"`
	Nested  struct {
		Proxy   string          `yaml:"proxy"`
		Webhook string          `yaml:"webhook"`
		Plain   string          `yaml:"plain"`
		Keys    []config.Secret `yaml:"keys"`
	} `yaml:"nested"`
}

func TestPrintConfigRedacts(t *testing.T) {
	var c secretConfig
	c.Run = DefaultSettings("x")
	c.Token = config.NewSecret("tok-0123456789")
	c.Nested.Proxy = "http://proxyuser:proxy-pass-42@proxy.example:3128"
	c.Nested.Webhook = "https://hooks.example/in?token=hook-secret-77&x=1"
	c.Nested.Plain = "http://intranet.example/path"
	c.Nested.Keys = []config.Secret{config.NewSecret("list-secret-99")}
	var out bytes.Buffer
	if err := PrintConfig(&out, &c); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, secret := range []string{"tok-0123456789", "proxy-pass-42", "hook-secret-77", "list-secret-99"} {
		if strings.Contains(text, secret) {
			t.Errorf("printed configuration shows %q:\n%s", secret, text)
		}
	}
	for _, want := range []string{`token: "[REDACTED]"`, `missing: ""`, "proxyuser:REDACTED@proxy.example:3128",
		"token=REDACTED", "plain: http://intranet.example/path", "ops_listen: 127.0.0.1:9464", "interval: 5m0s"} {
		if !strings.Contains(text, want) {
			t.Errorf("printed configuration lacks %q:\n%s", want, text)
		}
	}
	// The output reads back into the same shape (secrets aside).
	var back secretConfig
	if err := yaml.UnmarshalWithOptions(out.Bytes(), &back, yaml.Strict()); err != nil {
		t.Fatalf("reading the printed configuration back: %v", err)
	}
	if diff := cmp.Diff(c.Run, back.Run, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(config.Secret{})); diff != "" || back.Nested.Plain != c.Nested.Plain {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

func TestRedactURLRefusesWhatItCannotParse(t *testing.T) {
	if got := redactURL("http://user:pa%zz@host"); strings.Contains(got, "pa%zz") {
		t.Errorf("redactURL = %q", got)
	}
	if got := redactURL("no url here"); got != "no url here" {
		t.Errorf("redactURL = %q", got)
	}
}

func TestCheckVendorsPrintsOneLinePerVendor(t *testing.T) {
	ran := 0
	checks := []vendors.Check{
		{Vendor: "alpha", URL: "https://alpha.example", Call: "GET /ping", Run: func(context.Context) error { ran++; return nil }},
		{Vendor: "beta", URL: "https://beta.example", Call: "GET /me", Run: func(context.Context) error { ran++; return errors.New("401 Unauthorized") }},
		{Vendor: "gamma", Call: "building the client", Run: func(ctx context.Context) error {
			ran++
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			return nil
		}},
	}
	var out bytes.Buffer
	if CheckVendors(context.Background(), checks, &out) {
		t.Error("a failed check reported success")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if ran != 3 || len(lines) != 3 {
		t.Fatalf("%d checks ran, output:\n%s", ran, out.String())
	}
	for i, prefix := range []string{"PASS alpha: GET /ping at https://alpha.example (", "FAIL beta: GET /me at https://beta.example: 401 Unauthorized",
		"PASS gamma: building the client ("} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
	out.Reset()
	if !CheckVendors(context.Background(), checks[:1], &out) {
		t.Errorf("passing checks reported failure: %s", out.String())
	}
}

func TestOperatorCommandsThroughMain(t *testing.T) {
	check := func(fail bool) func(*testConfig, Env) []vendors.Check {
		return func(c *testConfig, env Env) []vendors.Check {
			return []vendors.Check{{Vendor: "fake", Call: "GET /", Run: func(context.Context) error {
				if fail {
					return errors.New("wrong key")
				}
				return nil
			}}}
		}
	}
	rec := &recorder{}
	app := testApp(rec, new(bool))
	app.Checks = check(false)
	var out, errOut bytes.Buffer
	if code := Main(app, []string{"-check-config"}, &out, &errOut); code != ExitOK {
		t.Fatalf("check-config: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "PASS config") || !strings.Contains(out.String(), "PASS fake: GET /") {
		t.Errorf("check-config output:\n%s", out.String())
	}
	app.Checks = check(true)
	out.Reset()
	if code := Main(app, []string{"-check-config"}, &out, &errOut); code != ExitFailed {
		t.Errorf("failing check-config: exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(out.String(), "FAIL fake: GET /: wrong key") {
		t.Errorf("failing check-config output:\n%s", out.String())
	}
	// An invalid configuration is a usage error before any vendor is tried.
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("source:\n  files: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Main(app, []string{"-check-config", "-config", path}, &out, &errOut); code != ExitUsage || strings.Contains(out.String(), "fake") {
		t.Errorf("invalid configuration: exit %d, output %q", code, out.String())
	}

	out.Reset()
	if code := Main(app, []string{"-print-config"}, &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "files: 3") {
		t.Errorf("print-config: exit %d\n%s", code, out.String())
	}
	if rec.calls != 0 {
		t.Errorf("an operator command ran the connector (%d actions)", rec.calls)
	}
}

func TestDefaultOpsPortsAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for name := range opsPorts {
		addr := DefaultOpsListen(name)
		if other, dup := seen[addr]; dup {
			t.Errorf("%s and %s share %s", name, other, addr)
		}
		seen[addr] = name
		// The example documents its port in its README and sample file.
		for _, doc := range []string{"README.md", "config.example.yaml"} {
			b, err := os.ReadFile(filepath.Join("..", "..", name, doc))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), addr) {
				t.Errorf("%s/%s does not mention %s", name, doc, addr)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("%d examples in the port table, want 3", len(seen))
	}
	if got := DefaultOpsListen("elsewhere"); got != "127.0.0.1:9464" {
		t.Errorf("default for another connector = %s", got)
	}
}

func TestBuildGetsTheHTTPMetrics(t *testing.T) {
	t.Setenv("TEST_CONN_RUN_STATE_PATH", filepath.Join(t.TempDir(), "state.db"))
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	fake := vmraytest.NewServer(t)
	rec := &recorder{}
	app := testApp(rec, new(bool))
	build := app.Build
	var observer rest.Observer
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		observer = env.HTTP
		if _, err := fake.Client(vmray.WithObserver(env.HTTP)).System.Info(ctx); err != nil {
			return Parts{}, err
		}
		return build(ctx, c, env)
	}
	var out, errOut bytes.Buffer
	if code := Main(app, []string{"-once"}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	metrics, ok := observer.(*ops.HTTPMetrics)
	if !ok {
		t.Fatalf("Build got %T as the HTTP observer", observer)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if f.GetName() == "soarkit_http_requests_total" && labels["connector"] == "test-conn" && labels["vendor"] == "vmray" &&
				labels["route"] == "/system_info" && labels["status"] == "200" && m.GetCounter().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no request counted in %v", families)
	}
}
