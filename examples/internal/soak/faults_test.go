package soak

import (
	"math"
	"testing"
	"time"
)

// Tried in order, the faults answer rate of the requests, each kind an
// equal share.
func TestFaultShares(t *testing.T) {
	fs, err := faults(0.2, nil, time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != len(FaultKinds) {
		t.Fatalf("%d faults, want one per kind (%d)", len(fs), len(FaultKinds))
	}
	left, total := 1.0, 0.0
	for i, f := range fs {
		share := left * f.Rate
		if math.Abs(share-0.2/6) > 1e-12 {
			t.Errorf("fault %d (%s) takes %.6f of the requests, want %.6f", i, FaultKinds[i], share, 0.2/6)
		}
		total += share
		left -= share
	}
	if math.Abs(total-0.2) > 1e-12 {
		t.Errorf("the faults take %.6f of the requests, want 0.2", total)
	}
	if fs[4].LostAnswer != true || fs[5].DelayedEffect != time.Second || fs[3].Latency != time.Millisecond || !fs[2].Drop ||
		fs[0].Status != 429 || fs[0].RetryAfter == "" || fs[1].Status != 503 {
		t.Errorf("faults = %+v", fs)
	}
	one, err := faults(0.3, []string{"delayed effect"}, 0, time.Second)
	if err != nil || len(one) != 1 || one[0].DelayedEffect != time.Second || one[0].Rate != 0.3 {
		t.Errorf("faults(delayed effect) = %+v, %v", one, err)
	}
	if _, err := faults(0.2, []string{"teapot"}, 0, 0); err == nil {
		t.Error("an unknown kind is accepted")
	}
}

func TestSummaryCounts(t *testing.T) {
	out := "Run summary (2s)\n  collected 9 evidence records: 4 distinct new files, 5 merged\n  failures: 3 dead letters (respond 3), 0 source errors; see them\n" +
		"  pending: 7 items resume on the next run (2 waiting on a backoff or a refused component)\n"
	if p, d, n := summaryCounts(out); p != 7 || d != 3 || n != 4 {
		t.Errorf("summaryCounts = %d pending, %d dead, %d new, want 7, 3, 4", p, d, n)
	}
	if p, d, n := summaryCounts("Run summary (1s)\n  verdicts: none\n"); p != 0 || d != 0 || n != 0 {
		t.Errorf("summaryCounts of a quiet summary = %d, %d, %d", p, d, n)
	}
}
