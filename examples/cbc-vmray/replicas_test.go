package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
	"github.com/soarkit/soarkit/examples/internal/crashtest"
	"github.com/soarkit/soarkit/examples/internal/vendors/apptest"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// Environment of the multi-replica test: the full version (docs/scaling.md) sets SOARKIT_REPLICAS_FILES=1000.
const (
	envReplicaFiles   = "SOARKIT_REPLICAS_FILES"
	envReplicaLatency = "SOARKIT_REPLICAS_LATENCY"
)

// replicaLeaseTTL is the replicas' lease: the shortest the configuration accepts, so the test waits little for the
// work of the killed and the paused replica to be taken over.
const replicaLeaseTTL = 3 * time.Second

// Three replicas of the connector share one PostgreSQL schema and work through new files (each on its own host,
// VMRay analysing each in a fixed time). One replica is killed with SIGKILL a quarter of the way in, another is
// paused with SIGSTOP half way in for twice the lease and then resumed. Counted from the fakes: every file is
// submitted exactly once (one submit request), banned exactly once (one override) and its host quarantined exactly
// once (one device action), so nothing is lost and nothing done twice. Ban requests beyond one per file are counted
// and logged but allowed: a replica stopped between its lease check and its call sends the call once resumed, and
// CBC refuses the second override (409, the responder records "unchanged").
func TestReplicasOnOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three connector processes")
	}
	dbURL := pgstoretest.URL(t)
	n := envInt(t, envReplicaFiles, 100)
	if n < 4 {
		t.Fatalf("%s=%d: want at least 4 files", envReplicaFiles, n)
	}
	latency := 500 * time.Millisecond
	if v := os.Getenv(envReplicaLatency); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", envReplicaLatency, err)
		}
		latency = d
	}
	cbc, vm, files := flowWorld(t, n, n, latency) // every file on a host of its own

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	schema := pgstoretest.NewSchema(t)
	u.User = url.User(u.User.Username())
	env := apptest.EnvVars(envPrefix, map[string]string{
		"carbonblack.url": cbc.URL(), "carbonblack.org_key": cbc.OrgKey(), "carbonblack.api_id": cbc.APIID(),
		"carbonblack.api_secret": cbc.APISecret(), "carbonblack.data_sources": "process",
		"vmray.url": vm.URL(), "vmray.api_key": vmraytest.DefaultAPIKey,
		"selected_verdicts": "malicious", "watchlist.enabled": "false", "ban.enabled": "true",
		"quarantine.enabled": "true", "quarantine.verdicts": "malicious",
		"run.state.url": u.String(), "run.state.password": password, "run.state.schema": schema,
		"run.state.lease_ttl": replicaLeaseTTL.String(), "run.interval": "1s", "run.ops_listen": "",
		"run.pipeline.poll_interval": "100ms", "run.pipeline.submit_timeout": "5s",
	})
	if password == "" {
		delete(env, "CBC_VMRAY_RUN_STATE_PASSWORD")
	}
	var outs [3]lockedWriter
	var replicas [3]*exec.Cmd
	var exited [3]chan error
	for i := range replicas {
		replicas[i] = crashtest.Start(t, crashtest.Run{ChildEnv: childEnv, Env: env, Args: []string{"-log-level", "info"}},
			&outs[i])
		exited[i] = make(chan error, 1)
		go func() { exited[i] <- replicas[i].Wait() }()
	}
	stopAll := func() {
		for i, r := range replicas {
			r.Process.Signal(syscall.SIGCONT)
			r.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited[i]:
			case <-time.After(60 * time.Second):
				r.Process.Kill()
				<-exited[i]
			}
		}
	}
	defer func() {
		if t.Failed() {
			for i := range outs {
				t.Logf("replica %d:\n%s", i, tail(outs[i].String(), 40))
			}
		}
	}()
	submitted := func() int { return vm.CountRequests("POST", "/rest/sample/submit") }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(3*time.Minute + time.Duration(n)*latency/4)
		for !cond() {
			if time.Now().After(deadline) {
				stopAll()
				logOpenItems(t, schema)
				t.Fatalf("gave up waiting until %s: %d submissions, %d bans, %d quarantines", what, submitted(),
					len(cbc.Overrides()), quarantinedHosts(cbc))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	waitFor("a quarter of the files are submitted", func() bool { return submitted() >= n/4 })
	replicas[0].Process.Signal(syscall.SIGKILL)
	<-exited[0]
	exited[0] <- nil // stopAll waits on it once more
	waitFor("half of the files are submitted", func() bool { return submitted() >= n/2 })
	replicas[1].Process.Signal(syscall.SIGSTOP)
	time.Sleep(2 * replicaLeaseTTL) // its leases run out; the third replica takes its work over
	replicas[1].Process.Signal(syscall.SIGCONT)
	waitFor("every file is banned and its host quarantined", func() bool {
		return len(cbc.Overrides()) >= n && quarantinedHosts(cbc) >= n
	})
	stopAll()

	if os.Getenv("SOARKIT_REPLICAS_LOG") != "" {
		for i := range outs {
			t.Logf("replica %d:\n%s", i, outs[i].String())
		}
	}
	counts := countEffects(t, cbc, vm, files)
	if counts.lost != 0 || counts.dupSubmissions != 0 || counts.dupBans != 0 || counts.dupQuarantines != 0 {
		t.Errorf("%d files: %d lost, %d duplicate submissions, %d duplicate bans, %d duplicate quarantines",
			n, counts.lost, counts.dupSubmissions, counts.dupBans, counts.dupQuarantines)
	}
	t.Logf("%d files over 3 replicas (one killed, one paused %s): %d lost, %d duplicate submissions, %d duplicate actions "+
		"(%d ban requests repeated and refused by CBC)", n, 2*replicaLeaseTTL, counts.lost, counts.dupSubmissions,
		counts.dupBans+counts.dupQuarantines, counts.repeatedBanRequests)
}

// effects counts, from the fakes, what happened to the seeded files.
type effects struct{ lost, dupSubmissions, dupBans, dupQuarantines, repeatedBanRequests int }

func countEffects(t *testing.T, cbc *carbonblacktest.Server, vm *vmraytest.Server, files map[string]int64) effects {
	t.Helper()
	banRequests := map[string]int{}
	for _, r := range cbc.Requests() {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/reputations/overrides") {
			continue
		}
		var o carbonblack.ReputationOverride
		if err := json.Unmarshal(r.Body, &o); err != nil {
			t.Fatalf("ban request body: %v", err)
		}
		banRequests[strings.ToLower(o.SHA256Hash)]++
	}
	bans := map[string]int{}
	for _, o := range cbc.Overrides() {
		bans[strings.ToLower(o.SHA256Hash)]++
	}
	quarantines := map[int64]int{}
	for _, a := range cbc.DeviceActions() {
		if a.ActionType != "QUARANTINE" {
			continue
		}
		for _, id := range a.DeviceIDs {
			quarantines[id]++
		}
	}
	var e effects
	for sha, device := range files {
		subs, banned, q := len(vm.SubmissionsFor(sha)), bans[sha], quarantines[device]
		if subs == 0 || banned == 0 || q == 0 {
			e.lost++
			t.Errorf("file %s: %d submissions, %d bans, %d quarantines of its host", sha, subs, banned, q)
		}
		e.dupSubmissions += max(subs-1, 0)
		e.dupBans += max(banned-1, 0)
		e.dupQuarantines += max(q-1, 0)
		e.repeatedBanRequests += max(banRequests[sha]-1, 0)
	}
	return e
}

func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// lockedWriter lets the test read a child's output while the child writes it.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logOpenItems logs the items left open in schema, to say why a run did not finish.
func logOpenItems(t *testing.T, schema string) {
	store := pgstoretest.Open(t, schema, pgstore.Options{})
	err := store.View(context.Background(), func(tx connector.Tx) error {
		for _, st := range connector.OpenStates() {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				t.Logf("open item %s: state %s, updated %s, retry %+v", it.Key, it.State, it.Updated, it.Retry)
			}
		}
		return nil
	})
	if err != nil {
		t.Logf("listing the open items: %v", err)
	}
}

// quarantinedHosts counts the device ids named by quarantine requests: the responder quarantines several hosts in
// one request, so requests are not hosts.
func quarantinedHosts(cbc *carbonblacktest.Server) int {
	n := 0
	for _, a := range cbc.DeviceActions() {
		if a.ActionType == "QUARANTINE" {
			n += len(a.DeviceIDs)
		}
	}
	return n
}
