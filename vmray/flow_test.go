package vmray_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// fastWait polls the fake without real pauses.
var fastWait = vmray.WaitOptions{Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, QueueTimeout: 5 * time.Second, InWorkTimeout: 5 * time.Second}

func sha256Hex(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

// emotet is the outcome of the flow tests' malicious file.
func emotet() vmraytest.Outcome {
	return vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 98, Classifications: []string{"Downloader"}, ThreatNames: []string{"Emotet"},
		VTIs: []vmray.ThreatIndicator{
			{Category: "Injection", Operation: "Modifies memory of another process", Classifications: []string{"Injector"}, Score: 4},
			{Category: "Mutex", Operation: "Creates mutex", Score: 1},
		},
		IOCs: vmray.IOCs{
			Files: []vmray.FileIOC{{IOCCommon: vmray.IOCCommon{IOCType: "file", Type: "file_artifact", Verdict: vmray.VerdictMalicious, IOC: new(true)},
				Filename: "payload.exe", Hashes: []vmray.IOCHashes{{SHA256: "9f36"}}, Classifications: []string{"Downloader"}}},
			IPs:  []vmray.IPIOC{{IOCCommon: vmray.IOCCommon{IOCType: "ip", Verdict: vmray.VerdictSuspicious, IOC: new(true)}, IPAddress: "203.0.113.9"}},
			URLs: []vmray.URLIOC{{IOCCommon: vmray.IOCCommon{IOCType: "url", Verdict: vmray.VerdictClean, IOC: new(false)}, URL: "http://example.com/"}},
		},
		MitreTechniques: []vmray.MitreTechnique{{ID: 1, Technique: "Process Injection", TechniqueID: "T1055", Tactics: []string{"Defense Evasion"}}},
		Children:        []vmraytest.Sample{{Filename: "payload.exe", Content: []byte("MZ dropped payload"), Outcome: vmraytest.Outcome{Verdict: vmray.VerdictMalicious, ThreatNames: []string{"Emotet.Payload"}}}},
	}
}

