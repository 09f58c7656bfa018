package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/vmray"
)

const (
	name      = "s1-vmray"
	envPrefix = "S1_VMRAY"
)

// Config is the connector's configuration (see README.md for every key).
type Config struct {
	Run runner.Settings `yaml:"run"`
	// SelectedVerdicts are the VMRay verdicts that lead to any action but
	// the false-positive update (the original SELECTED_VERDICTS); each
	// action's own verdicts must be among them.
	SelectedVerdicts []string    `yaml:"selected_verdicts"`
	SentinelOne      SentinelOne `yaml:"sentinelone"`
	VMRay            VMRay       `yaml:"vmray"`

	Note            NoteAction          `yaml:"note"`
	Indicators      IndicatorAction     `yaml:"indicators"`
	GlobalBlocklist GlobalBlocklist     `yaml:"global_blocklist"`
	ThreatBlocklist ThreatBlocklist     `yaml:"threat_blocklist"`
	DVBlocklist     DVBlocklist         `yaml:"dv_blocklist"`
	Kill            Action              `yaml:"kill"`
	Quarantine      Action              `yaml:"quarantine"`
	Remediate       Action              `yaml:"remediate"`
	Rollback        Action              `yaml:"rollback"`
	InitiateScan    Action              `yaml:"initiate_scan"`
	Disconnect      Action              `yaml:"disconnect"`
	Shutdown        Action              `yaml:"shutdown"`
	FalsePositive   FalsePositiveAction `yaml:"false_positive"`
}

// SentinelOne configures the SentinelOne side.
type SentinelOne struct {
	URL               string        `yaml:"url"`
	APIToken          config.Secret `yaml:"api_token"`
	vendors.Transport `yaml:",inline"`
	UserAgent         string `yaml:"user_agent"`

	AccountID        string        `yaml:"account_id"`
	SiteIDs          []string      `yaml:"site_ids"`
	CollectMethods   []string      `yaml:"collect_methods"`
	ConfidenceLevels []string      `yaml:"confidence_levels"`
	LookBack         time.Duration `yaml:"look_back"`
	Overlap          time.Duration `yaml:"overlap"`
	MaxWindow        time.Duration `yaml:"max_window"`
	DVQuery          string        `yaml:"dv_query"`
	DVLimit          int           `yaml:"dv_limit"`
	DVPollInterval   time.Duration `yaml:"dv_poll_interval"`
	DVTimeout        time.Duration `yaml:"dv_timeout"`

	DownloadMethod    string        `yaml:"download_method"`
	FetchPassword     config.Secret `yaml:"fetch_password"`
	CloudPassword     config.Secret `yaml:"cloud_password"`
	FetchTimeout      time.Duration `yaml:"fetch_timeout"`
	FetchPollInterval time.Duration `yaml:"fetch_poll_interval"`
	OfflineRetry      time.Duration `yaml:"offline_retry"`
	// SettleDelay is how long an action that may have been sent (mitigation,
	// agent action, false-positive verdict), also before a restart, is waited
	// for before it is requested again (0: ten minutes).
	SettleDelay time.Duration `yaml:"settle_delay"`
	DownloadDir string        `yaml:"download_dir"`
	// MaxSampleBytes caps a fetched file (the sample itself; the
	// password-protected zip around it may be larger by a tenth and 1 MiB); a
	// larger one is a dead letter at once (default 0: 2 GiB, the archive
	// reader's limit).
	MaxSampleBytes int64 `yaml:"max_sample_bytes"`
}

// VMRay configures the VMRay side.
type VMRay struct {
	vendors.VMRay            `yaml:",inline"`
	SendCustomSubmissionTags bool          `yaml:"send_custom_submission_tags"`
	CustomTagProperty        string        `yaml:"custom_tag_property"`
	ArchivePassword          config.Secret `yaml:"archive_password"`
}

// Action is a responder switched on with its verdicts.
type Action struct {
	Enabled  bool     `yaml:"enabled"`
	Verdicts []string `yaml:"verdicts"`
}

// NoteAction configures the threat note.
type NoteAction struct {
	Enabled   bool     `yaml:"enabled"`
	Verdicts  []string `yaml:"verdicts"`
	Subtypes  []string `yaml:"subtypes"`
	IOCFields []string `yaml:"ioc_fields"`
}

