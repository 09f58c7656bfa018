package vmrayconn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func newAnalyzer(t *testing.T, srv *vmraytest.Server, opts vmrayconn.Options) *vmrayconn.Analyzer {
	t.Helper()
	a, err := vmrayconn.New(srv.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func randomFile(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func maliciousOutcome() vmraytest.Outcome {
	mal := vmray.VerdictMalicious
	return vmraytest.Outcome{
		Verdict:         mal,
		Score:           87,
		Classifications: []string{"Downloader"},
		ThreatNames:     []string{"Emotet"},
		VTIs: []vmray.ThreatIndicator{
			{Category: "Injection", Operation: "Writes into the memory of another process", Classifications: []string{"Injector"}, Score: 4},
			{Category: "Network Connection", Operation: "Connects to a remote host", Score: 2},
		},
		IOCs: vmray.IOCs{
			Files: []vmray.FileIOC{{
				IOCCommon: vmray.IOCCommon{Verdict: mal},
				Filename:  `C:\Users\x\AppData\dropper.exe`, Filenames: []string{"dropper.exe"},
				Hashes:          []vmray.IOCHashes{{SHA256: strings.Repeat("AA", 32), SHA1: strings.Repeat("bb", 20), MD5: strings.Repeat("cc", 16)}},
				Classifications: []string{"Downloader"},
			}, {
				IOCCommon:       vmray.IOCCommon{Verdict: mal},
				Hashes:          []vmray.IOCHashes{{SHA256: strings.Repeat("dd", 32)}},
				Classifications: []string{"Ransomware"},
			}},
			IPs:            []vmray.IPIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, IPAddress: "203.0.113.7", Domains: []string{"C2.Example.net"}}},
			URLs:           []vmray.URLIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictSuspicious}, URL: "http://c2.example.net:8080/gate.php", OriginalURLs: []string{"http://c2.example.net:8080/gate.php?id=1"}, IPAddresses: []string{"2001:db8::1"}}},
			Domains:        []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, Domain: "c2.example.net", IPAddresses: []string{"203.0.113.7"}}},
			Registry:       []vmray.RegistryIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, RegKeyName: `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\upd`}},
			Mutexes:        []vmray.MutexIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, MutexName: "Global\\emo123"}},
			Processes:      []vmray.ProcessIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, CmdLine: `"C:\dropper.exe" -run`, ImageNames: []string{"dropper.exe"}}},
			EmailAddresses: []vmray.EmailAddressIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, EmailAddress: "Attacker@Example.com"}},
			Filenames:      []vmray.FilenameIOC{{IOCCommon: vmray.IOCCommon{Verdict: mal}, Filename: "readme.txt"}},
		},
	}
}

func TestLookupKnownMaliciousMapsEverything(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 2048)
	smp, err := srv.AddSample(vmraytest.Sample{Content: content, Filename: "invoice.exe", Outcome: maliciousOutcome()})
	if err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	h := connectortest.HashesOf(content)
	v, found, err := a.Lookup(context.Background(), connector.Evidence{Hashes: h})
	if err != nil || !found {
		t.Fatalf("Lookup = found %v, err %v", found, err)
	}
	if got := srv.CountRequests(http.MethodGet, "/rest/sample/sha256/"+h.SHA256); got != 1 {
		t.Errorf("lookups by SHA-256 = %d, want 1", got)
	}
	want := connector.Verdict{
		Kind: connector.Malicious, Score: 87, Severity: 8,
		Classifications: []string{"Downloader"}, ThreatNames: []string{"Emotet"},
		VTIs: []connector.VTI{
			{Category: "Injection", Operation: "Writes into the memory of another process", Classifications: []string{"Injector"}, Score: 4},
			{Category: "Network Connection", Operation: "Connects to a remote host", Score: 2},
		},
		ReportURL:    smp.WebifURL,
		Analyzer:     "vmray",
		AnalysisID:   itoa(smp.ID),
		SampleHashes: h,
	}
	if diff := cmp.Diff(want, v, cmpVerdict); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
	if v.ReportURL == "" {
		t.Error("no report link")
	}
	wantIOCs := map[connector.IOCType][]string{
		connector.IOCSHA256:      {strings.Repeat("aa", 32), strings.Repeat("dd", 32)},
		connector.IOCSHA1:        {strings.Repeat("bb", 20)},
		connector.IOCMD5:         {strings.Repeat("cc", 16)},
		connector.IOCFileName:    {`C:\Users\x\AppData\dropper.exe`, "dropper.exe", "readme.txt"},
		connector.IOCIP:          {"203.0.113.7", "2001:db8::1"},
		connector.IOCDomain:      {"c2.example.net"},
		connector.IOCURL:         {"http://c2.example.net:8080/gate.php", "http://c2.example.net:8080/gate.php?id=1"},
		connector.IOCRegistryKey: {`HKCU\Software\Microsoft\Windows\CurrentVersion\Run\upd`},
		connector.IOCMutex:       {"Global\\emo123"},
		connector.IOCCommandLine: {`"C:\dropper.exe" -run`},
		connector.IOCProcessName: {"dropper.exe"},
		connector.IOCEmail:       {"attacker@example.com"},
	}
	for typ, values := range wantIOCs {
		if diff := cmp.Diff(values, v.IOCsOf(typ)); diff != "" {
			t.Errorf("IOCs of type %s (-want +got):\n%s", typ, diff)
		}
	}
	for _, ioc := range v.IOCs {
		if ioc.Value == strings.Repeat("dd", 32) && !cmp.Equal(ioc.Classifications, []string{"Ransomware"}) {
			t.Errorf("ransomware victim file lost its classification: %+v", ioc)
		}
		if ioc.Type == connector.IOCURL && ioc.Verdict != connector.Suspicious {
			t.Errorf("URL IOC verdict = %v, want suspicious", ioc.Verdict)
		}
	}
}

