// Package fakehttp is the plumbing shared by soarkit's vendor fakes
// (vmraytest, carbonblacktest, sentinelonetest, proofpointtest and the NSX
// fake): a [Middleware] that records every request and injects faults, a
// [Server] that serves a handler on 127.0.0.1 over HTTP or over TLS with a
// freshly generated certificate authority, an injectable [Clock], and small
// JSON response helpers.
//
// A [Fault] applies per route (method and path prefix), for a number of
// requests (Times) or to a seeded fraction of them (Rate; the seed comes from
// SOARKIT_FAULT_SEED or is drawn at random, and [Middleware.FaultSeed]
// reports it). Besides statuses, latency, dropped connections and malformed
// bodies it models the two faults that make retries dangerous: a lost answer
// (the handler acts, then the connection is reset) and a delayed effect (the
// request is accepted and applied later, whether or not the client is still
// connected; [Middleware.ApplyDelayedEffects] lands it on demand).
//
// The Middleware counts every request per route ([Middleware.Counts]) and
// keeps a bounded number of them with capped bodies ([Recording]: by default
// the newest 100,000 with the first MiB of each body), so a fake under load
// holds a fixed amount of memory for what it saw.
//
// Nothing here needs a testing.TB, so the fakes can also run inside a
// standalone binary (examples/fakeworld) for tools written in other languages.
package fakehttp
