package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector/nsxconn/nsxtest"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run starts the world and serves until a signal, or until ready is closed
// by a test (ready receives the service once it is up). With -print-env it
// prints and returns without starting anything.
func run(args []string, stdout, stderr io.Writer, ready chan<- *Service) int {
	fs := flag.NewFlagSet("fakeworld", flag.ContinueOnError)
	fs.SetOutput(stderr)
	useTLS := fs.Bool("tls", false, "serve the vendor fakes over HTTPS with generated CAs (written to a file whose path is printed)")
	printEnv := fs.String("print-env", "", "print the export lines for one example (cbc-vmray, tap-cbc, s1-vmray) and exit; needs fixed ports")
	envFile := fs.String("env-file", "", "once serving, write the export lines of every example to this file")
	basePort := fs.Int("base-port", 0, "listen on fixed ports from this one: control, vmray, carbonblack, sentinelone, proofpoint, nsx")
	items := fs.Int("items", 0, "for load tests: add this many distinct new files (Carbon Black processes and binaries VMRay finds malicious after 1 s), and keep only the last 1,000 requests of each fake without bodies (counts per route stay whole)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiles (net/http/pprof) on this host:port, to profile the fakes under load")
	var listens listFlag
	fs.Var(&listens, "listen", "service=host:port for one service (control, vmray, carbonblack, sentinelone, proofpoint, nsx); repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *items < 0 {
		fmt.Fprintf(stderr, "fakeworld: -items must not be negative, got %d\n", *items)
		return 2
	}
	if *printEnv != "" && !isExample(*printEnv) {
		fmt.Fprintf(stderr, "fakeworld: unknown example %q (use %s)\n", *printEnv, strings.Join(exampleNames(), ", "))
		return 2
	}
	plan, err := parseListen(*basePort, listens)
	if err != nil {
		fmt.Fprintf(stderr, "fakeworld: %v\n", err)
		return 2
	}
	if *printEnv != "" {
		if !plan.stable() {
			fmt.Fprintf(stderr, "fakeworld: %v\n", errNotStable())
			return 2
		}
		if *useTLS {
			fmt.Fprintln(stderr, "fakeworld: -print-env cannot know the CA of a world that is not running; use -env-file with -tls")
			return 2
		}
		writeExports(stdout, envFor(*printEnv, planEndpoints(plan), ""))
		return 0
	}
	if *pprofAddr != "" {
		stopProfiles, err := serveProfiles(*pprofAddr, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "fakeworld: -pprof: %v\n", err)
			return 1
		}
		defer stopProfiles()
	}
	caFile := ""
	if *useTLS {
		dir, err := os.MkdirTemp("", "fakeworld-")
		if err != nil {
			fmt.Fprintf(stderr, "fakeworld: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		caFile = filepath.Join(dir, "ca.pem")
	}
	svc, err := StartService(plan, *useTLS, caFile, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "fakeworld: %v\n", err)
		return 1
	}
	defer svc.Close()
	if *items > 0 {
		// A load world is mostly long-lived records: collecting at 10% growth instead of Go's 100% keeps the
		// process near its live heap (GOGC, when set, decides instead).
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(loadGCPercent)
		}
		if err := svc.SeedLoad(*items); err != nil {
			fmt.Fprintf(stderr, "fakeworld: %v\n", err)
			return 1
		}
	}
	if *envFile != "" {
		if err := writeEnvFile(*envFile, svc.endpoints(), caFile); err != nil {
			fmt.Fprintf(stderr, "fakeworld: %v\n", err)
			return 1
		}
	}
	svc.Describe(stdout, caFile)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if ready != nil {
		ready <- svc
		close(ready)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "fakeworld: stopping")
	return 0
}