// IndicatorAction configures the Threat Intelligence indicators.
type IndicatorAction struct {
	Enabled     bool          `yaml:"enabled"`
	Verdicts    []string      `yaml:"verdicts"`
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Source      string        `yaml:"source"`
	ValidFor    time.Duration `yaml:"valid_for"`
	BaselineTTL time.Duration `yaml:"baseline_ttl"`
}

// GlobalBlocklist configures the /restrictions blocklist.
type GlobalBlocklist struct {
	Enabled     bool     `yaml:"enabled"`
	Verdicts    []string `yaml:"verdicts"`
	Description string   `yaml:"description"`
	OSTypes     []string `yaml:"os_types"`
}

// ThreatBlocklist configures blocklisting through threats.
type ThreatBlocklist struct {
	Enabled     bool     `yaml:"enabled"`
	Verdicts    []string `yaml:"verdicts"`
	Description string   `yaml:"description"`
	TargetScope string   `yaml:"target_scope"`
}

// DVBlocklist configures blocklisting through Deep Visibility.
type DVBlocklist struct {
	Enabled     bool     `yaml:"enabled"`
	Verdicts    []string `yaml:"verdicts"`
	TargetScope string   `yaml:"target_scope"`
}

// FalsePositiveAction configures the false-positive update for clean files.
type FalsePositiveAction struct {
	Enabled          bool     `yaml:"enabled"`
	ConfidenceLevels []string `yaml:"confidence_levels"`
	Description      string   `yaml:"description"`
}

// defaults are the original connector's defaults (README.md lists where
// they differ and why).
func defaults() *Config {
	run := runner.DefaultSettings(name)
	run.OpsListen = runner.DefaultOpsListen(name)
	run.Pipeline.PollInterval = 15 * time.Second
	run.Pipeline.AnalysisTimeout = 900 * time.Second
	mal := func() []string { return []string{"malicious"} }
	return &Config{
		Run:              run,
		SelectedVerdicts: mal(),
		SentinelOne: SentinelOne{
			URL: "https://usea1-partners.sentinelone.net", Transport: vendors.Transport{SSLVerify: true},
			UserAgent: "S1-VMRayAnalyzer-Connector",
			SiteIDs:   []string{}, CollectMethods: []string{"threat"}, ConfidenceLevels: slices.Clone(sentineloneconn.DefaultConfidenceLevels),
			LookBack: sentineloneconn.DefaultLookBack, Overlap: sentineloneconn.DefaultOverlap, MaxWindow: sentineloneconn.DefaultMaxWindow,
			DVQuery: sentineloneconn.DefaultDVQuery, DVLimit: sentineloneconn.DefaultDVLimit,
			DVPollInterval: 10 * time.Second, DVTimeout: 10 * time.Minute,
			DownloadMethod: string(sentineloneconn.FetchFromAgent), CloudPassword: config.NewSecret(sentinelone.BinaryVaultPassword),
			FetchTimeout: 60 * time.Second, FetchPollInterval: 10 * time.Second, OfflineRetry: sentineloneconn.DefaultOfflineRetry,
		},
		VMRay: VMRay{
			VMRay: vendors.VMRay{URL: "https://eu.cloud.vmray.com", Transport: vendors.Transport{SSLVerify: true},
				ConnectorName: "SentinelOne-soarkit", SubmissionComment: "Sample from VMRay Analyzer - SentinelOne Connector",
				SubmissionTags: []string{"SentinelOne"}, SandboxTimeout: 120 * time.Second},
			CustomTagProperty: "site_name",
		},
		Note: NoteAction{Enabled: true, Verdicts: mal(), Subtypes: slices.Clone(sentineloneconn.DefaultNoteSubtypes),
			IOCFields: slices.Clone(sentineloneconn.DefaultNoteIOCFields)},
		Indicators: IndicatorAction{Verdicts: mal(), Name: sentineloneconn.DefaultIndicatorName,
			Description: sentineloneconn.DefaultIndicatorDescription, Source: sentineloneconn.DefaultIndicatorSource,
			BaselineTTL: sentineloneconn.DefaultIndicatorBaselineTTL},
		GlobalBlocklist: GlobalBlocklist{Verdicts: mal(), Description: sentineloneconn.DefaultBlocklistDescription, OSTypes: []string{}},
		ThreatBlocklist: ThreatBlocklist{Verdicts: mal(), Description: sentineloneconn.DefaultBlocklistDescription, TargetScope: "account"},
		DVBlocklist:     DVBlocklist{Verdicts: mal(), TargetScope: "account"},
		Kill:            Action{Verdicts: mal()}, Quarantine: Action{Verdicts: mal()},
		Remediate: Action{Verdicts: mal()}, Rollback: Action{Verdicts: mal()},
		InitiateScan: Action{Verdicts: mal()}, Disconnect: Action{Verdicts: mal()}, Shutdown: Action{Verdicts: mal()},
		FalsePositive: FalsePositiveAction{Enabled: true, ConfidenceLevels: slices.Clone(sentineloneconn.DefaultFalsePositiveConfidence),
			Description: sentineloneconn.DefaultFalsePositiveDescription},
	}
}

