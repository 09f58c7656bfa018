package proofpointtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

// Start a fake TAP, seed a campaign and a URL threat summary, and inject a
// server error the client retries.
func Example() {
	fake, err := proofpointtest.New(proofpointtest.WithTLS())
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	fake.AddCampaign(proofpoint.Campaign{ID: "f3ff0874-85ef-475e-b3fe-d05f97b2ed3f", Name: "DocuSign lures"}, time.Now().Add(-time.Hour))
	fake.AddThreatSummary(proofpoint.ThreatSummary{ID: "985e627c", Name: "Invoice_4821.docm", Category: "malware", SeverityScore: 800})
	fake.InjectFault(proofpointtest.Fault{Path: "/v2/threat/summary/", Status: 503, Times: 1})

	c := fake.Client()
	ctx := context.Background()
	camp, err := c.Campaigns.Get(ctx, "f3ff0874-85ef-475e-b3fe-d05f97b2ed3f")
	if err != nil {
		panic(err)
	}
	sum, err := c.Threats.GetSummary(ctx, "985e627c")
	if err != nil {
		panic(err)
	}
	_, err = c.Campaigns.Get(ctx, "unknown")
	fmt.Println(camp.Name)
	fmt.Println(sum.Name, sum.SeverityScore)
	fmt.Println(errors.Is(err, proofpoint.ErrNotFound))
	fmt.Println(fake.CountRequests("GET", "/v2/threat/summary/"), "summary requests")
	// Output:
	// DocuSign lures
	// Invoice_4821.docm 800
	// true
	// 2 summary requests
}

// Any HTTP client sees TAP's wire format: here, the exact 400 text for a
// window shorter than 30 seconds, which the Go client would have refused
// before sending.
func Example_rawHTTP() {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake, err := proofpointtest.New(proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	req, err := http.NewRequest(http.MethodGet, fake.URL()+"/v2/siem/all?format=json&interval=2024-05-14T10:00:00Z/2024-05-14T10:00:20Z", nil)
	if err != nil {
		panic(err)
	}
	req.SetBasicAuth(proofpointtest.DefaultPrincipal, proofpointtest.DefaultSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))

	_, err = fake.Client().SIEM.List(context.Background(), proofpoint.StreamAll, proofpoint.SIEMOptions{
		Interval: proofpoint.Interval{Start: now.Add(-2 * time.Hour), End: now.Add(-2*time.Hour + 20*time.Second)},
	})
	fmt.Println(errors.Is(err, proofpoint.ErrWindowTooShort), fake.CountRequests("", "/v2/siem/"))
	// Output:
	// 400 The requested interval is too short. Requests must be for at least 30.00s of data
	// true 1
}
