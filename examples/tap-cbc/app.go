package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/connector/proofpointconn"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/proofpoint"
)

const (
	name      = "tap-cbc"
	envPrefix = "TAP_CBC"
)

// Config is the connector's configuration (see README.md for every key).
type Config struct {
	Run         runner.Settings `yaml:"run"`
	Proofpoint  Proofpoint      `yaml:"proofpoint"`
	CarbonBlack CarbonBlack     `yaml:"carbonblack"`
	FeedReport  FeedAction      `yaml:"feed_report"`
	Isolate     Action          `yaml:"isolate"`
	Policy      PolicyAction    `yaml:"policy"`
	Ban         BanAction       `yaml:"ban"`
	LiveResp    LiveRespAction  `yaml:"live_response"`
	Webhook     WebhookAction   `yaml:"webhook"`
	Command     CommandAction   `yaml:"command"`
	NSX         NSXAction       `yaml:"nsx"`
}

// Proofpoint configures the TAP side.
type Proofpoint struct {
	URL               string        `yaml:"url"`
	Principal         string        `yaml:"principal"`
	Secret            config.Secret `yaml:"secret"`
	vendors.Transport `yaml:",inline"`
	UserAgent         string        `yaml:"user_agent"`
	IncludeDelivered  bool          `yaml:"include_delivered"`
	IncludeBlocked    bool          `yaml:"include_blocked"`
	Delay             time.Duration `yaml:"delay"`
	FirstLookBack     time.Duration `yaml:"first_look_back"`
	Overlap           time.Duration `yaml:"overlap"`
	Window            time.Duration `yaml:"window"`
	Classifications   []string      `yaml:"classifications"`
	ThreatStatuses    []string      `yaml:"threat_statuses"`
	DebugSample       string        `yaml:"debug_sample"`
}

// CarbonBlack configures the Carbon Black Cloud side.
type CarbonBlack struct {
	vendors.CarbonBlack `yaml:",inline"`
	HuntWindow          time.Duration `yaml:"hunt_window"`
	// HuntRetry and HuntRetryMax are the back-off between the tries of one
	// attachment's failing hunt: HuntRetry doubling up to HuntRetryMax.
	HuntRetry    time.Duration `yaml:"hunt_retry"`
	HuntRetryMax time.Duration `yaml:"hunt_retry_max"`
	// PollInterval is the first wait between checks of a process search and
	// of Live Response sessions and commands (0: the client's 2s, growing).
	PollInterval time.Duration `yaml:"poll_interval"`
	// OnlySeenFiles keeps the per-file actions (feed report, ban) to files
	// the hunt found on an endpoint, as the original did.
	OnlySeenFiles bool `yaml:"only_seen_files"`
}

// Action is what every action shares: off by default, gated by verdicts.
type Action struct {
	Enabled  bool     `yaml:"enabled"`
	Verdicts []string `yaml:"verdicts"`
}

// FeedAction configures the private feed report.
type FeedAction struct {
	Enabled       bool     `yaml:"enabled"`
	Verdicts      []string `yaml:"verdicts"`
	Feed          string   `yaml:"feed"`
	Watchlist     string   `yaml:"watchlist"`
	NoWatchlist   bool     `yaml:"no_watchlist"`
	AlertsEnabled bool     `yaml:"alerts_enabled"`
	// ReportsPerFeed caps the reports of one feed; more go to "<feed> (2)", "(3)", ...
	ReportsPerFeed int `yaml:"reports_per_feed"`
}

// PolicyAction configures the policy move.
type PolicyAction struct {
	Enabled  bool     `yaml:"enabled"`
	Verdicts []string `yaml:"verdicts"`
	Policy   string   `yaml:"policy"`
}

// BanAction configures the SHA-256 ban.
type BanAction struct {
	Enabled     bool     `yaml:"enabled"`
	Verdicts    []string `yaml:"verdicts"`
	Description string   `yaml:"description"`
}

