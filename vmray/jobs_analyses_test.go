package vmray_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/vmray"
)

const jobJSON = `{"job_id":3908304,"job_created":"2024-05-27T07:48:11","job_status":"inwork","job_type":"full_analysis",
 "job_sample_id":3902285,"job_submission_id":4569315,"job_vm_id":20,"job_vm_name":"win10_64_th2",
 "job_jobrule_sampletype":"Windows Exe (x86-32)","job_priority":3,"job_quota_type":"regular",
 "job_analyzer_id":1,"job_analyzer_name":"vmray","job_tracking_state":"//running/vm/executing/sample",
 "job_statuschanged":"2024-05-27T07:50:11","job_sample_md5":"m","job_sample_sha1":"s","job_sample_sha256":"h","job_bill_type":"detector"}`

func TestJobs(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/job/3908304", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeOK(t, w, jobJSON)
	})
	mux.HandleFunc("/rest/job/submission/4569315", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, nil)
		writeOK(t, w, "["+jobJSON+"]")
	})
	mux.HandleFunc("/rest/job/sample/3902285", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"_limit": {"5"}})
		writeOK(t, w, "["+jobJSON+"]")
	})
	mux.HandleFunc("/rest/job/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"result":"error","error_msg":"No such element"}`)
	})
	ctx := context.Background()
	got, err := c.Jobs.Get(ctx, 3908304)
	if err != nil {
		t.Fatal(err)
	}
	want := &vmray.Job{ID: 3908304, Created: utc("2024-05-27T07:48:11"), Status: vmray.JobInWork, Type: "full_analysis",
		SampleID: 3902285, SubmissionID: new(int64(4569315)), VMID: new(int64(20)), VMName: new("win10_64_th2"),
		JobruleSampleType: new("Windows Exe (x86-32)"), Priority: 3, AnalyzerID: 1, AnalyzerName: "vmray",
		TrackingState: "//running/vm/executing/sample", StatusChanged: utc("2024-05-27T07:50:11"), SampleMD5: "m",
		SampleSHA1: "s", SampleSHA256: "h", BillType: vmray.BillingDetector}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	jobs, err := vmray.Collect(c.Jobs.ListBySubmission(ctx, 4569315, nil))
	if err != nil || len(jobs) != 1 || jobs[0].ID != 3908304 {
		t.Fatalf("by submission: %+v %v", jobs, err)
	}
	page, err := c.Jobs.ListBySamplePage(ctx, 3902285, &vmray.ListOptions{Limit: 5})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("by sample page: %+v %v", page, err)
	}
	jobs, err = vmray.Collect(c.Jobs.ListBySample(ctx, 3902285, &vmray.ListOptions{Limit: 5}))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("by sample: %+v %v", jobs, err)
	}
	if _, err := c.Jobs.ListBySubmissionPage(ctx, 4569315, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Jobs.Get(ctx, 1)
	var ve *vmray.Error
	if !errors.Is(err, vmray.ErrNotFound) || !errors.As(err, &ve) || ve.Message != "No such element" {
		t.Fatalf("finished job: err = %v", err)
	}
}

const analysisJSON = `{"analysis_id":8961001,"analysis_sample_id":3902285,"analysis_submission_id":4569315,"analysis_submission_ids":[4569315],
 "analysis_job_id":3908304,"analysis_job_started":"2024-05-27T07:48:11","analysis_job_type":"full_analysis","analysis_created":"2024-05-27T07:55:11",
 "analysis_analyzer_id":1,"analysis_analyzer_name":"vmray","analysis_billing_type":"detector","analysis_lock_status":"locked",
 "analysis_result_code":1,"analysis_result_str":"Operation completed successfully","analysis_verdict":"Malicious",
 "analysis_severity":"malicious","analysis_vti_score":95,"analysis_vm_name":"win10_64_th2","analysis_tags":[],"analysis_yara_match_count":0,
 "analysis_priority":3,"analysis_webif_url":null}`

func TestAnalyses(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/analysis/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "analysis_get_minimal.json"))
	})
	mux.HandleFunc("/rest/analysis/8961001", func(w http.ResponseWriter, r *http.Request) { writeOK(t, w, analysisJSON) })
	mux.HandleFunc("/rest/analysis/submission/4569315", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, "["+analysisJSON+`,{"analysis_id":8961002,"analysis_result_code":2,"analysis_result_str":"Sample crashed"}]`)
	})
	mux.HandleFunc("/rest/analysis/sample/3902285", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `[{"analysis_id":7,"analysis_severity":"error"},{"analysis_id":8,"analysis_severity":"malicious"}]`)
	})
	mux.HandleFunc("/rest/analysis", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"_limit": {"1"}})
		writeOK(t, w, "["+analysisJSON+"]")
	})
	ctx := context.Background()
	min, err := c.Analyses.Get(ctx, 1)
	if err != nil || min.BillingType != vmray.BillingDetector {
		t.Fatalf("minimal analysis %+v, %v", min, err)
	}
	a, err := c.Analyses.Get(ctx, 8961001)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != vmray.VerdictMalicious || !a.Locked() || a.Failed() || *a.ResultCode != 1 || a.LockStatus != vmray.LockLocked ||
		a.WebifURL != nil || a.SubmissionIDs[0] != 4569315 || a.Created != utc("2024-05-27T07:55:11") {
		t.Errorf("analysis %+v", a)
	}
	all, err := vmray.Collect(c.Analyses.ListBySubmission(ctx, 4569315, nil))
	if err != nil || len(all) != 2 || all[0].Failed() || !all[1].Failed() {
		t.Fatalf("by submission %+v, %v", all, err)
	}
	if p, err := c.Analyses.ListBySubmissionPage(ctx, 4569315, nil); err != nil || len(p.Items) != 2 {
		t.Fatalf("by submission page %+v, %v", p, err)
	}
	old, err := vmray.Collect(c.Analyses.ListBySample(ctx, 3902285, nil))
	if err != nil || !old[0].Failed() || old[1].Failed() {
		t.Fatalf("old-server analyses %+v, %v", old, err)
	}
	if p, err := c.Analyses.ListBySamplePage(ctx, 3902285, nil); err != nil || len(p.Items) != 2 {
		t.Fatalf("by sample page %+v, %v", p, err)
	}
	if p, err := c.Analyses.ListPage(ctx, &vmray.ListOptions{Limit: 1}); err != nil || len(p.Items) != 1 {
		t.Fatalf("list page %+v, %v", p, err)
	}
}

