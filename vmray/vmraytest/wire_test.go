package vmraytest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire.golden from the fake's answers")

// transcript records the fake's answers to a scripted session, with the
// server's URL replaced so the text is the same on every run.
type transcript struct {
	t   *testing.T
	srv *vmraytest.Server
	out strings.Builder
}

func (tr *transcript) send(key, method, path, contentType string, body []byte) string {
	tr.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Authorization", "api_key "+key)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	tr.srv.Handler().ServeHTTP(w, r)
	got := strings.ReplaceAll(w.Body.String(), tr.srv.URL(), "http://vmray.test")
	if w.Header().Get("Content-Type") == "application/zip" {
		got = unzipped(tr.t, w.Body.Bytes(), w.Header())
	}
	fmt.Fprintf(&tr.out, "%s %s\n%d %s\n%s\n\n", method, path, w.Code, w.Header().Get("Content-Type"), got)
	return w.Body.String()
}

func (tr *transcript) get(path string) string {
	tr.t.Helper()
	return tr.send(vmraytest.DefaultAPIKey, http.MethodGet, path, "", nil)
}

// unzipped describes a sample archive: ZipCrypto draws its header at random,
// so the archive's bytes differ on every download.
func unzipped(t *testing.T, b []byte, h http.Header) string {
	t.Helper()
	zr, err := zipx.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.SingleFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"infected", "pw"} {
		if rc, err := f.OpenWithPassword(pw); err == nil {
			content, err := io.ReadAll(rc)
			if err == nil {
				return fmt.Sprintf("%s %s %d bytes, entry %s %v %v %s %q", h.Get("Content-Disposition"), h.Get("Content-Length"), len(b),
					f.Name, f.Encryption, f.Modified.UTC(), pw, content)
			}
		}
	}
	t.Fatal("no password opens the archive")
	return ""
}

// value records a Go value the fake returned, as JSON with each timestamp's zone.
func (tr *transcript) value(name string, v any) {
	tr.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tr.t.Fatal(err)
	}
	fmt.Fprintf(&tr.out, "%s\n%s\n\n", name, strings.ReplaceAll(string(b), tr.srv.URL(), "http://vmray.test"))
}

