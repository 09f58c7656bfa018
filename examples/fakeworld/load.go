package main

import (
	"fmt"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// loadGCPercent is the collector's target growth in a load world (-items)
// unless GOGC is set: 10% keeps the process near its live heap, most of
// which lives as long as the world.
const loadGCPercent = 10

// loadHosts is how many Carbon Black devices the load files are spread over.
const loadHosts = 50

// loadRecording is what each fake keeps of the requests of a load world: the
// counts per route, and the last 1,000 requests without bodies, so memory
// does not grow with the load.
var loadRecording = fakehttp.Recording{MaxRequests: 1000, MaxBodyBytes: -1}

// SeedLoad adds n distinct files for load tests: each run once by a process
// on one of 50 Windows hosts in the last hour (reputation NOT_LISTED, so the
// cbc-vmray process source collects it), held in the binary store, and
// unknown to VMRay, which analyses every file for a second and finds it
// malicious with one domain IOC shared by all. It bounds what the fakes
// record (see loadRecording).
func (w *World) SeedLoad(n int, now time.Time) error {
	for _, f := range []interface{ SetRecording(fakehttp.Recording) }{w.VMRay, w.CarbonBlack, w.SentinelOne, w.Proofpoint, w.NSX} {
		f.SetRecording(loadRecording)
	}
	// Analyses take a second of time rather than a number of checks, as VMRay's do.
	w.VMRay.SetTiming(vmraytest.Timing{InWorkFor: time.Second})
	w.VMRay.SetDefaultOutcome(vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 90, Classifications: []string{"Loader"},
		IOCs: vmray.IOCs{Domains: []vmray.DomainIOC{{IOCCommon: vmray.IOCCommon{Verdict: vmray.VerdictMalicious}, Domain: "c2.load.fakeworld.example"}}}})
	var devs []carbonblack.Device
	for i := range loadHosts {
		devs = append(devs, w.CarbonBlack.AddDevice(carbonblack.Device{Name: fmt.Sprintf("LOAD-%03d", i), OS: "WINDOWS",
			PolicyName: "Standard"}))
	}
	for i := range n {
		// Spread over the last hour but five minutes: a search job returns at most 10,000 processes, and a source
		// splits a window down to a second, not below.
		t := carbonblack.Timestamp{Time: now.Add(-time.Hour + time.Duration(i)*55*time.Minute/time.Duration(n))}
		sha, err := w.CarbonBlack.AddBinary(carbonblacktest.Binary{Content: fmt.Appendf(nil, "MZ\x90\x00 fakeworld load file %07d", i)})
		if err != nil {
			return err
		}
		d := devs[i%len(devs)]
		w.CarbonBlack.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
			ProcessGUID: fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f211", w.CarbonBlack.OrgKey(), d.ID, i),
			ProcessHash: []string{sha}, ProcessSHA256: sha, ProcessName: fmt.Sprintf(`c:\load\f%07d.exe`, i),
			ProcessPID: carbonblack.IntList{int64(10000 + i)}, ProcessEffectiveReputation: "NOT_LISTED",
			ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
	}
	return nil
}
