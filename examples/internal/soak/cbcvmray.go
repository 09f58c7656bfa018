package soak

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// verdictMix draws a file's verdict: 30% malicious, 20% suspicious, 50%
// clean.
func verdictMix(rng *rand.Rand) vmray.Verdict {
	switch x := rng.IntN(10); {
	case x < 3:
		return vmray.VerdictMalicious
	case x < 5:
		return vmray.VerdictSuspicious
	default:
		return vmray.VerdictClean
	}
}

// outcome is what the VMRay fake finds for a file of verdict v.
func outcome(v vmray.Verdict, i int) vmraytest.Outcome {
	o := vmraytest.Outcome{Verdict: v, Score: map[vmray.Verdict]int{vmray.VerdictMalicious: 90, vmray.VerdictSuspicious: 55}[v]}
	if v != vmray.VerdictClean {
		o.Classifications = []string{"Soak"}
		o.IOCs = vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: v}, Domain: fmt.Sprintf("c2-%d.soak.example", i)}}}
	}
	return o
}

// cbcVMRay is cbc-vmray against Carbon Black Cloud and VMRay: each file is
// the process of its own Windows device; watchlist reports for malicious and
// suspicious files, bans and quarantine for malicious ones.
func cbcVMRay() *Example {
	return &Example{Name: "cbc-vmray", EnvPrefix: "CBC_VMRAY", start: func(o Options, rng *rand.Rand) (world, error) {
		cbc, err := carbonblacktest.New(carbonblacktest.WithJobPolls(1), carbonblacktest.WithSessionPolls(1))
		if err != nil {
			return nil, err
		}
		vm, err := vmraytest.New(vmraytest.WithTiming(vmraytest.DefaultTiming))
		if err != nil {
			cbc.Close()
			return nil, err
		}
		w := &cbcVMRayWorld{cbc: cbc, vm: vm, verdicts: map[string]vmray.Verdict{}, device: map[string]int64{}}
		w.seed(o.Items, rng)
		return w, nil
	}}
}

type cbcVMRayWorld struct {
	cbc *carbonblacktest.Server
	vm  *vmraytest.Server
	// verdicts and device per seeded file's SHA-256, in seeding order.
	files    []string
	verdicts map[string]vmray.Verdict
	device   map[string]int64
}

func (w *cbcVMRayWorld) seed(n int, rng *rand.Rand) {
	now := time.Now().UTC()
	for i := range n {
		d := w.cbc.AddDevice(carbonblack.Device{Name: fmt.Sprintf("WS-SOAK-%04d", i), OS: "WINDOWS"})
		sha, _ := w.cbc.AddBinary(carbonblacktest.Binary{Content: fmt.Appendf(nil, "MZ\x90\x00 soak file %d of seed %d", i, rng.Uint64())})
		v := verdictMix(rng)
		w.files = append(w.files, sha)
		w.verdicts[sha], w.device[sha] = v, d.ID
		w.vm.SetOutcome(sha, outcome(v, i))
		t := carbonblack.Timestamp{Time: now.Add(-time.Duration(rng.IntN(3600)) * time.Second)}
		pid := int64(1000 + i)
		w.cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x", w.cbc.OrgKey(), d.ID, pid), ProcessHash: []string{sha}, ProcessSHA256: sha,
			ProcessName: fmt.Sprintf(`c:\soak\file-%d.exe`, i), ProcessPID: carbonblack.IntList{pid},
			ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
	}
}

func (w *cbcVMRayWorld) fakes() map[string]fake {
	return map[string]fake{"carbonblack": w.cbc, "vmray": w.vm}
}

func (w *cbcVMRayWorld) requests() map[string]int {
	return map[string]int{"carbonblack": len(w.cbc.Requests()), "vmray": len(w.vm.Requests())}
}

func (w *cbcVMRayWorld) settings(o Options) map[string]string {
	return map[string]string{
		"carbonblack.url": w.cbc.URL(), "carbonblack.settle_delay": o.actionSettleDelay().String(), "carbonblack.org_key": w.cbc.OrgKey(), "carbonblack.api_id": w.cbc.APIID(),
		"carbonblack.api_secret": w.cbc.APISecret(), "carbonblack.data_sources": "process",
		// Windows go in parts of 25, so kills land between the parts of a window and restarts resume from them.
		"carbonblack.part_rows": "25",
		"vmray.url":             w.vm.URL(), "vmray.api_key": vmraytest.DefaultAPIKey, "vmray.settle_delay": o.settleDelay().String(),
		"run.pipeline.poll_interval": "50ms", "selected_verdicts": "malicious,suspicious",
		"watchlist.verdicts": "malicious,suspicious", "ban.enabled": "true", "quarantine.enabled": "true",
	}
}

func (w *cbcVMRayWorld) close() {
	w.cbc.Close()
	w.vm.Close()
}

func (w *cbcVMRayWorld) count(r *Result) {
	reports, bans, quarantines := newTally("watchlist report"), newTally("ban"), newTally("quarantine")
	acted := map[string]bool{}
	for _, sha := range w.files {
		switch w.verdicts[sha] {
		case vmray.VerdictMalicious:
			bans.expect(sha)
			quarantines.expect(fmt.Sprint(w.device[sha]))
			fallthrough
		case vmray.VerdictSuspicious:
			reports.expect(sha)
			r.Actionable++
		}
	}
	for _, rep := range w.cbc.Reports() {
		sha := rep.Title[max(0, len(rep.Title)-64):]
		reports.acted(sha, "")
		acted[sha] = true
	}
	for _, o := range w.cbc.Overrides() {
		bans.acted(strings.ToLower(o.SHA256Hash), "")
		acted[strings.ToLower(o.SHA256Hash)] = true
	}
	bySHA := map[int64]string{}
	for sha, id := range w.device {
		bySHA[id] = sha
	}
	for _, a := range w.cbc.DeviceActions() {
		if a.ActionType != carbonblack.ActionQuarantine || fmt.Sprint(a.Options["toggle"]) != "ON" {
			continue
		}
		for _, id := range a.DeviceIDs {
			quarantines.acted(fmt.Sprint(id), "")
			acted[bySHA[id]] = true
		}
	}
	r.Responders = []ResponderCount{reports.count(), bans.count(), quarantines.count()}
	countSubmissions(r, w.vm, w.files, func(sha string) bool {
		v := w.verdicts[sha]
		return (v == vmray.VerdictMalicious || v == vmray.VerdictSuspicious) && !acted[sha]
	})
}

// countSubmissions counts the VMRay submissions of files, and the lost ones:
// files for which unanswered is true and that VMRay never received.
func countSubmissions(r *Result, vm *vmraytest.Server, files []string, unanswered func(string) bool) {
	r.DuplicateSubmissions = map[string]int{}
	for _, sha := range files {
		n := len(vm.SubmissionsFor(sha))
		r.Submissions += n
		if n > 1 {
			r.DuplicateSubmissions[sha] = n
		}
		if n == 0 && unanswered(sha) {
			r.Lost = append(r.Lost, sha)
		}
	}
}
