// Package soarkit connects endpoint and email security platforms to the VMRay
// Analyzer malware sandbox. It holds no code of its own; this page is the map
// of the module.
//
// # Vendor clients
//
// Each client is a typed layer over one shared HTTP engine, usable on its own
// in any Go program, with a stateful fake for tests:
//
//   - [github.com/soarkit/soarkit/vmray] and [github.com/soarkit/soarkit/vmray/vmraytest]:
//     VMRay Analyzer (samples, submissions, analyses, VTIs, IOCs).
//   - [github.com/soarkit/soarkit/carbonblack] and [github.com/soarkit/soarkit/carbonblack/carbonblacktest]:
//     VMware Carbon Black Cloud (alerts v7, search jobs, Unified Binary Store,
//     watchlists, feeds, reputation overrides, devices, Live Response).
//   - [github.com/soarkit/soarkit/sentinelone] and [github.com/soarkit/soarkit/sentinelone/sentinelonetest]:
//     SentinelOne Management API v2.1 (threats, agents, file retrieval, Deep
//     Visibility, blocklist, threat intelligence).
//   - [github.com/soarkit/soarkit/proofpoint] and [github.com/soarkit/soarkit/proofpoint/proofpointtest]:
//     Proofpoint TAP (SIEM, forensics, campaigns, people, URL decode).
//
// # Connector framework
//
// [github.com/soarkit/soarkit/connector] defines Source, Analyzer and Responder
// and a pipeline engine with bounded concurrency, persisted state, one
// analysis per hash, idempotent actions and graceful shutdown. Its stores are
// [github.com/soarkit/soarkit/connector/memstore] and
// [github.com/soarkit/soarkit/connector/boltstore]; test helpers and
// conformance suites live in [github.com/soarkit/soarkit/connector/connectortest].
//
// Adapters bind each vendor client to those contracts:
// [github.com/soarkit/soarkit/connector/vmrayconn] (the analyzer),
// [github.com/soarkit/soarkit/connector/carbonblackconn],
// [github.com/soarkit/soarkit/connector/sentineloneconn],
// [github.com/soarkit/soarkit/connector/proofpointconn] and
// [github.com/soarkit/soarkit/connector/nsxconn] (sources, fetchers and
// responders).
//
// # Example connectors
//
// examples/cbc-vmray, examples/s1-vmray and examples/tap-cbc are the three
// documented integrations as production binaries (YAML plus environment
// configuration, bbolt state, Prometheus metrics, graceful shutdown); each
// runs end to end against the fakes with -demo. examples/fakeworld serves
// every fake on loopback ports.
//
// # Internals
//
// internal/rest is the HTTP engine (retries, rate limits, typed errors,
// streaming bodies), internal/zipx reads the password-protected zips vendors
// hand out, and internal/fakehttp is the plumbing shared by the fakes.
package soarkit