// LiveRespAction configures the Live Response kill and delete.
type LiveRespAction struct {
	Enabled  bool          `yaml:"enabled"`
	Verdicts []string      `yaml:"verdicts"`
	Timeout  time.Duration `yaml:"timeout"`
	KeepFile bool          `yaml:"keep_file"`
}

// WebhookAction configures the webhook.
type WebhookAction struct {
	Enabled  bool          `yaml:"enabled"`
	Verdicts []string      `yaml:"verdicts"`
	URL      string        `yaml:"url"`
	Secret   config.Secret `yaml:"secret"`
	Timeout  time.Duration `yaml:"timeout"`
}

// CommandAction configures the command run per process.
type CommandAction struct {
	Enabled  bool          `yaml:"enabled"`
	Verdicts []string      `yaml:"verdicts"`
	Argv     []string      `yaml:"argv"`
	Timeout  time.Duration `yaml:"timeout"`
	Dir      string        `yaml:"dir"`
}

// NSXAction configures the NSX VM tag.
type NSXAction struct {
	Enabled   bool          `yaml:"enabled"`
	Verdicts  []string      `yaml:"verdicts"`
	URL       string        `yaml:"url"`
	Username  string        `yaml:"username"`
	Password  config.Secret `yaml:"password"`
	SSLVerify bool          `yaml:"ssl_verify"`
	CAFile    string        `yaml:"ca_file"`
	Tag       string        `yaml:"tag"`
	Scope     string        `yaml:"scope"`
}

// DefaultBanDescription is the original's override description (with its
// typo fixed).
const DefaultBanDescription = "This file was found to be malicious by Proofpoint TAP"

// defaults are the original connector's defaults (README.md lists where
// they differ and why).
func defaults() *Config {
	run := runner.DefaultSettings(name)
	run.OpsListen = runner.DefaultOpsListen(name)
	run.Interval = 15 * time.Minute
	malicious := func() []string { return []string{"malicious"} }
	return &Config{
		Run: run,
		Proofpoint: Proofpoint{
			URL: proofpoint.DefaultBaseURL, Transport: vendors.Transport{SSLVerify: true}, UserAgent: "cbc-proofpoint-soarkit",
			IncludeDelivered: true, Delay: proofpointconn.DefaultDelay, FirstLookBack: proofpointconn.DefaultFirstLookBack,
			Window: proofpoint.MaxWindow, Classifications: []string{"malware"},
			ThreatStatuses: []string{proofpoint.ThreatStatusActive, proofpoint.ThreatStatusCleared},
		},
		CarbonBlack: CarbonBlack{CarbonBlack: vendors.CarbonBlack{URL: "https://defense.conferdeploy.net", Profile: "default",
			Transport: vendors.Transport{SSLVerify: true}, IntegrationName: name},
			HuntWindow: carbonblackconn.DefaultHuntWindow, HuntRetry: proofpointconn.DefaultHuntRetry.Initial,
			HuntRetryMax: proofpointconn.DefaultHuntRetry.Max, OnlySeenFiles: true},
		FeedReport: FeedAction{Verdicts: malicious(), Feed: "Proofpoint TAP", AlertsEnabled: true, ReportsPerFeed: carbonblackconn.DefaultReportsPerFeed},
		Isolate:    Action{Verdicts: malicious()},
		Policy:     PolicyAction{Verdicts: malicious()},
		Ban:        BanAction{Verdicts: malicious(), Description: DefaultBanDescription},
		LiveResp:   LiveRespAction{Verdicts: malicious(), Timeout: 10 * time.Minute},
		Webhook:    WebhookAction{Verdicts: malicious(), Timeout: 30 * time.Second},
		Command: CommandAction{Verdicts: malicious(), Timeout: 2 * time.Minute,
			Argv: []string{"python3", "action.py", "--device_id", "{device_id}", "--pid", "{pid}", "--file_path", "{file_path}"}},
		NSX: NSXAction{Verdicts: malicious(), SSLVerify: true},
	}
}

