package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/internal/rest"
)

// Exit codes of run.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// run is the command: it parses args, loads the configuration (with -demo,
// against in-process fakes), and serves MCP over stdio (stdin and stdout)
// or streamable HTTP until ctx ends or the stdio client leaves. Logs go to
// stderr; stdout carries only the protocol.
func run(ctx context.Context, args []string, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration `file` (environment variables "+envPrefix+"_* override it)")
	demo := fs.Bool("demo", false, "serve against in-process fakes of every vendor, seeded with a small world")
	transport := fs.String("transport", "", "stdio or http (overrides server.transport)")
	listen := fs.String("listen", "", "HTTP listen address (overrides server.listen)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return exitUsage
	}
	if *version {
		fmt.Fprintf(stderr, "%s (soarkit %s)\n", name, rest.Version)
		return exitOK
	}

	cfg := defaults()
	if *demo {
		w, err := StartDemo(time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "%s: demo: %v\n", name, err)
			return exitFailed
		}
		defer w.Close()
		dir, err := os.MkdirTemp("", name+"-demo-")
		if err != nil {
			fmt.Fprintf(stderr, "%s: demo: %v\n", name, err)
			return exitFailed
		}
		defer os.RemoveAll(dir)
		w.Configure(cfg, dir)
	}
	if err := config.Load(*configPath, cfg, envPrefix); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitUsage
	}
	if *transport != "" {
		cfg.Server.Transport = *transport
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitUsage
	}
	level, _ := parseLevel(cfg.Server.LogLevel)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, cfg, stdin, stdout, logger); err != nil {
		logger.Error("stopped", "err", err)
		return exitFailed
	}
	return exitOK
}

// parseLevel reads a log level.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return l, fmt.Errorf("unknown log level %q (use debug, info, warn or error)", s)
	}
	return l, nil
}

// serve opens the action log and the audit log, builds the App and serves
// until ctx ends (or the stdio client disconnects).
func serve(ctx context.Context, cfg *Config, stdin io.ReadCloser, stdout io.WriteCloser, logger *slog.Logger) error {
	if dir := filepath.Dir(cfg.StatePath); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("state_path: %w", err)
		}
	}
	store, err := boltstore.Open(cfg.StatePath, boltstore.Options{})
	if err != nil {
		return fmt.Errorf("state_path: %w", err)
	}
	defer store.Close()
	audit, err := OpenAuditor(cfg.Audit.Path)
	if err != nil {
		return fmt.Errorf("audit.path: %w", err)
	}
	defer audit.Close()
	app, err := NewApp(cfg, Deps{Store: store, Audit: audit, Logger: logger})
	if err != nil {
		return err
	}
	srv := app.NewServer()
	logger.Info("serving MCP", "transport", cfg.Server.Transport, "dry_run", cfg.Actions.DryRun,
		"approval", cfg.Approval.Mode, "audit", cfg.Audit.Path, "state", cfg.StatePath)
	if cfg.Server.Transport == "stdio" {
		err := srv.Run(ctx, &mcp.IOTransport{Reader: stdin, Writer: stdout})
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	hs := &http.Server{Handler: app.HTTPHandler(srv), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("listening", "url", "http://"+ln.Addr().String()+cfg.Server.Path)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}

// HTTPHandler serves srv over streamable HTTP at the configured path,
// behind the bearer token when one is configured.
func (a *App) HTTPHandler(srv *mcp.Server) http.Handler {
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Logger: a.logger})
	if token := a.cfg.Server.BearerToken.Value(); token != "" {
		verify := func(_ context.Context, got string, _ *http.Request) (*auth.TokenInfo, error) {
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				return nil, auth.ErrInvalidToken
			}
			return &auth.TokenInfo{UserID: "bearer-token"}, nil
		}
		h = auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	}
	mux := http.NewServeMux()
	mux.Handle(a.cfg.Server.Path, h)
	return mux
}
