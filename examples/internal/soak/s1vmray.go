package soak

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// s1VMRay is s1-vmray against SentinelOne and VMRay: each file is one
// threat on its own Windows agent, fetched from the agent; notes on every
// threat (VMRay's verdict, or the false-positive note of a clean file),
// indicators, a global blocklist entry, the threat's kill and a scan of the
// agent for malicious files, the false-positive analyst verdict for clean
// ones.
func s1VMRay() *Example {
	return &Example{Name: "s1-vmray", EnvPrefix: "S1_VMRAY", start: func(o Options, rng *rand.Rand) (world, error) {
		s1, err := sentinelonetest.New(sentinelonetest.WithQueryPolls(1))
		if err != nil {
			return nil, err
		}
		vm, err := vmraytest.New(vmraytest.WithTiming(vmraytest.DefaultTiming))
		if err != nil {
			s1.Close()
			return nil, err
		}
		w := &s1VMRayWorld{s1: s1, vm: vm, verdicts: map[string]vmray.Verdict{}, threat: map[string]sentinelone.Threat{},
			domain: map[string]string{}}
		w.seed(o.Items, rng)
		return w, nil
	}}
}

type s1VMRayWorld struct {
	s1 *sentinelonetest.Server
	vm *vmraytest.Server
	// files are the seeded files' SHA-1s in seeding order; verdicts, threat
	// and domain (the one IOC VMRay reports) are per SHA-1.
	files    []string
	verdicts map[string]vmray.Verdict
	threat   map[string]sentinelone.Threat
	domain   map[string]string
}

func (w *s1VMRayWorld) seed(n int, rng *rand.Rand) {
	for i := range n {
		a := w.s1.AddAgent(sentinelone.Agent{ComputerName: fmt.Sprintf("WS-SOAK-%04d", i), IsActive: true})
		content := fmt.Appendf(nil, "MZ\x90\x00 soak file %d of seed %d", i, rng.Uint64())
		sum := sha1.Sum(content)
		sha := hex.EncodeToString(sum[:])
		v := verdictMix(rng)
		path := fmt.Sprintf(`C:\Soak\file-%d.exe`, i)
		t := w.s1.AddThreat(sentinelone.Threat{
			ThreatInfo: sentinelone.ThreatInfo{SHA1: sha, FilePath: sentinelone.FlexString(path),
				ConfidenceLevel: sentinelone.ConfidenceMalicious, ThreatName: fmt.Sprintf("file-%d.exe", i), Classification: "Malware",
				FileSize: int64(len(content))},
			AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: a.ID},
		})
		w.s1.SetThreatFile(t.ID, sentinelonetest.File{Content: content})
		w.files = append(w.files, sha)
		w.verdicts[sha], w.threat[sha] = v, t
		w.vm.SetOutcome(sha, outcome(v, i))
		if v != vmray.VerdictClean {
			w.domain[sha] = fmt.Sprintf("c2-%d.soak.example", i)
		}
	}
}

func (w *s1VMRayWorld) fakes() map[string]fake {
	return map[string]fake{"sentinelone": w.s1, "vmray": w.vm}
}

func (w *s1VMRayWorld) requests() map[string]int {
	return map[string]int{"sentinelone": len(w.s1.Requests()), "vmray": len(w.vm.Requests())}
}

func (w *s1VMRayWorld) settings(o Options) map[string]string {
	return map[string]string{
		"sentinelone.url": w.s1.URL(), "sentinelone.settle_delay": o.actionSettleDelay().String(), "sentinelone.api_token": w.s1.Token(), "sentinelone.collect_methods": "threat",
		"sentinelone.fetch_poll_interval": "20ms", "sentinelone.fetch_timeout": "30s", "sentinelone.offline_retry": "20ms",
		"vmray.url": w.vm.URL(), "vmray.api_key": vmraytest.DefaultAPIKey, "vmray.settle_delay": o.settleDelay().String(),
		"run.pipeline.poll_interval": "50ms", "selected_verdicts": "malicious,suspicious",
		"note.verdicts": "malicious,suspicious", "indicators.enabled": "true", "global_blocklist.enabled": "true",
		"kill.enabled": "true", "initiate_scan.enabled": "true",
	}
}

func (w *s1VMRayWorld) close() {
	w.s1.Close()
	w.vm.Close()
}

func (w *s1VMRayWorld) count(r *Result) {
	notes, indicators, blocklist := newTally("note"), newTally("indicator"), newTally("global blocklist")
	kills, scans, falsePositives := newTally("kill"), newTally("initiate scan"), newTally("false positive")
	acted := map[string]bool{}
	byValue := map[string]string{} // an indicator's value -> the file it came from
	for _, sha := range w.files {
		t := w.threat[sha]
		byValue[sha] = sha
		if d := w.domain[sha]; d != "" {
			byValue[d] = sha
		}
		notes.expect(t.ID)
		switch w.verdicts[sha] {
		case vmray.VerdictMalicious:
			indicators.expect(sha)
			blocklist.expect(sha)
			kills.expect(t.ID)
			scans.expect(t.AgentRealtimeInfo.AgentID)
			r.Actionable++
		case vmray.VerdictSuspicious:
			r.Actionable++
		case vmray.VerdictClean:
			falsePositives.expect(t.ID)
		}
		for range w.s1.Notes(t.ID) {
			notes.acted(t.ID, "")
			acted[sha] = true
		}
		for _, a := range w.s1.ThreatActions(t.ID) {
			switch {
			case strings.HasPrefix(a, "mitigate/"):
				kills.acted(t.ID, a)
				acted[sha] = true
			case strings.HasPrefix(a, "analyst-verdict/"):
				falsePositives.acted(t.ID, a)
			}
		}
		for _, a := range w.s1.AgentActions(t.AgentRealtimeInfo.AgentID) {
			if a == "initiate-scan" {
				scans.acted(t.AgentRealtimeInfo.AgentID, a)
				acted[sha] = true
			}
		}
	}
	for _, ioc := range w.s1.IOCs() {
		sha, ok := byValue[strings.ToLower(ioc.Value)]
		if !ok {
			sha = "other"
		}
		indicators.acted(sha, ioc.Type+" "+ioc.Value)
		acted[sha] = true
	}
	for _, b := range w.s1.Restrictions() {
		sha, ok := byValue[strings.ToLower(b.Value)]
		if !ok {
			sha = "other"
		}
		blocklist.acted(sha, b.OSType+" "+b.Value)
		acted[sha] = true
	}
	r.Responders = []ResponderCount{notes.count(), indicators.count(), blocklist.count(), kills.count(), scans.count(),
		falsePositives.count()}
	countSubmissions(r, w.vm, w.files, func(sha string) bool { return w.verdicts[sha] != vmray.VerdictClean && !acted[sha] })
}
