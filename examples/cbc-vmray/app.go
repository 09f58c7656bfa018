package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/vmray"
)

const (
	name      = "cbc-vmray"
	envPrefix = "CBC_VMRAY"
)

// Config is the connector's configuration (see README.md for every key).
type Config struct {
	Run runner.Settings `yaml:"run"`
	// SelectedVerdicts are the verdicts that lead to any action (the
	// original SELECTED_VERDICTS); each action's own verdicts must be among
	// them.
	SelectedVerdicts []string         `yaml:"selected_verdicts"`
	CarbonBlack      CarbonBlack      `yaml:"carbonblack"`
	VMRay            VMRay            `yaml:"vmray"`
	Watchlist        WatchlistAction  `yaml:"watchlist"`
	Ban              BanAction        `yaml:"ban"`
	Quarantine       QuarantineAction `yaml:"quarantine"`
}

// CarbonBlack configures the Carbon Black Cloud side.
type CarbonBlack struct {
	vendors.CarbonBlack `yaml:",inline"`
	// IgnoreSystemProxy ignores the environment's proxy (with the keys; a
	// credentials file sets it itself).
	IgnoreSystemProxy bool `yaml:"ignore_system_proxy"`

	DataSources       []string      `yaml:"data_sources"`
	LookBack          time.Duration `yaml:"look_back"`
	Overlap           time.Duration `yaml:"overlap"`
	MaxWindow         time.Duration `yaml:"max_window"`
	ReputationFilters []string      `yaml:"reputation_filters"`
	DeviceOSFilters   []string      `yaml:"device_os_filters"`
	JobRows           int           `yaml:"job_rows"`
	// PartRows is how many records one collection hands to the pipeline at
	// once; a larger window is handed over in parts as its pages arrive.
	PartRows     int           `yaml:"part_rows"`
	DownloadDir  string        `yaml:"download_dir"`
	LinkLifetime time.Duration `yaml:"link_lifetime"`
	// MaxSampleBytes caps a sample (the file, not the zip UBS wraps it in);
	// a larger one is a dead letter at once (default 1 GiB).
	MaxSampleBytes int64 `yaml:"max_sample_bytes"`
}

// VMRay configures the VMRay side.
type VMRay struct {
	vendors.VMRay         `yaml:",inline"`
	AnalyzerMode          string `yaml:"analyzer_mode"`
	TruncatedAnalyzerMode string `yaml:"truncated_analyzer_mode"`
	MaxJobs               int    `yaml:"max_jobs"`
	MaxRecursiveSamples   int    `yaml:"max_recursive_samples"`
}

// WatchlistAction configures the watchlist reports.
type WatchlistAction struct {
	Enabled            bool          `yaml:"enabled"`
	Verdicts           []string      `yaml:"verdicts"`
	Name               string        `yaml:"name"`
	Description        string        `yaml:"description"`
	AlertsEnabled      bool          `yaml:"alerts_enabled"`
	BaselineTTL        time.Duration `yaml:"baseline_ttl"`
	IncludePublicFeeds bool          `yaml:"include_public_feeds"`
	// ReportsPerWatchlist caps the reports of one watchlist; more go to "<name> (2)", "(3)", ...
	ReportsPerWatchlist int `yaml:"reports_per_watchlist"`
}

// BanAction configures the hash ban.
type BanAction struct {
	Enabled     bool     `yaml:"enabled"`
	Verdicts    []string `yaml:"verdicts"`
	Description string   `yaml:"description"`
}

// QuarantineAction configures device quarantine.
type QuarantineAction struct {
	Enabled  bool     `yaml:"enabled"`
	Verdicts []string `yaml:"verdicts"`
}