// Validate checks every key and names the wrong ones.
func (c *Config) Validate() error {
	var p config.Problems
	pp := &c.Proofpoint
	p.Require("proofpoint.url", pp.URL)
	p.Require("proofpoint.principal", pp.Principal)
	if pp.Secret.IsZero() {
		p.Add("proofpoint.secret", "is required (set %s or %s_FILE)", config.EnvName(envPrefix, "proofpoint.secret"),
			config.EnvName(envPrefix, "proofpoint.secret"))
	}
	if !pp.IncludeDelivered && !pp.IncludeBlocked {
		p.Add("proofpoint.include_delivered", "and proofpoint.include_blocked are both off: nothing would be read")
	}
	if pp.Delay < time.Minute {
		p.Add("proofpoint.delay", "must be at least 1m (TAP refuses windows ending closer to now), got %v", pp.Delay)
	}
	if pp.FirstLookBack < proofpoint.MinWindow || pp.FirstLookBack > proofpoint.DefaultLookBack {
		p.Add("proofpoint.first_look_back", "must be between 30s and 168h (TAP's seven days), got %v", pp.FirstLookBack)
	}
	if pp.Overlap < 0 || pp.Overlap > proofpoint.DefaultLookBack {
		p.Add("proofpoint.overlap", "must be between 0 and 168h, got %v", pp.Overlap)
	}
	if pp.Window < proofpoint.MinWindow || pp.Window > proofpoint.MaxWindow {
		p.Add("proofpoint.window", "must be between 30s and 1h (TAP's limits), got %v", pp.Window)
	}
	if len(pp.Classifications) == 0 {
		p.Add("proofpoint.classifications", "must name at least one TAP classification (malware)")
	}
	for _, s := range pp.ThreatStatuses {
		switch strings.ToLower(s) {
		case "active", "cleared", "falsepositive":
		default:
			p.Add("proofpoint.threat_statuses", "unknown status %q (use active, cleared or falsePositive)", s)
		}
	}
	if d := pp.DebugSample; d != "" && !isSHA256(strings.ToLower(d)) {
		p.Add("proofpoint.debug_sample", "must be a SHA-256 (64 hex digits), got %q", d)
	}

	cb := &c.CarbonBlack
	cb.CarbonBlack.Validate(&p, envPrefix)
	if cb.PollInterval < 0 {
		p.Add("carbonblack.poll_interval", "must not be negative, got %v", cb.PollInterval)
	}
	if cb.HuntWindow < time.Hour || cb.HuntWindow > carbonblackconn.DefaultHuntWindow {
		p.Add("carbonblack.hunt_window", "must be between 1h and 336h (two weeks, the most process search allows), got %v", cb.HuntWindow)
	}
	if cb.HuntRetry <= 0 || cb.HuntRetryMax < cb.HuntRetry {
		p.Add("carbonblack.hunt_retry", "must be positive and at most carbonblack.hunt_retry_max, got %v and %v", cb.HuntRetry, cb.HuntRetryMax)
	}

	for key, a := range c.actions() {
		if _, err := connector.ParseKinds(a.Verdicts...); err != nil {
			p.Add(key+".verdicts", "%v", err)
		} else if a.Enabled && len(a.Verdicts) == 0 {
			p.Add(key+".verdicts", "is empty, so the enabled action would never act")
		}
	}
	if c.FeedReport.Enabled && strings.TrimSpace(c.FeedReport.Feed) == "" {
		p.Add("feed_report.feed", "must name the private feed")
	}
	if c.FeedReport.Enabled && c.FeedReport.ReportsPerFeed < 1 {
		p.Add("feed_report.reports_per_feed", "must be at least 1, got %d", c.FeedReport.ReportsPerFeed)
	}
	if c.Policy.Enabled && strings.TrimSpace(c.Policy.Policy) == "" {
		p.Add("policy.policy", "must name a policy (its id or its name)")
	}
	if c.LiveResp.Timeout < time.Second {
		p.Add("live_response.timeout", "must be at least 1s, got %v", c.LiveResp.Timeout)
	}
	if c.Webhook.Enabled {
		if u, err := url.Parse(c.Webhook.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("webhook.url", "must be an http or https URL, got %q", c.Webhook.URL)
		}
	}
	if c.Webhook.Timeout < time.Second {
		p.Add("webhook.timeout", "must be at least 1s, got %v", c.Webhook.Timeout)
	}
	if c.Command.Enabled && (len(c.Command.Argv) == 0 || strings.TrimSpace(c.Command.Argv[0]) == "") {
		p.Add("command.argv", "must name the program and its arguments")
	}
	if c.Command.Timeout < time.Second {
		p.Add("command.timeout", "must be at least 1s, got %v", c.Command.Timeout)
	}
	if c.NSX.Enabled {
		p.Require("nsx.url", c.NSX.URL)
		p.Require("nsx.username", c.NSX.Username)
		p.Require("nsx.tag", c.NSX.Tag)
		if c.NSX.Password.IsZero() {
			p.Add("nsx.password", "is required (set %s or %s_FILE)", config.EnvName(envPrefix, "nsx.password"),
				config.EnvName(envPrefix, "nsx.password"))
		}
	}
	return p.Err()
}

