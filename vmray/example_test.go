package vmray_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// This example follows VMRay's connectors: look the hash up (free), submit
// when unknown, wait with separate queue and in-work bounds, then read the
// verdict, VTIs and malicious IOCs.
func Example() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	file := []byte("MZ... a suspicious installer")
	sum := sha256.Sum256(file)
	hash := hex.EncodeToString(sum[:])
	srv.SetOutcome(hash, vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 98, ThreatNames: []string{"Emotet"},
		VTIs: []vmray.ThreatIndicator{{Category: "Injection", Operation: "Modifies memory of another process", Score: 4}},
		IOCs: vmray.IOCs{IPs: []vmray.IPIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, IPAddress: "203.0.113.9"}}},
	})

	// In production: vmray.New("https://eu.cloud.vmray.com", apiKey, vmray.WithUserAgent("my-connector/1.0"))
	c := srv.Client()
	ctx := context.Background()

	known, err := c.Samples.Lookup(ctx, hash)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("known before:", len(known) > 0)

	res, err := c.Submissions.SubmitFile(ctx, "setup.exe", bytes.NewReader(file), &vmray.SubmitOptions{
		Comment:    "Sample from my connector",
		Tags:       []string{"EDR"},
		UserConfig: &vmray.UserConfig{Timeout: 120},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{
		Interval: 10 * time.Millisecond, QueueTimeout: time.Hour, InWorkTimeout: 5 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	smp, err := c.Samples.Get(ctx, done.Submission.SampleID)
	if err != nil {
		log.Fatal(err)
	}
	score, _ := smp.GetVTIScore() // nullable: false until VMRay has scored the sample
	fmt.Println("verdict:", smp.Verdict, "score:", int(score), "threats:", smp.ThreatNames)

	vtis, err := c.Samples.VTIs(ctx, smp.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vtis.ThreatIndicators {
		fmt.Printf("VTI %d/5 %s: %s\n", v.Score, v.Category, v.Operation)
	}
	iocs, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{Verdict: vmray.VerdictMalicious})
	if err != nil {
		log.Fatal(err)
	}
	for _, ip := range iocs.IOCs.IPs {
		fmt.Println("malicious IP:", ip.IPAddress)
	}
	// Output:
	// known before: false
	// verdict: malicious score: 98 threats: [Emotet]
	// VTI 4/5 Injection: Modifies memory of another process
	// malicious IP: 203.0.113.9
}

// A Verdict (detector) key sees reports locked; unlock them only for samples
// that are not clean, since unlocking uses report quota.
func ExampleSamplesService_UnlockReports() {
	srv, err := vmraytest.New(vmraytest.WithAPIKey(vmraytest.APIKey{Key: "verdict-key", BillingType: vmray.BillingDetector}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	smp, err := srv.AddSample(vmraytest.Sample{Content: []byte("dropper"), Locked: true,
		Outcome: vmraytest.Outcome{Verdict: vmray.VerdictSuspicious}})
	if err != nil {
		log.Fatal(err)
	}
	c := srv.ClientWithKey("verdict-key")
	ctx := context.Background()

	_, err = c.Samples.Report(ctx, smp.ID)
	fmt.Println("report before unlock forbidden:", errors.Is(err, vmray.ErrForbidden))
	if smp.Verdict != vmray.VerdictClean {
		res, err := c.Samples.UnlockReports(ctx, smp.ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("unlocked analyses:", len(res.UnlockedAnalysisIDs))
	}
	report, err := c.Samples.Report(ctx, smp.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer report.Close()
	head := make([]byte, 5)
	_, _ = io.ReadFull(report, head)
	fmt.Printf("report starts with %q\n", head)
	// Output:
	// report before unlock forbidden: true
	// unlocked analyses: 1
	// report starts with "%PDF-"
}

// Submitting a known file with legacy analysis caching is refused inside an
// HTTP 200; the error names the file and the reason.
func ExampleSubmissionsService_SubmitFile_rejected() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.AddSample(vmraytest.Sample{Content: []byte("# readme")}); err != nil {
		log.Fatal(err)
	}
	c := srv.Client()
	_, err = c.Submissions.SubmitFile(context.Background(), "README.md", bytes.NewReader([]byte("# readme")),
		&vmray.SubmitOptions{AnalysisCaching: vmray.CachingLegacy})
	var rej *vmray.RejectedError
	if errors.Is(err, vmray.ErrNoJobsCreated) && errors.As(err, &rej) {
		fmt.Println(rej.Rejections[0].Filename, "-", rej.Rejections[0].Message)
	}
	// Output:
	// README.md - Submission not stored because no jobs were created
}

// Lists follow VMRay's single-use continuation ids transparently.
func ExampleSubmissionsService_ListBySample() {
	srv, err := vmraytest.New(vmraytest.WithPageSize(2))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	var sampleID int64
	for range 3 {
		res, err := c.Submissions.SubmitURL(ctx, "http://phish.example/login", &vmray.SubmitOptions{AnalysisCaching: vmray.CachingDisabled})
		if err != nil {
			log.Fatal(err)
		}
		sampleID = res.Sample().ID
	}
	n := 0
	for sub, err := range c.Submissions.AllBySample(ctx, sampleID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		_ = sub
	}
	fmt.Println("submissions:", n, "continuations fetched:", srv.CountRequests("GET", "/rest/continuation/"))
	// Output:
	// submissions: 3 continuations fetched: 1
}

// Download returns the sample itself, decrypted from VMRay's password-protected
// archive.
func ExampleSamplesService_Download() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	smp, err := srv.AddSample(vmraytest.Sample{Filename: "invoice.exe", Content: []byte("MZ sample bytes")})
	if err != nil {
		log.Fatal(err)
	}
	f, err := srv.Client().Samples.Download(context.Background(), smp.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes: %q\n", len(data), data)
	// Output:
	// 15 bytes: "MZ sample bytes"
}
