package soak

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// SeedEnv names the environment variable that fixes a run's seed.
const SeedEnv = "SOARKIT_SOAK_SEED"

// SeedFromEnv returns the seed in SeedEnv, or a random one when it is unset.
func SeedFromEnv() (uint64, error) {
	v := os.Getenv(SeedEnv)
	if v == "" {
		return rand.Uint64() >> 1, nil
	}
	s, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("soak: %s=%q is not an unsigned number", SeedEnv, v)
	}
	return s, nil
}

// Options configure one soak run. The zero value of a field takes the
// default named in its comment.
type Options struct {
	// Items is the number of files seeded (default 100).
	Items int
	// FaultRate is the fraction of the requests to every fake answered with
	// a fault, shared equally by every kind of FaultKinds (0: none).
	FaultRate float64
	// Kinds restricts the faults to these kinds of FaultKinds (default:
	// every kind), to narrow down a finding.
	Kinds []string
	// Kills is the number of SIGKILLs before the final runs; fewer land when
	// a run finishes all the work first (Result.WorkEnded).
	Kills int
	// Seed drives everything random: the files, their verdicts, the fault
	// draws and the kill moments.
	Seed uint64
	// FinalFaults keeps the faults on for the final runs (default: the
	// faults end with the last kill).
	FinalFaults bool
	// KillMin and KillMax bound the time from a start to its kill, drawn
	// uniformly (default: the example's, 500ms and 6s; for tap-cbc 2s and
	// 15s, since its first collection hunts every attachment and a kill
	// before it ends leaves nothing recorded).
	KillMin, KillMax time.Duration
	// Slow is the latency of the "slow" fault (default 200ms) and Effect
	// the delay of the "delayed effect" fault (default 1s). The VMRay
	// analyzer's settle delay is set to twice the longer one.
	Slow, Effect time.Duration
	// RetryMaxDelay caps the connector's back-off, and tap-cbc's hunt
	// back-off (default 1s), so a short run is not spent waiting.
	RetryMaxDelay time.Duration
	// FinalRuns bounds the runs after the last kill (default 8); RunTimeout
	// bounds each of them (default 10m).
	FinalRuns  int
	RunTimeout time.Duration
	// Dir receives the state file and one log per start (default: a new
	// temporary directory, removed unless the run failed).
	Dir string
	// LogLevel is the connector's log level (default warn).
	LogLevel string
	// Progress receives one line per start, kill and final run (default:
	// discard).
	Progress io.Writer
}

