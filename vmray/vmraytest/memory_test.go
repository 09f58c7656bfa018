package vmraytest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// flowFiles runs n distinct files through the fake's handler as the
// cbc-vmray connector does: hash lookup, upload, a poll (with Timing{} the
// submission finishes at once), then the submission's analyses, the sample,
// its IOCs and VTIs.
func flowFiles(t testing.TB, srv *vmraytest.Server, from, n int) {
	t.Helper()
	h := srv.Handler()
	serve := func(method, path, contentType string, body []byte) []byte {
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.Header.Set("Authorization", "api_key "+vmraytest.DefaultAPIKey)
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	for i := from; i < from+n; i++ {
		content := fmt.Appendf(nil, "MZ\x90\x00 fakeworld load file %07d", i)
		serve(http.MethodGet, fmt.Sprintf("/rest/sample/sha256/%064x", i), "", nil)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("sample_file", fmt.Sprintf("f%07d.exe", i))
		_, _ = fw.Write(content)
		_ = mw.WriteField("comment", fmt.Sprintf("Sample from VMRay CarbonBlack Connector [soarkit-ref:%020x]", i))
		_ = mw.WriteField("tags", "CarbonBlackCloud")
		_ = mw.WriteField("user_config", `{"timeout":120}`)
		_ = mw.Close()
		var res struct {
			Data struct {
				Submissions []struct {
					ID       int64 `json:"submission_id"`
					SampleID int64 `json:"submission_sample_id"`
				} `json:"submissions"`
			} `json:"data"`
		}
		if err := json.Unmarshal(serve(http.MethodPost, "/rest/sample/submit", mw.FormDataContentType(), body.Bytes()), &res); err != nil ||
			len(res.Data.Submissions) != 1 {
			t.Fatalf("submit answered %+v, %v", res, err)
		}
		sub := res.Data.Submissions[0]
		subID, smpID := strconv.FormatInt(sub.ID, 10), strconv.FormatInt(sub.SampleID, 10)
		serve(http.MethodGet, "/rest/submission/"+subID, "", nil)
		serve(http.MethodGet, "/rest/analysis/submission/"+subID, "", nil)
		serve(http.MethodGet, "/rest/sample/"+smpID, "", nil)
		serve(http.MethodGet, "/rest/sample/"+smpID+"/iocs", "", nil)
		serve(http.MethodGet, "/rest/sample/"+smpID+"/vtis", "", nil)
	}
}

// liveHeap is the heap in use once the collector has run: twice, so the
// pools' buffers are gone too.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A file run through the fake as the cbc-vmray connector runs it (upload,
// a poll, analyses, sample, IOCs, VTIs) leaves at most 1.5 KB on its heap
// (about 640 bytes; 2.7 KB when records were kept in their wire form), so a
// world of 100,000 files holds about 64 MB. VMRAYTEST_MEMORY_FILES sets the
// number of files (default 600).
func TestRetainedMemoryPerFile(t *testing.T) {
	n := 600
	if v := os.Getenv("VMRAYTEST_MEMORY_FILES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("VMRAYTEST_MEMORY_FILES=%q is not a positive number", v)
		}
	}
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{}), vmraytest.WithDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 90,
		Classifications: []string{"Loader"},
		IOCs:            vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, Domain: "c2.load.example"}}}}))
	srv.SetRecording(vmraytest.Recording{MaxRequests: -1})
	// The first files pay for what every later one shares: encoders, interned names, the default outcome.
	flowFiles(t, srv, 0, 100)
	before := liveHeap()
	flowFiles(t, srv, 100, n)
	after := liveHeap()
	perFile := (float64(after) - float64(before)) / float64(n)
	t.Logf("%d files: %.0f bytes retained per file", n, perFile)
	if perFile > 1536 {
		t.Errorf("the fake retains %.0f bytes per analysed file, want at most 1,536", perFile)
	}
	if got := len(srv.Samples()); got != n+100 {
		t.Errorf("the fake holds %d samples, want %d", got, n+100)
	}
}
