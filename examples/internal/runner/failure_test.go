package runner

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/examples/internal/ops"
)

// refusingAnalyzer answers every call with 401, as a wrong key would.
type refusingAnalyzer struct{ connector.Analyzer }

func (refusingAnalyzer) Lookup(context.Context, connector.Evidence) (connector.Verdict, bool, error) {
	return connector.Verdict{}, false, connector.Unauthorized(errors.New("vmray: 401 Unauthorized"))
}

// failingSource fails every collection, for good (so the test does not wait for the engine's backoff).
type failingSource struct{}

func (failingSource) Name() string { return "list" }
func (failingSource) Collect(context.Context, connector.Checkpoint) (connector.Batch, error) {
	return connector.Batch{}, connector.Permanent(errors.New("400 Bad Request: unreadable query"))
}

// flakyRecorder fails its first call for good, then records.
type flakyRecorder struct {
	recorder
	once sync.Once
}

func (r *flakyRecorder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	var err error
	r.once.Do(func() { err = connector.Permanent(errors.New("ban list full")) })
	if err != nil {
		return connector.Result{}, err
	}
	return r.recorder.Respond(ctx, f)
}

func stateEnv(t *testing.T) string {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state.db")
	t.Setenv("TEST_CONN_RUN_STATE_PATH", state)
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", "")
	return state
}

// A wrong key is exit code 1 with the component named, and its items wait (open, no dead letter) for the next run.
func TestUnauthorizedComponentFailsTheRun(t *testing.T) {
	stateEnv(t)
	rec := &recorder{}
	var demo bool
	app := testApp(rec, &demo)
	build := app.Build
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		p, err := build(ctx, c, env)
		p.Analyzer = refusingAnalyzer{p.Analyzer}
		return p, err
	}
	code, _, errOut := runMain(t, app, "-once", "-log-level", "error")
	if code != ExitFailed || !strings.Contains(errOut, "analyzer source unauthorized") || rec.calls != 0 {
		t.Fatalf("exit %d, %d calls; stderr:\n%s", code, rec.calls, errOut)
	}
	var out string
	code, out, errOut = runMain(t, app, "state", "list", "-state", "open")
	if code != ExitOK || !strings.Contains(out, "3 item(s)") || !strings.Contains(out, "lookup unauthorized, 0 tries") {
		t.Errorf("state list: exit %d\n%s%s", code, out, errOut)
	}
	// With the key fixed the same items go through.
	code, _, errOut = runMain(t, testApp(rec, &demo), "-once")
	if code != ExitOK || rec.calls != 3 {
		t.Errorf("after the fix: exit %d, %d calls\n%s", code, rec.calls, errOut)
	}
}

func TestEverySourceFailingFailsTheRun(t *testing.T) {
	stateEnv(t)
	rec := &recorder{}
	var demo bool
	app := testApp(rec, &demo)
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		return Parts{Sources: []connector.Source{failingSource{}}, Analyzer: connector.PassThrough("source")}, nil
	}
	code, _, errOut := runMain(t, app, "-once", "-log-level", "error")
	if code != ExitFailed || !strings.Contains(errOut, "every source failed") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
}