var (
	collectMethods = []string{"threat", "deep-visibility"}
	osTypes        = []string{sentinelone.OSWindows, sentinelone.OSMacOS, sentinelone.OSLinux, sentinelone.OSWindowsLegacy}
	tagProperties  = []string{"site_name", "site_id", "account_name", "account_id", "device_name", "os"}
)

// gated lists the actions whose verdicts must be among selected_verdicts.
func (c *Config) gated() map[string][]string {
	return map[string][]string{
		"note.verdicts": c.Note.Verdicts, "indicators.verdicts": c.Indicators.Verdicts,
		"global_blocklist.verdicts": c.GlobalBlocklist.Verdicts, "threat_blocklist.verdicts": c.ThreatBlocklist.Verdicts,
		"dv_blocklist.verdicts": c.DVBlocklist.Verdicts, "kill.verdicts": c.Kill.Verdicts,
		"quarantine.verdicts": c.Quarantine.Verdicts, "remediate.verdicts": c.Remediate.Verdicts,
		"rollback.verdicts": c.Rollback.Verdicts, "initiate_scan.verdicts": c.InitiateScan.Verdicts,
		"disconnect.verdicts": c.Disconnect.Verdicts, "shutdown.verdicts": c.Shutdown.Verdicts,
	}
}

// Validate checks every key and names the wrong ones.
func (c *Config) Validate() error {
	var p config.Problems
	selected, err := connector.ParseKinds(c.SelectedVerdicts...)
	if err != nil {
		p.Add("selected_verdicts", "%v", err)
	}
	s1 := &c.SentinelOne
	p.Require("sentinelone.url", s1.URL)
	if s1.APIToken.IsZero() {
		p.Add("sentinelone.api_token", "is required (set %s or %s_FILE)", config.EnvName(envPrefix, "sentinelone.api_token"),
			config.EnvName(envPrefix, "sentinelone.api_token"))
	}
	if len(s1.CollectMethods) == 0 {
		p.Add("sentinelone.collect_methods", "must name at least one of threat, deep-visibility")
	}
	for _, m := range s1.CollectMethods {
		if !slices.Contains(collectMethods, normMethod(m)) {
			p.Add("sentinelone.collect_methods", "unknown method %q (use threat or deep-visibility)", m)
		}
	}
	checkAll(&p, "sentinelone.confidence_levels", s1.ConfidenceLevels, sentineloneconn.DefaultConfidenceLevels)
	if len(s1.ConfidenceLevels) == 0 {
		p.Add("sentinelone.confidence_levels", "must name at least one of malicious, suspicious, n/a")
	}
	for _, id := range s1.SiteIDs {
		if !isID(id) {
			p.Add("sentinelone.site_ids", "%q is not a SentinelOne id (a decimal number)", id)
		}
	}
	if s1.AccountID != "" && !isID(s1.AccountID) {
		p.Add("sentinelone.account_id", "%q is not a SentinelOne id (a decimal number)", s1.AccountID)
	}
	for key, d := range map[string]time.Duration{"sentinelone.look_back": s1.LookBack, "sentinelone.dv_poll_interval": s1.DVPollInterval,
		"sentinelone.dv_timeout": s1.DVTimeout, "sentinelone.fetch_timeout": s1.FetchTimeout,
		"sentinelone.fetch_poll_interval": s1.FetchPollInterval, "sentinelone.offline_retry": s1.OfflineRetry} {
		if d <= 0 {
			p.Add(key, "must be positive, got %v", d)
		}
	}
	if s1.Overlap < 0 {
		p.Add("sentinelone.overlap", "must not be negative, got %v", s1.Overlap)
	}
	if s1.MaxWindow <= s1.Overlap {
		p.Add("sentinelone.max_window", "must be longer than sentinelone.overlap (%v), got %v", s1.Overlap, s1.MaxWindow)
	}
	if strings.TrimSpace(s1.DVQuery) == "" {
		p.Add("sentinelone.dv_query", "must not be empty")
	}
	if s1.DVLimit < 1 || s1.DVLimit > 100000 {
		p.Add("sentinelone.dv_limit", "must be between 1 and 100000, got %d", s1.DVLimit)
	}
	switch sentineloneconn.FetchMethod(s1.DownloadMethod) {
	case sentineloneconn.FetchFromAgent, sentineloneconn.FetchFromCloud:
	default:
		p.Add("sentinelone.download_method", "unknown method %q (use fetch-file or download-cloud)", s1.DownloadMethod)
	}
	if pw := s1.FetchPassword.Value(); pw != "" {
		if err := sentinelone.ValidatePassword(pw); err != nil {
			p.Add("sentinelone.fetch_password", "%v (leave it empty to generate one per fetch)", err)
		}
	}
	if s1.MaxSampleBytes < 0 {
		p.Add("sentinelone.max_sample_bytes", "must not be negative, got %d", s1.MaxSampleBytes)
	}
	if s1.DownloadDir != "" {
		if st, err := os.Stat(s1.DownloadDir); err != nil || !st.IsDir() {
			p.Add("sentinelone.download_dir", "%q is not a directory", s1.DownloadDir)
		}
	}

	vm := &c.VMRay
	vm.VMRay.Validate(&p, envPrefix)
	if !slices.Contains(tagProperties, tagProperty(vm.CustomTagProperty)) {
		p.Add("vmray.custom_tag_property", "unknown property %q (use %s)", vm.CustomTagProperty, strings.Join(tagProperties, ", "))
	}

	vendors.CheckGates(&p, selected, c.gated())
	checkAll(&p, "note.subtypes", c.Note.Subtypes, sentineloneconn.DefaultNoteSubtypes)
	checkAll(&p, "note.ioc_fields", c.Note.IOCFields, []string{"md5", "sha1", "sha256", "ipv4", "ipv6", "domain", "url"})
	checkAll(&p, "global_blocklist.os_types", c.GlobalBlocklist.OSTypes, osTypes)
	checkAll(&p, "threat_blocklist.target_scope", []string{c.ThreatBlocklist.TargetScope}, []string{"group", "site", "account", "tenant"})
	checkAll(&p, "dv_blocklist.target_scope", []string{c.DVBlocklist.TargetScope}, []string{"site", "group", "account", "global"})
	checkAll(&p, "false_positive.confidence_levels", c.FalsePositive.ConfidenceLevels, sentineloneconn.DefaultConfidenceLevels)
	if c.Indicators.ValidFor < 0 {
		p.Add("indicators.valid_for", "must not be negative, got %v", c.Indicators.ValidFor)
	}
	if c.Indicators.BaselineTTL <= 0 {
		p.Add("indicators.baseline_ttl", "must be positive, got %v", c.Indicators.BaselineTTL)
	}
	return p.Err()
}

