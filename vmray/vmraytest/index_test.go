package vmraytest_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// The by-sample and by-submission lists answer from the fake's indexes what a scan would: a sample submitted twice
// lists both submissions, each submission its own analyses, and unfinished submissions still progress.
func TestIndexedListsMatchTheSubmissions(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{}))
	c := srv.Client()
	ctx := context.Background()
	var subs []*vmray.Submission
	for i := range 40 {
		content := fmt.Appendf(nil, "MZ indexed %d", i%20) // every file twice
		res, err := c.Submissions.SubmitFile(ctx, "x.exe", bytes.NewReader(content), nil)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, res.Submission())
	}
	for _, sub := range subs {
		got, err := c.Submissions.Get(ctx, sub.ID)
		if err != nil || !got.Finished {
			t.Fatalf("submission %d: %+v %v", sub.ID, got, err)
		}
	}
	for i, sub := range subs[:20] {
		twin := subs[i+20]
		if twin.SampleID != sub.SampleID {
			t.Fatalf("the same file got samples %d and %d", sub.SampleID, twin.SampleID)
		}
		var ids []int64
		for s, err := range c.Submissions.AllBySample(ctx, sub.SampleID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		if len(ids) != 2 || ids[0] != sub.ID || ids[1] != twin.ID {
			t.Errorf("sample %d lists submissions %v, want [%d %d]", sub.SampleID, ids, sub.ID, twin.ID)
		}
		for _, s := range []*vmray.Submission{sub, twin} {
			n := 0
			for a, err := range c.Analyses.AllBySubmission(ctx, s.ID, nil) {
				if err != nil {
					t.Fatal(err)
				}
				if a.SubmissionID == nil || *a.SubmissionID != s.ID {
					t.Errorf("submission %d lists analysis %d of submission %v", s.ID, a.ID, a.SubmissionID)
				}
				n++
			}
			if n == 0 {
				t.Errorf("submission %d lists no analysis", s.ID)
			}
		}
	}
}

// allocsPerLookup seeds n samples and returns the allocations and bytes
// allocated of reading one of them the ways a connector does: by hash, its
// submissions, its analyses and its IOCs.
func allocsPerLookup(t *testing.T, n int) (allocs, allocated float64) {
	t.Helper()
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{}))
	srv.SetRecording(vmraytest.Recording{MaxRequests: -1})
	var mid vmray.Sample
	for i := range n {
		smp, err := srv.AddSample(vmraytest.Sample{Filename: "f.exe", Content: fmt.Appendf(nil, "MZ lookup %07d", i),
			Outcome: vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 90}})
		if err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			mid = smp
		}
	}
	paths := []string{"/rest/sample/sha256/" + mid.SHA256, fmt.Sprintf("/rest/submission/sample/%d", mid.ID),
		fmt.Sprintf("/rest/analysis/sample/%d", mid.ID), fmt.Sprintf("/rest/sample/%d/iocs", mid.ID)}
	h := srv.Handler()
	read := func() {
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodGet, p, nil)
			r.Header.Set("Authorization", "api_key "+vmraytest.DefaultAPIKey)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", p, w.Code, w.Body)
			}
		}
	}
	allocs = testing.AllocsPerRun(20, read)
	// The least of three rounds: a collection in a round empties the pools of the HTTP machinery, whose refills
	// would count.
	allocated = math.Inf(1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 20
		for range runs {
			read()
		}
		runtime.ReadMemStats(&after)
		allocated = min(allocated, float64(after.TotalAlloc-before.TotalAlloc)/runs)
	}
	return allocs, allocated
}

// Reading a sample by hash, its submissions, analyses and IOCs allocates
// about the same (allocations within 10%, bytes within 16 KiB) whether it holds
// 20 samples or 5,000: no request looks at every sample, submission or
// analysis (a list of every id alone would be 40 KB).
func TestLookupsDoNotGrowWithTheWorld(t *testing.T) {
	smallAllocs, smallBytes := allocsPerLookup(t, 20)
	largeAllocs, largeBytes := allocsPerLookup(t, 5000)
	if largeAllocs > smallAllocs*1.1 || largeBytes > smallBytes+16<<10 {
		t.Errorf("reading one sample allocates %.0f times and %.0f bytes with 5,000 samples stored, %.0f and %.0f with 20",
			largeAllocs, largeBytes, smallAllocs, smallBytes)
	}
}