var cmpVerdict = cmp.Options{
	cmp.FilterPath(func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".IOCs", ".Attributes", ".Time":
			return true
		}
		return false
	}, cmp.Ignore()),
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestLookupCleanReadsNoVTIsOrIOCs(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 512)
	if _, err := srv.AddSample(vmraytest.Sample{Content: content, Outcome: vmraytest.Outcome{Verdict: vmray.VerdictClean}}); err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{UnlockReports: true})
	v, found, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: connectortest.HashesOf(content).SHA256}})
	if err != nil || !found {
		t.Fatalf("Lookup = %v, %v", found, err)
	}
	if v.Kind != connector.Clean || v.Severity != 1 {
		t.Errorf("verdict = %v severity %d, want clean severity 1", v.Kind, v.Severity)
	}
	for _, p := range []string{"/vtis", "/iocs", "/unlock_reports"} {
		for _, r := range srv.Requests() {
			if strings.Contains(r.Path, p) {
				t.Errorf("clean sample: unexpected request %s %s", r.Method, r.Path)
			}
		}
	}
}

func TestLookupByWeakerHashes(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 256)
	h := connectortest.HashesOf(content)
	if _, err := srv.AddSample(vmraytest.Sample{Content: content, Outcome: vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 55}}); err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	for _, tc := range []struct {
		hashes connector.Hashes
		path   string
	}{
		{connector.Hashes{SHA1: h.SHA1}, "/rest/sample/sha1/" + h.SHA1},
		{connector.Hashes{MD5: h.MD5}, "/rest/sample/md5/" + h.MD5},
	} {
		v, found, err := a.Lookup(context.Background(), connector.Evidence{Hashes: tc.hashes})
		if err != nil || !found {
			t.Fatalf("Lookup(%+v) = %v, %v", tc.hashes, found, err)
		}
		if v.Kind != connector.Suspicious || v.Severity != 5 || v.SampleHashes.SHA256 != h.SHA256 {
			t.Errorf("verdict = %+v", v)
		}
		if srv.CountRequests(http.MethodGet, tc.path) != 1 {
			t.Errorf("no request to %s", tc.path)
		}
	}
	if _, _, err := a.Lookup(context.Background(), connector.Evidence{}); !connector.IsPermanent(err) || !errors.Is(err, vmrayconn.ErrNoHash) {
		t.Errorf("Lookup without hash: %v, want permanent ErrNoHash", err)
	}
}

func TestLookupUnknownIsNotFound(t *testing.T) {
	srv := vmraytest.NewServer(t)
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, found, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("ef", 32)}})
	if err != nil || found {
		t.Fatalf("Lookup = found %v, err %v; want not found", found, err)
	}
}

