package main

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/vendors"
)

const (
	name      = "soarkit-mcp"
	envPrefix = "SOARKIT_MCP"
)

// Config is the server's configuration (README.md lists every key). A vendor
// section without a URL leaves that vendor's tools out.
type Config struct {
	Server      ServerSettings `yaml:"server"`
	Limits      Limits         `yaml:"limits"`
	VMRay       VMRay          `yaml:"vmray"`
	CarbonBlack CarbonBlack    `yaml:"carbonblack"`
	SentinelOne SentinelOne    `yaml:"sentinelone"`
	Proofpoint  Proofpoint     `yaml:"proofpoint"`
	Actions     Actions        `yaml:"actions"`
	Approval    Approval       `yaml:"approval"`
	Audit       Audit          `yaml:"audit"`
	// StatePath is the bbolt file holding the action log (idempotency).
	StatePath string `yaml:"state_path"`
}

// ServerSettings choose the MCP transport.
type ServerSettings struct {
	// Transport is stdio (the client starts the server) or http (streamable
	// HTTP on Listen at Path).
	Transport string `yaml:"transport"`
	Listen    string `yaml:"listen"`
	Path      string `yaml:"path"`
	// BearerToken, when set, must be sent as "Authorization: Bearer ..." by
	// HTTP clients. It is required when Listen is not a loopback address.
	BearerToken config.Secret `yaml:"bearer_token"`
	// LogLevel is debug, info, warn or error (logs go to stderr).
	LogLevel string `yaml:"log_level"`
}

