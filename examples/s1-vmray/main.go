// Command s1-vmray collects the files of SentinelOne threats (and,
// optionally, of Deep Visibility processes), analyses the ones VMRay does not
// know, and answers in SentinelOne: a note on every threat, Threat
// Intelligence indicators, blocklist entries, mitigation of the threats,
// agent actions, and the false-positive verdict for files VMRay finds clean.
// Run it with -demo to see the whole flow against in-process fakes; see
// README.md for the configuration.
package main

import (
	"os"

	"github.com/soarkit/soarkit/examples/internal/runner"
)

func main() { os.Exit(runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr)) }
