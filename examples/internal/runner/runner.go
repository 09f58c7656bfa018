package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/console"
	"github.com/soarkit/soarkit/examples/internal/ops"
	"github.com/soarkit/soarkit/examples/internal/vendors"
	"github.com/soarkit/soarkit/internal/rest"
)

// Parts are what an example builds from its configuration.
type Parts struct {
	Sources    []connector.Source
	Analyzer   connector.Analyzer
	Responders []connector.Responder
	// Close releases what Build opened (optional).
	Close func()
}

// Env is what Build and Demo receive besides the configuration.
type Env struct {
	Logger *slog.Logger
	// Out is where the demo prints its report.
	Out io.Writer
	// HTTP receives every vendor client's HTTP attempts (nil: none); pass it
	// to each client's WithObserver option.
	HTTP rest.Observer
}

// App describes one example connector.
type App[C any] struct {
	// Name is the connector's name, for example "cbc-vmray".
	Name string
	// EnvPrefix prefixes every environment override, for example "CBC_VMRAY".
	EnvPrefix string
	// Defaults returns the configuration before the file and environment.
	Defaults func() *C
	// Settings returns the shared settings inside a configuration.
	Settings func(*C) *Settings
	// Build makes the pipeline's parts from a loaded configuration.
	Build func(ctx context.Context, cfg *C, env Env) (Parts, error)
	// Demo starts the example's fakes with a seeded world and points cfg at
	// them. The returned report is called after the run to print what the
	// fakes saw; stop shuts them down.
	Demo func(ctx context.Context, cfg *C, env Env) (report func(io.Writer), stop func(), err error)
	// Checks returns the vendor connections -check-config tries (nil: it
	// checks only the configuration).
	Checks func(cfg *C, env Env) []vendors.Check
}

// Exit codes of Main.
const (
	// ExitOK: the run (or command) succeeded.
	ExitOK = 0
	// ExitFailed: the run failed: a component was unauthorized (401/403) when it ended, every source failed for the
	// whole run, the state store failed, or a state command failed.
	ExitFailed = 1
	// ExitUsage: bad flags, arguments or configuration.
	ExitUsage = 2
)

// Main runs the example with args (without the program name) and returns
// the process exit code.
func Main[C any](app App[C], args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(app.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration `file` (environment variables "+app.EnvPrefix+"_* override it)")
	once := fs.Bool("once", false, "collect once, finish the work and exit (cron style) instead of running as a daemon")
	dryRun := fs.Bool("dry-run", false, "log what responders would do instead of doing it")
	demo := fs.Bool("demo", false, "start in-process fakes with a demo world and run the whole flow once against them")
	version := fs.Bool("version", false, "print the version and exit")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides run.log_level)")
	operator := addOperatorFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	stateCmd := fs.NArg() > 0 && fs.Arg(0) == "state"
	if fs.NArg() > 0 && !stateCmd {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q (the only command is \"state\")\n", app.Name, fs.Args())
		return ExitUsage
	}
	if *version {
		fmt.Fprintf(stdout, "%s (soarkit %s)\n", app.Name, rest.Version)
		return ExitOK
	}

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	cfg := app.Defaults()
	settings := app.Settings(cfg)
	bootLog := newLogger(stderr, "info", "text")
	env := Env{Logger: bootLog, Out: stdout}

	var report func(io.Writer)
	if *demo {
		*once = true
		settings.OpsListen = ""
		settings.StatePath = ""
		r, stop, err := app.Demo(ctx, cfg, env)
		if err != nil {
			fmt.Fprintf(stderr, "%s: demo: %v\n", app.Name, err)
			return ExitFailed
		}
		defer stop()
		report = r
	}
	load := config.Load
	if stateCmd {
		// The state command works on the state alone: the vendors' keys need not be set.
		load = config.Decode
	}
	if err := load(*configPath, cfg, app.EnvPrefix); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
		return ExitUsage
	}
	if *logLevel != "" {
		settings.LogLevel = *logLevel
	}
	var probs config.Problems
	settings.Validate("run", &probs)
	if err := probs.Err(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
		return ExitUsage
	}
	if code, done := operatorCommand(ctx, operator, app, cfg, env, stdout, stderr); done {
		return code
	}
	if *dryRun {
		settings.DryRun = true
	}
	if stateCmd {
		return stateCommand(ctx, app.Name, settings, fs.Args()[1:], stdout, stderr)
	}
	log := newLogger(stderr, settings.LogLevel, settings.LogFormat).With("connector", app.Name)
	env.Logger = log

	if settings.StatePath == "" {
		dir, err := os.MkdirTemp("", app.Name+"-demo-")
		if err != nil {
			log.Error("creating the demo state directory", "error", err)
			return ExitFailed
		}
		defer os.RemoveAll(dir)
		settings.StatePath = filepath.Join(dir, "state.db")
	}
	summary, err := run(ctx, app, cfg, settings, env, *once, report)
	if err != nil {
		log.Error("connector stopped", "error", err)
		return ExitFailed
	}
	if p := summary.Problem(); p != "" {
		fmt.Fprintf(stderr, "%s: the run failed: %s\n", app.Name, p)
		return ExitFailed
	}
	return ExitOK
}

