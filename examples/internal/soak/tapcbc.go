package soak

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

const (
	tapFeed          = "Proofpoint TAP"
	tapPolicy        = "Isolation - Restrictive"
	tapWebhookSecret = "soak-webhook-secret"
)

// tapCBC is tap-cbc against Proofpoint TAP and Carbon Black Cloud: each
// file is a malware attachment of its own delivered message; 80% of them
// ran as a process on their own Windows device, the others were never seen
// on an endpoint (no action is due for them). For a file seen: a feed
// report, a ban, isolation and a policy move of the device, a Live Response
// kill of the process and deletion of the file, and a webhook delivery.
func tapCBC() *Example {
	return &Example{Name: "tap-cbc", EnvPrefix: "TAP_CBC", killMin: 2 * time.Second, killMax: 15 * time.Second, start: func(o Options, rng *rand.Rand) (world, error) {
		w := &tapCBCWorld{seen: map[string]tapSighting{}}
		var err error
		if w.tap, err = proofpointtest.New(); err != nil {
			return nil, err
		}
		if w.cbc, err = carbonblacktest.New(carbonblacktest.WithJobPolls(1), carbonblacktest.WithSessionPolls(1),
			carbonblacktest.WithCommandPolls(1)); err != nil {
			w.close()
			return nil, err
		}
		if w.hook, err = startReceiver(tapWebhookSecret); err != nil {
			w.close()
			return nil, err
		}
		w.seed(o.Items, rng)
		return w, nil
	}}
}

type tapCBCWorld struct {
	tap    *proofpointtest.Server
	cbc    *carbonblacktest.Server
	hook   *receiver
	policy carbonblack.Policy
	// files are the attachments' SHA-256s in seeding order; seen holds
	// where the ones seen on an endpoint ran.
	files []string
	seen  map[string]tapSighting
}

type tapSighting struct {
	device int64
	pid    int64
	path   string
}

func (w *tapCBCWorld) seed(n int, rng *rand.Rand) {
	now := time.Now().UTC()
	w.policy = w.cbc.AddPolicy(carbonblack.Policy{Name: tapPolicy, Description: "Blocks everything but the EDR"})
	for i := range n {
		content := fmt.Appendf(nil, "MZ\x90\x00 soak attachment %d of seed %d", i, rng.Uint64())
		s, m := sha256.Sum256(content), md5.Sum(content)
		sha, md := hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
		w.files = append(w.files, sha)
		name := fmt.Sprintf("invoice-%d.exe", i)
		if rng.IntN(10) < 8 {
			d := w.cbc.AddDevice(carbonblack.Device{Name: fmt.Sprintf("WS-SOAK-%04d", i), OS: "WINDOWS", PolicyName: "Standard"})
			sg := tapSighting{device: d.ID, pid: int64(4000 + i), path: fmt.Sprintf(`c:\users\u%d\downloads\%s`, i, name)}
			w.seen[sha] = sg
			t := carbonblack.Timestamp{Time: now.Add(-30 * time.Minute)}
			w.cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(d.ID), DeviceName: d.Name, DeviceOS: d.OS,
				ProcessGUID: fmt.Sprintf("%s-%08x-%08x-00000000-1d9a3c1e5b7f210", w.cbc.OrgKey(), d.ID, sg.pid),
				ProcessHash: []string{md, sha}, ProcessSHA256: sha, ProcessName: sg.path, ProcessPID: carbonblack.IntList{sg.pid},
				ProcessEffectiveReputation: "NOT_LISTED", ProcessStartTime: t, DeviceTimestamp: t, BackendTimestamp: t})
			// The fake refuses neither: the device exists and the path is new.
			_ = w.cbc.AddDeviceProcess(d.ID, carbonblack.LRProcess{ProcessPID: sg.pid, ProcessPath: sg.path})
			_ = w.cbc.AddDeviceFile(d.ID, sg.path, content)
		}
		at := now.Add(-time.Duration(16*60+rng.IntN(40*60)) * time.Second)
		guid := fmt.Sprintf("soak-guid-%06d", i)
		rcpt := []string{fmt.Sprintf("u%d@example.com", i)}
		w.tap.AddDeliveredMessage(proofpoint.Message{GUID: guid, ID: "evt-" + guid, QID: fmt.Sprintf("r2FNwRHF%06d", i),
			MessageID: "<" + guid + "@mail.evil.example>", MessageTime: proofpoint.Time{Time: at},
			Sender: "e99d7ed5580193f36a51f597bc2c0210@evil.example", SenderIP: "192.0.2.25",
			FromAddress: proofpoint.Addresses{"billing@evil.example"}, Recipient: rcpt, ToAddresses: rcpt, Subject: "Your invoice",
			MalwareScore: 90, MessageParts: []proofpoint.MessagePart{{Disposition: "attached", Filename: name, SHA256: sha, MD5: md,
				SandboxStatus: "threat"}},
			ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatID: sha, Threat: sha, ThreatType: "attachment", Classification: "malware",
				ThreatStatus: "active", ThreatTime: proofpoint.Time{Time: at},
				ThreatURL: "https://threatinsight.proofpoint.com/soak/threat/email/" + sha}}}, time.Time{})
	}
}

func (w *tapCBCWorld) fakes() map[string]fake {
	return map[string]fake{"proofpoint": w.tap, "carbonblack": w.cbc, "webhook": w.hook}
}

