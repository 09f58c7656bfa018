package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/config"
)

// Settings are the configuration keys every example shares. Embed them in an
// example's configuration under the key `run`.
type Settings struct {
	// StatePath is the bbolt state file (default "<name>.db" in the working
	// directory; the demo uses a temporary file unless this is set).
	StatePath string `yaml:"state_path"`
	// Interval is the time between collections in daemon mode.
	Interval time.Duration `yaml:"interval"`
	// OpsListen is the address of /metrics, /healthz, /readyz and the state
	// API (/api/); empty disables the endpoint.
	OpsListen string `yaml:"ops_listen"`
	// OpsToken is the bearer token of the state API. Without one the API is
	// served only when OpsListen is a loopback address.
	OpsToken config.Secret `yaml:"ops_token"`
	// ReadyStaleness is how long /readyz stays ready without a successful
	// collection (default three intervals).
	ReadyStaleness time.Duration `yaml:"ready_staleness"`
	// DryRun logs what responders would do instead of doing it.
	DryRun bool `yaml:"dry_run"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// Pipeline tunes the engine.
	Pipeline PipelineSettings `yaml:"pipeline"`
}

// PipelineSettings tune the connector engine; zero values keep its defaults.
type PipelineSettings struct {
	LookupConcurrency  int `yaml:"lookup_concurrency"`
	FetchConcurrency   int `yaml:"fetch_concurrency"`
	SubmitConcurrency  int `yaml:"submit_concurrency"`
	AwaitConcurrency   int `yaml:"await_concurrency"`
	RespondConcurrency int `yaml:"respond_concurrency"`
	// VerdictTTL is how long a stored verdict is reused.
	VerdictTTL time.Duration `yaml:"verdict_ttl"`
	// AnalysisTimeout bounds the wait for one analysis, across restarts.
	AnalysisTimeout time.Duration `yaml:"analysis_timeout"`
	// PollInterval is the wait between checks of a running analysis.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Resubmit lists verdicts (clean, suspicious, malicious, unknown) for
	// which a file the analyzer already knows is analysed again.
	Resubmit []string `yaml:"resubmit"`
	// Retention is how long finished items are kept in the state file.
	Retention time.Duration `yaml:"retention"`
	// ShutdownTimeout bounds the drain on SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// RetryHorizon is how long a step that keeps failing transiently
	// (network, timeouts, 408, 429, 5xx, an offline agent) is retried before
	// the item becomes a dead letter, in every stage (default 24h).
	RetryHorizon time.Duration `yaml:"retry_horizon"`
	// RetryMaxDelay caps the backoff between two tries (default 30m).
	RetryMaxDelay time.Duration `yaml:"retry_max_delay"`
}

// readyStaleness returns ReadyStaleness or its default, three intervals.
func (s *Settings) readyStaleness() time.Duration {
	if s.ReadyStaleness > 0 {
		return s.ReadyStaleness
	}
	return 3 * s.Interval
}

// DefaultSettings returns the shared defaults for an example named name.
func DefaultSettings(name string) Settings {
	return Settings{
		StatePath: name + ".db",
		Interval:  5 * time.Minute,
		OpsListen: "127.0.0.1:9464",
		LogLevel:  "info",
		LogFormat: "text",
	}
}

// Validate reports problems under the key prefix (for example "run").
func (s *Settings) Validate(prefix string, p *config.Problems) {
	if s.Interval < time.Second {
		p.Add(prefix+".interval", "must be at least 1s, got %v", s.Interval)
	}
	if _, err := parseLevel(s.LogLevel); err != nil {
		p.Add(prefix+".log_level", "%v", err)
	}
	if f := strings.ToLower(s.LogFormat); f != "text" && f != "json" {
		p.Add(prefix+".log_format", "must be text or json, got %q", s.LogFormat)
	}
	if s.ReadyStaleness < 0 {
		p.Add(prefix+".ready_staleness", "must not be negative, got %v", s.ReadyStaleness)
	}
	if _, err := connector.ParseKinds(s.Pipeline.Resubmit...); err != nil {
		p.Add(prefix+".pipeline.resubmit", "%v", err)
	}
	for key, n := range map[string]int{
		"lookup_concurrency": s.Pipeline.LookupConcurrency, "fetch_concurrency": s.Pipeline.FetchConcurrency,
		"submit_concurrency": s.Pipeline.SubmitConcurrency, "await_concurrency": s.Pipeline.AwaitConcurrency,
		"respond_concurrency": s.Pipeline.RespondConcurrency,
	} {
		if n < 0 || n > 256 {
			p.Add(prefix+".pipeline."+key, "must be between 0 (default) and 256, got %d", n)
		}
	}
	for key, d := range map[string]time.Duration{
		"verdict_ttl": s.Pipeline.VerdictTTL, "analysis_timeout": s.Pipeline.AnalysisTimeout,
		"poll_interval": s.Pipeline.PollInterval, "shutdown_timeout": s.Pipeline.ShutdownTimeout,
		"retry_horizon": s.Pipeline.RetryHorizon, "retry_max_delay": s.Pipeline.RetryMaxDelay,
	} {
		if d < 0 {
			p.Add(prefix+".pipeline."+key, "must not be negative, got %v", d)
		}
	}
}

// apply copies the settings into a pipeline configuration.
func (s *Settings) apply(cfg *connector.Config) error {
	p := s.Pipeline
	cfg.Lookup.Concurrency = p.LookupConcurrency
	cfg.Fetch.Concurrency = p.FetchConcurrency
	cfg.Submit.Concurrency = p.SubmitConcurrency
	cfg.Await.Concurrency = p.AwaitConcurrency
	cfg.Respond.Concurrency = p.RespondConcurrency
	cfg.VerdictTTL = p.VerdictTTL
	cfg.AnalysisTimeout = p.AnalysisTimeout
	cfg.PollInterval = p.PollInterval
	cfg.Retention = p.Retention
	cfg.ShutdownTimeout = p.ShutdownTimeout
	cfg.Interval = s.Interval
	for _, l := range []*connector.StageLimits{&cfg.Lookup, &cfg.Fetch, &cfg.Submit, &cfg.Await, &cfg.Respond} {
		l.Horizon = p.RetryHorizon
	}
	cfg.Retry.Max = p.RetryMaxDelay
	kinds, err := connector.ParseKinds(p.Resubmit...)
	if err != nil {
		return fmt.Errorf("run.pipeline.resubmit: %w", err)
	}
	cfg.Resubmit = kinds
	return nil
}
