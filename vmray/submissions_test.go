package vmray_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/vmray"
)

// submissionJSON is the submission example of the API reference.
const submissionJSON = `{"submission_id":10457293,"submission_sample_id":7623422,"submission_created":"2022-10-14T09:29:51",
 "submission_finished":true,"submission_finish_time":"2022-10-14T09:36:02","submission_status":"success",
 "submission_has_errors":false,"submission_verdict":"malicious","submission_verdict_reason_code":null,
 "submission_verdict_reason_description":null,"submission_score":100,"submission_severity":"malicious",
 "submission_sample_sha256":"ecac12520eaa08addb97ed05c2ac1406d56e58eb422954b704ef5c5516e02397",
 "submission_billing_type":"analyzer","submission_consumed_quota":1,"submission_type":"api","submission_tags":["CarbonBlackCloud"],
 "submission_webif_url":"https://cloud.vmray.com/samples/7623422"}`

func TestSubmissionsGet(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/submission/10457293", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		writeOK(t, w, submissionJSON)
	})
	got, err := c.Submissions.Get(context.Background(), 10457293)
	if err != nil {
		t.Fatal(err)
	}
	score := vmray.Score(100)
	want := &vmray.Submission{ID: 10457293, SampleID: 7623422, Created: utc("2022-10-14T09:29:51"), Finished: true,
		FinishTime: utc("2022-10-14T09:36:02"), Status: vmray.SubmissionSuccess, HasErrors: new(false),
		Verdict: vmray.VerdictMalicious, Score: &score, Severity: vmray.SeverityMalicious,
		SampleSHA256: "ecac12520eaa08addb97ed05c2ac1406d56e58eb422954b704ef5c5516e02397", BillingType: vmray.BillingAnalyzer,
		ConsumedQuota: 1, Type: "api", Tags: []string{"CarbonBlackCloud"}, WebifURL: "https://cloud.vmray.com/samples/7623422"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// readMultipart returns the form fields and the sample_file part of a
// multipart submit request.
func readMultipart(t *testing.T, r *http.Request) (fields url.Values, fileName string, content []byte) {
	t.Helper()
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		t.Fatal(err)
	}
	fields = url.Values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, fileName, content
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.FormName() == "sample_file" {
			fileName, content = p.FileName(), b
			if ct := p.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("file part content type %q", ct)
			}
			continue
		}
		fields.Add(p.FormName(), string(b))
	}
}

func TestSubmissionsSubmitFile(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testAuth(t, r)
		fields, name, content := readMultipart(t, r)
		want := url.Values{
			"comment": {"Sample from VMRay CarbonBlack Connector"}, "tags": {"CarbonBlackCloud,edr"},
			"analyzer_mode": {"reputation_static_dynamic"}, "user_config": {`{"net_scheme_name":"tor","timeout":120}`},
			"analysis_caching": {"disabled"}, "max_jobs": {"3"}, "max_recursive_samples": {"0"}, "archive_password": {"infected"},
			"document_password": {"doc"}, "archive_action": {"separate_samples"}, "sample_type": {"Windows Exe (x86-32)"},
			"shareable": {"false"}, "enable_reputation": {"true"}, "enable_whois": {"false"}, "known_malicious": {"true"},
			"known_benign": {"false"}, "jobrule_entries": {"rule1"},
		}
		if diff := cmp.Diff(want, fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
		if name != "invoice.exe" || string(content) != "MZ\x90\x00payload" {
			t.Errorf("file %q = %q", name, content)
		}
		writeOK(t, w, `{"errors":[],"jobs":[],"static_jobs":[],"reputation_jobs":[],"vt_jobs":[],
			"samples":[{"sample_id":3902285,"sample_sha256hash":"abc","submission_filename":"invoice.exe"}],
			"submissions":[{"submission_id":4569315,"submission_sample_id":3902285,"submission_finished":false,"submission_status":"queued"}]}`)
	})
	res, err := c.Submissions.SubmitFile(context.Background(), `C:\Temp\invoice.exe`, strings.NewReader("MZ\x90\x00payload"), &vmray.SubmitOptions{
		Comment: "Sample from VMRay CarbonBlack Connector", Tags: []string{"CarbonBlackCloud", "edr"},
		AnalyzerMode: vmray.AnalyzerReputationStaticDynamic, UserConfig: &vmray.UserConfig{Timeout: 120, Extra: map[string]any{"net_scheme_name": "tor"}},
		AnalysisCaching: vmray.CachingDisabled, MaxJobs: new(3), MaxRecursiveSamples: new(0), ArchivePassword: "infected",
		DocumentPassword: "doc", ArchiveAction: vmray.ArchiveSeparateSamples, SampleType: "Windows Exe (x86-32)",
		Shareable: new(false), EnableReputation: new(true), EnableWhois: new(false), KnownMalicious: new(true), KnownBenign: new(false),
		JobRuleEntries: "rule1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submission().ID != 4569315 || res.Sample().ID != 3902285 || res.Sample().SubmissionFilename != "invoice.exe" ||
		res.Submission().Status != vmray.SubmissionQueued {
		t.Errorf("result %+v", res)
	}
}

func TestSubmissionsSubmitFileNonASCIIName(t *testing.T) {
	c, mux := setup(t)
	name := "Rechnung_März_€.exe"
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		fields, partName, _ := readMultipart(t, r)
		if partName != "@param=sample_filename_b64enc" {
			t.Errorf("part file name %q", partName)
		}
		got, err := base64.StdEncoding.DecodeString(fields.Get("sample_filename_b64enc"))
		if err != nil || string(got) != name {
			t.Errorf("sample_filename_b64enc decodes to %q (%v)", got, err)
		}
		writeOK(t, w, `{"errors":[],"samples":[{"sample_id":1}],"submissions":[{"submission_id":2}]}`)
	})
	if _, err := c.Submissions.SubmitFile(context.Background(), name, strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
}

