package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector/boltstore"
)

// TestActionLogSurvivesARestart runs an action, restarts the server on the
// same bbolt file, and asks again: the second server does not act.
func TestActionLogSurvivesARestart(t *testing.T) {
	w, err := StartDemo(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	dir := t.TempDir()
	cfg := defaults()
	w.Configure(cfg, dir)
	cfg.Actions.DryRun = false
	auditPath := filepath.Join(dir, "audit.jsonl")

	start := func() (*testEnv, func()) {
		store, err := boltstore.Open(cfg.StatePath, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		audit, err := OpenAuditor(auditPath)
		if err != nil {
			t.Fatal(err)
		}
		app, err := NewApp(cfg, Deps{Store: store, Audit: audit})
		if err != nil {
			t.Fatal(err)
		}
		env := &testEnv{world: w, app: app, client: connect(t, app.NewServer(), nil)}
		return env, func() {
			env.client.Close()
			store.Close()
			audit.Close()
		}
	}
	args := with(map[string]any{"sha256": demoDropper.sha256}, "malicious per VMRay", true)
	env, stop := start()
	var out ActionOutput
	env.mustCall(t, actBan, args, &out)
	if out.Status != "acted" {
		t.Fatalf("first server: %+v", out)
	}
	stop()

	env, stop = start()
	defer stop()
	env.mustCall(t, actBan, args, &out)
	if out.Status != "done-before" || !strings.Contains(out.Detail, "banned") {
		t.Fatalf("after the restart: %+v", out)
	}
	if n := len(w.CarbonBlack.Overrides()); n != 1 {
		t.Errorf("%d reputation overrides, want 1", n)
	}

	st, err := os.Stat(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(auditPath)
	if lines := strings.Count(string(b), "\n"); lines != 2 {
		t.Errorf("audit log has %d lines, want one per call across both servers:\n%s", lines, b)
	}
	for _, secret := range []string{w.CarbonBlack.APISecret(), w.SentinelOne.Token(), w.Proofpoint.Secret()} {
		if strings.Contains(string(b), secret) {
			t.Error("a vendor secret is in the audit log")
		}
	}
}
