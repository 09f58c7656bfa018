package carbonblackconn

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
)

// The watchlist baseline holds every equality IOC of the organisation's watchlists for as long as the process runs,
// so its size per IOC bounds the connector's memory over a long run: 16 bytes of key per value, not the field and
// value text (which cost 2.5 KB per report of 18 IOCs, the largest part of the live heap of a 100,000-file run).
func TestBaselineMemoryPerReport(t *testing.T) {
	const reports, perReport = 2000, 18
	mk := func(i int) *carbonblack.Report {
		sha := fmt.Sprintf("%064x", i)
		var iocs []carbonblack.IOC
		iocs = append(iocs, carbonblack.EqualityIOC("process_hash", sha, fmt.Sprintf("%032x", i)))
		for j := range perReport - 2 {
			iocs = append(iocs, carbonblack.EqualityIOC("netconn_domain", fmt.Sprintf("c2-%d-%d.example-malware-domain.net", i, j)))
		}
		return &carbonblack.Report{ID: fmt.Sprintf("2f01cefb-6b89-5a7a-85b5-%012x", i), Title: "[malicious] VMRAY Report for " + sha,
			IOCsV2: iocs}
	}
	b := &baseline{values: map[iocID]bool{}}
	cache := make(map[string]reportEntry, reports)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range reports {
		r := mk(i) // decoded, read and dropped, as after a watchlist read
		e := entryOf(r)
		if len(e.keys) != perReport || e.sha == "" {
			t.Fatalf("report %d: %d keys, sha %q", i, len(e.keys), e.sha)
		}
		cache[r.ID] = e
		b.add(e)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / reports
	t.Logf("baseline: %d bytes per report of %d IOCs (%d values)", per, perReport, len(b.values))
	if len(b.values) != reports*perReport {
		t.Errorf("%d values in the baseline, want %d", len(b.values), reports*perReport)
	}
	if per > 1400 {
		t.Errorf("the baseline keeps %d bytes per report of %d IOCs, want at most 1,400", per, perReport)
	}
	runtime.KeepAlive(cache)
}
