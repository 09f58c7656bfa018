// Command fakeworld serves soarkit's vendor fakes — VMRay Analyzer, Carbon
// Black Cloud, SentinelOne, Proofpoint TAP and VMware NSX — on loopback
// ports, seeded with one consistent demo world, and prints their URLs and
// credentials. Point any tool at them, in any language: the fakes speak the
// vendors' wire formats (envelopes, error bodies, paging) and keep state, so
// a connector's actions show up in later reads.
//
//	go run ./examples/fakeworld                   # free ports, plain HTTP
//	go run ./examples/fakeworld -tls              # HTTPS; the CA is written to a file and its path printed
//	go run ./examples/fakeworld -base-port 18000  # control 18000, VMRay 18001, CBC 18002, S1 18003, TAP 18004, NSX 18005
//
// -listen service=host:port sets one service's address. It prints the
// environment that runs each example connector against the world; with
// fixed ports -print-env prints one example's without starting anything:
//
//	eval "$(go run ./examples/fakeworld -base-port 18000 -print-env cbc-vmray)"
//
// and -env-file writes every example's once the world runs. -items N adds N
// new files for load tests (see World.SeedLoad); -pprof host:port serves Go's
// profiles, to see what the fakes hold under load.
//
// An HTTP control API on its own port seeds files, alerts, devices,
// threats, agents, messages, clicks and samples; reads back what clients did
// (submissions, unlocks, reports, bans, notes, blocklist entries, IOCs,
// device and threat actions, Live Response commands, webhook calls, every
// request); injects faults; and resets the world behind the same ports.
// README.md documents every call with curl examples.
//
// The world: four Windows hosts known to Carbon Black (three of them NSX
// VMs), two SentinelOne agents, a malicious dropper seen on two CBC hosts, as
// two SentinelOne threats and as an attachment TAP delivered to two
// recipients, a suspicious file as an attachment TAP blocked, a clean file,
// a file VMRay already knows (its IOCs fill every IOC list), older clean
// analyses (VMRay serves two items per page, so lists use continuation
// paging), a file the binary store does not hold, an observation for every
// Carbon Black alert and a Deep Visibility process event for every
// SentinelOne threat. It runs until SIGINT or SIGTERM.
package main
