package vmray_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/vmray"
)

// sampleJSON is the sample of the API reference (GET /rest/sample/7623422).
const sampleJSON = `{"sample_id":7623422,"sample_created":"2024-05-14T09:29:51","sample_filename":"invoice.exe",
 "sample_filesize":245760,"sample_type":"Windows Exe (x86-32)","sample_md5hash":"2e0499dc90c2d715a53e05b1890e0442",
 "sample_sha1hash":"868a53c394f29f8d3aac7b0a20a371999045b6ed",
 "sample_sha256hash":"b8a4b647e56cb71773d0086b51906b902a7ccafe699f4068da4cb5cd234d9d66","sample_ssdeephash":"1536:Hg8k",
 "sample_imphash":null,"sample_url":null,"sample_display_url":null,"sample_is_multipart":false,"sample_password_protected":false,
 "sample_priority":3,"sample_webif_url":"https://eu.cloud.vmray.com/samples/7623422",
 "sample_verdict":"malicious","sample_verdict_reason_code":null,"sample_verdict_reason_description":null,
 "sample_vti_score":98,"sample_highest_vti_score":98,"sample_highest_vti_severity":"malicious",
 "sample_score":98,"sample_severity":"malicious","sample_classifications":["Downloader"],"sample_threat_names":["Emotet"],
 "sample_child_sample_ids":[7623423],"sample_parent_sample_ids":[],"sample_child_relations":[],"sample_child_relations_truncated":false,
 "sample_parent_relations":[],"sample_parent_relations_truncated":false,"sample_last_reputation_severity":"malicious",
 "sample_last_vt_score":null,"sample_last_md_score":null,"sample_account_ids":[1],"sample_verdict_migrated":true}`

func wantSample() vmray.Sample {
	score := vmray.Score(98)
	return vmray.Sample{
		ID: 7623422, Created: utc("2024-05-14T09:29:51"), Filename: "invoice.exe", Filesize: 245760,
		Type: "Windows Exe (x86-32)", MD5: "2e0499dc90c2d715a53e05b1890e0442", SHA1: "868a53c394f29f8d3aac7b0a20a371999045b6ed",
		SHA256: "b8a4b647e56cb71773d0086b51906b902a7ccafe699f4068da4cb5cd234d9d66", SSDeep: new("1536:Hg8k"),
		WebifURL: "https://eu.cloud.vmray.com/samples/7623422", Priority: 3, Verdict: vmray.VerdictMalicious,
		VTIScore: &score, HighestVTIScore: &score, HighestVTISeverity: vmray.SeverityMalicious, Score: &score,
		Severity: vmray.SeverityMalicious, Classifications: []string{"Downloader"}, ThreatNames: []string{"Emotet"},
		ChildSampleIDs: []int64{7623423}, ParentSampleIDs: []int64{}, ChildRelations: nil, ChildRelationsTruncated: new(false),
		ParentRelations: nil, ParentRelationsTruncated: new(false), LastReputationSeverity: new("malicious"),
	}
}

// sampleOpts compares samples while ignoring the raw relation lists.
var sampleOpts = cmp.Options{cmp.Transformer("rel", func(s vmray.Sample) vmray.Sample {
	s.ChildRelations, s.ParentRelations = nil, nil
	return s
})}

func TestSamplesGet(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/7623422", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		testHeader(t, r, "Accept", "application/json")
		writeOK(t, w, sampleJSON)
	})
	got, err := c.Samples.Get(context.Background(), 7623422)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantSample(), *got, sampleOpts); diff != "" {
		t.Errorf("sample mismatch (-want +got):\n%s", diff)
	}
	if got.EffectiveVerdict() != vmray.VerdictMalicious {
		t.Errorf("EffectiveVerdict = %q", got.EffectiveVerdict())
	}
}

func TestSamplesGetRefusesBadID(t *testing.T) {
	c, _ := setup(t)
	_, err := c.Samples.Get(context.Background(), 0)
	if !errors.Is(err, vmray.ErrInvalidRequest) {
		t.Fatalf("err = %v, want ErrInvalidRequest", err)
	}
}