// writeEnvFile writes the export lines of every example, each block headed
// by a comment naming the example.
func writeEnvFile(path string, ep endpoints, caFile string) error {
	var b strings.Builder
	for _, n := range exampleNames() {
		fmt.Fprintf(&b, "# examples/%s\n", n)
		writeExports(&b, envFor(n, ep, caFile))
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// CACertPEM returns the CA certificates of the fakes (each fake generates
// its own), concatenated, or nil without TLS.
func (w *World) CACertPEM() []byte {
	var out []byte
	for _, pem := range [][]byte{w.VMRay.CACertPEM(), w.CarbonBlack.CACertPEM(), w.SentinelOne.CACertPEM(),
		w.Proofpoint.CACertPEM(), w.NSX.CACertPEM()} {
		out = append(out, pem...)
	}
	return out
}

// Describe prints every fake's URL and credentials, the control API, and
// how to run each example against them.
func (s *Service) Describe(out io.Writer, caFile string) {
	fmt.Fprintln(out, "soarkit fakeworld is serving:")
	fmt.Fprintf(out, "  VMRay Analyzer     %s   Authorization: api_key %s\n", s.URL("vmray"), vmraytest.DefaultAPIKey)
	fmt.Fprintf(out, "  Carbon Black Cloud %s   X-Auth-Token: %s/%s   org key %s\n",
		s.URL("carbonblack"), carbonblacktest.DefaultAPISecret, carbonblacktest.DefaultAPIID, carbonblacktest.DefaultOrgKey)
	fmt.Fprintf(out, "  SentinelOne        %s   Authorization: ApiToken %s\n", s.URL("sentinelone"), sentinelonetest.DefaultToken)
	fmt.Fprintf(out, "  Proofpoint TAP     %s   HTTP Basic %s / %s\n", s.URL("proofpoint"), proofpointtest.DefaultPrincipal, proofpointtest.DefaultSecret)
	fmt.Fprintf(out, "  VMware NSX         %s   HTTP Basic %s / %s\n", s.URL("nsx"), nsxtest.DefaultUsername, nsxtest.DefaultPassword)
	fmt.Fprintf(out, "  Control API        %s   (seed, read back, reset, faults: see examples/fakeworld/README.md)\n", s.URL("control"))
	if caFile != "" {
		fmt.Fprintf(out, "  CA certificates    %s\n", caFile)
	}
	ep := s.endpoints()
	for _, name := range exampleNames() {
		fmt.Fprintf(out, "\nRun examples/%s against it (in another shell):\n", name)
		writeExports(out, envFor(name, ep, caFile))
		fmt.Fprintf(out, "  go run ./examples/%s -once\n", name)
	}
	fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
}

func exampleNames() []string { return []string{"cbc-vmray", "s1-vmray", "tap-cbc"} }

func isExample(name string) bool { return slices.Contains(exampleNames(), name) }

// endpoints are the base URLs an example is pointed at; the credentials are
// the fakes' defaults, which the world uses.
type endpoints struct {
	VMRay, CarbonBlack, SentinelOne, Proofpoint, NSX string
	// Webhook is the URL of a webhook receiver, "" for none.
	Webhook string
}

// Env returns the environment that points an example at the world's fakes
// directly (not through a Service's stable listeners), with every response
// action of that example switched on except the webhook.
func (w *World) Env(example, caFile string) map[string]string {
	return envFor(example, endpoints{VMRay: w.VMRay.URL(), CarbonBlack: w.CarbonBlack.URL(), SentinelOne: w.SentinelOne.URL(),
		Proofpoint: w.Proofpoint.URL(), NSX: w.NSX.URL()}, caFile)
}

// envFor returns the environment that points an example at ep, with every
// response action of that example switched on.
func envFor(example string, ep endpoints, caFile string) map[string]string {
	cbc := func(prefix string) map[string]string {
		e := map[string]string{
			prefix + "_CARBONBLACK_URL": ep.CarbonBlack, prefix + "_CARBONBLACK_ORG_KEY": carbonblacktest.DefaultOrgKey,
			prefix + "_CARBONBLACK_API_ID": carbonblacktest.DefaultAPIID, prefix + "_CARBONBLACK_API_SECRET": carbonblacktest.DefaultAPISecret,
		}
		if caFile != "" {
			e[prefix+"_CARBONBLACK_CA_FILE"] = caFile
		}
		return e
	}
	vm := func(prefix string) map[string]string {
		e := map[string]string{prefix + "_VMRAY_URL": ep.VMRay, prefix + "_VMRAY_API_KEY": vmraytest.DefaultAPIKey}
		if caFile != "" {
			e[prefix+"_VMRAY_CA_FILE"] = caFile
		}
		return e
	}
	out := map[string]string{}
	merge := func(ms ...map[string]string) {
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
	}
	switch example {
	case "cbc-vmray":
		merge(cbc("CBC_VMRAY"), vm("CBC_VMRAY"), map[string]string{
			"CBC_VMRAY_RUN_STATE_PATH": "fakeworld-cbc-vmray.db", "CBC_VMRAY_SELECTED_VERDICTS": "malicious,suspicious",
			"CBC_VMRAY_BAN_ENABLED": "true", "CBC_VMRAY_QUARANTINE_ENABLED": "true",
			"CBC_VMRAY_RUN_PIPELINE_POLL_INTERVAL": "1s",
		})
	case "tap-cbc":
		merge(cbc("TAP_CBC"), map[string]string{
			"TAP_CBC_RUN_STATE_PATH":       "fakeworld-tap-cbc.db",
			"TAP_CBC_PROOFPOINT_URL":       ep.Proofpoint,
			"TAP_CBC_PROOFPOINT_PRINCIPAL": proofpointtest.DefaultPrincipal, "TAP_CBC_PROOFPOINT_SECRET": proofpointtest.DefaultSecret,
			"TAP_CBC_FEED_REPORT_ENABLED": "true", "TAP_CBC_FEED_REPORT_FEED": "Proofpoint TAP attachments",
			"TAP_CBC_ISOLATE_ENABLED": "true", "TAP_CBC_BAN_ENABLED": "true",
			"TAP_CBC_NSX_ENABLED": "true", "TAP_CBC_NSX_URL": ep.NSX, "TAP_CBC_NSX_USERNAME": nsxtest.DefaultUsername,
			"TAP_CBC_NSX_PASSWORD": nsxtest.DefaultPassword, "TAP_CBC_NSX_TAG": "soarkit-infected",
		})
		if ep.Webhook != "" {
			merge(map[string]string{"TAP_CBC_WEBHOOK_ENABLED": "true", "TAP_CBC_WEBHOOK_URL": ep.Webhook,
				"TAP_CBC_WEBHOOK_SECRET": webhookSecret})
		}
		if caFile != "" {
			out["TAP_CBC_PROOFPOINT_CA_FILE"], out["TAP_CBC_NSX_CA_FILE"] = caFile, caFile
		}
	case "s1-vmray":
		merge(vm("S1_VMRAY"), map[string]string{
			"S1_VMRAY_RUN_STATE_PATH":             "fakeworld-s1-vmray.db",
			"S1_VMRAY_SENTINELONE_URL":            ep.SentinelOne,
			"S1_VMRAY_SENTINELONE_API_TOKEN":      sentinelonetest.DefaultToken,
			"S1_VMRAY_RUN_PIPELINE_POLL_INTERVAL": "1s",
		})
		if caFile != "" {
			out["S1_VMRAY_SENTINELONE_CA_FILE"] = caFile
		}
	}
	return out
}

func writeExports(out io.Writer, env map[string]string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "export %s='%s'\n", k, strings.ReplaceAll(env[k], "'", `'\''`))
	}
}
