package carbonblackconn_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// Collect the files of recent alerts, fetch one from the Unified Binary
// Store and ban it.
func Example() {
	fake, err := carbonblacktest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-0042", OS: "WINDOWS"})
	sha, _ := fake.AddBinary(carbonblacktest.Binary{Content: []byte("MZ invoice dropper")})
	fake.AddAlert(carbonblack.Alert{Type: "CB_ANALYTICS", DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name,
		DeviceOS: "WINDOWS", ProcessSHA256: sha, ProcessName: `c:\users\alice\invoice.exe`, ProcessPID: 4242,
		ProcessEffectiveReputation: "NOT_LISTED", BackendTimestamp: carbonblack.Timestamp{Time: time.Now().Add(-time.Hour)}})
	c := fake.Client()
	ctx := context.Background()

	src, err := carbonblackconn.NewAlertSource(c, carbonblackconn.SourceOptions{})
	if err != nil {
		panic(err)
	}
	batch, err := src.Collect(ctx, nil)
	if err != nil {
		panic(err)
	}
	ev := batch.Evidence[0]
	s := ev.Sightings[0]
	fmt.Println(ev.FileName, s.DeviceName, s.OS, s.PID)

	sample, err := src.Fetch(ctx, ev)
	if err != nil {
		panic(err)
	}
	content, _ := io.ReadAll(sample.Body)
	sample.Body.Close()
	fmt.Printf("%q truncated=%v\n", content, sample.Truncated)

	ban, _ := carbonblackconn.NewBan(c, carbonblackconn.BanOptions{})
	f := connector.Finding{Evidence: ev, Verdict: connector.Verdict{Kind: connector.Malicious}}
	for range 2 {
		res, err := ban.Respond(ctx, f)
		fmt.Println(res.Status, err)
	}
	// Output:
	// invoice.exe WS-0042 windows 4242
	// "MZ invoice dropper" truncated=false
	// acted <nil>
	// unchanged <nil>
}
