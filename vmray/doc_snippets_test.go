//lint:file-ignore SA4006 the documentation elides error checks between calls

package vmray_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// The code blocks of the package documentation, compiled here so that they
// cannot drift from the API (TestDocSnippetsAreCompiled in the module root
// checks that every line of them appears in this file).

func docGettingStarted(ctx context.Context, apiKey, sha256, name string, file io.Reader) error {
	c, err := vmray.New("https://eu.cloud.vmray.com", apiKey,
		vmray.WithUserAgent("my-connector/1.0"))
	if err != nil {
		return err
	}
	found, err := c.Samples.Lookup(ctx, sha256) // free, [] when unknown
	res, err := c.Submissions.SubmitFile(ctx, name, file, &vmray.SubmitOptions{Tags: []string{"edr"}})
	done, err := c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{InWorkTimeout: 5 * time.Minute})
	smp, err := c.Samples.Get(ctx, done.Submission.SampleID) // smp.Verdict, smp.VTIScore
	iocs, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{Verdict: vmray.VerdictMalicious})
	_, _ = found, iocs
	return err
}

func docTesting(t *testing.T, sha256 string) *vmray.Client {
	srv := vmraytest.NewServer(t)
	srv.SetOutcome(sha256, vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 98})
	c := srv.Client()
	return c
}

var _, _ = docGettingStarted, docTesting
