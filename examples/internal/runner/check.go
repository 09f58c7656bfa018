package runner

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/soarkit/soarkit/examples/internal/vendors"
)

// CheckTimeout bounds each vendor check of -check-config, retries included.
const CheckTimeout = 30 * time.Second

// operatorFlags are the operator commands, which work on the loaded and
// validated configuration instead of running the connector.
type operatorFlags struct {
	check *bool
	print *bool
}

func addOperatorFlags(fs *flag.FlagSet) operatorFlags {
	return operatorFlags{
		check: fs.Bool("check-config", false, "validate the configuration, resolve its secrets, try each vendor's cheapest authenticated call, print a PASS or FAIL line per vendor and exit (1 when one fails)"),
		print: fs.Bool("print-config", false, "print the effective configuration (defaults, file and environment) with secrets redacted, and exit"),
	}
}

// operatorCommand runs the requested operator command on cfg, already
// loaded and validated, and reports whether one ran and Main's exit code.
func operatorCommand[C any](ctx context.Context, f operatorFlags, app App[C], cfg *C, env Env, stdout, stderr io.Writer) (code int, done bool) {
	if !*f.check && !*f.print {
		return 0, false
	}
	code = ExitOK
	if *f.print {
		if err := PrintConfig(stdout, cfg); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
			return ExitFailed, true
		}
	}
	if *f.check {
		fmt.Fprintf(stdout, "PASS config: valid, secrets resolved\n")
		var checks []vendors.Check
		if app.Checks != nil {
			checks = app.Checks(cfg, env)
		}
		if !CheckVendors(ctx, checks, stdout) {
			code = ExitFailed
		}
	}
	return code, true
}

// CheckVendors runs each check in turn, bounded by [CheckTimeout], writes
// one PASS or FAIL line per vendor to w and reports whether all passed.
func CheckVendors(ctx context.Context, checks []vendors.Check, w io.Writer) bool {
	ok := true
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
		start := time.Now()
		err := c.Run(cctx)
		cancel()
		target := c.Call
		if c.URL != "" {
			target += " at " + c.URL
		}
		if err != nil {
			ok = false
			fmt.Fprintf(w, "FAIL %s: %s: %v\n", c.Vendor, target, err)
			continue
		}
		fmt.Fprintf(w, "PASS %s: %s (%v)\n", c.Vendor, target, time.Since(start).Round(time.Millisecond))
	}
	return ok
}
