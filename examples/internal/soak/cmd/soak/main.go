// Command soak drives the example connectors through SIGKILLs and restarts
// against their vendor fakes with faults on every route, then counts lost
// files, duplicate submissions and duplicate actions from the fakes' state.
// It prints one table per example and exits 1 when any is not zero. Run it
// from inside the repository:
//
//	go run ./examples/internal/soak/cmd/soak -items 1000 -faults 0.2 -kills 20
//
// The seed is printed; -seed (or SOARKIT_SOAK_SEED) replays a run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/soarkit/soarkit/examples/internal/soak"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o soak.Options
	examples := fs.String("examples", "cbc-vmray,s1-vmray,tap-cbc", "comma-separated `names` of the examples to drive")
	fs.IntVar(&o.Items, "items", 1000, "files seeded in the fakes")
	fs.Float64Var(&o.FaultRate, "faults", 0.2, "fraction of requests answered with a fault (429, 5xx, reset, slow, lost answer, delayed effect in equal shares)")
	kinds := fs.String("kinds", "", "comma-separated fault kinds to inject (default: all of "+strings.Join(soak.FaultKinds, ", ")+")")
	fs.IntVar(&o.Kills, "kills", 20, "SIGKILLs before the final runs")
	seed := fs.Uint64("seed", 0, "seed of the files, faults and kill moments (0: "+soak.SeedEnv+" or random)")
	fs.BoolVar(&o.FinalFaults, "final-faults", false, "keep the faults on until the end (default: they stop with the last kill)")
	fs.DurationVar(&o.KillMin, "kill-min", 0, "shortest time from a start to its kill (0: the example's, 500ms; tap-cbc 2s)")
	fs.DurationVar(&o.KillMax, "kill-max", 0, "longest time from a start to its kill (0: the example's, 6s; tap-cbc 15s)")
	fs.StringVar(&o.Dir, "dir", "", "keep state files and run logs here, one directory per example (default: temporary, kept on failure)")
	fs.StringVar(&o.LogLevel, "log-level", "warn", "the connector's log level in the run logs")
	quiet := fs.Bool("q", false, "print only the tables")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *seed == 0 {
		s, err := soak.SeedFromEnv()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		*seed = s
	}
	o.Seed = *seed
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			o.Kinds = append(o.Kinds, strings.TrimSpace(k))
		}
	}
	if !*quiet {
		o.Progress = stderr
	}
	var list []*soak.Example
	for _, name := range strings.Split(*examples, ",") {
		e, err := soak.Lookup(strings.TrimSpace(name))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		list = append(list, e)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bin, err := os.MkdirTemp("", "soak-bin-")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)

	fmt.Fprintf(stdout, "soak: seed %d (replay with -seed %d or %s=%d), %d items, %.0f%% faults, %d kills\n",
		o.Seed, o.Seed, soak.SeedEnv, o.Seed, o.Items, 100*o.FaultRate, o.Kills)
	failed := false
	for _, e := range list {
		path, err := e.Build(ctx, bin)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		eo := o
		if o.Dir != "" {
			eo.Dir = o.Dir + string(os.PathSeparator) + e.Name
		}
		r, err := e.Run(ctx, path, eo)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout)
		r.WriteTable(stdout)
		for _, p := range r.Problems() {
			fmt.Fprintf(stdout, "FAIL %s: %s\n", e.Name, p)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}
