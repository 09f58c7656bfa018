package vmraytest_test

import (
	"bytes"
	"context"
	"fmt"
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