func TestSubmissionsSubmitRefusesBadInput(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL.Path) })
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"tag with space": func() error {
			_, err := c.Submissions.SubmitURL(ctx, "http://x.example", &vmray.SubmitOptions{Tags: []string{"a b"}})
			return err
		},
		"tag with comma": func() error {
			_, err := c.Submissions.SubmitFile(ctx, "a", strings.NewReader("x"), &vmray.SubmitOptions{Tags: []string{"a,b"}})
			return err
		},
		"recursion": func() error {
			_, err := c.Submissions.SubmitURL(ctx, "http://x.example", &vmray.SubmitOptions{MaxRecursiveSamples: new(51)})
			return err
		},
		"no name":    func() error { _, err := c.Submissions.SubmitFile(ctx, " ", strings.NewReader("x"), nil); return err },
		"no content": func() error { _, err := c.Submissions.SubmitFile(ctx, "a", nil, nil); return err },
		"no url":     func() error { _, err := c.Submissions.SubmitURL(ctx, "", nil); return err },
	} {
		if err := call(); !errors.Is(err, vmray.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
}

func TestSubmissionsSubmitURL(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testForm(t, r, url.Values{"sample_url": {"www.reddit.com"}, "shareable": {"false"}, "max_jobs": {"3"}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "sample_submit_url.json"))
	})
	res, err := c.Submissions.SubmitURL(context.Background(), "www.reddit.com", &vmray.SubmitOptions{Shareable: new(false), MaxJobs: new(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 3 || res.Jobs[2].Status != vmray.JobQueued || *res.Jobs[2].VMName != "win10_64" ||
		res.Jobs[0].Created != utc("2018-12-03T16:37:00") || *res.Jobs[0].SubmissionID != 2361900 {
		t.Errorf("jobs %+v", res.Jobs)
	}
	if len(res.ReputationJobs) != 1 || res.ReputationJobs[0].ID != 154567 || len(res.WhoisJobs) != 1 || res.WhoisJobs[0].ID != 2880 {
		t.Errorf("reputation/whois jobs %+v %+v", res.ReputationJobs, res.WhoisJobs)
	}
	sub, smp := res.Submission(), res.Sample()
	if sub.ID != 2361900 || sub.Finished || sub.AnalyzerMode != vmray.AnalyzerReputationStaticDynamic || !*sub.EnableWhois ||
		smp.ID != 2118603 || smp.Type != "URL" || *smp.URL != "www.reddit.com" || smp.SubmissionFilename != "www.reddit.com" {
		t.Errorf("submission %+v sample %+v", sub, smp)
	}
}

func TestSubmissionsSubmitRejectedIn200(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "sample_submit_error_200.json"))
	})
	res, err := c.Submissions.SubmitFile(context.Background(), "README.md", strings.NewReader("# readme"), nil)
	if !errors.Is(err, vmray.ErrSubmissionRejected) || !errors.Is(err, vmray.ErrNoJobsCreated) {
		t.Fatalf("err = %v, want ErrSubmissionRejected and ErrNoJobsCreated", err)
	}
	var rej *vmray.RejectedError
	if !errors.As(err, &rej) || rej.Rejections[0].Filename != "README.md" ||
		rej.Rejections[0].Message != "Submission not stored because no jobs were created" {
		t.Errorf("rejection %+v", rej)
	}
	var ve *vmray.Error
	if !errors.As(err, &ve) || ve.StatusCode != http.StatusOK || ve.Op != "Submissions.SubmitFile" || ve.Details[0].Code != "README.md" {
		t.Errorf("error %+v", ve)
	}
	if !strings.Contains(err.Error(), "README.md: Submission not stored because no jobs were created") {
		t.Errorf("message %q does not name the file and reason", err)
	}
	if res == nil || len(res.Errors) != 1 {
		t.Errorf("result %+v", res)
	}
}