func TestFlowSubmitToVerdict(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	content := []byte("MZ\x90\x00 invoice dropper")
	hash := sha256Hex(content)
	srv.SetOutcome(hash, emotet())

	found, err := c.Samples.Lookup(ctx, hash)
	if err != nil || len(found) != 0 {
		t.Fatalf("lookup before submit: %v %v", found, err)
	}
	res, err := c.Submissions.SubmitFile(ctx, "invoice.exe", bytes.NewReader(content), &vmray.SubmitOptions{
		Comment: "Sample from soarkit", Tags: []string{"CarbonBlackCloud"}, UserConfig: &vmray.UserConfig{Timeout: 120}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sample().SHA256 != hash || res.Submission().Finished || len(res.Jobs) != 1 || res.Jobs[0].Status != vmray.JobQueued {
		t.Fatalf("submit result %+v", res)
	}
	wr, err := c.Submissions.Wait(ctx, res.Submission().ID, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	sub := wr.Submission
	if !sub.Finished || sub.Status != vmray.SubmissionSuccess || sub.Verdict != vmray.VerdictMalicious || *sub.HasErrors ||
		len(wr.Analyses) != 1 || len(wr.FailedAnalyses) != 0 || sub.ConsumedQuota != 2 || sub.Tags[0] != "CarbonBlackCloud" {
		t.Fatalf("wait result %+v", wr)
	}
	smp, err := c.Samples.Get(ctx, res.Sample().ID)
	if err != nil || smp.Verdict != vmray.VerdictMalicious || int(*smp.VTIScore) != 98 || smp.ThreatNames[0] != "Emotet" || len(smp.ChildSampleIDs) != 1 {
		t.Fatalf("sample %+v %v", smp, err)
	}
	vtis, err := c.Samples.VTIs(ctx, smp.ID)
	if err != nil || !vtis.Finished() || len(vtis.ThreatIndicators) != 2 || vtis.ThreatIndicators[0].Score != 4 ||
		vtis.ThreatIndicators[0].AnalysisIDs[0] != wr.Analyses[0].ID {
		t.Fatalf("vtis %+v %v", vtis, err)
	}
	mal, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{Verdict: vmray.VerdictMalicious})
	if err != nil || len(mal.IOCs.Files) != 1 || len(mal.IOCs.IPs) != 0 || mal.IOCs.Files[0].Hashes[0].SHA256 != "9f36" {
		t.Fatalf("malicious IOCs %+v %v", mal, err)
	}
	all, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{AllArtifacts: true})
	if err != nil || all.IOCs.Len() != 3 {
		t.Fatalf("all artifacts %+v %v", all, err)
	}
	ips, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{Type: vmray.IOCIPs})
	if err != nil || ips.IOCs.Len() != 1 || ips.IOCs.IPs[0].IPAddress != "203.0.113.9" {
		t.Fatalf("ip IOCs %+v %v", ips, err)
	}
	tn, err := c.Samples.ThreatNames(ctx, smp.ID)
	if err != nil || tn.Sample[0].ThreatName != "Emotet" || tn.Children[0].ThreatName != "Emotet.Payload" {
		t.Fatalf("threat names %+v %v", tn, err)
	}
	cl, err := c.Samples.Classifications(ctx, smp.ID)
	if err != nil || cl.Sample[0].Name != "Downloader" {
		t.Fatalf("classifications %+v %v", cl, err)
	}
	mitre, err := c.Samples.MitreAttack(ctx, smp.ID)
	if err != nil || mitre.Techniques[0].TechniqueID != "T1055" {
		t.Fatalf("mitre %+v %v", mitre, err)
	}
	kids, err := c.Samples.Children(ctx, smp.ID)
	if err != nil || len(kids) != 1 || kids[0].Filename != "payload.exe" || kids[0].ParentSampleIDs[0] != smp.ID {
		t.Fatalf("children %+v %v", kids, err)
	}
	childSubs, err := vmray.Collect(c.Submissions.AllChildren(ctx, sub.ID, nil))
	if err != nil || len(childSubs) != 1 || *childSubs[0].ParentSubmissionID != sub.ID || !childSubs[0].Finished {
		t.Fatalf("child submissions %+v %v", childSubs, err)
	}
	rels, err := vmray.Collect(c.Samples.AllRelations(ctx, smp.ID, nil))
	if err != nil || len(rels) != 1 || rels[0].SampleID != kids[0].ID {
		t.Fatalf("relations %+v %v", rels, err)
	}
	f, err := c.Samples.Download(ctx, smp.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, content) || f.Size != int64(len(content)) {
		t.Fatalf("downloaded %q (%v)", got, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	found, err = c.Samples.Lookup(ctx, smp.MD5)
	if err != nil || len(found) != 1 || found[0].Verdict != vmray.VerdictMalicious {
		t.Fatalf("lookup after analysis %+v %v", found, err)
	}
	if n := len(srv.SubmissionsFor(hash)); n != 1 {
		t.Errorf("%d submissions recorded for the hash", n)
	}
	if srv.UsedQuota(vmraytest.DefaultAPIKey) != 2 {
		t.Errorf("used quota %d", srv.UsedQuota(vmraytest.DefaultAPIKey))
	}
	q, err := c.Billing.KeyQuota(ctx)
	if err != nil || q.UsedQuota != 2 {
		t.Fatalf("key quota %+v %v", q, err)
	}
}

func TestFlowDownloadWithOwnPassword(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithDownloadPassword("sys-pw"))
	c := srv.Client()
	content := []byte("sample bytes for the password test")
	smp, err := srv.AddSample(vmraytest.Sample{Filename: "a.bin", Content: content})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, pw := range []string{"", "mine"} {
		f, err := c.Samples.Download(ctx, smp.ID, &vmray.DownloadOptions{Password: pw, MaxBytes: 1 << 20, TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("password %q: %v", pw, err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("password %q: %q %v", pw, got, err)
		}
	}
	reqs := srv.Requests()
	if q := reqs[len(reqs)-1].Query.Get("encryption_password"); q != "mine" {
		t.Errorf("encryption_password = %q", q)
	}
	// The raw archive does not open with a wrong password.
	rc, err := c.Samples.DownloadZip(ctx, smp.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.HasPrefix(raw, []byte("PK\x03\x04")) || bytes.Contains(raw, content) {
		t.Error("archive is not an encrypted ZIP")
	}
}

func TestFlowDetectorKeyUnlock(t *testing.T) {
	const verdictKey = "verdict-key-abcdef"
	srv := vmraytest.NewServer(t, vmraytest.WithAPIKey(vmraytest.APIKey{Key: verdictKey, BillingType: vmray.BillingDetector}))
	c := srv.ClientWithKey(verdictKey)
	ctx := context.Background()
	content := []byte("suspicious macro document")
	srv.SetOutcome(sha256Hex(content), vmraytest.Outcome{Verdict: vmray.VerdictSuspicious, Score: 60})
	_, wr, err := c.Submissions.SubmitFileAndWait(ctx, "doc.docm", bytes.NewReader(content), nil, fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if wr.Submission.BillingType != vmray.BillingDetector || !wr.Analyses[0].Locked() {
		t.Fatalf("detector submission %+v analyses %+v", wr.Submission, wr.Analyses)
	}
	sampleID := wr.Submission.SampleID
	if _, err := c.Samples.Report(ctx, sampleID); !errors.Is(err, vmray.ErrForbidden) {
		t.Fatalf("locked report: err = %v, want ErrForbidden", err)
	}
	if wr.Submission.Verdict == vmray.VerdictClean {
		t.Fatal("test needs a non-clean verdict")
	}
	un, err := c.Samples.UnlockReports(ctx, sampleID)
	if err != nil || len(un.UnlockedAnalysisIDs) != 1 || un.UnlockedAnalysisIDs[0] != wr.Analyses[0].ID {
		t.Fatalf("unlock %+v %v", un, err)
	}
	a, err := c.Analyses.Get(ctx, wr.Analyses[0].ID)
	if err != nil || a.Locked() {
		t.Fatalf("analysis after unlock %+v %v", a, err)
	}
	rc, err := c.Samples.Report(ctx, sampleID)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("report %q", pdf)
	}
	again, err := c.Samples.UnlockReports(ctx, sampleID)
	if err != nil || len(again.UnlockedAnalysisIDs) != 0 {
		t.Fatalf("second unlock %+v %v", again, err)
	}
	unlocks := srv.Unlocks()
	if len(unlocks) != 1 || unlocks[0].SampleID != sampleID || unlocks[0].Key != verdictKey {
		t.Errorf("unlocks %+v", unlocks)
	}
}

func TestFlowContinuation(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithPageSize(2))
	c := srv.Client()
	ctx := context.Background()
	content := []byte("resubmitted five times")
	for range 5 {
		if _, _, err := c.Submissions.SubmitFileAndWait(ctx, "r.exe", bytes.NewReader(content), &vmray.SubmitOptions{AnalysisCaching: vmray.CachingDisabled}, fastWait); err != nil {
			t.Fatal(err)
		}
	}
	smp, _ := srv.SampleByHash(sha256Hex(content))
	srv.ResetRequests()
	subs, err := vmray.Collect(c.Submissions.AllBySample(ctx, smp.ID, nil))
	if err != nil || len(subs) != 5 {
		t.Fatalf("%d submissions, %v", len(subs), err)
	}
	for i := 1; i < len(subs); i++ {
		if subs[i].ID <= subs[i-1].ID {
			t.Errorf("submissions out of order: %d after %d", subs[i].ID, subs[i-1].ID)
		}
	}
	if n := srv.CountRequests(http.MethodGet, "/rest/continuation/"); n != 2 {
		t.Errorf("%d continuation requests, want 2", n)
	}
	page, err := c.Analyses.ListBySample(ctx, smp.ID, nil)
	if err != nil || page.ContinuationID == "" || len(page.Items) != 2 {
		t.Fatalf("page %+v %v", page, err)
	}
	if _, err := vmray.Continue[vmray.Analysis](ctx, c, page.ContinuationID); err != nil {
		t.Fatal(err)
	}
	if _, err := vmray.Continue[vmray.Analysis](ctx, c, page.ContinuationID); !errors.Is(err, vmray.ErrNotFound) {
		t.Fatalf("reused continuation: err = %v, want ErrNotFound", err)
	}
	desc, err := vmray.Collect(c.Submissions.AllBySample(ctx, smp.ID, &vmray.ListOptions{Order: "desc", Limit: 3}))
	if err != nil || len(desc) != 3 || desc[0].ID != subs[4].ID {
		t.Fatalf("desc %+v %v", desc, err)
	}
}

func TestFlowLegacyCachingRejected(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	content := []byte("already analysed")
	if _, err := srv.AddSample(vmraytest.Sample{Filename: "known.exe", Content: content}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Submissions.SubmitFile(context.Background(), "known.exe", bytes.NewReader(content), &vmray.SubmitOptions{AnalysisCaching: vmray.CachingLegacy})
	if !errors.Is(err, vmray.ErrNoJobsCreated) {
		t.Fatalf("err = %v, want ErrNoJobsCreated", err)
	}
	if n := len(srv.SubmissionsFor(sha256Hex(content))); n != 1 {
		t.Errorf("%d submissions, want only the seeded one", n)
	}
}

func TestWaitBounds(t *testing.T) {
	ctx := context.Background()
	t.Run("queued", func(t *testing.T) {
		srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1 << 30}))
		c := srv.Client()
		res, err := c.Submissions.SubmitURL(ctx, "http://queued.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{Interval: time.Millisecond, QueueTimeout: 30 * time.Millisecond, InWorkTimeout: time.Hour})
		var te *vmray.WaitTimeoutError
		if !errors.Is(err, vmray.ErrWaitTimeout) || !errors.As(err, &te) || te.Phase != vmray.PhaseQueued || te.Last == nil || te.Last.Status != vmray.SubmissionQueued {
			t.Fatalf("err = %v (%+v)", err, te)
		}
	})
	t.Run("inwork", func(t *testing.T) {
		srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{InWorkPolls: 1 << 30}))
		c := srv.Client()
		res, err := c.Submissions.SubmitURL(ctx, "http://slow.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		// The queue timeout is an hour: the wait can only end through the in-work timeout.
		_, err = c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{Interval: time.Millisecond, QueueTimeout: time.Hour, InWorkTimeout: 30 * time.Millisecond})
		var te *vmray.WaitTimeoutError
		if !errors.As(err, &te) || te.Phase != vmray.PhaseInWork || te.Last.Status != vmray.SubmissionInProgress {
			t.Fatalf("err = %v (%+v)", err, te)
		}
	})
	t.Run("queue time does not count as work", func(t *testing.T) {
		clock := vmraytest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		srv := vmraytest.NewServer(t, vmraytest.WithClock(clock), vmraytest.WithTiming(vmraytest.Timing{QueuedFor: time.Hour, InWorkPolls: 2}))
		c := srv.Client()
		res, err := c.Submissions.SubmitURL(ctx, "http://busy.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{Interval: time.Millisecond, MaxInterval: time.Millisecond, QueueTimeout: 5 * time.Second, InWorkTimeout: 400 * time.Millisecond})
			done <- err
		}()
		// Queued for longer than InWorkTimeout, which must not run yet.
		time.Sleep(900 * time.Millisecond)
		clock.Advance(time.Hour)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failed analysis", func(t *testing.T) {
		srv := vmraytest.NewServer(t, vmraytest.WithDefaultOutcome(vmraytest.Outcome{FailAnalysis: "Sample crashed during analysis"}))
		c := srv.Client()
		_, wr, err := c.Submissions.SubmitFileAndWait(ctx, "crash.exe", bytes.NewReader([]byte("crash")), nil, fastWait)
		if err != nil {
			t.Fatal(err)
		}
		if len(wr.FailedAnalyses) != 1 || wr.FailedAnalyses[0].ResultStr != "Sample crashed during analysis" ||
			wr.Submission.Status != vmray.SubmissionError || !*wr.Submission.HasErrors {
			t.Fatalf("wait result %+v", wr)
		}
	})
	t.Run("tolerates transient poll errors", func(t *testing.T) {
		srv := vmraytest.NewServer(t)
		c := srv.Client(vmray.WithRetry(vmray.RetryPolicy{Disabled: true}))
		res, err := c.Submissions.SubmitURL(ctx, "http://flaky.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		srv.InjectFault(vmraytest.Fault{Path: "/rest/submission/", Status: http.StatusBadGateway, Times: 2})
		if _, err := c.Submissions.Wait(ctx, res.Submission().ID, fastWait); err != nil {
			t.Fatal(err)
		}
		srv.InjectFault(vmraytest.Fault{Path: "/rest/submission/", Status: http.StatusBadGateway})
		if _, err := c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{Interval: time.Millisecond, MaxPollErrors: 3}); !errors.Is(err, vmray.ErrServer) {
			t.Fatalf("err = %v, want ErrServer after MaxPollErrors", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1 << 30}))
		c := srv.Client()
		res, err := c.Submissions.SubmitURL(ctx, "http://never.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		if _, err := c.Submissions.Wait(cctx, res.Submission().ID, vmray.WaitOptions{Interval: 5 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
	})
}

