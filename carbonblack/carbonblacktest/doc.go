// Package carbonblacktest is an in-process fake of Carbon Black Cloud for
// tests, demos and clients in other languages. It serves the current APIs the
// carbonblack client uses, with the wire details of the service: the
// X-Auth-Token check, org keys in paths, JSON error bodies
// ({"error_code","message"}, {"reason":"query_malformed_syntax"} for bad
// queries), 410 Gone for the APIs retired in 2024, 1-based alert and device
// paging with the 10,000-result window, 0-based job and override paging,
// search, detail and summary jobs that complete after a number of polls
// ([WithJobPolls]) and return 10 rows when rows is absent, jobs that expire
// ([WithJobTTL]), epoch-second watchlist timestamps, null for absent report
// fields, 201 for Live Response creations and 204 for device actions and
// deletes.
//
// Start one with [NewServer] in a test (or [New] elsewhere), seed it through
// Go methods ([Server.AddAlert], [Server.AddDevice], [Server.AddProcess],
// [Server.AddObservation], [Server.AddBinary], [Server.AddPolicy],
// [Server.AddPublicFeed], [Server.AddDeviceProcess], [Server.AddDeviceFile]),
// and use [Server.Client] for the real client wired to it with fast retries
// and polling. Inspect what clients did with [Server.Requests] ([Server.Counts]
// per route; [Server.SetRecording] bounds what is kept, for load tests;
// look-ups by process GUID, parent, hash, alert and observation id, and
// override searches and gets by hash and id, are indexed; processes,
// observations and alerts, watchlist reports and reputation overrides are
// stored compact (shared field names and repeated values, hashes,
// timestamps and ids as bytes, what is derivable not stored) and answered
// byte for byte as they were stored, so a load world's file, its process,
// binary, watchlist report and ban, costs about 1.5 KB),
// [Server.DeviceActions], [Server.Commands], [Server.Reports],
// [Server.Watchlists], [Server.Feed], [Server.Overrides], [Server.Banned],
// [Server.Device], [Server.DeviceProcesses], [Server.DeviceFile] and
// [Server.OpenSessions]; inject faults (429 with Retry-After, 5xx, latency,
// dropped connections, malformed JSON, lost answers, delayed effects; by
// count or by seeded rate, see [Server.FaultSeed]) with [Server.InjectFault]; deny a
// permission with [Server.Deny]; drive time with [WithClock].
//
// The Unified Binary Store serves each binary as a zip whose filedata entry
// holds it, from pre-signed links on a second listener standing for the
// object store: a link refuses any request carrying X-Auth-Token or
// Authorization, expires after expiration_seconds (by the fake's clock), and
// answers S3-style 403 XML errors. Binaries above the truncation threshold
// ([WithTruncation], 25 MiB by default) are stored in part, like UBS. Live
// Response sessions go PENDING to ACTIVE after [WithSessionPolls] polls
// (never, for devices without LIVE_RESPONSE_ENABLED, which disappear after
// the 900-second check-in timeout), and commands complete after
// [WithCommandPolls] polls against a per-device process table, file system
// and registry; file content is served through a 302 to the object store.
//
// # Where the fake differs from the service
//
//   - Search queries support the subset the connectors use: field:value terms
//     with * and ? wildcards and backslash escapes, [a TO b] ranges, bare
//     words, AND, OR, NOT, - and ! negation; parentheses only group (OR binds
//     looser than AND everywhere). Bare words match any field as substrings;
//     a name matches the last component of a path.
//   - Search jobs return no results until they complete (the service may
//     return partial results); the number of shards is fixed at 46, and a kind
//     with no seeded records answers "No data available" with contacted 0.
//   - Alerts without a time filter are searched over the last two weeks; the
//     default sort is backend_timestamp descending; num_found is exact and
//     num_available is capped at the result window.
//   - Device actions take effect at once (the service applies them
//     asynchronously); UPDATE_SENSOR_VERSION only sets sensor_pending_update.
//   - A duplicate reputation override answers 409 (the service's behaviour is
//     undocumented); unknown watchlist ids answer 404 for every method.
//   - A wrong org key with a valid token answers 404.
//   - Watchlist report ids are not checked against existing reports; the
//     alert, tag and IOC-ignore toggles beyond /alert and report ignore are
//     not modelled, nor are alert workflow, notes, facets, the Jobs service,
//     device scroll and export, policy writes, or Live Response uploads,
//     memdump and create process.
//   - Timestamps are produced with millisecond precision.
//   - Live Response statuses are upper case (PENDING, ACTIVE, COMPLETE,
//     ERROR) as the service answers; the service's lower-case variants and
//     an "in progress" command state are never sent. Directory listings give
//     every file the time of the listing (epoch seconds) as its create,
//     access and write time; processes keep the create time they were
//     seeded with.
package carbonblacktest