// Limits bound what one tool call returns or waits for, to fit a model's
// context and keep calls short.
type Limits struct {
	// PageSize is the default number of items per page; MaxPageSize caps
	// what a caller may ask for.
	PageSize    int `yaml:"page_size"`
	MaxPageSize int `yaml:"max_page_size"`
	// MaxResultBytes caps the JSON size of one page's items; a page that
	// would exceed it ends early with a cursor to the rest.
	MaxResultBytes int `yaml:"max_result_bytes"`
	// MaxWait caps the wait of vmray_submit_sample.
	MaxWait time.Duration `yaml:"max_wait"`
	// MaxUploadBytes caps a sample sent inline to vmray_submit_sample.
	MaxUploadBytes int `yaml:"max_upload_bytes"`
	// PollInterval is the first pause between polls of a VMRay submission.
	PollInterval time.Duration `yaml:"poll_interval"`
	// CallTimeout bounds every vendor call of a tool (besides MaxWait).
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// VMRay is the VMRay connection.
type VMRay struct {
	vendors.VMRay `yaml:",inline"`
	// AllowSubmissions enables vmray_submit_sample (it uses quota).
	AllowSubmissions bool `yaml:"allow_submissions"`
}

// CarbonBlack is the Carbon Black Cloud connection.
type CarbonBlack struct {
	vendors.CarbonBlack `yaml:",inline"`
	// ConsoleURL is the console the links point at (default: url).
	ConsoleURL string `yaml:"console_url"`
}

// SentinelOne is the SentinelOne connection.
type SentinelOne struct {
	URL               string        `yaml:"url"`
	APIToken          config.Secret `yaml:"api_token"`
	vendors.Transport `yaml:",inline"`
	// AccountID and SiteIDs scope the blocklist (empty: the first account,
	// all its sites).
	AccountID string   `yaml:"account_id"`
	SiteIDs   []string `yaml:"site_ids"`
	// ConsoleURL is the console the links point at (default: url).
	ConsoleURL string `yaml:"console_url"`
}

// Proofpoint is the Proofpoint TAP connection.
type Proofpoint struct {
	URL               string        `yaml:"url"`
	Principal         string        `yaml:"principal"`
	Secret            config.Secret `yaml:"secret"`
	vendors.Transport `yaml:",inline"`
	// MaxWindow caps the window of proofpoint_events (TAP serves one hour
	// per request; longer windows take several).
	MaxWindow time.Duration `yaml:"max_window"`
}

// Actions configure the action tools and their scope guard.
type Actions struct {
	// DryRun makes every action a dry run, whatever the caller asks
	// (default true). With it off, an action still runs dry unless the call
	// sets execute: true.
	DryRun bool `yaml:"dry_run"`
	// Allowed lists the action tools that may run (dry or not); the others
	// are refused. Default: all.
	Allowed []string `yaml:"allowed"`
	// MaxPerHour caps the executed (not dry) actions in any hour; 0 allows
	// none.
	MaxPerHour int `yaml:"max_per_hour"`
	// AllowedPolicies limits Carbon Black device actions to devices in these
	// policies (names or ids); empty allows any.
	AllowedPolicies []string `yaml:"allowed_policies"`
	// AllowedSites and AllowedGroups limit SentinelOne actions to threats
	// and agents in these sites and groups (ids or names); empty allows any.
	AllowedSites  []string `yaml:"allowed_sites"`
	AllowedGroups []string `yaml:"allowed_groups"`
	// BanDescription, Watchlist and BlocklistDescription configure the
	// responders.
	BanDescription       string `yaml:"ban_description"`
	Watchlist            string `yaml:"watchlist"`
	BlocklistDescription string `yaml:"blocklist_description"`
}

// Approval configures the approval every executed action needs.
type Approval struct {
	// Mode is none, webhook or elicitation.
	Mode string `yaml:"mode"`
	// WebhookURL receives a POST per action and must answer
	// {"answer":"yes"}; anything else denies.
	WebhookURL string `yaml:"webhook_url"`
	// WebhookSecret signs the request (X-Soarkit-Signature, HMAC-SHA256 of
	// timestamp.body).
	WebhookSecret config.Secret `yaml:"webhook_secret"`
	// Timeout bounds the wait for an answer (a timeout denies).
	Timeout time.Duration `yaml:"timeout"`
}

// Audit configures the audit log.
type Audit struct {
	// Path is the JSON-lines file every tool call is appended to.
	Path string `yaml:"path"`
}

// defaults returns the configuration before the file and the environment.
func defaults() *Config {
	return &Config{
		Server: ServerSettings{Transport: "stdio", Listen: "127.0.0.1:8765", Path: "/mcp", LogLevel: "info"},
		Limits: Limits{PageSize: 20, MaxPageSize: 100, MaxResultBytes: 32 << 10, MaxWait: 5 * time.Minute,
			MaxUploadBytes: 10 << 20, PollInterval: 5 * time.Second, CallTimeout: 2 * time.Minute},
		VMRay: VMRay{VMRay: vendors.VMRay{Transport: vendors.Transport{SSLVerify: true}, ConnectorName: name,
			SubmissionComment: "Submitted by an AI agent through soarkit-mcp", SubmissionTags: []string{"soarkit-mcp"}},
			AllowSubmissions: true},
		CarbonBlack: CarbonBlack{CarbonBlack: vendors.CarbonBlack{Transport: vendors.Transport{SSLVerify: true}, IntegrationName: name}},
		SentinelOne: SentinelOne{Transport: vendors.Transport{SSLVerify: true}},
		Proofpoint:  Proofpoint{Transport: vendors.Transport{SSLVerify: true}, MaxWindow: 6 * time.Hour},
		Actions: Actions{DryRun: true, Allowed: actionNames(), MaxPerHour: 10,
			BanDescription: "Banned by an AI agent through soarkit-mcp", Watchlist: "soarkit-mcp",
			BlocklistDescription: "Blocklisted by an AI agent through soarkit-mcp"},
		Approval:  Approval{Mode: approvalNone, Timeout: 2 * time.Minute},
		Audit:     Audit{Path: "soarkit-mcp-audit.jsonl"},
		StatePath: "soarkit-mcp.db",
	}
}

// Approval modes.
const (
	approvalNone        = "none"
	approvalWebhook     = "webhook"
	approvalElicitation = "elicitation"
)

// Validate checks every key and names the wrong ones.
func (c *Config) Validate() error {
	var p config.Problems
	switch c.Server.Transport {
	case "stdio":
	case "http":
		p.Require("server.listen", c.Server.Listen)
		if !strings.HasPrefix(c.Server.Path, "/") {
			p.Add("server.path", "must start with /, got %q", c.Server.Path)
		}
		if c.Server.BearerToken.IsZero() && !isLoopback(c.Server.Listen) {
			env := config.EnvName(envPrefix, "server.bearer_token")
			p.Add("server.bearer_token", "is required when server.listen (%s) is not a loopback address (set %s or %s_FILE)",
				c.Server.Listen, env, env)
		}
	default:
		p.Add("server.transport", "must be stdio or http, got %q", c.Server.Transport)
	}
	if _, err := parseLevel(c.Server.LogLevel); err != nil {
		p.Add("server.log_level", "%v", err)
	}
	l := &c.Limits
	if l.PageSize < 1 || l.PageSize > l.MaxPageSize {
		p.Add("limits.page_size", "must be between 1 and limits.max_page_size (%d), got %d", l.MaxPageSize, l.PageSize)
	}
	if l.MaxPageSize < 1 || l.MaxPageSize > 1000 {
		p.Add("limits.max_page_size", "must be between 1 and 1000, got %d", l.MaxPageSize)
	}
	if l.MaxResultBytes < 1024 {
		p.Add("limits.max_result_bytes", "must be at least 1024, got %d", l.MaxResultBytes)
	}
	for key, d := range map[string]time.Duration{"limits.max_wait": l.MaxWait, "limits.call_timeout": l.CallTimeout,
		"limits.poll_interval": l.PollInterval} {
		if d <= 0 {
			p.Add(key, "must be positive, got %v", d)
		}
	}
	if l.MaxUploadBytes < 1 {
		p.Add("limits.max_upload_bytes", "must be positive, got %d", l.MaxUploadBytes)
	}

	configured := 0
	if c.VMRay.URL != "" {
		configured++
		c.VMRay.VMRay.Validate(&p, envPrefix)
	}
	if c.CarbonBlack.URL != "" || c.CarbonBlack.CredentialsFile != "" {
		configured++
		c.CarbonBlack.CarbonBlack.Validate(&p, envPrefix)
		checkURL(&p, "carbonblack.console_url", c.CarbonBlack.ConsoleURL)
	}
	if s1 := &c.SentinelOne; s1.URL != "" {
		configured++
		if s1.APIToken.IsZero() {
			env := config.EnvName(envPrefix, "sentinelone.api_token")
			p.Add("sentinelone.api_token", "is required (set %s or %s_FILE)", env, env)
		}
		checkURL(&p, "sentinelone.console_url", s1.ConsoleURL)
	}
	if pp := &c.Proofpoint; pp.URL != "" {
		configured++
		p.Require("proofpoint.principal", pp.Principal)
		if pp.Secret.IsZero() {
			env := config.EnvName(envPrefix, "proofpoint.secret")
			p.Add("proofpoint.secret", "is required (set %s or %s_FILE)", env, env)
		}
		if pp.MaxWindow < time.Minute || pp.MaxWindow > 7*24*time.Hour {
			p.Add("proofpoint.max_window", "must be between 1m and 168h, got %v", pp.MaxWindow)
		}
	}
	if configured == 0 {
		p.Add("vmray.url", "no vendor is configured: set the url of at least one of vmray, carbonblack, sentinelone, proofpoint (or run with -demo)")
	}

	a := &c.Actions
	for _, n := range a.Allowed {
		if !slices.Contains(actionNames(), n) {
			p.Add("actions.allowed", "unknown action %q (use %s)", n, strings.Join(actionNames(), ", "))
		}
	}
	if a.MaxPerHour < 0 {
		p.Add("actions.max_per_hour", "must not be negative, got %d", a.MaxPerHour)
	}
	switch c.Approval.Mode {
	case approvalNone, approvalElicitation:
	case approvalWebhook:
		p.Require("approval.webhook_url", c.Approval.WebhookURL)
		checkURL(&p, "approval.webhook_url", c.Approval.WebhookURL)
	default:
		p.Add("approval.mode", "must be none, webhook or elicitation, got %q", c.Approval.Mode)
	}
	if c.Approval.Timeout <= 0 {
		p.Add("approval.timeout", "must be positive, got %v", c.Approval.Timeout)
	}
	p.Require("audit.path", c.Audit.Path)
	p.Require("state_path", c.StatePath)
	return p.Err()
}

func checkURL(p *config.Problems, key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add(key, "%q is not an http(s) URL", raw)
	}
}

// isLoopback reports whether a listen address only accepts local
// connections.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// consoleURL returns the console base for links: the configured console,
// else the API URL, without a trailing slash.
func consoleURL(console, api string) string {
	if console == "" {
		console = api
	}
	return strings.TrimRight(console, "/")
}