// A dry run changes nothing that lasts: the real run after it acts on every file.
func TestDryRunThenRealRun(t *testing.T) {
	state := stateEnv(t)
	rec := &recorder{}
	var demo bool
	code, out, errOut := runMain(t, testApp(rec, &demo), "-once", "-dry-run")
	if code != ExitOK || rec.calls != 0 || !strings.Contains(out, "skipped 3") {
		t.Fatalf("dry run: exit %d, %d calls\n%s%s", code, rec.calls, out, errOut)
	}
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx connector.Tx) error {
		if cp, err := tx.Checkpoint("list"); err != nil || cp != nil {
			t.Errorf("the dry run moved the checkpoint to %q (%v)", cp, err)
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runMain(t, testApp(rec, &demo), "-once")
	if code != ExitOK || rec.calls != 3 || !strings.Contains(out, "acted 3") {
		t.Fatalf("real run after the dry run: exit %d, %d calls\n%s%s", code, rec.calls, out, errOut)
	}
	// And a dry run after the real run finds everything done.
	code, out, _ = runMain(t, testApp(rec, &demo), "-once", "-dry-run")
	if code != ExitOK || rec.calls != 3 || !strings.Contains(out, "collected 0 evidence records") {
		t.Errorf("dry run after the real run: exit %d, %d calls\n%s", code, rec.calls, out)
	}
}

// The state command lists, shows, requeues and forgets dead letters on the state file, and reaches a running daemon
// through its ops server when the file is locked.
func TestStateCommand(t *testing.T) {
	state := stateEnv(t)
	rec := &flakyRecorder{}
	var demo bool
	app := testApp(&rec.recorder, &demo)
	app.Build = func(ctx context.Context, c *testConfig, env Env) (Parts, error) {
		return Parts{Sources: []connector.Source{listSource{files: 2}}, Analyzer: connector.PassThrough("source"),
			Responders: []connector.Responder{rec}}, nil
	}
	if code, _, errOut := runMain(t, app, "-once"); code != ExitOK {
		t.Fatalf("run with a dead letter: exit %d (a dead letter is not a failed run)\n%s", code, errOut)
	}
	code, out, errOut := runMain(t, app, "state", "list", "-state", "failed", "-json")
	var items []connector.Item
	if err := json.Unmarshal([]byte(out), &items); code != ExitOK || err != nil || len(items) != 1 ||
		items[0].Failure == nil || !strings.Contains(items[0].Failure.Reason, "ban list full") {
		t.Fatalf("state list -json: exit %d %v\n%s%s", code, err, out, errOut)
	}
	key := items[0].Key.String()
	code, out, _ = runMain(t, app, "state", "show", items[0].Evidence.Hashes.SHA256)
	if code != ExitOK || !strings.Contains(out, "item "+key) || !strings.Contains(out, "failure    in respond") ||
		!strings.Contains(out, "verdict    malicious") {
		t.Errorf("state show: exit %d\n%s", code, out)
	}
	if code, out, _ := runMain(t, app, "state", "retry", "-failed"); code != ExitOK || !strings.Contains(out, "requeued 1 item(s)") {
		t.Errorf("state retry -failed: exit %d\n%s", code, out)
	}
	if code, _, errOut := runMain(t, app, "-once"); code != ExitOK || rec.calls != 2 {
		t.Errorf("run after the retry: exit %d, %d calls, want 2\n%s", code, rec.calls, errOut)
	}
	if code, out, _ := runMain(t, app, "state", "forget", key); code != ExitOK || !strings.Contains(out, "forgot 1 item(s)") {
		t.Errorf("state forget: exit %d\n%s", code, out)
	}
	if code, out, _ := runMain(t, app, "state", "list"); code != ExitOK || !strings.Contains(out, "1 item(s)") {
		t.Errorf("state list after forget: exit %d\n%s", code, out)
	}
	// The state command needs only the run section: a configuration the connector refuses still reaches the state.
	t.Run("vendor part invalid", func(t *testing.T) {
		t.Setenv("TEST_CONN_SOURCE_FILES", "-1")
		if code, _, errOut := runMain(t, app, "-once"); code != ExitUsage || !strings.Contains(errOut, "source.files") {
			t.Errorf("run with source.files -1: exit %d, want %d\n%s", code, ExitUsage, errOut)
		}
		if code, out, errOut := runMain(t, app, "state", "list"); code != ExitOK || !strings.Contains(out, "1 item(s)") {
			t.Errorf("state list: exit %d\n%s%s", code, out, errOut)
		}
	})
	for _, bad := range [][]string{{"state"}, {"state", "frob"}, {"state", "show"}, {"state", "retry"},
		{"state", "retry", "-failed", key}, {"state", "list", "-state", "dead"}} {
		if code, _, _ := runMain(t, app, bad...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d", bad, code, ExitUsage)
		}
	}
	if code, _, errOut := runMain(t, app, "state", "show", strings.Repeat("0", 64)); code != ExitFailed || !strings.Contains(errOut, "no such item") {
		t.Errorf("show of an unknown key: exit %d %s", code, errOut)
	}

	// The daemon holds the file: the command goes through its ops server, with the token.
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api := &ops.API{Ops: ops.StoreOps{Store: s}, Token: "tok"}
	addr, err := ops.Serve(ctx, "127.0.0.1:0", ops.Handler(nil, ops.NewHealth(0), api), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_CONN_RUN_OPS_LISTEN", addr.String())
	if code, _, errOut := runMain(t, app, "state", "list"); code != ExitFailed || !strings.Contains(errOut, "401") {
		t.Errorf("remote list without the token: exit %d %s", code, errOut)
	}
	t.Setenv("TEST_CONN_RUN_OPS_TOKEN", "tok")
	code, out, errOut = runMain(t, app, "state", "list")
	if code != ExitOK || !strings.Contains(out, "1 item(s)") {
		t.Errorf("remote list: exit %d\n%s%s", code, out, errOut)
	}
}
