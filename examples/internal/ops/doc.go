// Package ops gives the example connectors their operational surface: a
// Prometheus binding of the pipeline's [connector.Observer], per-vendor HTTP
// metrics fed by the vendor clients' request observers ([HTTPMetrics]), and
// an HTTP server with /metrics, /healthz (the process is alive) and /readyz
// (the pipeline has completed a cycle recently and its store is open).
package ops