func TestSamplesLookup(t *testing.T) {
	for _, tc := range []struct {
		hash, kind string
	}{
		{"2E0499DC90C2D715A53E05B1890E0442", "md5"},
		{"868a53c394f29f8d3aac7b0a20a371999045b6ed", "sha1"},
		{"B8A4B647E56CB71773D0086B51906B902A7CCAFE699F4068DA4CB5CD234D9D66", "sha256"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			c, mux := setup(t)
			var path string
			mux.HandleFunc("/rest/sample/", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, http.MethodGet)
				path = r.URL.Path
				writeOK(t, w, "["+sampleJSON+"]")
			})
			got, err := c.Samples.Lookup(context.Background(), tc.hash)
			if err != nil {
				t.Fatal(err)
			}
			if want := "/rest/sample/" + tc.kind + "/" + lower(tc.hash); path != want {
				t.Errorf("path = %q, want %q", path, want)
			}
			if len(got) != 1 || got[0].ID != 7623422 {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestSamplesLookupUnknownIsEmpty(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/sha256/", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, "[]")
	})
	got, err := c.Samples.Lookup(context.Background(), "b8a4b647e56cb71773d0086b51906b902a7ccafe699f4068da4cb5cd234d9d66")
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want empty, nil", got, err)
	}
}

func TestSamplesLookupRefusesBadHash(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL.Path) })
	for _, h := range []string{"", "abc", "zz0499dc90c2d715a53e05b1890e0442", "../../../../etc/passwd0000000000000"} {
		if _, err := c.Samples.Lookup(context.Background(), h); !errors.Is(err, vmray.ErrInvalidRequest) {
			t.Errorf("Lookup(%q) err = %v, want ErrInvalidRequest", h, err)
		}
	}
}