func (o Options) withDefaults(e *Example) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Items <= 0 {
		o.Items = 100
	}
	def(&o.KillMin, cmp.Or(e.killMin, 500*time.Millisecond))
	def(&o.KillMax, cmp.Or(e.killMax, 6*time.Second))
	if o.KillMax < o.KillMin {
		o.KillMax = o.KillMin
	}
	def(&o.Slow, 200*time.Millisecond)
	def(&o.Effect, time.Second)
	def(&o.RetryMaxDelay, time.Second)
	def(&o.RunTimeout, 10*time.Minute)
	if o.FinalRuns <= 0 {
		o.FinalRuns = 8
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// settleDelay is the VMRay analyzer's settle delay for a run: longer than
// any fault keeps a received submission from VMRay.
func (o Options) settleDelay() time.Duration { return 2 * max(o.Slow, o.Effect) }

// actionSettleDelay is the responders' settle delay (carbonblack and
// sentinelone settle_delay): it runs from the start of the attempt, and one
// respond call may spend several seconds on retried reads before it sends.
func (o Options) actionSettleDelay() time.Duration { return 10 * max(o.Slow, o.Effect) }

// Example is one example connector the harness drives.
type Example struct {
	// Name is the example's directory under examples/ and its binary's name.
	Name string
	// EnvPrefix prefixes its configuration's environment variables.
	EnvPrefix string
	start     func(o Options, rng *rand.Rand) (world, error)
	// killMin and killMax are the example's kill window (0: the
	// defaults).
	killMin, killMax time.Duration
}

// world is the fakes of one example, seeded.
type world interface {
	// fakes names every fake the connector talks to.
	fakes() map[string]fake
	// settings are the configuration keys that point the connector at the
	// fakes and turn its actions on.
	settings(o Options) map[string]string
	// requests counts each fake's requests.
	requests() map[string]int
	// count fills r from the fakes' state.
	count(r *Result)
	close()
}

// Examples returns the example connectors the harness drives.
func Examples() []*Example {
	return []*Example{cbcVMRay(), s1VMRay(), tapCBC()}
}

// Lookup returns the example named name.
func Lookup(name string) (*Example, error) {
	var names []string
	for _, e := range Examples() {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("soak: unknown example %q (use %s)", name, strings.Join(names, ", "))
}

// modulePath is the import path the examples are built from.
const modulePath = "github.com/soarkit/soarkit"

// Build compiles the example's binary into dir and returns its path. It
// runs the go command found on PATH from the working directory, which must
// be inside the soarkit module.
func (e *Example) Build(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, e.Name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, modulePath+"/examples/"+e.Name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("soak: building %s: %v\n%s", e.Name, err, msg)
	}
	return out, nil
}

// Run drives binary (the example built by Build) against the example's
// fakes seeded with o.Items files: it starts it with -once and kills it
// with SIGKILL at a random moment, o.Kills times, with o.FaultRate of the
// requests faulted; then runs it to the end (at most o.FinalRuns runs, until
// one finishes with nothing pending), waits for the delayed effects still
// pending and counts from the fakes' state. An error means the harness
// could not do its work; what the run found is in the Result.
func (e *Example) Run(ctx context.Context, binary string, o Options) (*Result, error) {
	o = o.withDefaults(e)
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "soak-"+e.Name+"-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var injected []fakehttp.Fault
	if o.FaultRate > 0 {
		f, err := faults(o.FaultRate, o.Kinds, o.Slow, o.Effect)
		if err != nil {
			return nil, err
		}
		injected = f
	}
	w, err := e.start(o, rand.New(rand.NewPCG(o.Seed, 1)))
	if err != nil {
		return nil, fmt.Errorf("soak: starting the %s fakes: %w", e.Name, err)
	}
	defer w.close()
	fakes := w.fakes()
	for i, name := range sortedKeys(fakes) {
		injectFaults(fakes[name], faultSeed(o.Seed, i), injected)
	}
	settings := w.settings(o)
	settings["run.state_path"] = filepath.Join(dir, "state.db")
	settings["run.ops_listen"] = ""
	settings["run.log_level"] = o.LogLevel
	settings["run.pipeline.retry_max_delay"] = o.RetryMaxDelay.String()
	env := e.environ(settings)

	r := &Result{Example: e.Name, Seed: o.Seed, Items: o.Items, FaultRate: o.FaultRate, FinalFaults: o.FinalFaults}
	d := &driver{binary: binary, env: env, dir: dir, progress: o.Progress, name: e.Name}
	kills := rand.New(rand.NewPCG(o.Seed, 2))
	for r.Kills < o.Kills {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.Starts > 20*(o.Kills+1) {
			return nil, fmt.Errorf("soak: %s: %d starts but only %d kills: every run ends before its kill moment (see %s)",
				e.Name, r.Starts, r.Kills, dir)
		}
		gap := o.KillMin + time.Duration(kills.Int64N(int64(o.KillMax-o.KillMin)+1))
		killed, out, code, err := d.start(ctx, gap)
		r.Starts++
		if err != nil {
			return nil, err
		}
		if killed {
			r.Kills++
			fmt.Fprintf(o.Progress, "%s: start %d killed after %v\n", e.Name, r.Starts, gap.Round(time.Millisecond))
			continue
		}
		if code == 2 {
			return nil, fmt.Errorf("soak: %s refused its configuration:\n%s", e.Name, out)
		}
		pending, _, fresh := summaryCounts(out)
		fmt.Fprintf(o.Progress, "%s: start %d finished before its kill (exit %d, %d new files, %d pending)\n", e.Name,
			r.Starts, code, fresh, pending)
		if code == 0 && pending == 0 && fresh == 0 && r.Kills > 0 {
			// The work is done: later kills would hit an idle connector.
			r.WorkEnded = true
			break
		}
	}
	if !o.FinalFaults {
		for _, f := range fakes {
			f.ClearFaults()
		}
	}
	// Final runs until one is quiet: it ends well with nothing pending and
	// nothing new collected (a tap-cbc attachment whose hunt failed waits in
	// the source's checkpoint, out of the pending count, and comes in as a new
	// file once its hunt succeeds). Each starts RetryMaxDelay after the last,
	// when every back-off left by the previous run is due.
	quiet := false
	for !quiet && r.FinalRuns < o.FinalRuns {
		if err := sleep(ctx, o.RetryMaxDelay); err != nil {
			return nil, err
		}
		killed, out, code, err := d.start(ctx, o.RunTimeout)
		r.Starts++
		r.FinalRuns++
		if err != nil {
			return nil, err
		}
		if killed {
			return nil, fmt.Errorf("soak: %s: final run %d did not finish within %v (see %s)", e.Name, r.FinalRuns, o.RunTimeout, dir)
		}
		var fresh int
		r.Pending, r.DeadLetters, fresh = summaryCounts(out)
		fmt.Fprintf(o.Progress, "%s: final run %d exit %d, %d new files, %d pending, %d dead letters\n", e.Name, r.FinalRuns, code,
			fresh, r.Pending, r.DeadLetters)
		if code == 2 {
			return nil, fmt.Errorf("soak: %s refused its configuration:\n%s", e.Name, out)
		}
		quiet = code == 0 && r.Pending == 0 && fresh == 0
	}
	if !quiet {
		return nil, fmt.Errorf("soak: %s: still working after %d final runs (%d items pending; see %s)", e.Name, r.FinalRuns,
			r.Pending, dir)
	}
	// Effects the fakes accepted but have not applied yet land now, so a
	// late duplicate is counted.
	for _, f := range fakes {
		f.ClearFaults()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := f.WaitDelayedEffects(wctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("soak: waiting for delayed effects: %w", err)
		}
	}
	r.Requests = w.requests()
	w.count(r)
	if o.Dir == "" && !r.Failed() {
		os.RemoveAll(dir)
	}
	return r, nil
}

// environ is the process environment with settings as the example's
// variables; the caller's own variables of the example are left out.
func (e *Example) environ(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, e.EnvPrefix+"_") {
			env = append(env, kv)
		}
	}
	for _, k := range sortedKeys(settings) {
		env = append(env, config.EnvName(e.EnvPrefix, k)+"="+settings[k])
	}
	return env
}

