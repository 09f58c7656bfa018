package runner

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/console"
	"github.com/soarkit/soarkit/examples/internal/ops"
	"github.com/soarkit/soarkit/internal/rest"
)

func TestConsoleMountFollowsTheListenAddressAndCredentials(t *testing.T) {
	store := memstore.New()
	defer store.Close()
	sources := []connector.Source{listSource{}}
	get := func(mounts []ops.Mount, host, user, password string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/console/", nil)
		req.Host = host
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		ops.Handler(nil, ops.NewHealth(0), nil, mounts...).ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		name     string
		settings Settings
		mounted  bool
		// status of a request from host without credentials, and with the basic credentials
		host         string
		anon, authed int
	}{
		{"loopback, open", Settings{OpsListen: "127.0.0.1:9464"}, true, "127.0.0.1:9464", 200, 200},
		{"exposed without credentials", Settings{OpsListen: ":9464"}, false, "soar.example.net:9464", 404, 404},
		{"exposed with basic auth", Settings{OpsListen: ":9464", ConsoleUser: "operator",
			ConsolePassword: config.NewSecret("pw")}, true, "soar.example.net:9464", 401, 200},
		{"a password alone: the user is operator", Settings{OpsListen: ":9464",
			ConsolePassword: config.NewSecret("pw")}, true, "soar.example.net:9464", 401, 200},
		{"another user", Settings{OpsListen: ":9464", ConsoleUser: "soc",
			ConsolePassword: config.NewSecret("pw")}, true, "soar.example.net:9464", 401, 401},
		{"loopback with the ops token", Settings{OpsListen: "127.0.0.1:9464", OpsToken: config.NewSecret("tok")},
			true, "127.0.0.1:9464", 401, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			mounts, err := consoleMount("test-conn", &tc.settings, store, sources, console.NewActivity(nil),
				slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(mounts) > 0; got != tc.mounted {
				t.Fatalf("mounted %v, want %v", got, tc.mounted)
			}
			if !tc.mounted && !strings.Contains(logs.String(), "the web console (/console/) is off") {
				t.Errorf("no warning: %s", logs.String())
			}
			if got := get(mounts, tc.host, "", ""); got != tc.anon {
				t.Errorf("without credentials: %d, want %d", got, tc.anon)
			}
			if got := get(mounts, tc.host, "operator", "pw"); got != tc.authed {
				t.Errorf("with basic credentials: %d, want %d", got, tc.authed)
			}
		})
	}
}

func TestConsoleUserNeedsAPassword(t *testing.T) {
	s := DefaultSettings("test-conn")
	s.ConsoleUser = "operator"
	var p config.Problems
	s.Validate("run", &p)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "run.console_password") {
		t.Errorf("a user without a password: %v", err)
	}
}

func TestObserversFeedTheConsole(t *testing.T) {
	activity := console.NewActivity(nil)
	var seen []rest.RequestEvent
	tee := httpObservers{activity, observeFunc(func(e rest.RequestEvent) { seen = append(seen, e) })}
	tee.ObserveRequest(rest.RequestEvent{Vendor: "vmray", Method: "GET", Route: "/rest/sample/{}", Attempt: 1, StatusCode: 429})
	if len(seen) != 1 {
		t.Fatalf("the second observer saw %d events", len(seen))
	}
	reg := ops.NewHealth(0)
	m, err := ops.NewMetrics(prometheus.NewRegistry(), "test-conn")
	if err != nil {
		t.Fatal(err)
	}
	o := observer{m, reg, activity}
	o.Add(connector.CounterCollected, 4, "list")
	o.SourceCollected("list", activity.Snapshot().At)
	o.ComponentHealth(connector.KindAnalyzer, "vmray", false, "401 Unauthorized")
	snap := activity.Snapshot()
	last := snap.Minutes[len(snap.Minutes)-1]
	if last.Collected != 4 || snap.LastCollected["list"].IsZero() || snap.Components["vmray"].Healthy ||
		len(snap.Vendors) != 1 || snap.Vendors[0].RateLimited != 1 {
		t.Errorf("activity: collected %d, last collected %v, components %v, vendors %+v", last.Collected,
			snap.LastCollected, snap.Components, snap.Vendors)
	}
}

type observeFunc func(rest.RequestEvent)

func (f observeFunc) ObserveRequest(e rest.RequestEvent) { f(e) }

// gatedSource holds its first Collect until the gate opens, so a test can look at a running connector.
type gatedSource struct {
	listSource
	gate <-chan struct{}
}

func (s gatedSource) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return connector.Batch{}, ctx.Err()
	}
	return s.listSource.Collect(ctx, cp)
}

func TestTheOpsServerServesTheConsole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("TEST_CONN_RUN_STATE_PATH", filepath.Join(t.TempDir(), "state.db"))
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", addr)
	rec := &recorder{}
	app := testApp(rec, new(bool))
	gate := make(chan struct{})
	build := app.Build
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		p, err := build(ctx, c, env)
		p.Sources = []connector.Source{gatedSource{listSource{files: c.Source.Files}, gate}}
		return p, err
	}
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() { done <- Main(app, []string{"-once", "-log-level", "warn"}, io.Discard, &errOut) }()
	var openGate sync.Once
	exited := false
	defer func() {
		openGate.Do(func() { close(gate) })
		if !exited {
			<-done
		}
	}()
	client := &http.Client{Timeout: 30 * time.Second}

	var page string
	for {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				page = string(b)
				break
			}
			t.Fatalf("GET /: %d\n%s", resp.StatusCode, b)
		}
		select {
		case code := <-done:
			exited = true
			t.Fatalf("the connector exited (%d) before its ops server answered: %v\n%s", code, err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// "/" redirected to the console's overview, which lists the source the pipeline is collecting from
	for _, want := range []string{"<title>Overview · test-conn console</title>", "<td>list</td>", "none yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %q:\n%s", want, page)
		}
	}
	openGate.Do(func() { close(gate) })
	code := <-done
	exited = true
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if rec.calls != 3 {
		t.Errorf("%d responder calls, want 3", rec.calls)
	}
}
