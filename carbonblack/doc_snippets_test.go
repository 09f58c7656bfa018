package carbonblack_test

import (
	"context"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// The code blocks of the package documentation, compiled here so that they
// cannot drift from the API (TestDocSnippetsAreCompiled in the module root
// checks that every line of them appears in this package's tests; the
// Criteria block is ExampleCriteria).

func docAuthentication(apiID, apiSecret string) (*carbonblack.Client, error) {
	c, err := carbonblack.New("https://defense.conferdeploy.net", "ABCD1234", apiID, apiSecret)
	return c, err
}

func docTesting(t *testing.T, ctx context.Context) error {
	fake := carbonblacktest.NewServer(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
	c := fake.Client()
	err := c.Devices.Quarantine(ctx, true, dev.ID)
	return err
}

var _, _ = docAuthentication, docTesting