var (
	pendingLine = regexp.MustCompile(`pending: (\d+) items`)
	deadLine    = regexp.MustCompile(`failures: (\d+) dead letters`)
	newLine     = regexp.MustCompile(`(\d+) distinct new files`)
)

// summaryCounts reads the pending items, dead letters and new files from a
// run's summary.
func summaryCounts(out string) (pending, dead, fresh int) {
	read := func(re *regexp.Regexp) int {
		n := 0
		if m := re.FindStringSubmatch(out); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return n
	}
	return read(pendingLine), read(deadLine), read(newLine)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// driver starts the connector.
type driver struct {
	name, binary, dir string
	env               []string
	progress          io.Writer
	n                 int
}

// start runs the connector once with -once, killing it with SIGKILL after
// limit. It returns whether it was killed, its output and its exit code.
func (d *driver) start(ctx context.Context, limit time.Duration) (killed bool, out string, code int, err error) {
	d.n++
	logPath := filepath.Join(d.dir, fmt.Sprintf("start-%03d.log", d.n))
	f, err := os.Create(logPath)
	if err != nil {
		return false, "", 0, err
	}
	defer f.Close()
	var buf bytes.Buffer
	cmd := exec.Command(d.binary, "-once")
	cmd.Env = d.env
	cmd.Stdout = io.MultiWriter(f, &buf)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return false, "", 0, fmt.Errorf("soak: starting %s: %w", d.name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err = <-done:
	case <-t.C:
		killed = true
	case <-ctx.Done():
		killed = true
	}
	if killed {
		if kerr := cmd.Process.Signal(syscall.SIGKILL); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			return false, "", 0, kerr
		}
		err = <-done
		if ctx.Err() != nil {
			return true, buf.String(), -1, ctx.Err()
		}
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return false, buf.String(), 0, nil
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, buf.String(), -1, nil
		}
		return false, buf.String(), exit.ExitCode(), nil
	default:
		return false, buf.String(), 0, fmt.Errorf("soak: %s: %w", d.name, err)
	}
}
