// Package ops gives the example connectors their operational surface: a
// Prometheus binding of the pipeline's [connector.Observer] and
// [connector.HealthObserver] (counters, latencies, component health, last
// successful collection), gauges of the state file's items
// ([StateCollector]), per-vendor HTTP metrics fed by the vendor clients'
// request observers ([HTTPMetrics]), and an HTTP server with /metrics,
// /healthz (the process is alive), /readyz ([Health]: 503 with a JSON reason
// while a component is unauthorized or no source collected recently), the
// state API ([API], the operations of [StateOps] over HTTP, with [Client] as
// its caller) and further handlers under their own prefixes ([Mount]: the web
// console).
package ops
