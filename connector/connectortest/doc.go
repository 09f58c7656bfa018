// Package connectortest holds the conformance suites and the in-memory components for testing connectors.
//
// Conformance suites, to run from the tests of every implementation against its vendor's fake:
//   - TestStore for connector.Store implementations (round trips, atomicity, read-only views, the state index,
//     concurrent updates, retention, deleting an item with its aliases and action log, listing an item's actions,
//     reopen after close);
//   - TestSource for connector.Source and connector.Fetcher implementations (valid evidence, checkpoints that make
//     progress, ended contexts, samples that are the evidence's own bytes, permanent errors for unknown files);
//   - TestResponder for connector.Responder implementations (idempotence, ended contexts, findings without the
//     fields the responder needs).
//
// In-memory components for engine tests and examples: Source (a scripted source that can also deliver files,
// including truncated ones), Analyzer (lookups, streamed submissions, analyses that take Latency, TicketFinder) and
// Responder (records every effect per target). Each takes a *Faults that injects transient errors before or after
// the effect, panics and delays, from a seeded random source.
package connectortest