func TestFlowFaults(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Status: http.StatusTooManyRequests, RetryAfter: "0", Body: vmraytest.ThrottledBody, Times: 1})
	if _, err := c.System.Info(ctx); err != nil {
		t.Fatalf("429 then success: %v", err)
	}
	if n := srv.CountRequests(http.MethodGet, "/rest/system_info"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Status: http.StatusInternalServerError, Times: 3})
	if _, err := c.System.Info(ctx); !errors.Is(err, vmray.ErrServer) {
		t.Errorf("5xx: %v", err)
	}
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Malformed: true, Times: 1})
	if _, err := c.System.Info(ctx); !errors.Is(err, vmray.ErrMalformedResponse) {
		t.Errorf("malformed: %v", err)
	}
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Drop: true, Times: 1})
	if _, err := c.System.Info(ctx); err != nil {
		t.Errorf("dropped once then retried: %v", err)
	}
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Drop: true})
	if _, err := c.System.Info(ctx); err == nil {
		t.Error("dropped connection: no error")
	}
	srv.ClearFaults()
	slow := srv.Client(vmray.WithAttemptTimeout(20*time.Millisecond), vmray.WithRetry(vmray.RetryPolicy{Disabled: true}))
	srv.InjectFault(vmraytest.Fault{Path: "/rest/system_info", Latency: time.Second, Times: 1})
	if _, err := slow.System.Info(ctx); err == nil {
		t.Error("latency past the attempt timeout: no error")
	}
	bad, err := vmray.New(srv.URL(), "wrong-key-123456", vmray.WithHTTPClient(http.DefaultClient))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.System.Info(ctx); !errors.Is(err, vmray.ErrUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestFlowTLS(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTLS())
	ctx := context.Background()
	c, err := vmray.New(srv.URL(), vmraytest.DefaultAPIKey, vmray.WithCACertPEM(srv.CACertPEM()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.System.Info(ctx); err != nil {
		t.Fatalf("with CA: %v", err)
	}
	untrusted, err := vmray.New(srv.URL(), vmraytest.DefaultAPIKey, vmray.WithRetry(vmray.RetryPolicy{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := untrusted.System.Info(ctx); err == nil {
		t.Error("unknown CA accepted")
	}
	insecure, err := vmray.New(srv.URL(), vmraytest.DefaultAPIKey, vmray.WithInsecureSkipVerify())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insecure.System.Info(ctx); err != nil {
		t.Errorf("insecure: %v", err)
	}
}
