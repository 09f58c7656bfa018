package carbonblack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// BenchmarkAlertsAllAcrossWindow pages 12,000 alerts through the fake with
// the real 10,000-result window, so one iteration slides the time range once.
func BenchmarkAlertsAllAcrossWindow(b *testing.B) {
	clock := carbonblacktest.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := carbonblacktest.NewServer(b, carbonblacktest.WithClock(clock))
	start := clock.Now().Add(-24 * time.Hour)
	const total = 12_000
	for i := range total {
		fake.AddAlert(carbonblack.Alert{ID: fmt.Sprintf("a%05d", i), Type: "CB_ANALYTICS", Severity: 4, DeviceID: 7,
			BackendTimestamp: carbonblack.Timestamp{Time: start.Add(time.Duration(i) * time.Second)}, ProcessSHA256: strings.Repeat("a", 64)})
	}
	c := fake.Client()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range c.Alerts.All(context.Background(), carbonblack.AlertSearch{Rows: 2500}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != total {
			b.Fatalf("got %d alerts", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/alert")
}

// BenchmarkDecodeProcessPage decodes a 1,000-process results page.
func BenchmarkDecodeProcessPage(b *testing.B) {
	var page struct {
		Results []json.RawMessage `json:"results"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "processes_search_job_results.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString(`{"num_found":1000,"num_available":1000,"contacted":46,"completed":46,"results":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.Write(page.Results[i%len(page.Results)])
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var out carbonblack.JobResults[carbonblack.Process]
		if err := json.Unmarshal(body, &out); err != nil || len(out.Results) != 1000 {
			b.Fatal(err)
		}
	}
}
