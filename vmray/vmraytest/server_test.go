package vmraytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// call sends a raw request to the fake and returns status and body.
func call(t *testing.T, srv *vmraytest.Server, method, path, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "api_key "+vmraytest.DefaultAPIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, srv *vmraytest.Server, path string) (int, string) {
	t.Helper()
	return call(t, srv, http.MethodGet, path, "", nil)
}

func TestAuthAndErrorBodies(t *testing.T) {
	srv := vmraytest.NewServer(t)
	for _, auth := range []string{"", "api_key wrong", "Bearer " + vmraytest.DefaultAPIKey, vmraytest.DefaultAPIKey} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/rest/system_info", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || string(b) != `{"error_msg":"Invalid authentication","result":"error"}` {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, b)
		}
	}
	for _, path := range []string{"/rest/sample/999", "/rest/submission/1", "/rest/job/1", "/rest/analysis/1", "/rest/continuation/1", "/rest/nope", "/rest/sample/abc"} {
		if code, body := get(t, srv, path); code != http.StatusNotFound || body != `{"error_msg":"No such element","result":"error"}` {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	if code, body := get(t, srv, "/rest/sample/sha256/"+strings.Repeat("a", 64)); code != 200 || body != `{"data":[],"result":"ok"}` {
		t.Errorf("unknown hash: %d %s", code, body)
	}
	if code, _ := get(t, srv, "/rest/sample/md5/xyz"); code != http.StatusBadRequest {
		t.Errorf("bad hash: %d", code)
	}
	if code, body := get(t, srv, "/rest/submission?_order=sideways"); code != http.StatusBadRequest || !strings.Contains(body, `"result":"error"`) {
		t.Errorf("bad order: %d %s", code, body)
	}
}

// multipartSubmit builds a submit body with fields and an optional file.
func multipartSubmit(t *testing.T, fields map[string]string, fileName string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if content != nil {
		fw, err := mw.CreateFormFile("sample_file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &b
}

func TestSubmitWireShape(t *testing.T) {
	srv := vmraytest.NewServer(t)
	ct, body := multipartSubmit(t, map[string]string{
		"comment": "from python", "tags": "a,b", "shareable": "True", "max_recursive_samples": "2",
		"sample_filename_b64enc": "w7xiZXIuZXhl", // "über.exe"
	}, "@param=sample_filename_b64enc", []byte("MZ python upload"))
	code, resp := call(t, srv, http.MethodPost, "/rest/sample/submit?analyzer_mode=static_dynamic", ct, body)
	if code != 200 {
		t.Fatalf("%d %s", code, resp)
	}
	var env struct {
		Result string
		Data   map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(resp), &env); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"errors", "jobs", "static_jobs", "reputation_jobs", "vt_jobs", "samples", "submissions"} {
		if _, ok := env.Data[k]; !ok {
			t.Errorf("data.%s missing", k)
		}
	}
	if strings.Contains(resp, "continuation_id") {
		t.Error("continuation_id present on a non-list answer")
	}
	var subs []vmray.Submission
	_ = json.Unmarshal(env.Data["submissions"], &subs)
	s := subs[0]
	if s.Filename != "über.exe" || *s.Comment != "from python" || strings.Join(s.Tags, ",") != "a,b" || !s.Shareable ||
		*s.MaxRecursiveSamples != 2 || s.AnalyzerMode != vmray.AnalyzerStaticDynamic || s.Finished || s.Status != vmray.SubmissionQueued {
		t.Errorf("submission %+v", s)
	}
	if !strings.Contains(string(env.Data["submissions"]), `"submission_verdict":null`) || !strings.Contains(string(env.Data["samples"]), `"sample_verdict":null`) {
		t.Error("verdicts of an unfinished submission are not null")
	}
	// URL submission, urlencoded, with the parameters in the query string.
	code, resp = call(t, srv, http.MethodPost, "/rest/sample/submit?sample_url=www.example.com&max_jobs=3", "application/x-www-form-urlencoded", strings.NewReader("comment=url"))
	if code != 200 || !strings.Contains(resp, `"sample_type":"URL"`) || strings.Count(resp, `"job_id"`) != 3 {
		t.Errorf("URL submit: %d %s", code, resp)
	}
	for name, q := range map[string]string{
		"neither":   "",
		"bad mode":  "?sample_url=x.example&analyzer_mode=turbo",
		"bad bool":  "?sample_url=x.example&shareable=maybe",
		"bad count": "?sample_url=x.example&max_recursive_samples=99",
		"bad json":  "?sample_url=x.example&user_config=%7Bnope",
	} {
		if code, body := call(t, srv, http.MethodPost, "/rest/sample/submit"+q, "application/x-www-form-urlencoded", strings.NewReader("")); code != http.StatusBadRequest ||
			!strings.Contains(body, `"result":"error"`) {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
}

func TestLegacyCachingBody(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithAPIKey(vmraytest.APIKey{Key: vmraytest.DefaultAPIKey, AnalysisCaching: vmray.CachingLegacy}))
	if _, err := srv.AddSample(vmraytest.Sample{Content: []byte("known")}); err != nil {
		t.Fatal(err)
	}
	ct, body := multipartSubmit(t, nil, "README.md", []byte("known"))
	code, resp := call(t, srv, http.MethodPost, "/rest/sample/submit", ct, body)
	want := `{"data":{"errors":[{"submission_filename":"README.md","error_msg":"Submission not stored because no jobs were created"}],` +
		`"jobs":[],"static_jobs":[],"reputation_jobs":[],"vt_jobs":[],"whois_jobs":[],"md_jobs":[],"samples":[],"submissions":[]},"result":"ok"}`
	if code != 200 || resp != want {
		t.Errorf("%d\n got %s\nwant %s", code, resp, want)
	}
}

func TestStateMachineWithClock(t *testing.T) {
	clock := vmraytest.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := vmraytest.NewServer(t, vmraytest.WithClock(clock), vmraytest.WithTiming(vmraytest.Timing{QueuedFor: time.Minute, InWorkFor: 2 * time.Minute}))
	c := srv.Client()
	ctx := context.Background()
	res, err := c.Submissions.SubmitURL(ctx, "http://clock.example/", nil)
	if err != nil {
		t.Fatal(err)
	}
	id, jobID := res.Submission().ID, res.Jobs[0].ID
	status := func() (vmray.SubmissionStatus, vmray.JobStatus) {
		t.Helper()
		sub, err := c.Submissions.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.Jobs.Get(ctx, jobID)
		if errors.Is(err, vmray.ErrNotFound) {
			return sub.Status, ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return sub.Status, j.Status
	}
	for range 3 {
		if s, j := status(); s != vmray.SubmissionQueued || j != vmray.JobQueued {
			t.Fatalf("before a minute: %s %s", s, j)
		}
	}
	clock.Advance(time.Minute)
	if s, j := status(); s != vmray.SubmissionInProgress || j != vmray.JobInWork {
		t.Fatalf("after a minute: %s %s", s, j)
	}
	clock.Advance(119 * time.Second)
	if s, _ := status(); s != vmray.SubmissionInProgress {
		t.Fatalf("before the work time: %s", s)
	}
	clock.Advance(time.Second)
	if s, j := status(); s != vmray.SubmissionSuccess || j != "" {
		t.Fatalf("finished: %s %q (job must be gone)", s, j)
	}
	sub, _ := c.Submissions.Get(ctx, id)
	if sub.FinishTime.Time != time.Date(2026, 3, 1, 12, 3, 0, 0, time.UTC) || sub.Created.Time != time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) {
		t.Errorf("times %v %v", sub.Created, sub.FinishTime)
	}
}

func TestUnfinishedReadsAndIOCFilters(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithUnfinishedReads(1))
	smp, err := srv.AddSample(vmraytest.Sample{SHA256: strings.Repeat("ab", 32), Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious,
		VTIs:    []vmray.ThreatIndicator{{Category: "Network", Operation: "Connects to C2", Score: 5}},
		IOCs: vmray.IOCs{
			IPs:     []vmray.IPIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, IPAddress: "198.51.100.1"}},
			Domains: []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictClean}, Domain: "ok.example"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()
	v, err := c.Samples.VTIs(ctx, smp.ID)
	if err != nil || v.Finished() || len(v.ThreatIndicators) != 0 {
		t.Fatalf("first read %+v %v", v, err)
	}
	v, err = c.Samples.VTIs(ctx, smp.ID)
	if err != nil || !v.Finished() || v.ThreatIndicators[0].Score != 5 {
		t.Fatalf("second read %+v %v", v, err)
	}
	base := "/rest/sample/" + jsonInt(smp.ID) + "/iocs"
	_, _ = get(t, srv, base) // the unfinished read
	for path, want := range map[string][2]int{
		base + "?ioc_type=ips":                          {1, 0},
		base + "?ioc_verdict=malicious":                 {1, 0},
		base + "/verdict/clean":                         {0, 1},
		base + "/type/domains/verdict/malicious":        {0, 0},
		base + "/type/domains":                          {0, 1},
		base + "?ioc_verdict=malicious&ioc_type=ips":    {1, 0},
		base + "/severity/malicious?all_artifacts=true": {1, 0},
		base + "/severity/not_suspicious":               {0, 1},
	} {
		code, body := get(t, srv, path)
		var env struct {
			Data vmray.IOCResult `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &env); code != 200 || err != nil {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if got := [2]int{len(env.Data.IOCs.IPs), len(env.Data.IOCs.Domains)}; got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
		if strings.Contains(body, `"files":null`) {
			t.Errorf("%s: empty lists must be [] not null", path)
		}
	}
	if code, _ := get(t, srv, base+"/type/bogus"); code != http.StatusNotFound {
		t.Errorf("bogus IOC type: %d", code)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestZipCryptoArchive(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := bytes.Repeat([]byte("sample data 0123456789 "), 5000)
	smp, err := srv.AddSample(vmraytest.Sample{Content: content})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, srv, "/rest/sample/"+jsonInt(smp.ID)+"/file")
	if code != 200 {
		t.Fatalf("%d", code)
	}
	zr, err := zipx.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.SingleFile()
	if err != nil || f.Encryption != zipx.EncryptionZipCrypto || f.Name != smp.SHA256 {
		t.Fatalf("entry %+v %v", f, err)
	}
	rc, err := f.OpenWithPassword("infected")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("decrypted %d bytes, %v", len(got), err)
	}
	if rc, err := f.OpenWithPassword("wrong"); err == nil {
		_, err = io.ReadAll(rc)
		if !errors.Is(err, zipx.ErrWrongPassword) {
			t.Errorf("wrong password read: %v", err)
		}
	} else if !errors.Is(err, zipx.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	seeded, _ := srv.AddSample(vmraytest.Sample{SHA256: strings.Repeat("c", 64)})
	if code, _ := get(t, srv, "/rest/sample/"+jsonInt(seeded.ID)+"/file"); code != http.StatusNotFound {
		t.Errorf("file of a hash-only sample: %d", code)
	}
}

func TestContinuationWire(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithPageSize(1))
	for i := range 3 {
		if _, err := srv.AddSample(vmraytest.Sample{Content: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := get(t, srv, "/rest/analysis")
	var env struct {
		Data           []vmray.Analysis `json:"data"`
		ContinuationID *int64           `json:"continuation_id"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || len(env.Data) != 1 || env.ContinuationID == nil {
		t.Fatalf("%s %v", body, err)
	}
	cont := "/rest/continuation/" + jsonInt(*env.ContinuationID)
	if code, body := get(t, srv, cont); code != 200 || !strings.Contains(body, `"continuation_id":`) {
		t.Fatalf("second chunk %d %s", code, body)
	}
	if code, _ := get(t, srv, cont); code != http.StatusNotFound {
		t.Errorf("continuation reused: %d", code)
	}
	if _, body := get(t, srv, "/rest/analysis?_limit=1"); strings.Contains(body, "continuation_id") {
		t.Errorf("limited list continues: %s", body)
	}
	if _, body := get(t, srv, "/rest/system_info"); !strings.Contains(body, `"api_items_per_request":1`) {
		t.Errorf("system info %s", body)
	}
}

func TestSeedingValidation(t *testing.T) {
	srv := vmraytest.NewServer(t)
	for _, s := range []vmraytest.Sample{{}, {SHA256: "short"}, {SHA256: strings.Repeat("g", 64)}, {SHA256: strings.Repeat("a", 64), MD5: "x"}} {
		if _, err := srv.AddSample(s); err == nil {
			t.Errorf("AddSample(%+v) accepted", s)
		}
	}
	for _, k := range []vmraytest.APIKey{{}, {Key: "a b"}, {Key: "k", BillingType: "other"}} {
		if err := srv.AddAPIKey(k); err == nil {
			t.Errorf("AddAPIKey(%+v) accepted", k)
		}
	}
	if _, err := vmraytest.New(vmraytest.WithPageSize(-1)); err == nil {
		t.Error("negative page size accepted")
	}
	smp, err := srv.AddSample(vmraytest.Sample{SHA256: strings.Repeat("A", 64), Outcome: vmraytest.Outcome{Verdict: vmray.VerdictSuspicious,
		Children: []vmraytest.Sample{{SHA256: strings.Repeat("b", 64)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.SampleByHash(smp.MD5); !ok || got.ID != smp.ID || got.SHA256 != strings.Repeat("a", 64) || len(got.ChildSampleIDs) != 1 {
		t.Errorf("by md5: %+v %v", got, ok)
	}
	if n := len(srv.Samples()); n != 2 {
		t.Errorf("%d samples", n)
	}
	if n := len(srv.SubmissionsFor(strings.Repeat("b", 64))); n != 1 {
		t.Errorf("%d child submissions", n)
	}
}

func TestHandlerMountAndConcurrency(t *testing.T) {
	srv := vmraytest.NewServer(t)
	outer := httptest.NewServer(srv.Handler())
	defer outer.Close()
	c, err := vmray.New(outer.URL, vmraytest.DefaultAPIKey, vmray.WithHTTPClient(outer.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, _, err := c.Submissions.SubmitFileAndWait(ctx, "f.bin", bytes.NewReader([]byte{byte(i), 1, 2}), nil,
				vmray.WaitOptions{Interval: time.Millisecond, MaxInterval: time.Millisecond})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(srv.Samples()); n != 8 {
		t.Errorf("%d samples", n)
	}
	if n := srv.CountRequests(http.MethodPost, "/rest/sample/submit"); n != 8 {
		t.Errorf("%d submits recorded", n)
	}
	b, err := c.Billing.Info(ctx)
	if err != nil || b.ReportRemaining != b.ReportQuota-8 {
		t.Errorf("billing %+v %v", b, err)
	}
}

func TestRateLimit(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithRateLimit(1, 2))
	codes := map[int]int{}
	var last *http.Response
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/rest/system_info", nil)
		req.Header.Set("Authorization", "api_key "+vmraytest.DefaultAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && string(b) != vmraytest.ThrottledBody {
			t.Errorf("429 body %s", b)
		}
		last = resp
	}
	if codes[200] != 2 || codes[429] != 2 || last.Header.Get("Retry-After") != "1" {
		t.Errorf("codes %v, Retry-After %q", codes, last.Header.Get("Retry-After"))
	}
	c := srv.Client(vmray.WithRetry(vmray.RetryPolicy{Disabled: true}))
	_, err := c.System.Info(context.Background())
	var ve *vmray.Error
	if !errors.Is(err, vmray.ErrRateLimited) || !errors.As(err, &ve) || ve.RetryAfter != time.Second {
		t.Errorf("client err %v", err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	srv := vmraytest.NewServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/sample/submit?sample_url=x.example", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unauthenticated submit: %d", resp.StatusCode)
	}
	if code, _ := call(t, srv, http.MethodPost, "/rest/sample/submit?sample_url=x.example", "application/json", strings.NewReader("{}")); code != http.StatusBadRequest {
		t.Errorf("JSON body: %d", code)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for range 2 {
		fw, _ := mw.CreateFormFile("sample_file", "a.exe")
		_, _ = fw.Write([]byte("x"))
	}
	mw.Close()
	if code, body := call(t, srv, http.MethodPost, "/rest/sample/submit", mw.FormDataContentType(), &b); code != http.StatusBadRequest || !strings.Contains(body, "Only one sample_file") {
		t.Errorf("two files: %d %s", code, body)
	}
	ct, body := multipartSubmit(t, map[string]string{"sample_url": "x.example"}, "a.exe", []byte("x"))
	if code, _ := call(t, srv, http.MethodPost, "/rest/sample/submit", ct, body); code != http.StatusBadRequest {
		t.Errorf("file and URL: %d", code)
	}
	ct, body = multipartSubmit(t, map[string]string{"comment": strings.Repeat("x", 70<<10)}, "a.exe", []byte("x"))
	if code, _ := call(t, srv, http.MethodPost, "/rest/sample/submit", ct, body); code != http.StatusBadRequest {
		t.Errorf("oversized field: %d", code)
	}
	if n := len(srv.Samples()); n != 0 {
		t.Errorf("%d samples created by refused submissions", n)
	}
}

func TestStaticModeAndDefaultOutcome(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{}))
	srv.SetDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 40})
	c := srv.Client()
	ctx := context.Background()
	res, err := c.Submissions.SubmitFile(ctx, "doc.pdf", strings.NewReader("%PDF"), &vmray.SubmitOptions{AnalyzerMode: vmray.AnalyzerReputationStatic, MaxJobs: new(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 0 || len(res.StaticJobs) != 1 || res.StaticJobs[0].Type != "only_static_analysis" {
		t.Fatalf("jobs %+v static %+v", res.Jobs, res.StaticJobs)
	}
	sub, err := c.Submissions.Get(ctx, res.Submission().ID)
	if err != nil || !sub.Finished || sub.Verdict != vmray.VerdictSuspicious || sub.Severity != vmray.SeveritySuspicious {
		t.Fatalf("submission %+v %v", sub, err)
	}
}

func TestSubmissionFeed(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1 << 30}))
	if _, err := srv.AddSample(vmraytest.Sample{Content: []byte("finished one")}); err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()
	if _, err := c.Submissions.SubmitURL(ctx, "http://pending.example/", nil); err != nil {
		t.Fatal(err)
	}
	all, err := vmray.Collect(c.Submissions.List(ctx, nil))
	if err != nil || len(all) != 2 {
		t.Fatalf("all %d %v", len(all), err)
	}
	feed, err := vmray.Collect(c.Submissions.List(ctx, &vmray.ListOptions{LastID: 1}))
	if err != nil || len(feed) != 1 || !feed[0].Finished {
		t.Fatalf("feed %+v %v", feed, err)
	}
	none, err := vmray.Collect(c.Submissions.List(ctx, &vmray.ListOptions{LastID: feed[0].ID}))
	if err != nil || len(none) != 0 {
		t.Fatalf("feed after last %+v %v", none, err)
	}
}

// TestIOCListsAreArrays checks the wire form VMRay's own client and both
// original connectors rely on: every list of every IOC is an array, and
// "type", "ioc_type", "ioc" and "severity" are filled, even for IOCs seeded
// with only their value.
func TestIOCListsAreArrays(t *testing.T) {
	srv := vmraytest.NewServer(t)
	smp, err := srv.AddSample(vmraytest.Sample{SHA256: strings.Repeat("cd", 32), Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious,
		IOCs: vmray.IOCs{
			Files:          []vmray.FileIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, Filename: "a.exe"}},
			Filenames:      []vmray.FilenameIOC{{Filename: "a.exe"}},
			Mutexes:        []vmray.MutexIOC{{MutexName: "m"}},
			Registry:       []vmray.RegistryIOC{{RegKeyName: `HKCU\x`}},
			IPs:            []vmray.IPIOC{{IPAddress: "198.51.100.1"}},
			URLs:           []vmray.URLIOC{{URL: "http://evil.example/"}},
			Domains:        []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictSuspicious}, Domain: "evil.example"}},
			EmailAddresses: []vmray.EmailAddressIOC{{EmailAddress: "a@evil.example"}},
			Emails:         []vmray.EmailIOC{{Subject: "hi"}},
			Processes:      []vmray.ProcessIOC{{CmdLine: "a.exe"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, srv, "/rest/sample/"+jsonInt(smp.ID)+"/iocs")
	var env struct {
		Data struct {
			IOCs map[string][]map[string]any `json:"iocs"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &env); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	lists := []string{"analysis_ids", "filenames", "hashes", "operations", "categories", "classifications",
		"threat_names", "vtis", "relations", "parent_files", "parent_processes", "parent_processes_names",
		"parent_processes_ids", "resource_url", "reg_key_value_types", "original_urls", "methods", "user_agents",
		"referrers", "content_types", "ip_addresses", "countries", "country_codes", "sources", "original_domains",
		"protocols", "domains", "subjects", "recipients", "attachment_types", "process_names", "image_names"}
	wantType := map[string]string{"files": "file", "filenames": "filename", "mutexes": "mutex", "registry": "registry",
		"ips": "ip", "urls": "url", "domains": "domain", "email_addresses": "email_address", "emails": "email",
		"processes": "process"}
	for list, typ := range wantType {
		items := env.Data.IOCs[list]
		if len(items) != 1 {
			t.Fatalf("%s: %d items", list, len(items))
		}
		it := items[0]
		for _, k := range lists {
			if v, present := it[k]; present {
				if _, isList := v.([]any); !isList {
					t.Errorf("%s.%s = %#v, want an array", list, k, v)
				}
			}
		}
		if it["ioc_type"] != typ || it["type"] != typ+"_artifact" || it["ioc"] != true {
			t.Errorf("%s: ioc_type %v type %v ioc %v", list, it["ioc_type"], it["type"], it["ioc"])
		}
		if s, _ := it["severity"].(string); s == "" {
			t.Errorf("%s: severity %v", list, it["severity"])
		}
	}
	for list, want := range map[string]any{"files": "malicious", "domains": "suspicious", "ips": "not_suspicious"} {
		if got := env.Data.IOCs[list][0]["severity"]; got != want {
			t.Errorf("%s severity %v, want %v", list, got, want)
		}
	}
	if got := env.Data.IOCs["files"][0]["numeric_severity"]; got != float64(4) {
		t.Errorf("numeric_severity %v", got)
	}
	// The typed client reads the same answer.
	res, err := srv.Client().Samples.IOCs(context.Background(), smp.ID, nil)
	if err != nil || res.IOCs.Len() != 10 || res.IOCs.Files[0].Classifications == nil {
		t.Fatalf("client: %+v %v", res, err)
	}
}