// Seed bug D.1: a failed lookup must never read as "unknown", which would
// upload the file again.
func TestLookupErrorsAreErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusUnauthorized, true},
		{http.StatusForbidden, true},
		{http.StatusBadRequest, true},
	} {
		srv := vmraytest.NewServer(t)
		srv.InjectFault(vmraytest.Fault{Path: "/rest/sample/sha256/", Status: tc.status, Body: `{"error_msg":"boom","result":"error"}`})
		a := newAnalyzer(t, srv, vmrayconn.Options{})
		_, found, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("ef", 32)}})
		if err == nil || found {
			t.Errorf("HTTP %d: Lookup = found %v, err %v; want an error", tc.status, found, err)
			continue
		}
		if connector.IsPermanent(err) != tc.permanent {
			t.Errorf("HTTP %d: permanent = %v, want %v (%v)", tc.status, connector.IsPermanent(err), tc.permanent, err)
		}
	}
	srv := vmraytest.NewServer(t)
	srv.InjectFault(vmraytest.Fault{Path: "/rest/sample/sha256/", Status: http.StatusTooManyRequests, RetryAfter: "7", Body: vmraytest.ThrottledBody})
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, _, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("ef", 32)}})
	if d, ok := connector.RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("429: RetryAfter = %v, %v (%v); want 7s", d, ok, err)
	}
}

// submitFields decodes the multipart form of the one submit request.
func submitFields(t *testing.T, srv *vmraytest.Server) map[string]string {
	t.Helper()
	var req *vmraytest.Request
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/rest/sample/submit" {
			req = &r
		}
	}
	if req == nil {
		t.Fatal("no submit request")
	}
	_, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.FileName() != "" {
			out["file:"+p.FormName()] = p.FileName()
			continue
		}
		out[p.FormName()] = string(b)
	}
}

func TestSubmitSendsEveryParameter(t *testing.T) {
	srv := vmraytest.NewServer(t)
	recursion := 5
	a := newAnalyzer(t, srv, vmrayconn.Options{
		Comment:             "Sample from VMRay Analyzer - SentinelOne Connector",
		Tags:                []string{"SentinelOne"},
		SightingTags:        vmrayconn.AttributeTags("site_name"),
		SandboxTimeout:      90 * time.Second,
		ArchivePassword:     "infected",
		MaxJobs:             3,
		MaxRecursiveSamples: &recursion,
	})
	content := randomFile(t, 4096)
	ev := connector.Evidence{
		Hashes:   connectortest.HashesOf(content),
		FileName: "report.zip",
		Sightings: []connector.Sighting{
			{ThreatID: "1", SiteName: "EMEA Site-2"},
			{ThreatID: "2", SiteName: "EMEA  Site+2"},
			{ThreatID: "3", SiteName: "Default site"},
		},
	}
	tk, err := a.Submit(context.Background(), ev, connector.Sample{Body: io.NopCloser(bytes.NewReader(content)), Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	marker, err := a.Marker(ev)
	if err != nil || !regexp.MustCompile(`^\[soarkit-ref:[0-9a-f]{20}\]$`).MatchString(marker) {
		t.Fatalf("Marker = %q, %v", marker, err)
	}
	got := submitFields(t, srv)
	want := map[string]string{
		"file:sample_file":      "report.zip",
		"comment":               "Sample from VMRay Analyzer - SentinelOne Connector " + marker,
		"tags":                  "SentinelOne,Default_site,EMEA_Site_2",
		"analyzer_mode":         "reputation_static_dynamic",
		"user_config":           `{"timeout":90}`,
		"archive_password":      "infected",
		"max_jobs":              "3",
		"max_recursive_samples": "5",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("submit form (-want +got):\n%s", diff)
	}
	subs := srv.SubmissionsFor(ev.Hashes.SHA256)
	if len(subs) != 1 {
		t.Fatalf("submissions = %d, want 1", len(subs))
	}
	id, err := vmrayconn.ParseTicketID(tk.ID)
	if err != nil || id.Submission != subs[0].ID || id.Sample != subs[0].SampleID || tk.Analyzer != "vmray" || tk.Submitted.IsZero() {
		t.Errorf("ticket = %+v (%+v, %v), submission %d sample %d", tk, id, err, subs[0].ID, subs[0].SampleID)
	}
}

func TestSubmitTruncatedUsesItsMode(t *testing.T) {
	srv := vmraytest.NewServer(t)
	a := newAnalyzer(t, srv, vmrayconn.Options{AnalyzerMode: vmray.AnalyzerStaticDynamic, SandboxTimeout: -1})
	content := randomFile(t, 1024)
	if _, err := a.Submit(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("01", 32)}},
		connector.Sample{Body: io.NopCloser(bytes.NewReader(content)), Truncated: true, Name: `C:\big\setup.exe`}); err != nil {
		t.Fatal(err)
	}
	got := submitFields(t, srv)
	if got["analyzer_mode"] != "reputation_static" || got["file:sample_file"] != "setup.exe" {
		t.Errorf("truncated submission form = %v", got)
	}
	if _, ok := got["user_config"]; ok {
		t.Errorf("user_config sent although SandboxTimeout is negative: %v", got)
	}
}