func run[C any](ctx context.Context, app App[C], cfg *C, settings *Settings, env Env, once bool, report func(io.Writer)) (connector.Summary, error) {
	log := env.Logger
	store, cleanup, err := openStore(ctx, settings, log)
	if err != nil {
		return connector.Summary{}, err
	}
	defer cleanup()

	httpMetrics := ops.NewHTTPMetrics(app.Name)
	activity := console.NewActivity(nil)
	env.HTTP = httpObservers{httpMetrics, activity}
	parts, err := app.Build(ctx, cfg, env)
	if err != nil {
		return connector.Summary{}, fmt.Errorf("building the connector: %w", err)
	}
	if parts.Close != nil {
		defer parts.Close()
	}
	responders := parts.Responders
	if settings.DryRun {
		responders = make([]connector.Responder, len(parts.Responders))
		for i, r := range parts.Responders {
			responders[i] = connector.DryRun(r, log)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), httpMetrics)
	metrics, err := ops.NewMetrics(reg, app.Name)
	if err != nil {
		return connector.Summary{}, err
	}
	if _, err := ops.NewStateCollector(reg, app.Name, store); err != nil {
		return connector.Summary{}, err
	}
	health := ops.NewHealth(settings.readyStaleness())
	if db, ok := store.(pinger); ok {
		health.Check("database", db.Ping)
	}
	sources := make([]connector.Source, len(parts.Sources))
	for i, s := range parts.Sources {
		sources[i] = observeSource(s, func(err error) { metrics.CycleDone(time.Now(), err) })
	}
	pcfg := connector.Config{
		Store:      store,
		Sources:    sources,
		Analyzer:   parts.Analyzer,
		Responders: responders,
		Logger:     log,
		Observer:   observer{metrics, health, activity},
	}
	if err := settings.apply(&pcfg); err != nil {
		return connector.Summary{}, err
	}
	if settings.DryRun {
		// The copy is thrown away: pruning it would only cost time.
		pcfg.Retention = -1
	}
	pipeline, err := connector.New(pcfg)
	if err != nil {
		return connector.Summary{}, err
	}
	if settings.OpsListen != "" {
		opsCtx, stopOps := context.WithCancel(context.Background())
		defer stopOps()
		var api *ops.API
		switch {
		case !settings.OpsToken.IsZero() || ops.IsLoopback(settings.OpsListen):
			api = &ops.API{Ops: ops.StoreOps{Store: store}, Token: settings.OpsToken.Value()}
		default:
			log.Warn("the state API (/api/) is off: run.ops_listen is not a loopback address and run.ops_token is not set",
				"ops_listen", settings.OpsListen)
		}
		mounts, err := consoleMount(app.Name, settings, store, sources, activity, log)
		if err != nil {
			return connector.Summary{}, err
		}
		addr, err := ops.Serve(opsCtx, settings.OpsListen, ops.Handler(reg, health, api, mounts...), log)
		if err != nil {
			return connector.Summary{}, err
		}
		log.Info("serving /metrics, /healthz, /readyz, the state API and the console", "addr", addr.String(),
			"state_api", api != nil, "console", len(mounts) > 0)
	}
	log.Info("starting", "mode", map[bool]string{true: "once", false: "daemon"}[once], "state", settings.StatePath,
		"dry_run", settings.DryRun, "sources", len(sources), "responders", len(responders))
	var summary connector.Summary
	if once {
		summary, err = pipeline.RunOnce(ctx)
	} else {
		summary, err = pipeline.Run(ctx)
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		log.Info("stopped by signal; open work resumes from the state file on the next start")
		err = nil
	}
	WriteSummary(env.Out, summary)
	if report != nil {
		report(env.Out)
	}
	return summary, err
}

// openStore opens the state file. In a dry run it opens a snapshot of it in a temporary directory instead, so the
// run changes nothing that lasts: no checkpoint moves, no item advances and no action is recorded in the real
// state, and a later real run acts on everything the dry run saw.
func openStore(ctx context.Context, settings *Settings, log *slog.Logger) (connector.Store, func(), error) {
	if settings.shared() {
		return openShared(ctx, settings, log)
	}
	store, err := boltstore.Open(settings.StatePath, boltstore.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("opening state %s: %w", settings.StatePath, err)
	}
	if !settings.DryRun {
		return store, func() { store.Close() }, nil
	}
	dir, err := os.MkdirTemp("", "soarkit-dry-run-")
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("dry run: %w", err)
	}
	copyPath := filepath.Join(dir, "state.db")
	err = store.Snapshot(ctx, copyPath)
	store.Close()
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("dry run: copying the state: %w", err)
	}
	dry, err := boltstore.Open(copyPath, boltstore.Options{NoSync: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("dry run: opening the copy of the state: %w", err)
	}
	log.Info("dry run: working on a copy of the state file; nothing is acted on or recorded",
		"state", settings.StatePath)
	return dry, func() { dry.Close(); os.RemoveAll(dir) }, nil
}

// observer hands the engine's counters to the metrics and the console's activity, and its health reports to the
// metrics, the readiness probe and the console's activity.
type observer struct {
	m *ops.Metrics
	h *ops.Health
	a *console.Activity
}

func (o observer) Add(c connector.Counter, n int, labels ...string) {
	o.m.Add(c, n, labels...)
	o.a.Add(c, n, labels...)
}

func (o observer) Latency(stage connector.Stage, component, outcome string, d time.Duration) {
	o.m.Latency(stage, component, outcome, d)
}

func (o observer) ComponentHealth(kind connector.ComponentKind, name string, healthy bool, reason string) {
	o.m.ComponentHealth(kind, name, healthy, reason)
	o.h.ComponentHealth(kind, name, healthy, reason)
	o.a.ComponentHealth(kind, name, healthy, reason)
}

func (o observer) SourceCollected(name string, at time.Time) {
	o.m.SourceCollected(name, at)
	o.h.SourceCollected(name, at)
	o.a.SourceCollected(name, at)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return l, fmt.Errorf("unknown log level %q (use debug, info, warn or error)", s)
	}
	return l, nil
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	l, err := parseLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
