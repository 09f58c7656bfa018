package runner

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/examples/internal/ops"
)

const stateUsage = `usage:
  state list [-state open|failed|done|new|submitting|awaiting|responding|all] [-json]
  state show [-json] KEY
  state retry KEY... | state retry -failed
  state forget KEY...
KEY is kind:hex (as listed) or any SHA256, SHA1 or MD5 of the file.
With the daemon stopped the command works on the state file; while it runs (the file is locked) it goes through
the daemon's ops server (run.ops_listen, with run.ops_token if set).`

// stateCommand runs `state ...` and returns the exit code.
func stateCommand(ctx context.Context, name string, settings *Settings, args []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s state: %v\n", name, err)
		return ExitFailed
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, stateUsage)
		return ExitUsage
	}
	verb, rest := args[0], args[1:]
	fs := flag.NewFlagSet(name+" state "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, stateUsage) }
	asJSON := fs.Bool("json", false, "print JSON")
	state := fs.String("state", "all", "list only items in this state or group (open, all)")
	failed := fs.Bool("failed", false, "retry every dead letter")
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	keys := fs.Args()
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s state %s: %s\n%s\n", name, verb, fmt.Sprintf(format, a...), stateUsage)
		return ExitUsage
	}
	switch verb {
	case "list":
		if len(keys) > 0 {
			return usage("unexpected arguments %q", keys)
		}
		if _, err := connector.ParseState(*state); err != nil {
			return usage("%v", err)
		}
	case "show":
		if len(keys) != 1 {
			return usage("want exactly one key")
		}
	case "retry":
		if *failed == (len(keys) > 0) {
			return usage("give keys or -failed")
		}
	case "forget":
		if len(keys) == 0 {
			return usage("want at least one key")
		}
	default:
		return usage("unknown command %q", verb)
	}
	so, closeOps, err := openStateOps(ctx, settings)
	if err != nil {
		return fail(err)
	}
	defer closeOps()
	switch verb {
	case "list":
		items, err := so.List(ctx, *state)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			return printJSON(stdout, items, fail)
		}
		writeItems(stdout, items, time.Now())
	case "show":
		d, err := so.Show(ctx, keys[0])
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			return printJSON(stdout, d, fail)
		}
		writeItem(stdout, d)
	case "retry", "forget":
		var done []connector.Key
		switch {
		case verb == "forget":
			done, err = so.Forget(ctx, keys...)
		case *failed:
			done, err = so.RetryFailed(ctx)
		default:
			done, err = so.Retry(ctx, keys...)
		}
		if err != nil {
			return fail(err)
		}
		what := map[string]string{"retry": "requeued", "forget": "forgot"}[verb]
		fmt.Fprintf(stdout, "%s %d item(s)\n", what, len(done))
		for _, k := range done {
			fmt.Fprintf(stdout, "  %s\n", k)
		}
	}
	return ExitOK
}

// openStateOps opens the state file, or reaches the running daemon through its ops server when the file is locked.
func openStateOps(ctx context.Context, settings *Settings) (ops.StateOps, func(), error) {
	if _, err := os.Stat(settings.StatePath); err != nil {
		return nil, nil, fmt.Errorf("no state file: %w", err)
	}
	store, err := boltstore.Open(settings.StatePath, boltstore.Options{LockTimeout: time.Second})
	if err == nil {
		return ops.StoreOps{Store: store}, func() { store.Close() }, nil
	}
	if settings.OpsListen == "" {
		return nil, nil, fmt.Errorf("opening state %s: %w (is the daemon running? run.ops_listen is off, so it cannot be reached)",
			settings.StatePath, err)
	}
	base := "http://" + dialAddress(settings.OpsListen)
	c := &ops.Client{BaseURL: base, Token: settings.OpsToken.Value()}
	// One cheap call tells whether the daemon answers before the real one runs.
	if _, perr := c.List(ctx, "failed"); perr != nil {
		return nil, nil, fmt.Errorf("opening state %s: %w; reaching the running daemon at %s: %w", settings.StatePath,
			err, base, perr)
	}
	return c, func() {}, nil
}