func TestSystemAndBilling(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/system_info", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		writeOK(t, w, `{"version":"2026.2.1","version_major":2026,"version_minor":2,"version_revision":1,"api_items_per_request":100,
			"max_api_items":10000,"webif_base_url":"https://eu.cloud.vmray.com","webif_alias":"eu","file_param_http_scheme_enabled":false,
			"webif_max_sample_size":1073741824,"webif_max_upload_size":2147483648}`)
	})
	mux.HandleFunc("/rest/download_password", func(w http.ResponseWriter, r *http.Request) { writeOK(t, w, `"infected"`) })
	mux.HandleFunc("/rest/billing_info", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"billing_period":"monthly","detector_quota":100,"detector_remaining":90,"end_date":"2027-01-01",
			"next_plan_start_date":null,"ppu_report_quota_used":0,"ppu_verdict_quota_used":0,"product_plan_name":"Final Verdict",
			"quota":200,"remaining":180,"report_quota":100,"report_remaining":90,"today_date":"2026-11-23","user_email":"a@example.com",
			"user_expiry_date":null,"verdict_quota":100,"verdict_remaining":90}`)
	})
	mux.HandleFunc("/rest/api_key/quota", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"quota_limit":50,"used_quota":60}`)
	})
	ctx := context.Background()
	info, err := c.System.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := &vmray.SystemInfo{Version: "2026.2.1", VersionMajor: 2026, VersionMinor: 2, VersionRevision: 1, APIItemsPerRequest: 100,
		MaxAPIItems: 10000, WebifBaseURL: "https://eu.cloud.vmray.com", WebifAlias: "eu", WebifMaxSampleSize: 1 << 30, WebifMaxUploadSize: 2 << 30}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Error(diff)
	}
	pw, err := c.System.DownloadPassword(ctx)
	if err != nil || pw != "infected" {
		t.Fatalf("password %q, %v", pw, err)
	}
	b, err := c.Billing.Info(ctx)
	if err != nil || b.VerdictRemaining != 90 || b.ProductPlanName != "Final Verdict" || b.NextPlanStartDate != nil || b.EndDate != "2027-01-01" {
		t.Fatalf("billing %+v, %v", b, err)
	}
	q, err := c.Billing.KeyQuota(ctx)
	if err != nil || q.QuotaLimit != 50 || q.Remaining() != 0 {
		t.Fatalf("quota %+v, %v", q, err)
	}
}

// TestMalformedItemSkipped checks that one job with a field of an
// unexpected type never fails its chunk: it is skipped, logged at warning
// with its id, listed in Page.SkippedItems and passed to the skip handler,
// while the iterator goes on through the continuation.
func TestMalformedItemSkipped(t *testing.T) {
	var logs strings.Builder
	var handled []vmray.SkippedItem
	c, mux := setup(t, vmray.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		vmray.WithSkipHandler(func(s vmray.SkippedItem) { handled = append(handled, s) }))
	bad := strings.Replace(jobJSON, `"job_id":3908304`, `"job_id":3908305`, 1)
	bad = strings.Replace(bad, `"job_priority":3`, `"job_priority":{"level":3}`, 1)
	mux.HandleFunc("/rest/job/submission/4569315", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"ok","data":[`+jobJSON+`,`+bad+`],"continuation_id":77}`)
	})
	mux.HandleFunc("/rest/continuation/77", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"ok","data":[`+strings.Replace(jobJSON, `3908304`, `3908306`, 1)+`]}`)
	})
	ctx := context.Background()
	page, err := c.Jobs.ListBySubmissionPage(ctx, 4569315, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || len(page.SkippedItems) != 1 || page.SkippedItems[0].ID != "3908305" ||
		page.SkippedItems[0].Index != 1 || page.ContinuationID != "77" {
		t.Fatalf("page = %+v", page)
	}
	jobs, err := vmray.Collect(c.Jobs.ListBySubmission(ctx, 4569315, nil))
	if err != nil || len(jobs) != 2 || jobs[1].ID != 3908306 {
		t.Fatalf("iterated %+v %v", jobs, err)
	}
	if len(handled) != 2 || strings.Count(logs.String(), "level=WARN") != 2 || !strings.Contains(logs.String(), "id=3908305") {
		t.Errorf("handled %d; logs:\n%s", len(handled), logs.String())
	}
	// A data member that is not a list at all still fails the call.
	mux.HandleFunc("/rest/job/sample/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"result":"ok","data":{"job_id":1}}`)
	})
	if _, err := c.Jobs.ListBySamplePage(ctx, 1, nil); !errors.Is(err, vmray.ErrMalformedResponse) {
		t.Errorf("object data: %v", err)
	}
}
