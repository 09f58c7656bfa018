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
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run starts the world and serves until a signal, or until ready is closed
// by a test (ready receives the world once it is up).
func run(args []string, stdout, stderr io.Writer, ready chan<- *World) int {
	fs := flag.NewFlagSet("fakeworld", flag.ContinueOnError)
	fs.SetOutput(stderr)
	useTLS := fs.Bool("tls", false, "serve HTTPS with a generated CA (written to a file whose path is printed)")
	printEnv := fs.String("print-env", "", "print only the export lines for one example (cbc-vmray, tap-cbc, s1-vmray) and keep serving")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *printEnv != "" && !slices.Contains(exampleNames(), *printEnv) {
		fmt.Fprintf(stderr, "fakeworld: unknown example %q (use %s)\n", *printEnv, strings.Join(exampleNames(), ", "))
		return 2
	}
	w, err := StartWorld(*useTLS, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "fakeworld: %v\n", err)
		return 1
	}
	defer w.Close()
	caFile := ""
	if *useTLS {
		dir, err := os.MkdirTemp("", "fakeworld-")
		if err != nil {
			fmt.Fprintf(stderr, "fakeworld: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		caFile = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, w.CACertPEM(), 0o644); err != nil {
			fmt.Fprintf(stderr, "fakeworld: %v\n", err)
			return 1
		}
	}
	if *printEnv != "" {
		writeExports(stdout, w.Env(*printEnv, caFile))
	} else {
		w.Describe(stdout, caFile)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if ready != nil {
		ready <- w
		close(ready)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "fakeworld: stopping")
	return 0
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

// Describe prints every fake's URL and credentials, and how to run each
// example against them.
func (w *World) Describe(out io.Writer, caFile string) {
	fmt.Fprintln(out, "soarkit fakeworld is serving:")
	fmt.Fprintf(out, "  VMRay Analyzer     %s   Authorization: api_key %s\n", w.VMRay.URL(), vmraytest.DefaultAPIKey)
	fmt.Fprintf(out, "  Carbon Black Cloud %s   X-Auth-Token: %s/%s   org key %s (pre-signed downloads at %s)\n",
		w.CarbonBlack.URL(), w.CarbonBlack.APISecret(), w.CarbonBlack.APIID(), w.CarbonBlack.OrgKey(), w.CarbonBlack.StorageURL())
	fmt.Fprintf(out, "  SentinelOne        %s   Authorization: ApiToken %s\n", w.SentinelOne.URL(), w.SentinelOne.Token())
	fmt.Fprintf(out, "  Proofpoint TAP     %s   HTTP Basic %s / %s\n", w.Proofpoint.URL(), w.Proofpoint.Principal(), w.Proofpoint.Secret())
	fmt.Fprintf(out, "  VMware NSX         %s   HTTP Basic %s / %s\n", w.NSX.URL(), w.NSX.Username(), w.NSX.Password())
	if caFile != "" {
		fmt.Fprintf(out, "  CA certificates    %s\n", caFile)
	}
	for _, name := range exampleNames() {
		fmt.Fprintf(out, "\nRun examples/%s against it (in another shell):\n", name)
		writeExports(out, w.Env(name, caFile))
		fmt.Fprintf(out, "  go run ./examples/%s -once\n", name)
	}
	fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
}

func exampleNames() []string { return []string{"cbc-vmray", "s1-vmray", "tap-cbc"} }

// Env returns the environment that points an example at the world, with
// every response action of that example switched on.
func (w *World) Env(example, caFile string) map[string]string {
	cbc := func(prefix string) map[string]string {
		e := map[string]string{
			prefix + "_CARBONBLACK_URL": w.CarbonBlack.URL(), prefix + "_CARBONBLACK_ORG_KEY": w.CarbonBlack.OrgKey(),
			prefix + "_CARBONBLACK_API_ID": w.CarbonBlack.APIID(), prefix + "_CARBONBLACK_API_SECRET": w.CarbonBlack.APISecret(),
		}
		if caFile != "" {
			e[prefix+"_CARBONBLACK_CA_FILE"] = caFile
		}
		return e
	}
	vm := func(prefix string) map[string]string {
		e := map[string]string{prefix + "_VMRAY_URL": w.VMRay.URL(), prefix + "_VMRAY_API_KEY": vmraytest.DefaultAPIKey}
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
			"TAP_CBC_PROOFPOINT_URL":       w.Proofpoint.URL(),
			"TAP_CBC_PROOFPOINT_PRINCIPAL": w.Proofpoint.Principal(), "TAP_CBC_PROOFPOINT_SECRET": w.Proofpoint.Secret(),
			"TAP_CBC_FEED_REPORT_ENABLED": "true", "TAP_CBC_FEED_REPORT_FEED": "Proofpoint TAP attachments",
			"TAP_CBC_ISOLATE_ENABLED": "true", "TAP_CBC_BAN_ENABLED": "true",
			"TAP_CBC_NSX_ENABLED": "true", "TAP_CBC_NSX_URL": w.NSX.URL(), "TAP_CBC_NSX_USERNAME": w.NSX.Username(),
			"TAP_CBC_NSX_PASSWORD": w.NSX.Password(), "TAP_CBC_NSX_TAG": "soarkit-infected",
		})
		if caFile != "" {
			out["TAP_CBC_PROOFPOINT_CA_FILE"], out["TAP_CBC_NSX_CA_FILE"] = caFile, caFile
		}
	case "s1-vmray":
		merge(vm("S1_VMRAY"), map[string]string{
			"S1_VMRAY_RUN_STATE_PATH":             "fakeworld-s1-vmray.db",
			"S1_VMRAY_SENTINELONE_URL":            w.SentinelOne.URL(),
			"S1_VMRAY_SENTINELONE_API_TOKEN":      w.SentinelOne.Token(),
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
