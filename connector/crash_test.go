package connector_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// The crash test runs the pipeline on boltstore in a child process (this test binary, re-executed), kills it with
// SIGKILL at random points, restarts it, and checks the effects the child's analyzer and responders wrote to an
// append-only, fsynced log: nothing lost, no file submitted twice, no action done twice.

const (
	crashEnv       = "CONNECTOR_CRASH_CHILD"
	crashFiles     = 60
	crashEvidence  = 300
	crashKills     = 20
	crashRespondK  = 4
	crashSubmitK   = 4
	crashAwaitK    = 3
	crashLatency   = 50 * time.Millisecond
	crashMaxKillAt = 200 * time.Millisecond
)

// effectLog is the child's durable record of external effects, like a vendor's own database.
type effectLog struct {
	mu      sync.Mutex
	f       *os.File
	subs    map[string][]subRecord // evidence key -> submissions
	actions map[string]bool        // responder + " " + target
}

type subRecord struct {
	ticket string
	at     time.Time
}

func openEffectLog(path string) (*effectLog, error) {
	l := &effectLog{subs: map[string][]subRecord{}, actions: map[string]bool{}}
	if data, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 4 && f[0] == "submit":
				ns, _ := strconv.ParseInt(f[3], 10, 64)
				l.subs[f[1]] = append(l.subs[f[1]], subRecord{f[2], time.Unix(0, ns)})
			case len(f) >= 3 && f[0] == "act":
				l.actions[strings.Join(f[1:], " ")] = true
			}
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, nil
}

// write appends one line with a single write and syncs it.
func (l *effectLog) write(line string) error {
	if _, err := l.f.WriteString(line + "\n"); err != nil {
		return err
	}
	return l.f.Sync()
}

// crashAnalyzer is a durable fake analyzer: its submissions live in the effect log.
type crashAnalyzer struct {
	log   *effectLog
	kinds map[string]connector.Kind
}

func (a *crashAnalyzer) Name() string { return "sandbox" }

func (a *crashAnalyzer) Lookup(ctx context.Context, ev connector.Evidence) (connector.Verdict, bool, error) {
	return connector.Verdict{}, false, ctx.Err()
}

func (a *crashAnalyzer) Submit(ctx context.Context, ev connector.Evidence, s connector.Sample) (connector.Ticket, error) {
	h := sha256.New()
	if _, err := io.Copy(h, s.Body); err != nil {
		return connector.Ticket{}, err
	}
	key, _ := ev.Key()
	a.log.mu.Lock()
	defer a.log.mu.Unlock()
	n := len(a.log.subs[key.String()]) + 1
	rec := subRecord{ticket: fmt.Sprintf("%s/%d", hex.EncodeToString(h.Sum(nil))[:12], n), at: time.Now()}
	if err := a.log.write(fmt.Sprintf("submit %s %s %d", key, rec.ticket, rec.at.UnixNano())); err != nil {
		return connector.Ticket{}, err
	}
	a.log.subs[key.String()] = append(a.log.subs[key.String()], rec)
	return connector.Ticket{ID: key.String() + " " + rec.ticket, Submitted: rec.at}, nil
}

func (a *crashAnalyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	key, _, _ := strings.Cut(t.ID, " ")
	if d := time.Until(t.Submitted.Add(crashLatency)); d > 0 {
		select {
		case <-ctx.Done():
			return connector.Verdict{}, ctx.Err()
		case <-time.After(d):
		}
	}
	return connector.Verdict{Kind: a.kinds[key]}, nil
}

func (a *crashAnalyzer) FindTicket(_ context.Context, ev connector.Evidence, since time.Time) (connector.Ticket, bool, error) {
	key, _ := ev.Key()
	a.log.mu.Lock()
	defer a.log.mu.Unlock()
	subs := a.log.subs[key.String()]
	for i := len(subs) - 1; i >= 0; i-- {
		if !subs[i].at.Before(since) {
			return connector.Ticket{ID: key.String() + " " + subs[i].ticket, Submitted: subs[i].at}, true, nil
		}
	}
	return connector.Ticket{}, false, nil
}

// effectKey names one action in the effect log: responder, file and target, separated by single spaces.
func effectKey(responder, key, target string) string {
	return strings.Join(strings.Fields(responder+" "+key+" "+target), " ")
}

// crashResponder is a durable, idempotent fake responder: an action it finds in the effect log is reported as
// Unchanged (and logged as a recall, so the parent can bound how often the engine repeated a call).
type crashResponder struct {
	log   *effectLog
	name  string
	scope connector.Scope
}

func (r *crashResponder) Name() string           { return r.name }
func (r *crashResponder) Scope() connector.Scope { return r.scope }

func (r *crashResponder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	key := effectKey(r.name, f.Key.String(), f.Target)
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	if r.log.actions[key] {
		return connector.Result{Status: connector.Unchanged, Detail: "already present"}, r.log.write("recall " + key)
	}
	if err := r.log.write("act " + key); err != nil {
		return connector.Result{}, err
	}
	r.log.actions[key] = true
	return connector.Result{Status: connector.Acted}, nil
}

func crashWorld() *world {
	w := newWorld(crashFiles, crashEvidence)
	w.cbc.BatchSize, w.s1.BatchSize, w.tap.BatchSize = 10, 10, 10
	return w
}