// dialAddress turns a listen address into one to dial: an empty or unspecified host means this machine.
func dialAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func printJSON(w io.Writer, v any, fail func(error) int) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(err)
	}
	return ExitOK
}

// writeItems prints one line per item: key, state, last change, and what it waits for or why it failed.
func writeItems(w io.Writer, items []connector.Item, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATE\tUPDATED\tDETAIL")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Key, it.State, it.Updated.UTC().Format(time.RFC3339), itemDetail(it, now))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d item(s)\n", len(items))
}

func itemDetail(it connector.Item, now time.Time) string {
	switch {
	case it.Failure != nil:
		return fmt.Sprintf("failed in %s: %s", it.Failure.Stage, oneLine(it.Failure.Reason))
	case it.Retry != nil:
		due := "due now"
		if d := it.Retry.Next.Sub(now); d > 0 {
			due = "next try in " + d.Round(time.Second).String()
		}
		return fmt.Sprintf("%s %s, %d tries, %s: %s", it.Retry.Stage, it.Retry.Class, it.Retry.Attempts, due,
			oneLine(it.Retry.LastError))
	case it.Verdict != nil:
		return "verdict " + it.Verdict.Kind.String()
	}
	return ""
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// writeItem prints one item for people: evidence, sightings, verdict, ticket, failure or retry, action log.
func writeItem(w io.Writer, d connector.ItemDetail) {
	it := d.Item
	ev := it.Evidence
	fmt.Fprintf(w, "item %s\n  state      %s (revision %d)\n  created    %s\n  updated    %s\n", it.Key, it.State,
		it.Revision, it.Created.UTC().Format(time.RFC3339), it.Updated.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  hashes     sha256 %s sha1 %s md5 %s\n", orDash(ev.Hashes.SHA256), orDash(ev.Hashes.SHA1),
		orDash(ev.Hashes.MD5))
	fmt.Fprintf(w, "  file       %s (%d bytes) from %s\n", orDash(ev.FileName), ev.Size, orDash(ev.Source))
	fmt.Fprintf(w, "  sightings  %d\n", len(ev.Sightings))
	for _, s := range ev.Sightings {
		fmt.Fprintf(w, "    - %s %s device %s %s\n", orDash(s.Source), orDash(s.Key()), orDash(s.DeviceName),
			orDash(s.DeviceID))
	}
	if v := it.Verdict; v != nil {
		fmt.Fprintf(w, "  verdict    %s score %g severity %d by %s at %s\n", v.Kind, v.Score, v.Severity, orDash(v.Analyzer),
			it.VerdictAt.UTC().Format(time.RFC3339))
		if v.ReportURL != "" {
			fmt.Fprintf(w, "  report     %s\n", v.ReportURL)
		}
	}
	if t := it.Ticket; t != nil {
		fmt.Fprintf(w, "  ticket     %s at %s (%s), %d submission(s)\n", t.ID, orDash(t.Analyzer),
			t.Submitted.UTC().Format(time.RFC3339), it.Submissions)
	}
	if f := it.Failure; f != nil {
		fmt.Fprintf(w, "  failure    in %s at %s: %s\n", f.Stage, f.At.UTC().Format(time.RFC3339), f.Reason)
	}
	if r := it.Retry; r != nil {
		fmt.Fprintf(w, "  retry      %s %s by %s: %d tries since %s, next %s\n  last error %s\n", r.Stage, r.Class,
			orDash(r.Component), r.Attempts, r.Since.UTC().Format(time.RFC3339), r.Next.UTC().Format(time.RFC3339),
			r.LastError)
	}
	fmt.Fprintf(w, "  actions    %d\n", len(d.Actions))
	for _, a := range d.Actions {
		fmt.Fprintf(w, "    - %s %s %s at %s: %s\n", a.Responder, orDash(a.Target), a.Status,
			a.At.UTC().Format(time.RFC3339), a.Detail)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
