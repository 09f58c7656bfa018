package main

import (
	"context"

	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/examples/internal/runner"
	"github.com/soarkit/soarkit/examples/internal/vendors"
)

// checks are the connections -check-config tries, with the clients the
// connector itself would use: TAP, Carbon Black Cloud and, when its action
// is enabled, NSX.
func checks(c *Config, env runner.Env) []vendors.Check {
	list := []vendors.Check{
		vendors.ProofpointCheck(tapClient(&c.Proofpoint, env)),
		vendors.CarbonBlackCheck(cbcClient(&c.CarbonBlack, env)),
	}
	if c.NSX.Enabled {
		client, err := nsxClient(&c.NSX, env)
		list = append(list, nsxCheck(c.NSX.URL, client, err))
	}
	return list
}

// nsxCheck reads one VM of the inventory, the read permission the tag
// action needs.
func nsxCheck(url string, client *nsxconn.Client, err error) vendors.Check {
	check := vendors.Check{Vendor: "nsx", URL: url, Call: "GET /api/v1/fabric/virtual-machines?page_size=1"}
	check.Run = func(ctx context.Context) error {
		if err != nil {
			return err
		}
		_, _, err := client.ListVirtualMachinesPage(ctx, nsxconn.ListOptions{PageSize: 1})
		return err
	}
	return check
}