func TestSubmitRejectedIsPermanent(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithAPIKey(vmraytest.APIKey{Key: "legacy-key", BillingType: vmray.BillingAnalyzer, AnalysisCaching: vmray.CachingLegacy}))
	content := randomFile(t, 300)
	if _, err := srv.AddSample(vmraytest.Sample{Content: content}); err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, err := a.Submit(context.Background(), connector.Evidence{Hashes: connectortest.HashesOf(content)},
		connector.Sample{Body: io.NopCloser(bytes.NewReader(content))})
	if !connector.IsPermanent(err) || !errors.Is(err, vmray.ErrNoJobsCreated) {
		t.Fatalf("Submit = %v, want a permanent ErrNoJobsCreated", err)
	}
}

func TestSubmitServerErrorIsTransient(t *testing.T) {
	srv := vmraytest.NewServer(t)
	srv.InjectFault(vmraytest.Fault{Path: "/rest/sample/submit", Status: http.StatusServiceUnavailable, Body: `{"error_msg":"maintenance","result":"error"}`})
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, err := a.Submit(context.Background(), connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("01", 32)}},
		connector.Sample{Body: io.NopCloser(bytes.NewReader([]byte("MZ...")))})
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("Submit = %v, want a transient error", err)
	}
}

func submitOne(t *testing.T, srv *vmraytest.Server, a *vmrayconn.Analyzer, content []byte) (connector.Evidence, connector.Ticket) {
	t.Helper()
	ev := connector.Evidence{Hashes: connectortest.HashesOf(content), FileName: "x.exe"}
	tk, err := a.Submit(context.Background(), ev, connector.Sample{Body: io.NopCloser(bytes.NewReader(content))})
	if err != nil {
		t.Fatal(err)
	}
	return ev, tk
}

func TestAwaitRetriesLaterUntilFinished(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 2, InWorkPolls: 2}))
	content := randomFile(t, 700)
	srv.SetOutcome(connectortest.HashesOf(content).SHA256, maliciousOutcome())
	a := newAnalyzer(t, srv, vmrayconn.Options{PollInterval: 3 * time.Second})
	_, tk := submitOne(t, srv, a, content)
	retries := 0
	var v connector.Verdict
	for {
		var err error
		v, err = a.Await(context.Background(), tk)
		if err == nil {
			break
		}
		d, ok := connector.RetryAfter(err)
		if !ok || d != 3*time.Second {
			t.Fatalf("Await = %v, want RetryLater(3s)", err)
		}
		if retries++; retries > 10 {
			t.Fatal("never finished")
		}
	}
	// Timing: the first poll sees it queued, the next two in work, the fourth finished.
	if retries != 3 {
		t.Errorf("RetryLater answers = %d, want 3", retries)
	}
	if v.Kind != connector.Malicious || v.Severity != 8 || len(v.VTIs) != 2 || len(v.IOCs) == 0 || v.Attributes["submission_id"] == "" {
		t.Errorf("verdict = %+v", v)
	}
	if got := srv.CountRequests(http.MethodPost, "/rest/sample/submit"); got != 1 {
		t.Errorf("submissions = %d, want 1", got)
	}
}

func TestAwaitPollsWithinAwaitFor(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1}))
	a := newAnalyzer(t, srv, vmrayconn.Options{AwaitFor: 2 * time.Second})
	_, tk := submitOne(t, srv, a, randomFile(t, 100))
	v, err := a.Await(context.Background(), tk)
	if err != nil || v.Kind != connector.Clean {
		t.Fatalf("Await = %+v, %v; want clean within one call", v, err)
	}
}

func TestAwaitFailedAnalysisIsPermanent(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 640)
	srv.SetOutcome(connectortest.HashesOf(content).SHA256, vmraytest.Outcome{FailAnalysis: "Sample could not be started: corrupt PE header"})
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, tk := submitOne(t, srv, a, content)
	var err error
	for range 5 {
		if _, err = a.Await(context.Background(), tk); err == nil || !errors.Is(err, connector.ErrRetryLater) {
			break
		}
	}
	if !connector.IsPermanent(err) || !errors.Is(err, vmrayconn.ErrAnalysisFailed) || !strings.Contains(err.Error(), "corrupt PE header") {
		t.Fatalf("Await = %v, want a permanent ErrAnalysisFailed naming the reason", err)
	}
}

