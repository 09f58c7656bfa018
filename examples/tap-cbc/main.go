// Command tap-cbc reads the attachments Proofpoint TAP condemned, hunts the
// Carbon Black Cloud processes that ran them, and answers on the endpoints:
// a private feed report, a hash ban, device isolation, a policy move, a Live
// Response kill and delete, a webhook, a command and an NSX tag, each off by
// default and gated by verdicts. Run it with -demo to see the whole flow
// against in-process fakes; see README.md for the configuration.
package main

import (
	"os"

	"github.com/soarkit/soarkit/examples/internal/runner"
)

func main() { os.Exit(runner.Main(app(), os.Args[1:], os.Stdout, os.Stderr)) }
