// Package fakehttp is the plumbing shared by soarkit's vendor fakes
// (vmraytest, carbonblacktest, sentinelonetest, proofpointtest and the NSX
// fake): a [Middleware] that records every request and injects faults, a
// [Server] that serves a handler on 127.0.0.1 over HTTP or over TLS with a
// freshly generated certificate authority, an injectable [Clock], and small
// JSON response helpers.
//
// The Middleware counts every request per route ([Middleware.Counts]) and
// keeps a bounded number of them with capped bodies ([Recording]: by default
// the newest 100,000 with the first MiB of each body), so a fake under load
// holds a fixed amount of memory for what it saw.
//
// Nothing here needs a testing.TB, so the fakes can also run inside a
// standalone binary (examples/fakeworld) for tools written in other languages.
package fakehttp
