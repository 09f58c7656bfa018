package soak

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is what one soak run counted from the fakes' own state once the
// connector finished.
type Result struct {
	// Example is the connector's name; Seed replays the run.
	Example string
	Seed    uint64
	// Items are the files seeded; Actionable those whose verdict calls for
	// an action (malicious or suspicious, seen where an action applies).
	Items, Actionable int
	// Kills counts the SIGKILLs, Starts every start of the connector,
	// FinalRuns the runs after the last kill.
	Kills, Starts, FinalRuns int
	// WorkEnded is true when a run finished all the work before the last
	// kill came (Kills is then below Options.Kills).
	WorkEnded bool
	// FaultRate is the fraction of requests answered with a fault until the
	// last kill (FinalFaults: until the end).
	FaultRate   float64
	FinalFaults bool
	// Requests counts the requests each fake received.
	Requests map[string]int

	// Lost lists the actionable files with neither a submission nor any
	// action.
	Lost []string
	// DuplicateSubmissions maps a file to its VMRay submissions, for files
	// submitted more than once; nil for an example without VMRay.
	DuplicateSubmissions map[string]int
	// Submissions counts the VMRay submissions of seeded files.
	Submissions int
	// Responders holds one line per responder, in the connector's order.
	Responders []ResponderCount
	// WebhookDeliveries counts the webhook requests received with a valid
	// signature; RepeatedDeliveries those repeating an earlier delivery id
	// (allowed: at-least-once delivery).
	WebhookDeliveries, RepeatedDeliveries int
	// RepeatedCommands counts Live Response commands (kill, delete file)
	// sent again for the same process or file after the first one's answer
	// was lost; the fake runs a command only when polled, so the first
	// never ran and these had no second effect.
	RepeatedCommands int
	// DeadLetters and Pending are read from the last run's summary.
	DeadLetters, Pending int
}

// ResponderCount is what the fakes hold for one responder.
type ResponderCount struct {
	Name string
	// Expected targets (a file, a device, a threat, a process...) and the
	// targets acted on at least once.
	Expected, Done int
	// Duplicates counts targets acted on more than once; Missing expected
	// targets never acted on; Unexpected acted-on targets that were not
	// expected (a clean file banned, say).
	Duplicates, Missing, Unexpected int
	// Examples holds a few offending targets for the report.
	Examples []string
}

// DuplicateActions sums the duplicates of every responder.
func (r *Result) DuplicateActions() int {
	n := 0
	for _, c := range r.Responders {
		n += c.Duplicates
	}
	return n
}

// MissingActions sums the expected targets no responder acted on.
func (r *Result) MissingActions() int {
	n := 0
	for _, c := range r.Responders {
		n += c.Missing + c.Unexpected
	}
	return n
}

// Problems lists what makes the run fail: lost files, duplicate
// submissions, duplicate, missing or unexpected actions. Repeated webhook
// deliveries are not a problem.
func (r *Result) Problems() []string {
	var p []string
	if len(r.Lost) > 0 {
		p = append(p, fmt.Sprintf("%d lost files (%s)", len(r.Lost), short(r.Lost)))
	}
	if len(r.DuplicateSubmissions) > 0 {
		keys := sortedKeys(r.DuplicateSubmissions)
		p = append(p, fmt.Sprintf("%d files submitted more than once (%s)", len(keys), short(keys)))
	}
	for _, c := range r.Responders {
		if c.Duplicates+c.Missing+c.Unexpected > 0 {
			p = append(p, fmt.Sprintf("%s: %d duplicate, %d missing, %d unexpected (%s)", c.Name, c.Duplicates, c.Missing,
				c.Unexpected, strings.Join(c.Examples, ", ")))
		}
	}
	return p
}

// Failed reports whether the run found a problem.
func (r *Result) Failed() bool { return len(r.Problems()) > 0 }

// WriteTable writes the run's figures: a header line, then one line per
// count and per responder.
func (r *Result) WriteTable(w io.Writer) error {
	faults := "faults off at the last kill"
	if r.FinalFaults {
		faults = "faults until the end"
	}
	kills := fmt.Sprintf("%d kills", r.Kills)
	if r.WorkEnded {
		kills += " (the work ended before the next)"
	}
	fmt.Fprintf(w, "%s: seed %d, %d items (%d actionable), %.0f%% faults (%s), %s, %d starts, %d final runs\n",
		r.Example, r.Seed, r.Items, r.Actionable, 100*r.FaultRate, faults, kills, r.Starts, r.FinalRuns)
	submissions := ""
	if r.DuplicateSubmissions != nil {
		submissions = fmt.Sprintf("; VMRay submissions: %d, files submitted more than once: %d", r.Submissions,
			len(r.DuplicateSubmissions))
	}
	fmt.Fprintf(w, "  lost files: %d%s; dead letters: %d, pending: %d\n", len(r.Lost), submissions, r.DeadLetters, r.Pending)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  responder\texpected\tdone\tduplicate\tmissing\tunexpected")
	for _, c := range r.Responders {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\n", c.Name, c.Expected, c.Done, c.Duplicates, c.Missing, c.Unexpected)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.RepeatedCommands > 0 {
		fmt.Fprintf(w, "  Live Response commands sent again after a lost answer (no second effect): %d\n", r.RepeatedCommands)
	}
	if r.WebhookDeliveries > 0 {
		fmt.Fprintf(w, "  webhook deliveries: %d, repeating an earlier delivery id (allowed): %d\n", r.WebhookDeliveries, r.RepeatedDeliveries)
	}
	var reqs []string
	for _, k := range sortedKeys(r.Requests) {
		reqs = append(reqs, fmt.Sprintf("%s %d", k, r.Requests[k]))
	}
	_, err := fmt.Fprintf(w, "  requests: %s\n", strings.Join(reqs, ", "))
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// short lists at most three entries.
func short(s []string) string {
	if len(s) > 3 {
		return strings.Join(s[:3], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

// tally counts one responder's actions per target (a file, a device, a
// threat...) and per unit of action on it (a report, a Live Response
// command...), against the expected targets.
type tally struct {
	name     string
	expected map[string]bool
	done     map[string]map[string]int
}

func newTally(name string) *tally {
	return &tally{name: name, expected: map[string]bool{}, done: map[string]map[string]int{}}
}

func (t *tally) expect(target string) { t.expected[target] = true }

// acted records one action on target; unit tells apart the actions a
// target may get once each ("" when it gets one).
func (t *tally) acted(target, unit string) {
	if t.done[target] == nil {
		t.done[target] = map[string]int{}
	}
	t.done[target][unit]++
}

// count compares what was done with what was expected.
func (t *tally) count() ResponderCount {
	c := ResponderCount{Name: t.name, Expected: len(t.expected), Done: len(t.done)}
	note := func(what, target string) {
		if len(c.Examples) < 3 {
			c.Examples = append(c.Examples, what+" "+target)
		}
	}
	for _, k := range sortedKeys(t.done) {
		for _, unit := range sortedKeys(t.done[k]) {
			if n := t.done[k][unit]; n > 1 {
				c.Duplicates++
				note(fmt.Sprintf("%dx", n), strings.TrimSpace(k+" "+unit))
			}
		}
		if !t.expected[k] {
			c.Unexpected++
			note("unexpected", k)
		}
	}
	for _, k := range sortedKeys(t.expected) {
		if len(t.done[k]) == 0 {
			c.Missing++
			note("missing", k)
		}
	}
	return c
}
