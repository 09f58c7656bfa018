package vmraytest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// A seeded sample is found by any of its hashes.
func ExampleServer_AddSample() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	_, err = srv.AddSample(vmraytest.Sample{
		SHA256:  strings.Repeat("ab", 32),
		Outcome: vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 90, Classifications: []string{"Ransomware"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	found, err := srv.Client().Samples.Lookup(context.Background(), strings.Repeat("AB", 32))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found[0].Verdict, found[0].Classifications)
	// Output: malicious [Ransomware]
}

// Submissions progress as they are polled: queued, in progress, finished.
func ExampleWithTiming() {
	srv, err := vmraytest.New(vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 2}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	res, err := c.Submissions.SubmitURL(ctx, "http://example.com/", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Submission().Status)
	for {
		sub, err := c.Submissions.Get(ctx, res.Submission().ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(sub.Status)
		if sub.Finished {
			break
		}
	}
	// Output:
	// queued
	// in_progress
	// in_progress
	// success
}

// Faults make the fake answer like a struggling service; the client retries
// 429 after Retry-After.
func ExampleServer_InjectFault() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Status: http.StatusTooManyRequests,
		RetryAfter: "0", Body: vmraytest.ThrottledBody, Times: 1})
	c := srv.Client(vmray.WithRetry(vmray.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}))
	info, err := c.System.Info(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Version, "after", srv.CountRequests("GET", "/rest/system_info"), "requests")
	// Output: 2026.2.1 after 2 requests
}