func TestSamplesThreatNamesAndClassifications(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/5/threat_names", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		writeOK(t, w, `{"sample_threat_names":[{"threat_name":"Emotet","sources":["VTI","YARA"]}],"children_threat_names":[]}`)
	})
	mux.HandleFunc("/rest/sample/5/classifications", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"sample_classifications":[{"classification_name":"Downloader"}],"children_classifications":[{"classification_name":"Ransomware"}]}`)
	})
	ctx := context.Background()
	tn, err := c.Samples.ThreatNames(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&vmray.ThreatNames{Sample: []vmray.ThreatName{{ThreatName: "Emotet", Sources: []string{"VTI", "YARA"}}}, Children: []vmray.ThreatName{}}, tn); diff != "" {
		t.Error(diff)
	}
	cl, err := c.Samples.Classifications(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&vmray.Classifications{Sample: []vmray.Classification{{Name: "Downloader"}}, Children: []vmray.Classification{{Name: "Ransomware"}}}, cl); diff != "" {
		t.Error(diff)
	}
}

func TestSamplesVTIs(t *testing.T) {
	c, mux := setup(t)
	for _, p := range []string{"/rest/sample/405/vtis", "/rest/sample/405/threat_indicators"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			testMethod(t, r, http.MethodGet)
			writeOK(t, w, string(fixture(t, "sample_threat_indicators_data.json")))
		})
	}
	old, err := c.Samples.ThreatIndicators(context.Background(), 405)
	if err != nil || len(old.ThreatIndicators) != 1 || old.ThreatIndicators[0].Operation != "Creates mutex" {
		t.Fatalf("threat_indicators %+v %v", old, err)
	}
	got, err := c.Samples.VTIs(context.Background(), 405)
	if err != nil {
		t.Fatal(err)
	}
	want := &vmray.VTIs{Status: "finished", ThreatIndicators: []vmray.ThreatIndicator{{
		ID: 93, AnalysisIDs: []int64{405, 404, 406, 407, 408}, Category: "Mutex", Operation: "Creates mutex",
		Classifications: []string{}, Score: 1,
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if !got.Finished() {
		t.Error("Finished() = false")
	}
}

func TestSamplesMitreAttack(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/9/mitre_attack", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"status":"finished","mitre_attack_techniques":[{"analysis_ids":[1],"id":7,"matrix_version":"2024-01-01T00:00:00",
			"tactics":["Defense Evasion"],"technique":"Process Injection","technique_id":"T1055","threat_indicators":[],"version":14.1}]}`)
	})
	got, err := c.Samples.MitreAttack(context.Background(), 9)
	if err != nil {
		t.Fatal(err)
	}
	want := &vmray.MitreAttack{Status: "finished", Techniques: []vmray.MitreTechnique{{ID: 7, AnalysisIDs: []int64{1},
		MatrixVersion: utc("2024-01-01T00:00:00"), Tactics: []string{"Defense Evasion"}, Technique: "Process Injection",
		TechniqueID: "T1055", ThreatIndicators: []vmray.ThreatIndicator{}, Version: 14.1}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// iocJSON is the IOC example of the API reference.
const iocJSON = `{"status":"finished","iocs":{
 "files":[{"id":0,"version":3,"ioc":true,"ioc_type":"file","type":"file_artifact","verdict":"malicious","severity":"malicious",
   "numeric_severity":4,"verdict_reason_code":null,"verdict_reason_description":"","analysis_ids":[8961001],
   "filename":"C:\\Users\\User\\AppData\\Local\\Temp\\payload.exe","filenames":["C:\\Users\\User\\AppData\\Local\\Temp\\payload.exe"],
   "norm_filename":"%LOCALAPPDATA%\\temp\\payload.exe","file_size":61440,"mime_type":"application/vnd.microsoft.portable-executable",
   "hashes":[{"md5_hash":"aa","sha1_hash":"bb","sha256_hash":"9f36","ssdeep_hash":null}],
   "operations":["access","create","write"],"categories":["Dropped File"],"classifications":["Downloader"],"threat_names":["Emotet"],
   "vtis":[],"relations":[],"parent_files":[],"parent_processes":[],"parent_processes_names":["invoice.exe"],"parent_processes_ids":[],"resource_url":[]}],
 "ips":[{"id":0,"version":3,"ioc":true,"ioc_type":"ip","type":"ip_artifact","verdict":"malicious","severity":"malicious","numeric_severity":4,
   "verdict_reason_description":"","analysis_ids":[8961001],"ip_address":"203.0.113.9","protocols":["TCP"],"domains":["evil.example"],
   "country":"United States","country_code":"US","sources":["Pcap"],"parent_processes":[],"parent_processes_names":[],"parent_processes_ids":[]}],
 "urls":[{"id":0,"version":3,"ioc_type":"url","type":"url_artifact","verdict":"suspicious","url":"http://evil.example/a","original_urls":["http://evil.example/a"],"ip_addresses":["203.0.113.9"]}],
 "domains":[{"ioc_type":"domain","domain":"evil.example","verdict":null}],
 "filenames":[{"ioc_type":"filename","filename":"payload.exe"}],
 "mutexes":[{"ioc_type":"mutex","mutex_name":"Global\\x"}],
 "registry":[{"ioc_type":"registry","reg_key_name":"HKCU\\Run","verdict":"malicious"}],
 "processes":[{"ioc_type":"process","cmd_line":"payload.exe /s","image_names":["payload.exe"],"verdict":"malicious"}],
 "emails":[{"ioc_type":"email","sender":"a@example.com","subject":"Invoice","nr_links":1}],
 "email_addresses":[{"ioc_type":"email_address","email_address":"a@example.com","sender":true}]}}`

func TestSamplesIOCs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      *vmray.IOCOptions
		wantPath  string
		wantQuery url.Values
	}{
		{"all", nil, "/rest/sample/42/iocs", nil},
		{"verdict", &vmray.IOCOptions{Verdict: vmray.VerdictMalicious}, "/rest/sample/42/iocs/verdict/malicious", nil},
		{"type", &vmray.IOCOptions{Type: vmray.IOCIPs}, "/rest/sample/42/iocs/type/ips", nil},
		{"type and verdict", &vmray.IOCOptions{Type: vmray.IOCFiles, Verdict: vmray.VerdictSuspicious}, "/rest/sample/42/iocs/type/files/verdict/suspicious", nil},
		{"artifacts", &vmray.IOCOptions{AllArtifacts: true, Severity: vmray.SeverityMalicious}, "/rest/sample/42/iocs",
			url.Values{"all_artifacts": {"true"}, "ioc_severity": {"malicious"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux := setup(t)
			called := false
			mux.HandleFunc("/rest/sample/42/", func(w http.ResponseWriter, r *http.Request) {
				called = true
				testMethod(t, r, http.MethodGet)
				if r.URL.Path != tc.wantPath {
					t.Errorf("path = %q, want %q", r.URL.Path, tc.wantPath)
				}
				testQuery(t, r, tc.wantQuery)
				writeOK(t, w, iocJSON)
			})
			got, err := c.Samples.IOCs(context.Background(), 42, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !called || !got.Finished() || got.IOCs.Len() != 10 {
				t.Fatalf("called %v, result %+v", called, got)
			}
			f := got.IOCs.Files[0]
			if f.Verdict != vmray.VerdictMalicious || *f.NumericSeverity != 4 || f.Hashes[0].SHA256 != "9f36" || *f.FileSize != 61440 ||
				f.ParentProcessesNames[0] != "invoice.exe" || f.Classifications[0] != "Downloader" || !*f.IOC {
				t.Errorf("file IOC decoded as %+v", f)
			}
			ip := got.IOCs.IPs[0]
			if ip.IPAddress != "203.0.113.9" || ip.Domains[0] != "evil.example" || ip.CountryCode != "US" {
				t.Errorf("ip IOC decoded as %+v", ip)
			}
			if got.IOCs.Domains[0].Verdict != "" || got.IOCs.URLs[0].OriginalURLs[0] != "http://evil.example/a" ||
				got.IOCs.Registry[0].RegKeyName != `HKCU\Run` || got.IOCs.Processes[0].CmdLine != "payload.exe /s" ||
				got.IOCs.Mutexes[0].MutexName != `Global\x` || got.IOCs.Emails[0].Subject != "Invoice" ||
				!*got.IOCs.EmailAddresses[0].Sender || got.IOCs.Filenames[0].Filename != "payload.exe" {
				t.Errorf("IOCs decoded as %+v", got.IOCs)
			}
		})
	}
}

func TestSamplesUnlockReports(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/77/unlock_reports", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testAuth(t, r)
		if b, _ := io.ReadAll(r.Body); len(b) != 0 {
			t.Errorf("body = %q, want none", b)
		}
		writeOK(t, w, `{"unlocked_analysis_ids":[101,102]}`)
	})
	got, err := c.Samples.UnlockReports(context.Background(), 77)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{101, 102}, got.UnlockedAnalysisIDs); diff != "" {
		t.Error(diff)
	}
}

