package carbonblack_test

import (
	"context"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/internal/rest/resttest"
)

const fuzzSecret = "FUZZSECRET0123456789ABCD"

// FuzzListResponse feeds arbitrary bytes to the decoding of Carbon Black
// Cloud's list responses: alert and device searches, process and
// observation search-job results, watchlists and feeds. It must never panic,
// and a failure must be a typed *carbonblack.Error that never shows the API
// secret.
//
//	go test -run '^$' -fuzz FuzzListResponse ./carbonblack/
func FuzzListResponse(f *testing.F) {
	resttest.AddSeeds(f, nil, "alerts_v7_search.json", "devices_search.json",
		"processes_search_job_results.json", "events_by_process_search.json", "watchlist_get.json", "feed_get.json")
	for kind := range uint8(6) {
		f.Add(kind, []byte(`{"results":[{"id":"x","device_id":"not a number","backend_timestamp":"yesterday"}],"num_found":-1}`))
		f.Add(kind, []byte(`{"success":false,"message":"bad key `+fuzzSecret+`","results":null}`))
		f.Add(kind, []byte(`{"results":{},"contacted":2,"completed":1}`))
	}
	canned := &resttest.Canned{}
	c, err := carbonblack.New("https://defense.example", "ORGKEY", "APIID", fuzzSecret,
		carbonblack.WithHTTPClient(canned.Client()), carbonblack.WithRetry(carbonblack.RetryPolicy{Disabled: true}))
	if err != nil {
		f.Fatal(err)
	}
	resttest.FuzzCalls(f, canned, []string{fuzzSecret},
		func(ctx context.Context) error { _, err := c.Alerts.Search(ctx, carbonblack.AlertSearch{}); return err },
		func(ctx context.Context) error {
			_, err := c.Devices.Search(ctx, carbonblack.DeviceSearch{})
			return err
		},
		func(ctx context.Context) error { _, err := c.Processes.Results(ctx, "job-1", 0, 100); return err },
		func(ctx context.Context) error { _, err := c.Observations.Results(ctx, "job-1", 0, 100); return err },
		func(ctx context.Context) error { _, err := c.Watchlists.List(ctx); return err },
		func(ctx context.Context) error { _, err := c.Feeds.List(ctx, true); return err },
	)
}
