package main

import (
	"context"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// A load world holds the files asked for, spread so that no search job returns more than 10,000, and its fakes
// keep a bounded number of requests while counting all of them.
func TestSeedLoad(t *testing.T) {
	now := time.Now()
	w, err := StartWorld(false, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	const n = 1500
	if err := w.SeedLoad(n, now); err != nil {
		t.Fatal(err)
	}
	c := w.CarbonBlack.Client()
	ctx := context.Background()
	q := carbonblack.JobRequest{Query: "device_name:LOAD*", TimeRange: &carbonblack.TimeRange{Start: now.Add(-2 * time.Hour), End: now}}
	found := 0
	for _, err := range c.Processes.AllSearchResults(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		found++
	}
	if found != n {
		t.Errorf("the process search found %d load files, want %d", found, n)
	}
	for range 1200 {
		if _, err := w.VMRay.Client().System.Info(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if kept, counted := len(w.VMRay.Requests()), w.VMRay.Counts()["GET /rest/system_info"]; kept > 1000 || counted != 1200 {
		t.Errorf("VMRay kept %d requests and counted %d; want at most 1000 and 1200", kept, counted)
	}
}
