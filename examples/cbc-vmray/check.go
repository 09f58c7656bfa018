package main

import (
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors"
)

// checks are the connections -check-config tries, with the clients the
// connector itself would use.
func checks(c *Config, env runner.Env) []vendors.Check {
	return []vendors.Check{
		vendors.CarbonBlackCheck(cbcClient(&c.CarbonBlack, env)),
		vendors.VMRayCheck(c.VMRay.Client(env.Logger)),
	}
}
