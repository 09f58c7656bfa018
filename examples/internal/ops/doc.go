// Package ops gives the example connectors their operational surface: a
// Prometheus binding of the pipeline's [connector.Observer] and
// [connector.HealthObserver] (counters, latencies, component health, last
// successful collection), per-vendor HTTP metrics fed by the vendor clients'
// request observers ([HTTPMetrics]), gauges of the state file's items
// ([StateCollector]), and an HTTP server with /metrics, /healthz (the process
// is alive), /readyz ([Health]: 503 with a JSON reason while a component is
// unauthorized or no source collected recently) and the state API ([API],
// the operations of [StateOps] over HTTP, with [Client] as its caller).
package ops
