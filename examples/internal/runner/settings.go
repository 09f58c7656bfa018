package runner

import (
	"fmt"
	"net/url"
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
	// State selects a PostgreSQL store shared by several replicas instead of
	// the state file.
	State StateSettings `yaml:"state"`
	// Interval is the time between collections in daemon mode.
	Interval time.Duration `yaml:"interval"`
	// OpsListen is the address of /metrics, /healthz, /readyz and the state
	// API (/api/); empty disables the endpoint.
	OpsListen string `yaml:"ops_listen"`
	// OpsToken is the bearer token of the state API. Without one the API is
	// served only when OpsListen is a loopback address.
	OpsToken config.Secret `yaml:"ops_token"`
	// ConsolePassword, when set, lets a browser into the web console (/console/) with HTTP basic auth as
	// ConsoleUser (default "operator"). The console takes run.ops_token as a bearer token too; with neither it is
	// served only when OpsListen is a loopback address.
	ConsoleUser     string        `yaml:"console_user"`
	ConsolePassword config.Secret `yaml:"console_password"`
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

// StateSettings select and tune the shared PostgreSQL store (connector/pgstore).
type StateSettings struct {
	// URL is the database, "postgres://user@host:5432/db?sslmode=verify-full"
	// (empty: the bbolt file StatePath). The password does not belong in it.
	URL string `yaml:"url"`
	// Password is the database password (a secret: env:NAME, file:PATH, or
	// the environment's <PREFIX>_RUN_STATE_PASSWORD or
	// <PREFIX>_RUN_STATE_PASSWORD_FILE).
	Password config.Secret `yaml:"password"`
	// Schema holds the connector's tables (default: the example's name).
	// Replicas of one connector share a schema; different connectors do not.
	Schema string `yaml:"schema"`
	// Replica names this replica in its leases (default: host, process id and
	// a random suffix).
	Replica string `yaml:"replica"`
	// LeaseTTL is how long a dead replica's work waits before another takes it
	// over (default 30s).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// MaxClaimed bounds the items one replica holds at once (default: twice
	// the sum of the stage concurrencies).
	MaxClaimed int `yaml:"max_claimed"`
}

// shared reports whether the settings select the PostgreSQL store.
func (s *Settings) shared() bool { return s.State.URL != "" }

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
	// SubmitTimeout bounds one submission to the analyzer (default 10m). It
	// is also how long a submission that failed without an answer may still
	// reach the analyzer, so the connector waits that long for it to appear
	// before submitting again (SettleDelay).
	SubmitTimeout time.Duration `yaml:"submit_timeout"`
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
		State:     StateSettings{Schema: name},
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
	if s.ConsoleUser != "" && s.ConsolePassword.IsZero() {
		p.Add(prefix+".console_password", "must be set when console_user is (the console's basic-auth password)")
	}
	if u := s.State.URL; u != "" {
		parsed, err := url.Parse(u)
		switch {
		case err != nil:
			// url.Parse's error quotes the URL, password included: say less.
			p.Add(prefix+".state.url", "not a URL")
		case parsed.Scheme != "postgres" && parsed.Scheme != "postgresql":
			p.Add(prefix+".state.url", "must be a postgres:// URL, got scheme %q", parsed.Scheme)
		case parsed.User != nil && func() bool { _, set := parsed.User.Password(); return set }():
			p.Add(prefix+".state.url", "holds a password: set it in %s.state.password (env:NAME or file:PATH) instead", prefix)
		}
	}
	if s.State.LeaseTTL < 0 || s.State.LeaseTTL > 0 && s.State.LeaseTTL < 3*time.Second {
		p.Add(prefix+".state.lease_ttl", "must be at least 3s, got %v", s.State.LeaseTTL)
	}
	if s.State.MaxClaimed < 0 {
		p.Add(prefix+".state.max_claimed", "must not be negative, got %d", s.State.MaxClaimed)
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
		"submit_timeout": s.Pipeline.SubmitTimeout,
		"retry_horizon":  s.Pipeline.RetryHorizon, "retry_max_delay": s.Pipeline.RetryMaxDelay,
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
	cfg.Submit.Timeout = p.SubmitTimeout
	cfg.Interval = s.Interval
	for _, l := range []*connector.StageLimits{&cfg.Lookup, &cfg.Fetch, &cfg.Submit, &cfg.Await, &cfg.Respond} {
		l.Horizon = p.RetryHorizon
	}
	cfg.Retry.Max = p.RetryMaxDelay
	cfg.Replicas = connector.Replicas{Owner: s.State.Replica, LeaseTTL: s.State.LeaseTTL, MaxClaimed: s.State.MaxClaimed}
	kinds, err := connector.ParseKinds(p.Resubmit...)
	if err != nil {
		return fmt.Errorf("run.pipeline.resubmit: %w", err)
	}
	cfg.Resubmit = kinds
	return nil
}