func TestAwaitUnknownSubmissionIsPermanent(t *testing.T) {
	srv := vmraytest.NewServer(t)
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	_, err := a.Await(context.Background(), connector.Ticket{Analyzer: "vmray", ID: "submission:999/sample:1"})
	if !connector.IsPermanent(err) || !errors.Is(err, vmray.ErrNotFound) {
		t.Errorf("Await(unknown) = %v, want permanent not found", err)
	}
	if _, err := a.Await(context.Background(), connector.Ticket{ID: "garbage"}); !connector.IsPermanent(err) {
		t.Errorf("Await(garbage) = %v, want permanent", err)
	}
}

func TestAwaitHonoursContext(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1000}))
	a := newAnalyzer(t, srv, vmrayconn.Options{AwaitFor: time.Hour})
	_, tk := submitOne(t, srv, a, randomFile(t, 100))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The analysis stays queued for 1,000 polls and AwaitFor is an hour: only
	// the context can end the wait.
	if _, err := a.Await(ctx, tk); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Await = %v, want the context's error", err)
	}
}

func TestFindTicket(t *testing.T) {
	srv := vmraytest.NewServer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	a := newAnalyzer(t, srv, vmrayconn.Options{TicketSkew: time.Second, SettleDelay: time.Minute, Now: clock})
	before := time.Now()
	ev, tk := submitOne(t, srv, a, randomFile(t, 900))
	got, found, err := a.FindTicket(context.Background(), ev, before)
	if err != nil || !found || got.ID != tk.ID || got.Analyzer != "vmray" {
		t.Fatalf("FindTicket = %+v, %v, %v; want %q", got, found, err, tk.ID)
	}
	// Nothing of ours since then: the first look asks to come back after the
	// settle delay, a look before it ends asks for the rest, and only a look
	// after it reports "not found".
	later := time.Now().Add(time.Hour)
	unknown := connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("77", 32)}}
	for _, c := range []struct {
		name  string
		ev    connector.Evidence
		since time.Time
	}{{"later", ev, later}, {"unknown", unknown, before}} {
		now = time.Now()
		_, found, err := a.FindTicket(context.Background(), c.ev, c.since)
		if d, ok := connector.RetryAfter(err); found || !ok || d != time.Minute {
			t.Errorf("FindTicket(%s) first look = %v, %v; want retry later after 1m", c.name, found, err)
		}
		now = now.Add(20 * time.Second)
		_, found, err = a.FindTicket(context.Background(), c.ev, c.since)
		if d, ok := connector.RetryAfter(err); found || !ok || d != 40*time.Second {
			t.Errorf("FindTicket(%s) second look = %v, %v; want retry later after 40s", c.name, found, err)
		}
		now = now.Add(time.Minute)
		if _, found, err := a.FindTicket(context.Background(), c.ev, c.since); err != nil || found {
			t.Errorf("FindTicket(%s) after the settle delay = %v, %v; want not found", c.name, found, err)
		}
	}
	// An attempt that began more than twice the settle delay ago needs no
	// second look; one a little more recent waits only until then.
	now = time.Now()
	if _, found, err := a.FindTicket(context.Background(), unknown, now.Add(-3*time.Minute)); err != nil || found {
		t.Errorf("FindTicket(an old attempt) = %v, %v; want not found at once", found, err)
	}
	_, _, err = a.FindTicket(context.Background(), unknown, now.Add(-90*time.Second))
	if d, ok := connector.RetryAfter(err); !ok || d != 30*time.Second {
		t.Errorf("FindTicket(an attempt 90s ago) = %v; want retry later after 30s", err)
	}
}

// A submission of the same file without this analyzer's marker (an analyst's,
// another tool's) is not taken for ours.
func TestFindTicketIgnoresForeignSubmissions(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 400)
	before := time.Now()
	if _, err := srv.Client().Submissions.SubmitFile(context.Background(), "x.exe", bytes.NewReader(content),
		&vmray.SubmitOptions{Comment: vmrayconn.DefaultComment}); err != nil {
		t.Fatal(err)
	}
	other := newAnalyzer(t, srv, vmrayconn.Options{Name: "other-connector"})
	ev, _ := submitOne(t, srv, other, content)
	// A settle delay so short that the attempt is long past it: one look.
	a := newAnalyzer(t, srv, vmrayconn.Options{SettleDelay: time.Nanosecond})
	time.Sleep(time.Millisecond)
	if tk, found, err := a.FindTicket(context.Background(), ev, before); found || err != nil {
		t.Errorf("FindTicket = %+v, %v, %v; want not found (%d submissions of others)", tk, found, err,
			len(srv.SubmissionsFor(ev.Hashes.SHA256)))
	}
}