func TestSamplesChildren(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/7623422", func(w http.ResponseWriter, r *http.Request) { writeOK(t, w, sampleJSON) })
	mux.HandleFunc("/rest/sample/7623423", func(w http.ResponseWriter, r *http.Request) {
		writeOK(t, w, `{"sample_id":7623423,"sample_filename":"payload.exe","sample_parent_sample_ids":[7623422],"sample_child_sample_ids":[]}`)
	})
	got, err := c.Samples.Children(context.Background(), 7623422)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 7623423 || got[0].ParentSampleIDs[0] != 7623422 {
		t.Errorf("children = %+v", got)
	}
}

func TestSamplesRelations(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample_relation/sample/5", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"_limit": {"10"}})
		writeOK(t, w, `[{"sample_relation_id":1,"sample_relation_created":"2024-01-01T00:00:00","sample_relation_relation":"Dropped File",
			"sample_relation_relation_reason":null,"sample_relation_sample_id":6,"sample_relation_sample_md5":"m","sample_relation_sample_sha1":"s",
			"sample_relation_sample_sha256":"h","sample_relation_sample_ssdeep":null,"sample_relation_submission_id":9}]`)
	})
	got, err := vmray.Collect(c.Samples.AllRelations(context.Background(), 5, &vmray.ListOptions{Limit: 10}))
	if err != nil {
		t.Fatal(err)
	}
	want := []vmray.SampleRelation{{ID: 1, Created: utc("2024-01-01T00:00:00"), Relation: "Dropped File", SampleID: 6,
		SampleMD5: "m", SampleSHA1: "s", SampleSHA256: "h", SubmissionID: new(int64(9))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestSamplesReportAndDownloadZip(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/rest/sample/5/report", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = io.WriteString(w, "%PDF-1.4 report")
	})
	mux.HandleFunc("/rest/sample/5/file", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"encryption_password": {"s3cret-zip"}})
		_, _ = io.WriteString(w, "PK\x03\x04zip")
	})
	ctx := context.Background()
	rc, err := c.Samples.Report(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "%PDF-1.4 report" {
		t.Errorf("report = %q", b)
	}
	rc, err = c.Samples.DownloadZip(ctx, 5, "s3cret-zip")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(rc)
	rc.Close()
	if string(b) != "PK\x03\x04zip" {
		t.Errorf("zip = %q", b)
	}
}
