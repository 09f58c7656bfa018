package vmraytest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// submissionsOf counts the fake's submissions of content, read through the
// client (samples by hash, then their submissions).
func submissionsOf(t *testing.T, c *vmray.Client, content string) int {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	samples, err := c.Samples.Lookup(t.Context(), hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, smp := range samples {
		for _, err := range c.Submissions.ListBySample(t.Context(), smp.ID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func TestLostAnswerKeepsTheSubmission(t *testing.T) {
	srv := vmraytest.NewServer(t)
	t.Logf("fault seed %d", srv.FaultSeed())
	c := srv.Client()
	srv.InjectFault(vmraytest.Fault{Method: http.MethodPost, Path: "/rest/sample/submit", LostAnswer: true, Times: 1})
	_, err := c.Submissions.SubmitFile(t.Context(), "lost.exe", strings.NewReader("MZ lost answer"), nil)
	var ve *vmray.Error
	if !errors.As(err, &ve) || ve.StatusCode != 0 {
		t.Fatalf("err = %v, want a transport failure with no status", err)
	}
	if n := srv.CountRequests(http.MethodPost, "/rest/sample/submit"); n != 1 {
		t.Fatalf("%d submit requests, want 1 (a submission is never repeated blindly)", n)
	}
	if n := submissionsOf(t, c, "MZ lost answer"); n != 1 {
		t.Fatalf("fake holds %d submissions, want 1: the lost answer's effect must hold", n)
	}
}

// A submission VMRay takes in, but shows only after the client already looked
// for it: the crash-recovery race of a connector killed while submitting.
func TestDelayedSubmissionShowsUpAfterTheLookup(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	srv.InjectFault(vmraytest.Fault{Method: http.MethodPost, Path: "/rest/sample/submit",
		DelayedEffect: time.Hour, LostAnswer: true, Times: 1})
	if _, err := c.Submissions.SubmitFile(t.Context(), "late.exe", strings.NewReader("MZ late"), nil); err == nil {
		t.Fatal("the client got an answer to a lost submission")
	}
	if n := submissionsOf(t, c, "MZ late"); n != 0 {
		t.Fatalf("look-up before the delay found %d submissions, want 0", n)
	}
	if srv.PendingEffects() != 1 {
		t.Fatalf("pending effects = %d, want 1", srv.PendingEffects())
	}
	srv.ApplyDelayedEffects()
	if n := submissionsOf(t, c, "MZ late"); n != 1 {
		t.Fatalf("look-up after the delay found %d submissions, want 1", n)
	}
}

func TestDelayedSubmissionAnswersAWaitingClient(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	srv.InjectFault(vmraytest.Fault{Method: http.MethodPost, Path: "/rest/sample/submit", DelayedEffect: time.Hour, Times: 1})
	type result struct {
		res *vmray.SubmitResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Submissions.SubmitFile(t.Context(), "slow.exe", strings.NewReader("MZ slow"), nil)
		done <- result{res, err}
	}()
	for srv.PendingEffects() == 0 {
		select {
		case r := <-done:
			t.Fatalf("submission finished before it was applied: %+v", r)
		case <-time.After(time.Millisecond):
		}
	}
	srv.ApplyDelayedEffects()
	r := <-done
	if r.err != nil || r.res.Submission().ID == 0 {
		t.Fatalf("submit: %+v %v", r.res, r.err)
	}
}