func checkAll(p *config.Problems, key string, values, allowed []string) {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			p.Add(key, "unknown value %q (one of %s)", v, strings.Join(allowed, ", "))
		}
	}
}

func isID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// tagProperty accepts the original's spellings (siteName, siteId) of the
// sighting properties.
func tagProperty(p string) string {
	switch p {
	case "siteName":
		return "site_name"
	case "siteId":
		return "site_id"
	}
	return p
}

// normMethod accepts the original's spellings (threat, deep-visibility,
// deep_visibility).
func normMethod(m string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(m)), "_", "-")
}

func app() runner.App[Config] {
	return runner.App[Config]{
		Name: name, EnvPrefix: envPrefix, Defaults: defaults,
		Settings: func(c *Config) *runner.Settings { return &c.Run },
		Build:    build, Demo: demo, Checks: checks,
	}
}

// build makes the clients, the sources, the VMRay analyzer and the gated
// responders from the configuration.
func build(ctx context.Context, c *Config, env runner.Env) (runner.Parts, error) {
	s1, err := s1Client(&c.SentinelOne, env)
	if err != nil {
		return runner.Parts{}, err
	}
	vm, err := c.VMRay.Client(env.Logger, vmray.WithObserver(env.HTTP))
	if err != nil {
		return runner.Parts{}, err
	}
	cs := c.SentinelOne
	scope, err := sentineloneconn.NewScope(s1, cs.AccountID, cs.SiteIDs)
	if err != nil {
		return runner.Parts{}, err
	}
	opts := sentineloneconn.SourceOptions{Scope: scope, LookBack: cs.LookBack, Overlap: cs.Overlap, MaxWindow: cs.MaxWindow,
		ConfidenceLevels: slices.Clone(cs.ConfidenceLevels), DVQuery: cs.DVQuery, DVLimit: cs.DVLimit, Logger: env.Logger,
		Fetch: sentineloneconn.FetchOptions{Method: sentineloneconn.FetchMethod(cs.DownloadMethod), Password: cs.FetchPassword.Value(),
			CloudPassword: cs.CloudPassword.Value(), OfflineRetry: cs.OfflineRetry}}
	if cs.Overlap == 0 {
		opts.Overlap = -1
	}
	var parts runner.Parts
	methods := map[string]bool{}
	for _, m := range cs.CollectMethods {
		methods[normMethod(m)] = true
	}
	if methods["threat"] {
		src, err := sentineloneconn.NewThreatSource(s1, opts)
		if err != nil {
			return runner.Parts{}, err
		}
		parts.Sources = append(parts.Sources, src)
	}
	if methods["deep-visibility"] {
		opts.SkipThreatHashes = methods["threat"]
		src, err := sentineloneconn.NewDVSource(s1, opts)
		if err != nil {
			return runner.Parts{}, err
		}
		parts.Sources = append(parts.Sources, src)
	}

	vopts := c.VMRay.AnalyzerOptions(env.Logger, len(c.Run.Pipeline.Resubmit) > 0)
	// The poll interval is the first, short wait between checks; the analyzer stretches it to VMRay's pace.
	vopts.PollInterval = c.Run.Pipeline.PollInterval
	vopts.ArchivePassword = c.VMRay.ArchivePassword.Value()
	// A submission may reach VMRay for as long as the submit timeout allows, unless vmray.settle_delay is set.
	if vopts.SettleDelay == 0 {
		vopts.SettleDelay = c.Run.Pipeline.SubmitTimeout
	}
	if c.VMRay.SendCustomSubmissionTags {
		vopts.SightingTags = vmrayconn.AttributeTags(tagProperty(c.VMRay.CustomTagProperty))
	}
	if parts.Analyzer, err = vmrayconn.New(vm, vopts); err != nil {
		return runner.Parts{}, err
	}

	rs, err := responders(c, s1, scope)
	if err != nil {
		return runner.Parts{}, err
	}
	parts.Responders = rs
	return parts, nil
}

