package vendors

import (
	"context"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/vmray"
)

// Check is one vendor connection to try with its cheapest authenticated
// call, for a connector's -check-config.
type Check struct {
	// Vendor names the connection, for example "vmray".
	Vendor string
	// URL is where the connection points (never carries credentials).
	URL string
	// Call describes the request, for example "GET /rest/system_info".
	Call string
	// Run makes the call; a nil error means the URL, the TLS settings and
	// the credentials work.
	Run func(ctx context.Context) error
}

// failed is a check whose client could not even be built.
func failed(vendor string, err error) Check {
	return Check{Vendor: vendor, Call: "building the client", Run: func(context.Context) error { return err }}
}

// VMRayCheck checks a VMRay client (err is the constructor's) with the
// system information, VMRay's own health check: any API key may read it.
func VMRayCheck(c *vmray.Client, err error) Check {
	if err != nil {
		return failed(VMRaySection, err)
	}
	return Check{Vendor: VMRaySection, URL: c.BaseURL(), Call: "GET /system_info", Run: func(ctx context.Context) error {
		_, err := c.System.Info(ctx)
		return err
	}}
}

// CarbonBlackCheck checks a Carbon Black Cloud client (err is the
// constructor's) by listing the organisation's own feeds: one small answer
// that needs the API ID, the secret and the org key to be right, and the
// org.feeds READ permission both examples need anyway.
func CarbonBlackCheck(c *carbonblack.Client, err error) Check {
	if err != nil {
		return failed(CarbonBlackSection, err)
	}
	return Check{Vendor: CarbonBlackSection, URL: c.BaseURL(), Call: "GET /threathunter/feedmgr/v2/orgs/{org_key}/feeds",
		Run: func(ctx context.Context) error {
			_, err := c.Feeds.List(ctx, false)
			return err
		}}
}

// SentinelOneCheck checks a SentinelOne client (err is the constructor's)
// with the console's version information, which needs a valid token and no
// other permission.
func SentinelOneCheck(c *sentinelone.Client, err error) Check {
	if err != nil {
		return failed("sentinelone", err)
	}
	return Check{Vendor: "sentinelone", URL: c.BaseURL(), Call: "GET /system/info", Run: func(ctx context.Context) error {
		_, err := c.System.Info(ctx)
		return err
	}}
}

// ProofpointCheck checks a Proofpoint TAP client (err is the constructor's)
// with the shortest SIEM window TAP serves (the last minute), which spends one
// request of the SIEM pool.
func ProofpointCheck(c *proofpoint.Client, err error) Check {
	if err != nil {
		return failed("proofpoint", err)
	}
	return Check{Vendor: "proofpoint", URL: c.BaseURL(), Call: "GET /v2/siem/all?sinceSeconds=60", Run: func(ctx context.Context) error {
		_, err := c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{SinceSeconds: 60})
		return err
	}}
}
