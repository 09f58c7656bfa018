package vmray_test

import (
	"context"
	"testing"

	"github.com/soarkit/soarkit/internal/rest/resttest"
	"github.com/soarkit/soarkit/vmray"
)

const fuzzKey = "fuzz-api-key-0123456789abcdef"

// FuzzListPage feeds arbitrary bytes to the decoding of VMRay's list
// responses (the {"result", "data", "continuation_id"} envelope and the
// submission, analysis, job and sample-relation records with their lenient
// time, verdict and score types). It must never panic; a failure must be a
// typed *vmray.Error that never shows the API key.
//
//	go test -run '^$' -fuzz FuzzListPage ./vmray/
func FuzzListPage(f *testing.F) {
	for _, seed := range []string{
		`{"result":"ok","data":[{"submission_id":7,"submission_sample_id":3,"submission_finished":true,` +
			`"submission_verdict":"malicious","submission_severity":"malicious","submission_score":100,` +
			`"submission_created":"2024-05-02T09:16:40","submission_comment":"cbc-vmray attempt 1"}],"continuation_id":12}`,
		`{"result":"ok","data":[{"analysis_id":1,"analysis_verdict":"Suspicious","analysis_vti_score":"55/100",` +
			`"analysis_created":1714641400,"analysis_severity":null}]}`,
		`{"result":"ok","data":[{"job_id":4,"job_status":"queued","job_created":"2024-05-02 09:16:40"}],"continuation_id":"4"}`,
		`{"result":"ok","data":[{"relation_parent_sample_id":1,"relation_child_sample_id":2,"relation_type":"extracted"}]}`,
		`{"result":"error","error_msg":"invalid api_key ` + fuzzKey + `"}`,
		`{"result":"ok","data":{"submission_id":7}}`,
		`{"result":"ok","data":[],"continuation_id":null,"result_truncated":true}`,
		`{"data":[{"submission_score":"n/a","submission_verdict":""}]}`,
	} {
		for kind := range uint8(4) {
			f.Add(kind, []byte(seed))
		}
	}
	canned := &resttest.Canned{}
	c, err := vmray.New("https://vmray.example/", fuzzKey, vmray.WithHTTPClient(canned.Client()),
		vmray.WithRetry(vmray.RetryPolicy{Disabled: true}))
	if err != nil {
		f.Fatal(err)
	}
	resttest.FuzzCalls(f, canned, []string{fuzzKey},
		func(ctx context.Context) error { _, err := c.Submissions.ListPage(ctx, nil); return err },
		func(ctx context.Context) error { _, err := c.Analyses.ListBySubmissionPage(ctx, 7, nil); return err },
		func(ctx context.Context) error { _, err := c.Jobs.ListBySamplePage(ctx, 3, nil); return err },
		func(ctx context.Context) error { _, err := c.Samples.RelationsPage(ctx, 3, nil); return err },
	)
}