func TestUnlockOnlyLockedNonClean(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithAPIKey(vmraytest.APIKey{Key: "verdict-key", BillingType: vmray.BillingDetector}))
	bad, clean := randomFile(t, 100), randomFile(t, 100)
	badSmp, err := srv.AddSample(vmraytest.Sample{Content: bad, Locked: true, Outcome: maliciousOutcome()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddSample(vmraytest.Sample{Content: clean, Locked: true}); err != nil {
		t.Fatal(err)
	}
	a, err := vmrayconn.New(srv.ClientWithKey("verdict-key"), vmrayconn.Options{UnlockReports: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]byte{bad, clean, bad} {
		if _, _, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connectortest.HashesOf(c)}); err != nil {
			t.Fatal(err)
		}
	}
	unlocks := srv.Unlocks()
	if len(unlocks) != 1 || unlocks[0].SampleID != badSmp.ID {
		t.Errorf("unlocks = %+v, want one of sample %d", unlocks, badSmp.ID)
	}
	if n := srv.CountRequests(http.MethodPost, "/rest/sample/"); n != 1 {
		t.Errorf("unlock calls = %d, want 1 (the second lookup finds it unlocked)", n)
	}
}

func TestIOCVerdictsOneCallPerVerdict(t *testing.T) {
	srv := vmraytest.NewServer(t)
	content := randomFile(t, 128)
	if _, err := srv.AddSample(vmraytest.Sample{Content: content, Outcome: maliciousOutcome()}); err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{IOCVerdicts: []vmray.Verdict{vmray.VerdictMalicious}})
	v, _, err := a.Lookup(context.Background(), connector.Evidence{Hashes: connectortest.HashesOf(content)})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.CountRequests(http.MethodGet, "/rest/sample/"); got < 1 {
		t.Fatal("no requests")
	}
	for _, ioc := range v.IOCs {
		if ioc.Verdict != connector.Malicious {
			t.Errorf("IOC %+v kept although only malicious IOCs were asked for", ioc)
		}
	}
	if len(v.IOCsOf(connector.IOCURL)) != 0 {
		t.Errorf("suspicious URL IOCs read: %v", v.IOCsOf(connector.IOCURL))
	}
}

func TestUnfinishedResultsRetryLater(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithUnfinishedReads(1))
	content := randomFile(t, 128)
	if _, err := srv.AddSample(vmraytest.Sample{Content: content, Outcome: maliciousOutcome()}); err != nil {
		t.Fatal(err)
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	ev := connector.Evidence{Hashes: connectortest.HashesOf(content)}
	if _, _, err := a.Lookup(context.Background(), ev); !errors.Is(err, connector.ErrRetryLater) {
		t.Fatalf("first Lookup = %v, want RetryLater while VMRay collects results", err)
	}
	// Each list (VTIs, then IOCs) answers "in_progress" once.
	if _, _, err := a.Lookup(context.Background(), ev); !errors.Is(err, connector.ErrRetryLater) {
		t.Fatalf("second Lookup = %v, want RetryLater while the IOCs are collected", err)
	}
	v, found, err := a.Lookup(context.Background(), ev)
	if err != nil || !found || len(v.VTIs) == 0 || len(v.IOCs) == 0 {
		t.Fatalf("third Lookup = %+v, %v, %v", v, found, err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	srv := vmraytest.NewServer(t)
	bad := -1
	for _, o := range []vmrayconn.Options{
		{Tags: []string{"two words"}},
		{Tags: []string{"a,b"}},
		{AnalyzerMode: "turbo"},
		{TruncatedAnalyzerMode: "dynamic"},
		{MaxJobs: 101},
		{MaxRecursiveSamples: &bad},
		{IOCVerdicts: []vmray.Verdict{vmray.VerdictNotAvailable}},
	} {
		if _, err := vmrayconn.New(srv.Client(), o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	if _, err := vmrayconn.New(nil, vmrayconn.Options{}); err == nil {
		t.Error("New(nil client) accepted")
	}
}
