package carbonblacktest_test

import (
	"context"
	"fmt"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// Seed a device, let the real client quarantine it, and inspect what it did.
func Example() {
	fake, err := carbonblacktest.New(carbonblacktest.WithTLS())
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10-FINANCE"})

	c := fake.Client()
	if err := c.Devices.Quarantine(context.Background(), true, dev.ID); err != nil {
		panic(err)
	}
	d, _ := fake.Device(dev.ID)
	fmt.Println(d.Name, "quarantined:", d.Quarantined)
	for _, a := range fake.DeviceActions() {
		fmt.Println(a.ActionType, a.DeviceIDs, a.Options["toggle"])
	}
	// Output:
	// WIN10-FINANCE quarantined: true
	// QUARANTINE [1000] ON
}

// Make the next alert search hit a rate limit; the client retries.
func ExampleServer_InjectFault() {
	fake, err := carbonblacktest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	fake.AddAlert(carbonblack.Alert{Type: "WATCHLIST", Severity: 7})
	fake.InjectFault(carbonblacktest.Fault{Path: "/api/alerts/v7/", Times: 1, Status: 429, RetryAfter: "0"})
	page, err := fake.Client().Alerts.Search(context.Background(), carbonblack.AlertSearch{Rows: 10})
	fmt.Println(len(page.Results), err, fake.CountRequests("POST", "/api/alerts/v7/"))
	// Output: 1 <nil> 2
}