func (tr *transcript) submit(key string, fields map[string]string, name string, content []byte) map[string]any {
	tr.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.SetBoundary("wireboundary"); err != nil {
		tr.t.Fatal(err)
	}
	for _, k := range []string{"sample_url", "comment", "tags", "shareable", "max_jobs", "max_recursive_samples", "analyzer_mode",
		"analysis_caching", "archive_action", "sample_type", "sample_filename_b64enc", "user_config"} {
		if v, ok := fields[k]; ok {
			_ = mw.WriteField(k, v)
		}
	}
	if content != nil {
		fw, _ := mw.CreateFormFile("sample_file", name)
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	var res struct {
		Data struct {
			Submissions []map[string]any `json:"submissions"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(tr.send(key, http.MethodPost, "/rest/sample/submit", mw.FormDataContentType(), body.Bytes())), &res)
	if len(res.Data.Submissions) == 0 {
		return nil
	}
	return res.Data.Submissions[0]
}

// The fake's answers to a session that touches every route and every kind
// of record are the ones in testdata/wire.golden, byte for byte: the way the
// fake stores its records is not visible on the wire.
func TestWireTranscript(t *testing.T) {
	clock := vmraytest.NewManualClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	srv := vmraytest.NewServer(t, vmraytest.WithClock(clock), vmraytest.WithPageSize(2),
		vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1, InWorkFor: time.Second}),
		vmraytest.WithAPIKey(vmraytest.APIKey{Key: vmraytest.DefaultAPIKey}),
		vmraytest.WithAPIKey(vmraytest.APIKey{Key: "detector-key", BillingType: vmray.BillingDetector, AnalysisCaching: vmray.CachingLegacy}),
		vmraytest.WithSampleStoreLimit(64))
	srv.SetRecording(vmraytest.Recording{MaxRequests: -1})
	tr := &transcript{t: t, srv: srv}
	full := vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 95, Classifications: []string{"Dropper", "Ransomware"},
		ThreatNames: []string{"Emotet"},
		VTIs:        []vmray.ThreatIndicator{{Category: "Heuristics", Operation: "Drops a file", Score: 4, Classifications: []string{"Dropper"}}},
		MitreTechniques: []vmray.MitreTechnique{{TechniqueID: "T1055", Technique: "Process Injection",
			ThreatIndicators: []vmray.ThreatIndicator{{Category: "Injection", Operation: "Writes into another process", Score: 5}}}},
		IOCs: vmray.IOCs{
			Domains:   []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, Domain: "c2.example"}},
			IPs:       []vmray.IPIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictSuspicious}, IPAddress: "192.0.2.7"}},
			Filenames: []vmray.FilenameIOC{{Filename: `C:\drop.exe`}},
		},
		Children: []vmraytest.Sample{{Filename: "child.dll", Content: []byte("MZ child"), Outcome: vmraytest.Outcome{
			Verdict: vmray.VerdictSuspicious, Score: 60, Classifications: []string{"Injector"}, ThreatNames: []string{"Inj"}}}},
	}
	seeded, err := srv.AddSample(vmraytest.Sample{Filename: "seed.exe", Content: []byte("MZ seeded"), Outcome: full})
	if err != nil {
		t.Fatal(err)
	}
	tr.value("AddSample", seeded)
	byHash, err := srv.AddSample(vmraytest.Sample{SHA256: strings.Repeat("ab", 32), Type: "PDF Document", Locked: true,
		Outcome: vmraytest.Outcome{FailAnalysis: "Analysis failed: VM crashed"}})
	if err != nil {
		t.Fatal(err)
	}
	tr.value("AddSample locked", byHash)
	srv.SetOutcome(strings.Repeat("cd", 32), vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 50})
	for _, id := range []int64{seeded.ID, byHash.ID} {
		p := fmt.Sprintf("/rest/sample/%d", id)
		for _, sub := range []string{"", "/vtis", "/threat_indicators", "/iocs", "/iocs/type/domain", "/iocs/verdict/malicious",
			"/iocs?all_artifacts=true&ioc_severity=suspicious", "/threat_names", "/classifications", "/mitre_attack", "/file",
			"/file?encryption_password=pw", "/report", "/nope"} {
			tr.get(p + sub)
		}
		tr.get(fmt.Sprintf("/rest/sample_relation/sample/%d", id))
		tr.get(fmt.Sprintf("/rest/submission/sample/%d", id))
		tr.get(fmt.Sprintf("/rest/analysis/sample/%d", id))
		tr.get(fmt.Sprintf("/rest/job/sample/%d", id))
	}
	tr.send("detector-key", http.MethodGet, fmt.Sprintf("/rest/sample/%d/report", byHash.ID), "", nil)
	tr.send("detector-key", http.MethodPost, fmt.Sprintf("/rest/sample/%d/unlock_reports", byHash.ID), "", nil)
	tr.send("detector-key", http.MethodPost, fmt.Sprintf("/rest/sample/%d/unlock_reports", byHash.ID), "", nil)
	tr.send("detector-key", http.MethodGet, fmt.Sprintf("/rest/sample/%d/report", byHash.ID), "", nil)
	for _, kind := range []string{"md5", "sha1", "sha256"} {
		var h string
		switch kind {
		case "md5":
			h = seeded.MD5
		case "sha1":
			h = byHash.SHA1
		default:
			h = strings.ToUpper(seeded.SHA256)
		}
		tr.get("/rest/sample/" + kind + "/" + h)
	}
	tr.get("/rest/sample/md5/" + seeded.SHA1[:32])

	var subs []map[string]any
	subs = append(subs, tr.submit(vmraytest.DefaultAPIKey, map[string]string{"comment": "first", "tags": "a, b", "shareable": "true",
		"max_jobs": "3", "sample_type": "Windows DLL"}, "first.exe", []byte("MZ first")))
	subs = append(subs, tr.submit(vmraytest.DefaultAPIKey, map[string]string{"analyzer_mode": "static", "analysis_caching": "disabled",
		"archive_action": "compound_sample"}, "cd.exe", []byte("MZ second")))
	subs = append(subs, tr.submit(vmraytest.DefaultAPIKey, map[string]string{"sample_url": "https://evil.example/x", "max_recursive_samples": "0"}, "", nil))
	subs = append(subs, tr.submit(vmraytest.DefaultAPIKey, map[string]string{"sample_filename_b64enc": base64.StdEncoding.EncodeToString([]byte("ünï.exe")),
		"user_config": `{"a":1}`}, "ignored.exe", bytes.Repeat([]byte("big "), 40)))
	subs = append(subs, tr.submit("detector-key", nil, "again.exe", []byte("MZ seeded")))
	subs = append(subs, tr.submit("detector-key", nil, "first-again.exe", []byte("MZ first")))
	subs = append(subs, tr.submit(vmraytest.DefaultAPIKey, map[string]string{"analysis_caching": "legacy"}, "seed.exe", []byte("MZ seeded")))
	tr.submit(vmraytest.DefaultAPIKey, map[string]string{"max_jobs": "0"}, "bad.exe", []byte("MZ"))
	ids := func(field string) []string {
		var out []string
		for _, s := range subs {
			if s != nil {
				out = append(out, fmt.Sprint(int64(s[field].(float64))))
			}
		}
		return out
	}
	step := func() {
		tr.get("/rest/job/submission/" + ids("submission_id")[0])
		tr.get("/rest/job/sample/" + ids("submission_sample_id")[0])
		for _, id := range ids("submission_id") {
			tr.get("/rest/submission/" + id)
			tr.get("/rest/analysis/submission/" + id)
		}
		for _, id := range ids("submission_sample_id") {
			tr.get("/rest/sample/" + id)
			tr.get("/rest/sample/" + id + "/vtis")
			tr.get("/rest/sample/" + id + "/iocs")
			tr.get("/rest/sample/" + id + "/mitre_attack")
		}
	}
	// Queued, in work, finished.
	for i := range 3 {
		for id := int64(3908301); id <= 3908312; id++ {
			tr.get(fmt.Sprint("/rest/job/", id))
		}
		step()
		clock.Advance(time.Duration(i) * time.Second)
	}
	for id := int64(8961000); id < 8961030; id++ {
		tr.get(fmt.Sprint("/rest/analysis/", id))
	}
	for _, p := range []string{"/rest/submission?_order=desc&_limit=3", "/rest/submission?_last_id=10457203",
		"/rest/submission?submission_parent_submission_id=10457201", "/rest/submission?submission_sample_id=" + ids("submission_sample_id")[0],
		"/rest/analysis", "/rest/analysis?analysis_sample_id=" + ids("submission_sample_id")[0] + "&_min_id=8961003",
		"/rest/analysis?analysis_submission_id=" + ids("submission_id")[1], "/rest/submission?_max_id=10457204"} {
		body := tr.get(p)
		for {
			var page struct {
				Continuation *int64 `json:"continuation_id"`
			}
			_ = json.Unmarshal([]byte(body), &page)
			if page.Continuation == nil {
				break
			}
			body = tr.get(fmt.Sprint("/rest/continuation/", *page.Continuation))
		}
	}
	tr.get("/rest/api_key/quota")
	tr.get("/rest/billing_info")
	tr.send("detector-key", http.MethodGet, "/rest/billing_info", "", nil)
	tr.value("Samples", srv.Samples())
	for _, h := range []string{seeded.SHA256, strings.ToUpper(seeded.MD5), byHash.SHA1, "nope"} {
		smp, found := srv.SampleByHash(h)
		tr.value("SampleByHash "+h, []any{smp, found})
		tr.value("SubmissionsFor "+h, srv.SubmissionsFor(h))
	}
	unlocks := srv.Unlocks()
	for i := range unlocks {
		unlocks[i].At = unlocks[i].At.UTC()
	}
	tr.value("Unlocks", unlocks)
	tr.value("UsedQuota", []int{srv.UsedQuota(vmraytest.DefaultAPIKey), srv.UsedQuota("detector-key"), srv.UsedQuota("nope")})
	for _, smp := range srv.Samples() {
		tr.value("zone", []string{smp.Created.Location().String(), fmt.Sprint(smp.Created.Equal(smp.Created.Round(0)))})
	}

	const golden = "testdata/wire.golden"
	if *updateWire {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(tr.out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, _ := io.ReadAll(f)
	if diff := cmp.Diff(string(want), tr.out.String()); diff != "" {
		t.Errorf("answers differ from %s (-want +got):\n%s", golden, diff)
	}
}
