package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// syncBuffer is a bytes.Buffer safe for the auditor and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records parses the audit lines written so far.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// testEnv is a server on the demo world with the SDK's client connected
// over the in-memory transport.
type testEnv struct {
	world  *DemoWorld
	app    *App
	client *mcp.ClientSession
	audit  *syncBuffer
	clock  *fakehttp.ManualClock
}

// newEnv starts the demo world and a server configured by mutate, and
// connects a client with opts (nil: no elicitation support).
func newEnv(t *testing.T, mutate func(*Config), opts *mcp.ClientOptions) *testEnv {
	t.Helper()
	w, err := StartDemo(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	cfg := defaults()
	w.Configure(cfg, t.TempDir())
	cfg.Limits.PollInterval = 10 * time.Millisecond
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	env := &testEnv{world: w, audit: &syncBuffer{}, clock: fakehttp.NewManualClock(time.Now())}
	env.app, err = NewApp(cfg, Deps{Store: memstore.New(), Audit: NewAuditor(env.audit), Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	env.client = connect(t, env.app.NewServer(), opts)
	return env
}

// connect runs srv on an in-memory transport and returns a client session.
func connect(t *testing.T, srv *mcp.Server, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1.0"}, opts).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and decodes its structured output into out (when the
// call succeeded). It returns the result.
func (e *testEnv) call(t *testing.T, tool string, args any, out any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.client.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", tool, err)
	}
	if !res.IsError && out != nil {
		// Decode into a zero value: fields the output omits must not keep
		// an earlier call's values.
		reflect.ValueOf(out).Elem().SetZero()
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: structured output: %v: %s", tool, err, b)
		}
	}
	return res
}

// mustCall calls a tool that must succeed.
func (e *testEnv) mustCall(t *testing.T, tool string, args any, out any) {
	t.Helper()
	if res := e.call(t, tool, args, out); res.IsError {
		t.Fatalf("%s(%v) failed: %s", tool, args, text(res))
	}
}

// mustFail calls a tool that must fail and returns its error text.
func (e *testEnv) mustFail(t *testing.T, tool string, args any) string {
	t.Helper()
	res := e.call(t, tool, args, nil)
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded: %s", tool, args, text(res))
	}
	return text(res)
}

// text is a result's text content.
func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// configSecret wraps a test secret.
func configSecret(s string) config.Secret { return config.NewSecret(s) }

// String returns what was written.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