// defaults are the original connector's defaults (README.md lists where
// they differ and why).
func defaults() *Config {
	run := runner.DefaultSettings(name)
	run.OpsListen = runner.DefaultOpsListen(name)
	run.Pipeline.PollInterval = 5 * time.Second
	// The watchlist, ban and quarantine responders batch: the files in the respond stage at once make a batch.
	run.Pipeline.RespondConcurrency = 32
	return &Config{
		Run:              run,
		SelectedVerdicts: []string{"malicious"},
		CarbonBlack: CarbonBlack{
			CarbonBlack: vendors.CarbonBlack{URL: "https://defense.conferdeploy.net", Profile: "default",
				Transport: vendors.Transport{SSLVerify: true}, IntegrationName: name},
			DataSources: []string{"process", "observations", "alerts"},
			LookBack:    carbonblackconn.DefaultLookBack, Overlap: carbonblackconn.DefaultOverlap,
			MaxWindow:         carbonblackconn.DefaultMaxWindow,
			ReputationFilters: slices.Clone(carbonblackconn.DefaultReputationFilters),
			DeviceOSFilters:   slices.Clone(carbonblackconn.DefaultDeviceOSFilters),
			JobRows:           10_000, PartRows: carbonblackconn.DefaultPartRows, LinkLifetime: carbonblackconn.DefaultLinkLifetime,
		},
		VMRay: VMRay{
			VMRay: vendors.VMRay{URL: "https://eu.cloud.vmray.com", Transport: vendors.Transport{SSLVerify: true},
				ConnectorName: "CarbonBlackCloudConnector-soarkit", SubmissionComment: "Sample from VMRay CarbonBlack Connector",
				SubmissionTags: []string{"CarbonBlackCloud"}, SandboxTimeout: 120 * time.Second},
			AnalyzerMode:          string(vmray.AnalyzerReputationStaticDynamic),
			TruncatedAnalyzerMode: "reputation_static", MaxRecursiveSamples: -1,
		},
		Watchlist: WatchlistAction{Enabled: true, Verdicts: []string{"malicious"}, Name: carbonblackconn.DefaultWatchlistName,
			Description: carbonblackconn.DefaultWatchlistDescription, AlertsEnabled: true, BaselineTTL: carbonblackconn.DefaultBaselineTTL,
			ReportsPerWatchlist: carbonblackconn.DefaultReportsPerWatchlist},
		Ban:        BanAction{Verdicts: []string{"malicious"}, Description: carbonblackconn.DefaultBanDescription},
		Quarantine: QuarantineAction{Verdicts: []string{"malicious"}},
	}
}

var dataSources = map[string]string{"process": "process", "processes": "process", "observations": "observations",
	"observation": "observations", "enriched_events": "observations", "alerts": "alerts"}

