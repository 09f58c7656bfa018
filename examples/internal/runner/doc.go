// Package runner is the shared main of the example connectors. An example
// declares an [App]: its name, its configuration type with defaults, how to
// build its sources, analyzer and responders from that configuration, how
// to stand up its demo world, and which vendor connections to check. [Main]
// does the rest the same way for every example: flags (-config, -once,
// -dry-run, -demo, -version, -log-level), configuration from YAML plus
// environment, logging, the bbolt state store (a throw-away snapshot of it in
// a dry run), Prometheus metrics (pipeline counters and, through [Env].HTTP,
// every vendor client's HTTP attempts) with /healthz, /readyz and the state
// API on the example's own port ([DefaultOpsListen]), signal handling with a
// graceful drain, a printed run summary, and the documented exit codes
// ([ExitOK], [ExitFailed] when a component was unauthorized or every source
// failed, [ExitUsage]). The `state` command (list, show, retry, forget) works
// on the state file, or on the running daemon through its ops server.
//
// Two operator commands work on the loaded configuration instead of running:
// -check-config tries each vendor's cheapest authenticated call and prints a
// PASS or FAIL line per vendor ([CheckVendors]), and -print-config prints the
// effective configuration with secrets redacted ([PrintConfig]).
package runner
