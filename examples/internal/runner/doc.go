// Package runner is the shared main of the example connectors. An example
// declares an [App]: its name, its configuration type with defaults, how to
// build its sources, analyzer and responders from that configuration, and how
// to stand up its demo world. [Main] does the rest the same way for every
// example: flags (-config, -once, -dry-run, -demo, -version, -log-level),
// configuration from YAML plus environment, logging, the bbolt state store,
// Prometheus metrics with /healthz and /readyz, signal handling with a
// graceful drain, and a printed run summary.
package runner
