// Command cbc-vmray collects files from Carbon Black Cloud (alerts, process
// and observation searches), analyses the unknown ones in VMRay, and answers
// in Carbon Black: watchlist reports with VMRay's indicators, hash bans and
// device quarantine. Run it with -demo to see the whole flow against
// in-process fakes; see README.md for the configuration.
package main

import (
	"os"

	"github.com/soarkit/soarkit/examples/internal/runner"
)

func main() { os.Exit(runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr)) }
