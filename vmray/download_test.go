package vmray_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func TestDownloadPasswordFallbackAndErrors(t *testing.T) {
	srv := vmraytest.NewServer(t)
	smp, err := srv.AddSample(vmraytest.Sample{Content: []byte("payload for fallback")})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()

	// A key that may not read the download password falls back to "infected".
	srv.InjectFault(vmraytest.Fault{Path: "/rest/download_password", Status: http.StatusForbidden,
		Body: `{"error_msg":"Permission denied","result":"error"}`})
	f, err := c.Samples.Download(ctx, smp.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(got) != "payload for fallback" {
		t.Fatalf("fallback download %q %v", got, err)
	}
	srv.ClearFaults()

	// Other failures of the password call are returned.
	srv.InjectFault(vmraytest.Fault{Path: "/rest/download_password", Status: http.StatusUnauthorized, Body: `{"error_msg":"Invalid authentication","result":"error"}`, Times: 1})
	if _, err := c.Samples.Download(ctx, smp.ID, nil); !errors.Is(err, vmray.ErrUnauthorized) {
		t.Fatalf("password call 401: %v", err)
	}

	// A body that is not a ZIP is a corrupt archive, reported as an *Error.
	srv.InjectFault(vmraytest.Fault{Path: "/rest/sample/", Status: http.StatusOK, ContentType: "application/zip", Body: "not a zip", Times: 1})
	_, err = c.Samples.Download(ctx, smp.ID, &vmray.DownloadOptions{Password: "x"})
	var ve *vmray.Error
	if !errors.Is(err, zipx.ErrCorrupt) || !errors.As(err, &ve) || ve.Op != "Samples.Download" ||
		ve.Path != "/rest/sample/"+itoa(smp.ID)+"/file" {
		t.Fatalf("corrupt archive: %v (%+v)", err, ve)
	}

	// A sample over MaxBytes is refused while reading.
	big, err := srv.AddSample(vmraytest.Sample{Content: bytes.Repeat([]byte("0123456789abcdef"), 1<<12)})
	if err != nil {
		t.Fatal(err)
	}
	f, err = c.Samples.Download(ctx, big.ID, &vmray.DownloadOptions{MaxBytes: 1024})
	if err == nil {
		_, err = io.ReadAll(f)
		f.Close()
	}
	if !errors.Is(err, zipx.ErrLimitExceeded) {
		t.Fatalf("over MaxBytes: %v", err)
	}

	// An unknown sample is not found.
	if _, err := c.Samples.Download(ctx, 1, &vmray.DownloadOptions{Password: "x"}); !errors.Is(err, vmray.ErrNotFound) {
		t.Fatalf("unknown sample: %v", err)
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func TestPagesOfChildrenAndRelations(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithPageSize(1))
	srv.SetDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Children: []vmraytest.Sample{
		{Content: []byte("child one")}, {Content: []byte("child two")},
	}})
	c := srv.Client()
	ctx := context.Background()
	_, wr, err := c.Submissions.SubmitFileAndWait(ctx, "archive.zip", strings.NewReader("archive"), &vmray.SubmitOptions{MaxRecursiveSamples: new(5)}, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := c.Submissions.ListChildren(ctx, wr.Submission.ID, nil)
	if err != nil || len(kids.Items) != 1 || kids.ContinuationID == "" {
		t.Fatalf("children page %+v %v", kids, err)
	}
	rels, err := c.Samples.ListRelations(ctx, wr.Submission.SampleID, nil)
	if err != nil || len(rels.Items) != 1 || rels.ContinuationID == "" {
		t.Fatalf("relations page %+v %v", rels, err)
	}
	all, err := vmray.Collect(c.Samples.AllRelations(ctx, wr.Submission.SampleID, nil))
	if err != nil || len(all) != 2 || all[0].Relation != "Dropped File" {
		t.Fatalf("relations %+v %v", all, err)
	}
	// max_recursive_samples caps the children.
	srv.SetDefaultOutcome(vmraytest.Outcome{Children: []vmraytest.Sample{{Content: []byte("c3")}, {Content: []byte("c4")}}})
	_, wr, err = c.Submissions.SubmitFileAndWait(ctx, "b.zip", strings.NewReader("other archive"), &vmray.SubmitOptions{MaxRecursiveSamples: new(1)}, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if n := wr.Submission.ConsumedQuota; n != 2 {
		t.Errorf("consumed quota %d, want 2 (one child)", n)
	}
}

func TestIteratorsRefuseBadIDs(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL.Path) })
	ctx := context.Background()
	for name, seqErr := range map[string]error{
		"jobs":      first(c.Jobs.AllBySubmission(ctx, 0, nil)),
		"analyses":  first(c.Analyses.AllBySample(ctx, -1, nil)),
		"children":  first(c.Submissions.AllChildren(ctx, 0, nil)),
		"relations": first(c.Samples.AllRelations(ctx, 0, nil)),
	} {
		if !errors.Is(seqErr, vmray.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, seqErr)
		}
	}
	for name, err := range map[string]error{
		"jobs page":      second(c.Jobs.ListBySample(ctx, 0, nil)),
		"analyses page":  second(c.Analyses.ListBySubmission(ctx, 0, nil)),
		"children page":  second(c.Submissions.ListChildren(ctx, 0, nil)),
		"relations page": second(c.Samples.ListRelations(ctx, 0, nil)),
		"unlock":         second(c.Samples.UnlockReports(ctx, 0)),
		"vtis":           second(c.Samples.VTIs(ctx, 0)),
		"iocs":           second(c.Samples.IOCs(ctx, 0, nil)),
		"report":         second(c.Samples.Report(ctx, 0)),
		"submission":     second(c.Submissions.Get(ctx, 0)),
		"analysis":       second(c.Analyses.Get(ctx, 0)),
		"job":            second(c.Jobs.Get(ctx, 0)),
		"continuation":   second(vmray.Continue[vmray.Job](ctx, c, "..")),
	} {
		if !errors.Is(err, vmray.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func first[T any](seq func(func(T, error) bool)) error {
	var out error
	seq(func(_ T, err error) bool { out = err; return false })
	return out
}

func second[T any](_ T, err error) error { return err }

func TestContinuationIDVariants(t *testing.T) {
	c, mux := setup(t)
	bodies := map[string]string{
		"/rest/job/sample/1": `{"result":"ok","data":[],"continuation_id":"null"}`,
		"/rest/job/sample/2": `{"result":"ok","data":[],"continuation_id":{"x":1}}`,
		"/rest/job/sample/3": `{"result":"ok","data":[]}`,
	}
	for p, b := range bodies {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, b) })
	}
	ctx := context.Background()
	for _, id := range []int64{1, 3} {
		p, err := c.Jobs.ListBySample(ctx, id, nil)
		if err != nil || p.ContinuationID != "" || p.Truncated {
			t.Errorf("sample %d: %+v %v", id, p, err)
		}
	}
	if _, err := c.Jobs.ListBySample(ctx, 2, nil); !errors.Is(err, vmray.ErrMalformedResponse) {
		t.Errorf("object continuation id: %v", err)
	}
}

func TestWaitTimeoutErrorText(t *testing.T) {
	e := &vmray.WaitTimeoutError{SubmissionID: 42, Phase: vmray.PhaseInWork, Waited: 1500 * 1e6}
	if e.Error() != "vmray: submission 42 still inwork after 1.5s" || !errors.Is(e, vmray.ErrWaitTimeout) {
		t.Errorf("%q", e.Error())
	}
	if b := vmray.NewRetryBudget(10, 5, 1); b.Available() != 10 {
		t.Errorf("budget %v", b.Available())
	}
}
