package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

func TestWorldServesEveryVendor(t *testing.T) {
	w, err := StartWorld(true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()

	vm := w.VMRay.Client()
	if samples, err := vm.Samples.Lookup(ctx, known.sha256); err != nil || len(samples) != 1 {
		t.Fatalf("vmray knows %d samples for the banker: %v", len(samples), err)
	}
	cb := w.CarbonBlack.Client()
	devices := 0
	for _, err := range cb.Devices.All(ctx, carbonblack.DeviceSearch{}) {
		if err != nil {
			t.Fatal(err)
		}
		devices++
	}
	if devices != len(hosts) {
		t.Fatalf("carbon black devices: %d", devices)
	}
	s1 := w.SentinelOne.Client()
	n := 0
	for _, err := range s1.Threats.All(ctx, sentinelone.ThreatListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("sentinelone threats: %d", n)
	}
	nsx, err := w.NSX.Client()
	if err != nil {
		t.Fatal(err)
	}
	vms := 0
	for _, err := range nsx.ListVirtualMachines(ctx, nsxconn.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		vms++
	}
	if vms != 3 {
		t.Fatalf("nsx VMs: %d", vms)
	}
	if !bytes.Contains(w.CACertPEM(), []byte("BEGIN CERTIFICATE")) {
		t.Fatal("no CA certificates with TLS")
	}
}

func TestDescribeAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-print-env", "nope"}, &out, &errOut, nil); code != 2 || !strings.Contains(errOut.String(), "unknown example") {
		t.Fatalf("bad example: %d %s", code, errOut.String())
	}
	ready := make(chan *Service, 1)
	done := make(chan int, 1)
	go func() { done <- run(nil, &out, &errOut, ready) }()
	svc := <-ready
	if !strings.Contains(out.String(), svc.URL("vmray")) || !strings.Contains(out.String(), svc.URL("control")) || !strings.Contains(out.String(), "go run ./examples/tap-cbc -once") ||
		!strings.Contains(out.String(), "api_key "+vmraytest.DefaultAPIKey) {
		t.Fatalf("description:\n%s", out.String())
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fakeworld did not stop on SIGINT")
	}
}

// TestExamplesRunAgainstTheWorld builds the example connectors and runs each
// once with the environment fakeworld prints, proving the printed keys are
// the examples' real configuration and the world drives their flows.
func TestExamplesRunAgainstTheWorld(t *testing.T) {
	bin := t.TempDir()
	var names []string
	for _, n := range exampleNames() {
		if _, err := os.Stat(filepath.Join("..", n)); err == nil {
			names = append(names, n)
		}
	}
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "../"+n)
	}
	if outp, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, outp)
	}
	w, err := StartWorld(false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, n), "-once")
			cmd.Dir = t.TempDir()
			cmd.Env = os.Environ()
			for k, v := range w.Env(n, "") {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Env = append(cmd.Env, strings.ToUpper(strings.ReplaceAll(n, "-", "_"))+"_RUN_OPS_LISTEN=")
			outp, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", n, err, outp)
			}
			if !strings.Contains(string(outp), "Run summary") {
				t.Fatalf("no summary:\n%s", outp)
			}
		})
	}
	if slices.Contains(names, "tap-cbc") {
		vm, _ := w.NSX.VM("5012c3a5-0000-4f2e-8a1d-fakeworld000")
		if len(vm.Tags) != 1 || vm.Tags[0].Tag != "soarkit-infected" {
			t.Errorf("tap-cbc did not tag the VM of WS-FIN-01: %+v", vm.Tags)
		}
	}
	if got := w.VMRay.SubmissionsFor(dropper.sha256); len(got) != 1 {
		t.Errorf("the dropper, seen by CBC and SentinelOne, was submitted %d times", len(got))
	}
}

// TestDemoWorldCoversEveryCall checks the seeded world serves every call the
// three flows and the vendors' own clients make: observations for the
// alerts, IOCs with every list filled, more than one page of VMRay
// submissions, Deep Visibility processes for the threats, and TAP windows
// with delivered and blocked attachments.
func TestDemoWorldCoversEveryCall(t *testing.T) {
	now := time.Now()
	w, err := StartWorld(false, now)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()

	cb := w.CarbonBlack.Client()
	alerts := w.CarbonBlack.Alerts()
	obs := 0
	for o, err := range cb.Observations.Search(ctx, carbonblack.JobRequest{Query: "alert_id:" + alerts[0].ID}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(o.AlertID) == 0 || o.AlertID[0] != alerts[0].ID {
			t.Fatalf("observation %+v", o)
		}
		obs++
	}
	if obs != 1 {
		t.Fatalf("%d observations for alert %s", obs, alerts[0].ID)
	}

	vm := w.VMRay.Client()
	page, err := vm.Submissions.ListPage(ctx, nil)
	if err != nil || page.ContinuationID == "" || len(page.Items) != 2 {
		t.Fatalf("first page of submissions: %+v %v", page, err)
	}
	subs, err := vmray.Collect(vm.Submissions.List(ctx, nil))
	if err != nil || len(subs) < 3 {
		t.Fatalf("all submissions: %d %v", len(subs), err)
	}
	smp, ok := w.VMRay.SampleByHash(known.sha256)
	if !ok {
		t.Fatal("banker not seeded")
	}
	iocs, err := vm.Samples.IOCs(ctx, smp.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := iocs.IOCs
	for name, n := range map[string]int{"files": len(l.Files), "filenames": len(l.Filenames), "mutexes": len(l.Mutexes),
		"registry": len(l.Registry), "ips": len(l.IPs), "urls": len(l.URLs), "domains": len(l.Domains),
		"email_addresses": len(l.EmailAddresses), "emails": len(l.Emails), "processes": len(l.Processes)} {
		if n == 0 {
			t.Errorf("IOC list %s is empty", name)
		}
	}

	s1 := w.SentinelOne.Client(sentinelone.WithQueryPoll(sentinelone.PollPolicy{Interval: time.Millisecond, Timeout: 10 * time.Second}))
	events := 0
	for ev, err := range s1.DeepVisibility.Search(ctx, sentinelone.DVQuery{Query: `ObjectType = "Process"`,
		FromDate: sentinelone.NewTime(now.Add(-2 * time.Hour)), ToDate: sentinelone.NewTime(now.Add(time.Minute))}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.ProcessImageSha1Hash == "" || !bool(ev.RelatedToThreat) {
			t.Errorf("event %+v", ev)
		}
		events++
	}
	if events != 3 {
		t.Errorf("%d Deep Visibility process events, want one per threat (3)", events)
	}

	tap := w.Proofpoint.Client()
	ev, err := tap.SIEM.All(ctx, proofpoint.Query{SinceSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.MessagesDelivered) != 1 || len(ev.MessagesDelivered[0].AttachedParts()) == 0 ||
		len(ev.MessagesBlocked) != 1 || len(ev.MessagesBlocked[0].AttachedParts()) == 0 {
		t.Fatalf("TAP window: %d delivered, %d blocked", len(ev.MessagesDelivered), len(ev.MessagesBlocked))
	}
}