// responders builds the enabled responders, each behind its verdict gate
// (intersected with selected_verdicts; the false-positive update answers
// clean verdicts only).
func responders(c *Config, s1 *sentinelone.Client, scope *sentineloneconn.Scope) ([]connector.Responder, error) {
	selected, _ := connector.ParseKinds(c.SelectedVerdicts...)
	var out []connector.Responder
	add := func(enabled bool, verdicts []string, r connector.Responder, err error) error {
		if !enabled {
			return nil
		}
		if err != nil {
			return err
		}
		kinds, _ := connector.ParseKinds(verdicts...)
		out = append(out, connector.Gate(r, kinds&selected))
		return nil
	}
	steps := []func() error{
		func() error {
			r, err := sentineloneconn.NewNote(s1, sentineloneconn.NoteOptions{Subtypes: slices.Clone(c.Note.Subtypes),
				IOCFields: nonNil(c.Note.IOCFields)})
			return add(c.Note.Enabled, c.Note.Verdicts, r, err)
		},
		func() error {
			ia := c.Indicators
			r, err := sentineloneconn.NewIndicators(s1, sentineloneconn.IndicatorOptions{Scope: scope, IndicatorName: ia.Name,
				Description: ia.Description, Source: ia.Source, ValidFor: ia.ValidFor, BaselineTTL: ia.BaselineTTL})
			return add(ia.Enabled, ia.Verdicts, r, err)
		},
		func() error {
			g := c.GlobalBlocklist
			r, err := sentineloneconn.NewGlobalBlocklist(s1, sentineloneconn.GlobalBlocklistOptions{Scope: scope,
				Description: g.Description, OSTypes: slices.Clone(g.OSTypes)})
			return add(g.Enabled, g.Verdicts, r, err)
		},
		func() error {
			tb := c.ThreatBlocklist
			r, err := sentineloneconn.NewThreatBlocklist(s1, sentineloneconn.ThreatBlocklistOptions{TargetScope: tb.TargetScope,
				Description: tb.Description})
			return add(tb.Enabled, tb.Verdicts, r, err)
		},
		func() error {
			r, err := sentineloneconn.NewDVBlocklist(s1, sentineloneconn.DVBlocklistOptions{Scope: scope, TargetScope: c.DVBlocklist.TargetScope})
			return add(c.DVBlocklist.Enabled, c.DVBlocklist.Verdicts, r, err)
		},
	}
	for _, m := range []struct {
		a      Action
		action sentinelone.MitigationAction
	}{{c.Kill, sentinelone.MitigateKill}, {c.Quarantine, sentinelone.MitigateQuarantine},
		{c.Remediate, sentinelone.MitigateRemediate}, {c.Rollback, sentinelone.MitigateRollbackRemediation}} {
		steps = append(steps, func() error {
			r, err := sentineloneconn.NewMitigation(s1, m.action, "")
			if err == nil {
				r.SetSettleDelay(c.SentinelOne.SettleDelay)
			}
			return add(m.a.Enabled, m.a.Verdicts, r, err)
		})
	}
	for _, a := range []struct {
		a      Action
		action sentineloneconn.AgentAction
	}{{c.InitiateScan, sentineloneconn.ActionInitiateScan}, {c.Disconnect, sentineloneconn.ActionDisconnect},
		{c.Shutdown, sentineloneconn.ActionShutdown}} {
		steps = append(steps, func() error {
			r, err := sentineloneconn.NewAgentAction(s1, a.action, "")
			if err == nil {
				r.SetSettleDelay(c.SentinelOne.SettleDelay)
			}
			return add(a.a.Enabled, a.a.Verdicts, r, err)
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if fp := c.FalsePositive; fp.Enabled {
		r, err := sentineloneconn.NewFalsePositive(s1, sentineloneconn.FalsePositiveOptions{ConfidenceLevels: slices.Clone(fp.ConfidenceLevels),
			Description: fp.Description, SettleDelay: c.SentinelOne.SettleDelay, Note: sentineloneconn.NoteOptions{Subtypes: slices.Clone(c.Note.Subtypes), IOCFields: nonNil(c.Note.IOCFields)}})
		if err != nil {
			return nil, err
		}
		out = append(out, connector.Gate(r, connector.Kinds(connector.Clean)))
	}
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}

func s1Client(s *SentinelOne, env runner.Env) (*sentinelone.Client, error) {
	opts := []sentinelone.Option{sentinelone.WithLogger(env.Logger), sentinelone.WithUserAgent(s.UserAgent), sentinelone.WithObserver(env.HTTP),
		sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: s.FetchPollInterval, MaxInterval: s.FetchPollInterval, Multiplier: 1,
			Timeout: s.FetchTimeout}),
		sentinelone.WithQueryPoll(sentinelone.PollPolicy{Interval: s.DVPollInterval, MaxInterval: s.DVPollInterval, Multiplier: 1,
			Timeout: s.DVTimeout})}
	transport, err := vendors.TransportOptions("sentinelone", s.Transport, sentinelone.WithInsecureSkipVerify,
		sentinelone.WithCACertPEM, sentinelone.WithProxy)
	if err != nil {
		return nil, err
	}
	opts = append(opts, transport...)
	if s.DownloadDir != "" {
		opts = append(opts, sentinelone.WithFetchTempDir(s.DownloadDir))
	}
	if n := s.MaxSampleBytes; n > 0 {
		opts = append(opts, sentinelone.WithMaxSampleBytes(n))
	}
	return sentinelone.New(s.URL, s.APIToken.Value(), opts...)
}
