package main

import (
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/examples/internal/config"
)

func TestExampleConfigurationLoads(t *testing.T) {
	t.Setenv("VMRAY_API_KEY", "vm-key")
	t.Setenv("CBC_API_SECRET", "cb-secret")
	t.Setenv("S1_API_TOKEN", "s1-token")
	t.Setenv("TAP_SECRET", "tap-secret")
	t.Setenv("SOARKIT_MCP_VMRAY_URL", "https://eu.cloud.vmray.com")
	t.Setenv("SOARKIT_MCP_ACTIONS_DRY_RUN", "false")
	t.Setenv("SOARKIT_MCP_ACTIONS_ALLOWED", "cbc_ban_hash, s1_isolate_agent")
	t.Setenv("SOARKIT_MCP_APPROVAL_MODE", "elicitation")
	cfg := defaults()
	if err := config.Load("config.example.yaml", cfg, envPrefix); err != nil {
		t.Fatal(err)
	}
	want := defaults()
	if cfg.Actions.DryRun || strings.Join(cfg.Actions.Allowed, ",") != "cbc_ban_hash,s1_isolate_agent" ||
		cfg.Approval.Mode != approvalElicitation || cfg.VMRay.APIKey.Value() != "vm-key" ||
		cfg.Limits != want.Limits || cfg.Server != want.Server || cfg.StatePath != want.StatePath {
		t.Errorf("loaded %+v", cfg)
	}
}

func TestConfigurationProblems(t *testing.T) {
	base := func() *Config {
		c := defaults()
		c.VMRay.URL, c.VMRay.APIKey = "https://vmray.example", config.NewSecret("k")
		return c
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("base: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"page size", func(c *Config) { c.Limits.PageSize = 500 }, "limits.page_size"},
		{"result bytes", func(c *Config) { c.Limits.MaxResultBytes = 10 }, "limits.max_result_bytes"},
		{"wait", func(c *Config) { c.Limits.MaxWait = 0 }, "limits.max_wait"},
		{"http path", func(c *Config) { c.Server.Transport, c.Server.Path = "http", "mcp" }, "server.path"},
		{"log level", func(c *Config) { c.Server.LogLevel = "loud" }, "server.log_level"},
		{"vmray key", func(c *Config) { c.VMRay.APIKey = config.Secret{} }, "SOARKIT_MCP_VMRAY_API_KEY"},
		{"s1 token", func(c *Config) { c.SentinelOne.URL = "https://s1.example" }, "sentinelone.api_token"},
		{"tap principal", func(c *Config) { c.Proofpoint.URL = "https://tap.example" }, "proofpoint.principal"},
		{"tap window", func(c *Config) {
			c.Proofpoint.URL, c.Proofpoint.Principal, c.Proofpoint.Secret = "https://tap.example", "p", config.NewSecret("s")
			c.Proofpoint.MaxWindow = time.Second
		}, "proofpoint.max_window"},
		{"console url", func(c *Config) {
			c.CarbonBlack.URL, c.CarbonBlack.OrgKey, c.CarbonBlack.APIID = "https://cb.example", "ORG", "ID"
			c.CarbonBlack.APISecret, c.CarbonBlack.ConsoleURL = config.NewSecret("s"), "defense.example"
		}, "carbonblack.console_url"},
		{"budget", func(c *Config) { c.Actions.MaxPerHour = -1 }, "actions.max_per_hour"},
		{"approval mode", func(c *Config) { c.Approval.Mode = "vibes" }, "approval.mode"},
		{"webhook url", func(c *Config) { c.Approval.Mode = approvalWebhook }, "approval.webhook_url"},
		{"approval timeout", func(c *Config) { c.Approval.Timeout = 0 }, "approval.timeout"},
		{"audit path", func(c *Config) { c.Audit.Path = "" }, "audit.path"},
	} {
		c := base()
		tc.mutate(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a problem with %s", tc.name, err, tc.want)
		}
	}
	c := base()
	c.Server.Transport, c.Server.Listen = "http", "[::1]:9000"
	if err := c.Validate(); err != nil {
		t.Errorf("loopback without a token: %v", err)
	}
}