func TestSubmissionsSubmitRejectedAsStrings(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"error","data":{"errors":["Quota exceeded"]}}`)
	})
	_, err := c.Submissions.SubmitURL(context.Background(), "http://x.example", nil)
	if !errors.Is(err, vmray.ErrSubmissionRejected) || errors.Is(err, vmray.ErrNoJobsCreated) || !strings.Contains(err.Error(), "Quota exceeded") {
		t.Fatalf("err = %v", err)
	}
}

func TestSubmissionsSubmitNotRetriedAfterBodySent(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/rest/sample/submit", func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, http.StatusBadGateway, `{"result":"error","error_msg":"bad gateway"}`)
	})
	_, err := c.Submissions.SubmitFile(context.Background(), "a.exe", strings.NewReader(strings.Repeat("x", 1<<16)), nil)
	if !errors.Is(err, vmray.ErrServer) || calls != 1 {
		t.Fatalf("err = %v after %d calls; want ErrServer after 1", err, calls)
	}
	calls = 0
	_, err = c.Submissions.SubmitURL(context.Background(), "http://x.example", nil)
	if !errors.Is(err, vmray.ErrServer) || calls != 1 {
		t.Fatalf("URL submit: err = %v after %d calls; want ErrServer after 1", err, calls)
	}
}

func TestSubmissionsLists(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/submission/sample/5", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"_order": {"desc"}, "_min_id": {"3"}})
		writeJSON(w, 200, `{"result":"ok","data":[{"submission_id":9},{"submission_id":8}],"continuation_id":41}`)
	})
	mux.HandleFunc("/rest/continuation/41", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeJSON(w, 200, `{"result":"ok","data":[{"submission_id":7}],"continuation_id":null}`)
	})
	mux.HandleFunc("/rest/submission", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("submission_parent_submission_id") != "":
			testQuery(t, r, url.Values{"submission_parent_submission_id": {"9"}})
			writeOK(t, w, `[{"submission_id":10,"submission_parent_submission_id":9}]`)
		default:
			testQuery(t, r, url.Values{"_last_id": {"100"}, "_limit": {"2"}, "_max_id": {"500"}})
			writeJSON(w, 200, `{"result":"ok","data":[{"submission_id":101}],"truncated":true}`)
		}
	})
	ctx := context.Background()
	var ids []int64
	for s, err := range c.Submissions.AllBySample(ctx, 5, &vmray.ListOptions{Order: "desc", MinID: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff([]int64{9, 8, 7}, ids); diff != "" {
		t.Error(diff)
	}
	page, err := c.Submissions.ListBySample(ctx, 5, &vmray.ListOptions{Order: "desc", MinID: 3})
	if err != nil || page.ContinuationID != "41" || len(page.Items) != 2 {
		t.Fatalf("page %+v, %v", page, err)
	}
	next, err := vmray.Continue[vmray.Submission](ctx, c, page.ContinuationID)
	if err != nil || next.ContinuationID != "" || next.Items[0].ID != 7 {
		t.Fatalf("continued page %+v, %v", next, err)
	}
	kids, err := vmray.Collect(c.Submissions.AllChildren(ctx, 9, nil))
	if err != nil || len(kids) != 1 || *kids[0].ParentSubmissionID != 9 {
		t.Fatalf("children %+v, %v", kids, err)
	}
	feed, err := c.Submissions.List(ctx, &vmray.ListOptions{LastID: 100, Limit: 2, MaxID: 500})
	if err != nil || !feed.Truncated || feed.Items[0].ID != 101 {
		t.Fatalf("feed %+v, %v", feed, err)
	}
	all, err := vmray.Collect(c.Submissions.All(ctx, &vmray.ListOptions{LastID: 100, Limit: 2, MaxID: 500}))
	if err != nil || len(all) != 1 {
		t.Fatalf("list %+v, %v", all, err)
	}
}

func TestContinuationNotRetried(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/rest/analysis/sample/5", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"result":"ok","data":[{"analysis_id":1}],"continuation_id":"77"}`)
	})
	mux.HandleFunc("/rest/continuation/77", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, http.StatusServiceUnavailable, `{"result":"error","error_msg":"busy"}`)
	})
	got, err := vmray.Collect(c.Analyses.AllBySample(context.Background(), 5, nil))
	if !errors.Is(err, vmray.ErrServer) || calls != 1 || len(got) != 1 {
		t.Fatalf("got %d items, err %v after %d continuation calls", len(got), err, calls)
	}
}

func TestRepeatedContinuationStops(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/job/sample/5", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"result":"ok","data":[{"job_id":1}],"continuation_id":5}`)
	})
	mux.HandleFunc("/rest/continuation/5", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"result":"ok","data":[{"job_id":2}],"continuation_id":5}`)
	})
	_, err := vmray.Collect(c.Jobs.AllBySample(context.Background(), 5, nil))
	if !errors.Is(err, vmray.ErrRepeatedCursor) {
		t.Fatalf("err = %v, want ErrRepeatedCursor", err)
	}
}