// Validate checks every key and names the wrong ones.
func (c *Config) Validate() error {
	var p config.Problems
	selected, err := connector.ParseKinds(c.SelectedVerdicts...)
	if err != nil {
		p.Add("selected_verdicts", "%v", err)
	}
	cb := &c.CarbonBlack
	cb.CarbonBlack.Validate(&p, envPrefix)
	if len(cb.DataSources) == 0 {
		p.Add("carbonblack.data_sources", "must name at least one of process, observations, alerts")
	}
	for _, s := range cb.DataSources {
		if _, ok := dataSources[strings.ToLower(strings.TrimSpace(s))]; !ok {
			p.Add("carbonblack.data_sources", "unknown data source %q (use process, observations or alerts)", s)
		}
	}
	if err := checkList(cb.ReputationFilters, carbonblackconn.Reputations); err != nil {
		p.Add("carbonblack.reputation_filters", "%v", err)
	}
	if err := checkList(cb.DeviceOSFilters, carbonblackconn.DeviceOSes); err != nil {
		p.Add("carbonblack.device_os_filters", "%v", err)
	}
	if cb.LookBack <= 0 {
		p.Add("carbonblack.look_back", "must be positive, got %v", cb.LookBack)
	}
	if cb.Overlap < 0 {
		p.Add("carbonblack.overlap", "must not be negative, got %v", cb.Overlap)
	}
	if cb.MaxWindow <= cb.Overlap {
		p.Add("carbonblack.max_window", "must be longer than carbonblack.overlap (%v), got %v", cb.Overlap, cb.MaxWindow)
	}
	if cb.MaxSampleBytes < 0 {
		p.Add("carbonblack.max_sample_bytes", "must not be negative, got %d", cb.MaxSampleBytes)
	}
	if cb.JobRows < 1 || cb.JobRows > 10_000 {
		p.Add("carbonblack.job_rows", "must be between 1 and 10000, got %d", cb.JobRows)
	}
	if cb.PartRows < 1 || cb.PartRows > 9_999 {
		p.Add("carbonblack.part_rows", "must be between 1 and 9999, got %d", cb.PartRows)
	}
	if cb.LinkLifetime < time.Minute {
		p.Add("carbonblack.link_lifetime", "must be at least 1m, got %v", cb.LinkLifetime)
	}
	vm := &c.VMRay
	vm.VMRay.Validate(&p, envPrefix)
	for key, mode := range map[string]string{"vmray.analyzer_mode": vm.AnalyzerMode, "vmray.truncated_analyzer_mode": vm.TruncatedAnalyzerMode} {
		if _, err := vmrayconn.ParseAnalyzerMode(mode); err != nil {
			p.Add(key, "%v", err)
		}
	}
	if vm.MaxJobs < 0 || vm.MaxJobs > 100 {
		p.Add("vmray.max_jobs", "must be between 0 (not sent) and 100, got %d", vm.MaxJobs)
	}
	if vm.MaxRecursiveSamples < -1 || vm.MaxRecursiveSamples > 50 {
		p.Add("vmray.max_recursive_samples", "must be between -1 (not sent) and 50, got %d", vm.MaxRecursiveSamples)
	}
	vendors.CheckGates(&p, selected, map[string][]string{"watchlist.verdicts": c.Watchlist.Verdicts, "ban.verdicts": c.Ban.Verdicts,
		"quarantine.verdicts": c.Quarantine.Verdicts})
	if strings.TrimSpace(c.Watchlist.Name) == "" {
		p.Add("watchlist.name", "must not be empty")
	}
	if c.Watchlist.ReportsPerWatchlist < 1 {
		p.Add("watchlist.reports_per_watchlist", "must be at least 1, got %d", c.Watchlist.ReportsPerWatchlist)
	}
	return p.Err()
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func checkList(values, allowed []string) error {
	for _, v := range values {
		if !slices.Contains(allowed, strings.ToUpper(strings.TrimSpace(v))) {
			return fmt.Errorf("unknown value %q (one of %s)", v, strings.Join(allowed, ", "))
		}
	}
	return nil
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
	cbc, err := cbcClient(&c.CarbonBlack, env)
	if err != nil {
		return runner.Parts{}, err
	}
	vm, err := c.VMRay.Client(env.Logger, vmray.WithObserver(env.HTTP))
	if err != nil {
		return runner.Parts{}, err
	}
	cb := c.CarbonBlack
	bin, err := carbonblackconn.NewBinaries(cbc, carbonblackconn.BinariesOptions{SpoolDir: cb.DownloadDir,
		LinkLifetime: cb.LinkLifetime, Logger: env.Logger})
	if err != nil {
		return runner.Parts{}, err
	}
	opts := carbonblackconn.SourceOptions{
		Filters:  carbonblackconn.Filters{ExcludeReputations: nonNil(cb.ReputationFilters), DeviceOS: nonNil(cb.DeviceOSFilters)},
		Window:   carbonblackconn.WindowOptions{LookBack: cb.LookBack, Overlap: cb.Overlap, MaxWindow: cb.MaxWindow},
		Binaries: bin, JobRows: cb.JobRows, PartRows: cb.PartRows, Logger: env.Logger,
	}
	if cb.Overlap == 0 {
		opts.Window.Overlap = -1
	}
	var parts runner.Parts
	seen := map[string]bool{}
	for _, s := range cb.DataSources {
		kind := dataSources[strings.ToLower(strings.TrimSpace(s))]
		if seen[kind] {
			continue
		}
		seen[kind] = true
		newSource := map[string]func(*carbonblack.Client, carbonblackconn.SourceOptions) (*carbonblackconn.Source, error){
			"process": carbonblackconn.NewProcessSource, "observations": carbonblackconn.NewObservationSource,
			"alerts": carbonblackconn.NewAlertSource}[kind]
		src, err := newSource(cbc, opts)
		if err != nil {
			return runner.Parts{}, err
		}
		parts.Sources = append(parts.Sources, src)
	}

	aopts := c.VMRay.analyzerOptions(env.Logger, len(c.Run.Pipeline.Resubmit) > 0)
	// A submission may reach VMRay for as long as the submit timeout allows, unless vmray.settle_delay is set.
	if aopts.SettleDelay == 0 {
		aopts.SettleDelay = c.Run.Pipeline.SubmitTimeout
	}
	// The poll interval is the first, short wait between checks; the analyzer stretches it to VMRay's pace.
	aopts.PollInterval = c.Run.Pipeline.PollInterval
	if parts.Analyzer, err = vmrayconn.New(vm, aopts); err != nil {
		return runner.Parts{}, err
	}

	selected, _ := connector.ParseKinds(c.SelectedVerdicts...)
	gate := func(r connector.Responder, verdicts []string) connector.Responder {
		kinds, _ := connector.ParseKinds(verdicts...)
		return connector.Gate(r, kinds&selected)
	}
	if c.Watchlist.Enabled {
		alerts := c.Watchlist.AlertsEnabled
		r, err := carbonblackconn.NewWatchlistReport(cbc, carbonblackconn.WatchlistOptions{Watchlist: c.Watchlist.Name,
			Description: c.Watchlist.Description, AlertsEnabled: &alerts, IOCVerdicts: selected,
			BaselineTTL: c.Watchlist.BaselineTTL, IncludePublicFeeds: c.Watchlist.IncludePublicFeeds,
			ReportsPerWatchlist: c.Watchlist.ReportsPerWatchlist, Logger: env.Logger})
		if err != nil {
			return runner.Parts{}, err
		}
		parts.Responders = append(parts.Responders, gate(r, c.Watchlist.Verdicts))
	}
	if c.Ban.Enabled {
		r, err := carbonblackconn.NewBan(cbc, carbonblackconn.BanOptions{Description: c.Ban.Description})
		if err != nil {
			return runner.Parts{}, err
		}
		parts.Responders = append(parts.Responders, gate(r, c.Ban.Verdicts))
	}
	if c.Quarantine.Enabled {
		r, err := carbonblackconn.NewQuarantine(cbc, "")
		if err != nil {
			return runner.Parts{}, err
		}
		r.SetSettleDelay(c.CarbonBlack.SettleDelay)
		parts.Responders = append(parts.Responders, gate(r, c.Quarantine.Verdicts))
	}
	return parts, nil
}

// analyzerOptions adds the analyzer modes and the job limits to the shared
// submission settings.
func (vm *VMRay) analyzerOptions(logger *slog.Logger, resubmit bool) vmrayconn.Options {
	opts := vm.AnalyzerOptions(logger, resubmit)
	opts.AnalyzerMode, _ = vmrayconn.ParseAnalyzerMode(vm.AnalyzerMode)
	opts.TruncatedAnalyzerMode, _ = vmrayconn.ParseAnalyzerMode(vm.TruncatedAnalyzerMode)
	opts.MaxJobs = vm.MaxJobs
	if vm.MaxRecursiveSamples >= 0 {
		n := vm.MaxRecursiveSamples
		opts.MaxRecursiveSamples = &n
	}
	return opts
}

// cbcClient makes the Carbon Black Cloud client; ignore_system_proxy applies
// to the keys (a credentials file carries its own).
func cbcClient(cb *CarbonBlack, env runner.Env) (*carbonblack.Client, error) {
	creds, err := cb.Credentials()
	if err != nil {
		return nil, err
	}
	if cb.CredentialsFile == "" {
		creds.IgnoreSystemProxy = cb.IgnoreSystemProxy
	}
	opts := []carbonblack.Option{carbonblack.WithLogger(env.Logger), carbonblack.WithObserver(env.HTTP)}
	if cb.MaxSampleBytes > 0 {
		opts = append(opts, carbonblack.WithMaxSampleBytes(cb.MaxSampleBytes))
	}
	return carbonblack.NewFromCredentials(creds, opts...)
}