// actions lists every action under its configuration key.
func (c *Config) actions() map[string]Action {
	return map[string]Action{
		"feed_report":   {c.FeedReport.Enabled, c.FeedReport.Verdicts},
		"isolate":       c.Isolate,
		"policy":        {c.Policy.Enabled, c.Policy.Verdicts},
		"ban":           {c.Ban.Enabled, c.Ban.Verdicts},
		"live_response": {c.LiveResp.Enabled, c.LiveResp.Verdicts},
		"webhook":       {c.Webhook.Enabled, c.Webhook.Verdicts},
		"command":       {c.Command.Enabled, c.Command.Verdicts},
		"nsx":           {c.NSX.Enabled, c.NSX.Verdicts},
	}
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func app() runner.App[Config] {
	return runner.App[Config]{
		Name: name, EnvPrefix: envPrefix, Defaults: defaults,
		Settings: func(c *Config) *runner.Settings { return &c.Run },
		Build:    build, Demo: demo, Checks: checks,
	}
}

// build makes the clients, the TAP source with the Carbon Black hunt as its
// enrichment, the pass-through analyzer and the gated responders.
func build(ctx context.Context, c *Config, env runner.Env) (runner.Parts, error) {
	tap, err := tapClient(&c.Proofpoint, env)
	if err != nil {
		return runner.Parts{}, err
	}
	cbc, err := cbcClient(&c.CarbonBlack, env)
	if err != nil {
		return runner.Parts{}, err
	}
	hunter, err := carbonblackconn.NewHunter(cbc, carbonblackconn.HunterOptions{Window: c.CarbonBlack.HuntWindow, Source: "cbc-hunt"})
	if err != nil {
		return runner.Parts{}, err
	}
	pp := c.Proofpoint
	var streams []proofpoint.Stream
	if pp.IncludeDelivered {
		streams = append(streams, proofpoint.StreamMessagesDelivered)
	}
	if pp.IncludeBlocked {
		streams = append(streams, proofpoint.StreamMessagesBlocked)
	}
	src, err := proofpointconn.NewSource(tap, proofpointconn.Options{
		Streams: streams, Delay: pp.Delay, FirstLookBack: pp.FirstLookBack, Overlap: pp.Overlap, WindowSize: pp.Window,
		Classifications: pp.Classifications, ThreatStatuses: pp.ThreatStatuses, DebugSHA256: pp.DebugSample,
		Enrich: hunter.Enrich, HuntRetry: connector.Backoff{Initial: c.CarbonBlack.HuntRetry, Max: c.CarbonBlack.HuntRetryMax},
		Logger: env.Logger,
	})
	if err != nil {
		return runner.Parts{}, err
	}
	parts := runner.Parts{Sources: []connector.Source{src}, Analyzer: proofpointconn.NewAnalyzer("")}
	add := func(verdicts []string, r connector.Responder) {
		kinds, _ := connector.ParseKinds(verdicts...)
		parts.Responders = append(parts.Responders, connector.Gate(r, kinds))
	}
	perFile := func(r connector.Responder) connector.Responder {
		if c.CarbonBlack.OnlySeenFiles {
			return seenOnly{r}
		}
		return r
	}
	if c.FeedReport.Enabled {
		alerts := c.FeedReport.AlertsEnabled
		r, err := carbonblackconn.NewFeedReport(cbc, carbonblackconn.FeedOptions{Feed: c.FeedReport.Feed,
			ProviderURL: "https://www.proofpoint.com", Summary: "Attachments Proofpoint TAP found malicious",
			Watchlist: c.FeedReport.Watchlist, NoWatchlist: c.FeedReport.NoWatchlist, AlertsEnabled: &alerts, Title: feedTitle,
			ReportsPerFeed: c.FeedReport.ReportsPerFeed, VerifyDelay: c.CarbonBlack.SettleDelay,
			Description: func(connector.Finding) string { return "This IOC was identified by Proofpoint as malicious." }})
		if err != nil {
			return runner.Parts{}, err
		}
		add(c.FeedReport.Verdicts, perFile(r))
	}
	if c.Ban.Enabled {
		r, err := carbonblackconn.NewBan(cbc, carbonblackconn.BanOptions{Description: c.Ban.Description})
		if err != nil {
			return runner.Parts{}, err
		}
		add(c.Ban.Verdicts, perFile(r))
	}
	if c.Isolate.Enabled {
		r, err := carbonblackconn.NewQuarantine(cbc, "cbc-isolate")
		if err != nil {
			return runner.Parts{}, err
		}
		r.SetSettleDelay(c.CarbonBlack.SettleDelay)
		add(c.Isolate.Verdicts, r)
	}
	if c.Policy.Enabled {
		r, err := carbonblackconn.NewPolicyMove(cbc, c.Policy.Policy, "")
		if err != nil {
			return runner.Parts{}, err
		}
		r.SetSettleDelay(c.CarbonBlack.SettleDelay)
		add(c.Policy.Verdicts, r)
	}
	if c.LiveResp.Enabled {
		r, err := carbonblackconn.NewLiveResponse(cbc, carbonblackconn.LiveResponseOptions{Timeout: c.LiveResp.Timeout,
			KeepFile: c.LiveResp.KeepFile})
		if err != nil {
			return runner.Parts{}, err
		}
		add(c.LiveResp.Verdicts, processOnly{r})
	}
	if c.Webhook.Enabled {
		opts := connector.WebhookOptions{Timeout: c.Webhook.Timeout}
		if !c.Webhook.Secret.IsZero() {
			opts.Secret = []byte(c.Webhook.Secret.Value())
		}
		r, err := connector.NewWebhook(c.Webhook.URL, opts)
		if err != nil {
			return runner.Parts{}, fmt.Errorf("webhook.url: %w", err)
		}
		add(c.Webhook.Verdicts, processOnly{r})
	}
	if c.Command.Enabled {
		r, err := connector.NewCommand(c.Command.Argv, connector.CommandOptions{Name: "command", Timeout: c.Command.Timeout, Dir: c.Command.Dir})
		if err != nil {
			return runner.Parts{}, fmt.Errorf("command.argv: %w", err)
		}
		add(c.Command.Verdicts, processOnly{r})
	}
	if c.NSX.Enabled {
		nc, err := nsxClient(&c.NSX, env)
		if err != nil {
			return runner.Parts{}, err
		}
		r, err := nsxconn.NewTagger(nc, nsxconn.Tag{Tag: c.NSX.Tag, Scope: c.NSX.Scope})
		if err != nil {
			return runner.Parts{}, err
		}
		add(c.NSX.Verdicts, r)
	}
	return parts, nil
}

// feedTitle is the original's report title: "<threatStatus> <classification>
// <threatType>: <sha256>".
func feedTitle(f connector.Finding) string {
	a := f.Verdict.Attributes
	var words []string
	for _, w := range []string{a["threat_status"], strings.Join(f.Verdict.Classifications, " "), a["threat_type"]} {
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		words = []string{f.Verdict.Kind.String()}
	}
	return strings.Join(words, " ") + ": " + strings.ToLower(f.Evidence.Hashes.SHA256)
}

// processOnly passes on only findings about a Carbon Black process: the
// webhook, the command and Live Response act per process, as the original
// did, not per e-mail recipient.
type processOnly struct{ connector.Responder }

func (p processOnly) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if f.Sighting == nil || f.Sighting.DeviceID == "" || (f.Sighting.ProcessGUID == "" && f.Sighting.PID == 0) {
		return connector.Result{Status: connector.Skipped, Detail: "not a Carbon Black process"}, nil
	}
	return p.Responder.Respond(ctx, f)
}

