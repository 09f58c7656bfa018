package runner

import "strconv"

// opsPorts are the examples' default ops ports, one each, so that all of
// them run side by side on one host.
var opsPorts = map[string]int{"cbc-vmray": 9464, "s1-vmray": 9465, "tap-cbc": 9466}

// DefaultOpsPort is the first ops port, the default of a connector not in
// the examples' table.
const DefaultOpsPort = 9464

// DefaultOpsListen returns the loopback address of the ops endpoints of the
// example named name: its own port (9464 cbc-vmray, 9465 s1-vmray, 9466
// tap-cbc), [DefaultOpsPort] for other names.
func DefaultOpsListen(name string) string {
	port, ok := opsPorts[name]
	if !ok {
		port = DefaultOpsPort
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}
