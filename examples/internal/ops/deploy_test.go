package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector/memstore"
)

// deployDir holds the Grafana dashboard and the Prometheus rules that use
// this package's metrics.
var deployDir = filepath.Join("..", "..", "..", "deploy")

// exportedSeries returns every series name the connectors' collectors
// export, histogram suffixes included.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg, "x"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(NewHTTPMetrics("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStateCollector(reg, "x", memstore.New()); err != nil {
		t.Fatal(err)
	}
	descs := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			names[m[1]+suffix] = true
		}
	}
	return names
}

// dashboardExprs returns the PromQL of every panel of the dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "soarkit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	return exprs
}

// ruleExprs returns the expression of every alert rule.
func ruleExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "soarkit-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("rules: %v", err)
	}
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// TestDeployUsesExportedMetrics keeps the dashboard and the alert rules in
// step with the collectors: every soarkit_* series they query exists, and
// every HTTP collector is on the dashboard.
func TestDeployUsesExportedMetrics(t *testing.T) {
	exported := exportedSeries(t)
	dash, rules := dashboardExprs(t), ruleExprs(t)
	if len(dash) < 10 || len(rules) < 8 {
		t.Fatalf("%d dashboard and %d rule expressions", len(dash), len(rules))
	}
	series := regexp.MustCompile(`\bsoarkit_[a-z_]+\b`)
	used := map[string]bool{}
	for _, e := range append(dash, rules...) {
		for _, name := range series.FindAllString(e, -1) {
			used[name] = true
			if !exported[name] {
				t.Errorf("%q queries %s, which no collector exports", e, name)
			}
		}
	}
	for _, name := range []string{"soarkit_http_requests_total", "soarkit_http_request_duration_seconds_bucket",
		"soarkit_http_retries_total", "soarkit_http_rate_limited_total", "soarkit_http_rate_limiter_wait_seconds_sum",
		"soarkit_items", "soarkit_items_waiting", "soarkit_oldest_open_item_age_seconds", "soarkit_state_scrape_error"} {
		if !used[name] {
			t.Errorf("neither the dashboard nor the rules use %s", name)
		}
	}
}

// TestDashboardQueriesParse checks the dashboard's PromQL with promtool
// (which .ci/run installs), its Grafana variables replaced by values.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$__range", "6h", "$connector", ".*", "$vendor", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range dashboardExprs(t) {
		quoted, err := json.Marshal(vars.Replace(e))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "      - record: dashboard:expr_%d\n        expr: %s\n", i, quoted)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s\n%s", err, out, b.String())
	}
}