// seenOnly passes on only files the hunt found on at least one endpoint.
type seenOnly struct{ connector.Responder }

func (s seenOnly) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if !slices.ContainsFunc(f.Evidence.Sightings, func(s connector.Sighting) bool { return s.DeviceID != "" }) {
		return connector.Result{Status: connector.Skipped, Detail: "no endpoint ran the file"}, nil
	}
	return s.Responder.Respond(ctx, f)
}

func tapClient(pp *Proofpoint, env runner.Env) (*proofpoint.Client, error) {
	transport, err := vendors.TransportOptions("proofpoint", pp.Transport, proofpoint.WithInsecureSkipVerify,
		proofpoint.WithCACertPEM, proofpoint.WithProxy)
	if err != nil {
		return nil, err
	}
	opts := append([]proofpoint.Option{proofpoint.WithLogger(env.Logger), proofpoint.WithUserAgent(pp.UserAgent),
		proofpoint.WithObserver(env.HTTP)}, transport...)
	return proofpoint.New(pp.URL, pp.Principal, pp.Secret.Value(), opts...)
}

// cbcClient makes the Carbon Black Cloud client, with poll_interval as the
// first wait of process searches and Live Response.
func cbcClient(cb *CarbonBlack, env runner.Env) (*carbonblack.Client, error) {
	opts := []carbonblack.Option{carbonblack.WithObserver(env.HTTP)}
	if cb.PollInterval > 0 {
		p := carbonblack.PollPolicy{Interval: cb.PollInterval, MaxInterval: max(cb.PollInterval, 5*time.Second)}
		opts = append(opts, carbonblack.WithJobPolling(p), carbonblack.WithSessionPolling(p), carbonblack.WithCommandPolling(p))
	}
	return cb.CarbonBlack.Client(env.Logger, opts...)
}

func nsxClient(n *NSXAction, env runner.Env) (*nsxconn.Client, error) {
	// The NSX action has no proxy key.
	transport, err := vendors.TransportOptions("nsx", vendors.Transport{SSLVerify: n.SSLVerify, CAFile: n.CAFile},
		nsxconn.WithInsecureSkipVerify, nsxconn.WithCACertPEM, nil)
	if err != nil {
		return nil, err
	}
	opts := append([]nsxconn.Option{nsxconn.WithLogger(env.Logger)}, transport...)
	return nsxconn.New(n.URL, n.Username, n.Password.Value(), opts...)
}
