package vendors

import (
	"context"
	"errors"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/vmray"
)

// A client that could not be built is a failed check naming the vendor,
// not a panic on the nil client.
func TestCheckOfAClientThatFailedToBuild(t *testing.T) {
	cause := errors.New("vmray.ca_file: no such file")
	for _, c := range []Check{
		VMRayCheck((*vmray.Client)(nil), cause),
		CarbonBlackCheck((*carbonblack.Client)(nil), cause),
		SentinelOneCheck((*sentinelone.Client)(nil), cause),
		ProofpointCheck((*proofpoint.Client)(nil), cause),
	} {
		if c.Vendor == "" || c.URL != "" {
			t.Errorf("check %+v", c)
		}
		if err := c.Run(context.Background()); !errors.Is(err, cause) {
			t.Errorf("%s: %v", c.Vendor, err)
		}
	}
}