func (w *tapCBCWorld) requests() map[string]int {
	return map[string]int{"proofpoint": len(w.tap.Requests()), "carbonblack": len(w.cbc.Requests()),
		"webhook": len(w.hook.Requests())}
}

func (w *tapCBCWorld) settings(o Options) map[string]string {
	return map[string]string{
		"carbonblack.hunt_retry": o.RetryMaxDelay.String(), "carbonblack.hunt_retry_max": o.RetryMaxDelay.String(),
		"proofpoint.url": w.tap.URL(), "proofpoint.principal": w.tap.Principal(), "proofpoint.secret": w.tap.Secret(),
		"carbonblack.url": w.cbc.URL(), "carbonblack.settle_delay": o.actionSettleDelay().String(), "carbonblack.org_key": w.cbc.OrgKey(), "carbonblack.api_id": w.cbc.APIID(),
		"carbonblack.api_secret": w.cbc.APISecret(), "carbonblack.poll_interval": "20ms",
		"run.pipeline.poll_interval": "50ms",
		"feed_report.enabled":        "true", "feed_report.feed": tapFeed, "ban.enabled": "true", "isolate.enabled": "true",
		"policy.enabled": "true", "policy.policy": tapPolicy, "live_response.enabled": "true",
		"webhook.enabled": "true", "webhook.url": w.hook.URL(), "webhook.secret": tapWebhookSecret,
	}
}

func (w *tapCBCWorld) close() {
	if w.tap != nil {
		w.tap.Close()
	}
	if w.cbc != nil {
		w.cbc.Close()
	}
	if w.hook != nil {
		w.hook.close()
	}
}

func (w *tapCBCWorld) count(r *Result) {
	reports, bans, isolations := newTally("feed report"), newTally("ban"), newTally("isolate")
	policies, lr, hooks := newTally("policy"), newTally("live response"), newTally("webhook")
	acted := map[string]bool{}
	device := map[int64]string{} // a device -> the file that ran there
	for sha, sg := range w.seen {
		device[sg.device] = sha
		reports.expect(sha)
		bans.expect(sha)
		d := fmt.Sprint(sg.device)
		isolations.expect(d)
		policies.expect(d)
		lr.expect(d)
		hooks.expect(sha)
		r.Actionable++
	}
	ctx := context.Background()
	if feed, err := w.cbc.Client().Feeds.FindByName(ctx, tapFeed, false); err == nil && feed != nil {
		if reps, err := w.cbc.Client().Feeds.Reports(ctx, feed.ID); err == nil {
			for _, rep := range reps {
				sha := reportFile(rep, w.files)
				reports.acted(sha, "")
				acted[sha] = true
			}
		}
	}
	for _, o := range w.cbc.Overrides() {
		sha := strings.ToLower(o.SHA256Hash)
		bans.acted(sha, "")
		acted[sha] = true
	}
	for _, a := range w.cbc.DeviceActions() {
		for _, id := range a.DeviceIDs {
			switch {
			case a.ActionType == carbonblack.ActionQuarantine && fmt.Sprint(a.Options["toggle"]) == "ON":
				isolations.acted(fmt.Sprint(id), "")
			case a.ActionType == carbonblack.ActionUpdatePolicy:
				policies.acted(fmt.Sprint(id), "")
			default:
				continue
			}
			acted[device[id]] = true
		}
	}
	// Live Response: done when the fake's device no longer runs the process
	// nor holds the file. The fake runs a command when it is polled, so a
	// kill or delete whose answer was lost never ran and the responder's
	// retry sends it again; on a real device the first would have run and
	// the retry would find nothing left to do. Commands sent again are
	// counted apart: they had no second effect.
	sent := map[string]int{}
	for _, c := range w.cbc.Commands() {
		switch c.Name {
		case "kill", "delete file":
			sent[fmt.Sprint(c.DeviceID, c.Name, c.PID, c.Path)]++
		}
	}
	for _, n := range sent {
		r.RepeatedCommands += n - 1
	}
	for sha, sg := range w.seen {
		_, present := w.cbc.DeviceFile(sg.device, sg.path)
		if present || len(w.cbc.DeviceProcesses(sg.device)) > 0 {
			continue
		}
		lr.acted(fmt.Sprint(sg.device), "")
		acted[sha] = true
	}
	got, _ := w.hook.deliveries()
	ids := map[string]bool{}
	for _, p := range got {
		r.WebhookDeliveries++
		if ids[p.ID] {
			r.RepeatedDeliveries++
			continue
		}
		ids[p.ID] = true
		sha := strings.ToLower(p.Evidence.Hashes.SHA256)
		unit := ""
		if p.Sighting != nil {
			unit = p.Sighting.DeviceID + " " + fmt.Sprint(p.Sighting.PID)
		}
		hooks.acted(sha, unit)
		acted[sha] = true
	}
	r.Responders = []ResponderCount{reports.count(), bans.count(), isolations.count(), policies.count(), lr.count(), hooks.count()}
	for _, sha := range w.files {
		if _, ok := w.seen[sha]; ok && !acted[sha] {
			r.Lost = append(r.Lost, sha)
		}
	}
}

// reportFile returns the seeded file a feed report is about: its id or one
// of its indicators names it.
func reportFile(rep carbonblack.Report, files []string) string {
	for _, sha := range files {
		if strings.EqualFold(rep.ID, sha) || strings.Contains(strings.ToLower(fmt.Sprint(rep.IOCsV2)), sha) {
			return sha
		}
	}
	return "report " + rep.ID
}
