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
	"github.com/soarkit/soarkit/sentinelone"
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
