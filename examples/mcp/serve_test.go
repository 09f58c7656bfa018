package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector/memstore"
)

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestStreamableHTTPWithBearerToken(t *testing.T) {
	w, err := StartDemo(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	cfg := defaults()
	w.Configure(cfg, t.TempDir())
	cfg.Server.Transport, cfg.Server.BearerToken = "http", configSecret("s3cret-token-value")
	audit := &syncBuffer{}
	app, err := NewApp(cfg, Deps{Store: memstore.New(), Audit: NewAuditor(audit)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(app.HTTPHandler(app.NewServer()))
	t.Cleanup(hs.Close)
	endpoint := hs.URL + cfg.Server.Path
	ctx := context.Background()

	resp, err := http.Post(endpoint, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: HTTP %d", resp.StatusCode)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "2.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint,
		HTTPClient: &http.Client{Transport: bearerTransport{"s3cret-token-value"}}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "vmray_hash_verdict", Arguments: map[string]any{"hash": demoDropper.sha256}})
	if err != nil || res.IsError {
		t.Fatalf("call over HTTP: %v %v", err, res)
	}
	recs := audit.records(t)
	if len(recs) != 1 {
		t.Fatalf("audit %v", recs)
	}
	who := recs[0]["who"].(map[string]any)
	if who["client"] != "http-agent/2.0" || who["user"] != "bearer-token" || who["session"] == "" {
		t.Errorf("who %v", who)
	}
	if strings.Contains(audit.String(), "s3cret-token-value") {
		t.Error("the bearer token is in the audit log")
	}
}

func TestRunServesStdioInDemoMode(t *testing.T) {
	t.Setenv("SOARKIT_MCP_SERVER_LOG_LEVEL", "warn")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"-demo"}, serverIn, serverOut, &stderr) }()

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-agent", Version: "1"}, nil).
		Connect(ctx, &mcp.IOTransport{Reader: clientIn, Writer: clientOut}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 15 {
		t.Errorf("%d tools over stdio, want 15", n)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: actBan, Arguments: map[string]any{"sha256": demoDropper.sha256,
		"reason": "demo", "execute": true}})
	if err != nil || res.IsError || !strings.Contains(text(res), "dry run") {
		t.Fatalf("demo action: %v %s", err, text(res))
	}
	cs.Close()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit code %d: %s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after the client left")
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server:\n  transport: carrier-pigeon\nactions:\n  allowed: [cbc_ban_hash, format_disk]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-config", bad}, []string{"server.transport", "carrier-pigeon", "format_disk", "no vendor is configured"}},
		{[]string{"-demo", "-transport", "http", "-listen", "0.0.0.0:8765"}, []string{"server.bearer_token", "not a loopback"}},
		{[]string{"extra"}, []string{"unexpected arguments"}},
	} {
		var stderr syncBuffer
		if c := run(context.Background(), tc.args, io.NopCloser(strings.NewReader("")), nopWriteCloser{io.Discard}, &stderr); c != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, c, exitUsage)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr.String())
			}
		}
	}
}

// nopWriteCloser adds Close to a writer.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func TestRunServesStreamableHTTP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-demo", "-transport", "http", "-listen", "127.0.0.1:0"}, io.NopCloser(strings.NewReader("")),
			nopWriteCloser{io.Discard}, &stderr)
	}()
	var endpoint string
	for deadline := time.Now().Add(30 * time.Second); endpoint == "" && time.Now().Before(deadline); {
		if _, rest, ok := strings.Cut(stderr.String(), "msg=listening url="); ok {
			endpoint, _, _ = strings.Cut(rest, "\n")
			break
		}
		select {
		case c := <-code:
			t.Fatalf("run returned %d: %s", c, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if endpoint == "" {
		t.Fatalf("no listening line: %s", stderr.String())
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "s1_agents", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("call: %v %v", err, res)
	}
	cs.Close()
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit code %d: %s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
}