// crashChild runs the pipeline once to completion (unless killed) and exits.
func crashChild(dir string) {
	w := crashWorld()
	log, err := openEffectLog(filepath.Join(dir, "effects.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	kinds := map[string]connector.Kind{}
	for i, h := range w.hashes {
		kinds[connector.Key{Kind: connector.SHA256, Hex: h.SHA256}.String()] = w.kinds[i]
	}
	store, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	cfg := fastConfig(store, &crashAnalyzer{log: log, kinds: kinds}, w.sources(), []connector.Responder{
		&crashResponder{log: log, name: "webhook", scope: connector.ScopeSighting},
		connector.Gate(&crashResponder{log: log, name: "report", scope: connector.ScopeEvidence},
			connector.Kinds(connector.Malicious, connector.Suspicious)),
		connector.Gate(&crashResponder{log: log, name: "quarantine", scope: connector.ScopeDevice},
			connector.Kinds(connector.Malicious)),
	})
	cfg.Submit.Concurrency, cfg.Await.Concurrency, cfg.Respond.Concurrency = crashSubmitK, crashAwaitK, crashRespondK
	p, err := connector.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil || sum.FailureCount() > 0 {
		fmt.Fprintf(os.Stderr, "run failed: %v %+v\n", err, sum)
		os.Exit(4)
	}
	store.Close()
	os.Exit(0)
}

func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	if d := os.Getenv("CONNECTOR_CRASH_DIR"); d != "" {
		dir = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CONNECTOR_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CONNECTOR_CRASH_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("kill schedule seed %d (set CONNECTOR_CRASH_SEED to repeat it)", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	logPath := filepath.Join(dir, "effects.log")
	lines := func() int {
		data, _ := os.ReadFile(logPath)
		return strings.Count(string(data), "\n")
	}
	killed := 0
	for range crashKills {
		// Kill after a random number of new effects (0: right away) plus a random delay, so that kills land in
		// every phase: collecting, between an effect and its record, while awaiting.
		base, after := lines(), rng.IntN(21)
		delay := time.Duration(rng.Int64N(int64(crashMaxKillAt / 10)))
		if after == 0 {
			delay = time.Duration(rng.Int64N(int64(crashMaxKillAt)))
		}
		cmd := start()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		finished := false
	wait:
		for lines() < base+after {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("child failed: %v", err)
				}
				finished = true
				break wait
			case <-time.After(time.Millisecond):
			}
		}
		if !finished {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("child failed: %v", err)
				}
				finished = true
			case <-time.After(delay):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				killed++
			}
		}
		if finished {
			t.Logf("child finished all the work before the kill")
		}
	}
	// The last run must finish.
	cmd := start()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("final run: %v", err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("final run did not finish")
	}
	t.Logf("%d kills", killed)

	// Check the effects.
	f, err := os.Open(filepath.Join(dir, "effects.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	subs, acts, recalls := map[string]int{}, map[string]int{}, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch fields[0] {
		case "submit":
			subs[fields[1]]++
		case "act":
			acts[strings.Join(fields[1:], " ")]++
		case "recall":
			recalls++
		}
	}
	if len(subs) != crashFiles {
		t.Errorf("%d files submitted, want %d", len(subs), crashFiles)
	}
	for k, n := range subs {
		if n != 1 {
			t.Errorf("file %s submitted %d times", k, n)
		}
	}
	// The expected actions: those of the same world run in memory without crashes.
	w := crashWorld()
	if _, err := newPipeline(t, fastConfig(memstore.New(), w.analyzer, w.sources(), w.responders())).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for name, r := range map[string]*connectortest.Responder{"webhook": w.all, "report": w.report, "quarantine": w.quarantine} {
		for _, fd := range r.Findings() {
			want[effectKey(name, fd.Key.String(), fd.Target)] = true
		}
	}
	for a := range want {
		if acts[a] == 0 {
			t.Errorf("action lost: %s", a)
		}
	}
	for a, n := range acts {
		if n != 1 {
			t.Errorf("action done %d times: %s", n, a)
		}
		if !want[a] {
			t.Errorf("unexpected action: %s", a)
		}
	}
	// A call is repeated only when a kill fell between the vendor's effect and the engine's record of it.
	if limit := killed * crashRespondK; recalls > limit {
		t.Errorf("%d repeated responder calls after %d kills, want at most %d", recalls, killed, limit)
	}
	t.Logf("%d submissions, %d actions, %d calls repeated into an idempotent responder", len(subs), len(acts), recalls)

	store, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.View(context.Background(), func(tx connector.Tx) error {
		n := 0
		for it, err := range tx.Items(connector.StateDone) {
			if err != nil {
				return err
			}
			n++
			if it.Submissions != 1 {
				t.Errorf("item %s records %d submissions", it.Key, it.Submissions)
			}
		}
		if n != crashFiles {
			t.Errorf("%d items done, want %d", n, crashFiles)
		}
		for _, src := range []string{"cbc", "s1", "tap"} {
			cp, _ := tx.Checkpoint(src)
			if string(cp) != "100" {
				t.Errorf("checkpoint of %s = %q, want 100", src, cp)
			}
		}
		return nil
	})
}
