package runner_test

import (
	"os"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/runner"
)

func ExampleWriteSummary() {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	runner.WriteSummary(os.Stdout, connector.Summary{
		Started: start, Finished: start.Add(1500 * time.Millisecond),
		Collected: 12, New: 4, Deduped: 8, LookedUp: 4, Known: 1, Fetched: 3, Submitted: 3, Analysed: 3,
		Verdicts: map[connector.Kind]int{connector.Malicious: 2, connector.Clean: 2},
		Actions:  map[string]connector.ActionCounts{"watchlist": {Acted: 2}},
		Failures: map[connector.Stage]int{connector.StageFetch: 1},
		Pending:  2, Waiting: 2,
		Components: map[string]connector.ComponentStatus{
			"vmray": {Kind: connector.KindAnalyzer, Healthy: false, Reason: "vmray: 401 Unauthorized"},
		},
	})
	// Output:
	// Run summary (1.5s)
	//   collected 12 evidence records: 4 distinct new files, 8 merged into known files, 0 rejected
	//   analysis: 4 lookups (1 known), 0 cache hits, 3 fetched, 3 submitted, 3 awaited
	//   verdicts: malicious 2, clean 2
	//   action watchlist                    acted 2, unchanged 0, skipped 0, done before 0, failed 0
	//   failures: 1 dead letters (fetch 1), 0 source errors; see them with "state list -state failed"
	//   pending: 2 items resume on the next run (2 waiting on a backoff or a refused component)
	//   UNHEALTHY: analyzer vmray: vmray: 401 Unauthorized
}
