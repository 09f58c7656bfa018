package vmrayconn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// awaitFile looks a new file up, submits it and awaits its verdict on the fake clock, advancing the clock by every
// RetryLater delay, and returns the VMRay requests it took and the submission checks among them.
func awaitFile(t *testing.T, srv *vmraytest.Server, clock *fakehttp.ManualClock, a *vmrayconn.Analyzer, i int) (calls, checks int) {
	t.Helper()
	ctx := context.Background()
	content := fmt.Appendf(nil, "MZ paced sample %d", i)
	sum := sha256.Sum256(content)
	ev := connector.Evidence{Hashes: connector.Hashes{SHA256: hex.EncodeToString(sum[:])}, FileName: "x.exe"}
	srv.ResetRequests()
	if _, found, err := a.Lookup(ctx, ev); err != nil || found {
		t.Fatalf("lookup of a new file: found %v, %v", found, err)
	}
	tk, err := a.Submit(ctx, ev, connector.Sample{Body: io.NopCloser(bytes.NewReader(content)), Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		v, err := a.Await(ctx, tk)
		if err == nil {
			if v.Kind != connector.Malicious {
				t.Fatalf("verdict %v", v.Kind)
			}
			return len(srv.Requests()), srv.CountRequests("GET", "/rest/submission/")
		}
		d, ok := connector.RetryAfter(err)
		if !ok {
			t.Fatalf("await: %v", err)
		}
		clock.Advance(d)
	}
	t.Fatal("no verdict after 1000 awaits")
	return 0, 0
}

// Await follows VMRay's pace: once a submission has finished, later files are not checked before they are expected
// to be done, so a new file costs at most 8 VMRay calls (lookup, submission, checks, analyses, sample, VTIs, IOCs)
// at any poll setting.
func TestAwaitAdaptsToVMRaysPace(t *testing.T) {
	for _, poll := range []time.Duration{10 * time.Millisecond, time.Second, time.Minute} {
		t.Run(poll.String(), func(t *testing.T) {
			clock := fakehttp.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			// Every analysis takes 90 s of fake time.
			srv := vmraytest.NewServer(t, vmraytest.WithClock(clock), vmraytest.WithTiming(vmraytest.Timing{QueuedFor: 90 * time.Second}),
				vmraytest.WithDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictMalicious}))
			a, err := vmrayconn.New(srv.Client(), vmrayconn.Options{PollInterval: poll, MaxPollInterval: 2 * time.Minute, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			cold, _ := awaitFile(t, srv, clock, a, 0)
			t.Logf("first file (nothing learned yet): %d calls", cold)
			for i := 1; i <= 10; i++ {
				calls, checks := awaitFile(t, srv, clock, a, i)
				if calls > 8 || checks > 2 {
					t.Errorf("file %d: %d VMRay calls with %d submission checks, want at most 8 and 2", i, calls, checks)
				}
			}
		})
	}
}
