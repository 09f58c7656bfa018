// Command fakeworld serves soarkit's vendor fakes — VMRay Analyzer, Carbon
// Black Cloud, SentinelOne, Proofpoint TAP and VMware NSX — on loopback
// ports, seeded with one consistent demo world, and prints their URLs and
// credentials. Point any tool at them, in any language: the fakes speak the
// vendors' wire formats (envelopes, error bodies, paging) and keep state, so
// a connector's actions show up in later reads.
//
//	go run ./examples/fakeworld          # plain HTTP
//	go run ./examples/fakeworld -tls     # HTTPS; the CA is written to a file and its path printed
//
// It also prints the environment that runs each example connector against
// the world, for example:
//
//	eval "$(go run ./examples/fakeworld -print-env cbc-vmray)" ...
//
// The world: four Windows hosts known to Carbon Black (three of them NSX
// VMs), two SentinelOne agents, a malicious dropper seen on two CBC hosts, as
// two SentinelOne threats and as an attachment TAP condemned for two
// recipients, a suspicious and a clean file, a file VMRay already knows, and
// a file the binary store does not hold. It runs until SIGINT or SIGTERM.
package main
