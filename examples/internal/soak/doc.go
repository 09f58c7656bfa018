// Package soak is the soak harness of the example connectors: it serves
// each example's vendor fakes in process on loopback, seeds them with many
// files through their Go APIs, answers a share of the requests on every
// route with a fault of every kind (429, 5xx, reset, slow, lost answer,
// delayed effect), builds the example's binary once and drives it through
// SIGKILLs and restarts at random moments, lets it run to the end, and then
// counts from the fakes' own state, per file: files lost (malicious or
// suspicious, with neither a VMRay submission nor any action), files
// submitted to VMRay more than once, and every responder's duplicate,
// missing and unexpected actions (watchlist and feed reports, bans,
// quarantines, policy moves, notes, indicators, blocklist entries, threat
// and agent actions, Live Response commands, webhook deliveries). Webhook
// deliveries repeating an earlier delivery id are allowed and counted apart.
//
// One seed drives the files, their verdicts, the fault draws and the kill
// moments; it is printed, and SeedEnv (SOARKIT_SOAK_SEED) or Options.Seed
// replays a run. The kill moments are times after each start, so a replay
// kills at the same times, not necessarily at the same step of the work.
//
// The package's test runs a short soak of every example (100 files, 20%
// faults, 5 kills) as part of go test; the full run is a command:
//
//	go run ./examples/internal/soak/cmd/soak -items 1000 -faults 0.2 -kills 20
//
// docs/reliability.md records its figures.
package soak
