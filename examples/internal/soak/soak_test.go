package soak

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/vmray"
)

// TestShortSoak drives every example through 5 kills at 20% faults of every
// kind with 100 files and fails on any lost file, duplicate submission or
// duplicate, missing or unexpected action. SOARKIT_SOAK_SEED replays a run;
// the full run is `go run ./examples/internal/soak/cmd/soak`.
func TestShortSoak(t *testing.T) {
	seed, err := SeedFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	bin := t.TempDir()
	for _, e := range Examples() {
		t.Run(e.Name, func(t *testing.T) {
			path, err := e.Build(t.Context(), bin)
			if err != nil {
				t.Fatal(err)
			}
			var progress strings.Builder
			dir := t.TempDir()
			o := Options{Items: 100, FaultRate: 0.2, Kills: 5, Seed: seed, Dir: dir, Progress: &progress}
			r, err := e.Run(t.Context(), path, o)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			var table strings.Builder
			r.WriteTable(&table)
			t.Logf("\n%s", table.String())
			if r.Kills != 5 && !(r.WorkEnded && r.Kills > 0) {
				t.Errorf("%d kills, want 5 (or at least one before the work ended)", r.Kills)
			}
			if r.Actionable == 0 || len(r.Responders) == 0 {
				t.Fatalf("nothing to act on: the harness checks nothing")
			}
			for _, c := range r.Responders {
				if c.Expected == 0 {
					t.Errorf("%s: nothing expected", c.Name)
				}
			}
			if len(r.Lost) > 0 || len(r.DuplicateSubmissions) > 0 {
				t.Errorf("%d lost files, %d files submitted more than once (seed %d)", len(r.Lost),
					len(r.DuplicateSubmissions), seed)
			}
			for _, c := range r.Responders {
				if c.Duplicates+c.Missing+c.Unexpected > 0 {
					t.Errorf("%s: %d duplicate, %d missing, %d unexpected (%s) (seed %d)", c.Name, c.Duplicates, c.Missing,
						c.Unexpected, strings.Join(c.Examples, ", "), seed)
				}
			}
			if t.Failed() {
				logs, _ := os.ReadDir(dir)
				t.Logf("progress:\n%s%d files kept in %s", progress.String(), len(logs), dir)
			}
		})
	}
}

// The counts see what the fakes hold: a world nobody worked on has every
// actionable file lost and every action missing; a device quarantined twice
// is a duplicate.
func TestCountsReadTheFakes(t *testing.T) {
	e := cbcVMRay()
	o := Options{Items: 20}.withDefaults(e)
	w, err := e.start(o, rand.New(rand.NewPCG(7, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	var r Result
	w.count(&r)
	if r.Actionable == 0 || len(r.Lost) != r.Actionable {
		t.Errorf("%d lost of %d actionable, want all", len(r.Lost), r.Actionable)
	}
	for _, c := range r.Responders {
		if c.Missing != c.Expected || c.Done != 0 {
			t.Errorf("%s: %+v, want every expected target missing", c.Name, c)
		}
	}
	cw := w.(*cbcVMRayWorld)
	var malicious string
	for _, sha := range cw.files {
		if cw.verdicts[sha] == vmray.VerdictMalicious {
			malicious = sha
			break
		}
	}
	ctx := context.Background()
	for range 2 {
		if err := cw.cbc.Client().Devices.Quarantine(ctx, true, cw.device[malicious]); err != nil {
			t.Fatal(err)
		}
	}
	r = Result{}
	w.count(&r)
	if q := r.Responders[2]; q.Name != "quarantine" || q.Duplicates != 1 || q.Done != 1 {
		t.Errorf("quarantine = %+v, want 1 done, 1 duplicate", q)
	}
	if len(r.Lost) != r.Actionable-1 {
		t.Errorf("%d lost, want %d: a file whose device was quarantined is not lost", len(r.Lost), r.Actionable-1)
	}
	if !r.Failed() {
		t.Error("the run does not fail")
	}
}
