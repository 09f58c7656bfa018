package console

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/internal/rest"
)

// testNow is the clock of every console test.
var testNow = time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)

// hashesOf returns the three hashes of content, as a source would report them.
func hashesOf(content string) connector.Hashes {
	s2 := sha256.Sum256([]byte(content))
	s1 := sha1.Sum([]byte(content))
	m := md5.Sum([]byte(content))
	return connector.Hashes{SHA256: hex.EncodeToString(s2[:]), SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m[:])}
}

// world is a seeded console state: the items a Carbon Black Cloud -> VMRay connector holds after a few hours, and
// its recent activity.
type world struct {
	store    connector.Store
	activity *Activity
	// Keys of the items, by role.
	ransomware, offline, unfetchable, awaiting, throttled, clean, responding connector.Key
}

func mustKey(t testing.TB, h connector.Hashes) connector.Key {
	t.Helper()
	k, err := h.Key()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func cbcSighting(device, id string, at time.Time, path string) connector.Sighting {
	return connector.Sighting{Source: "carbonblack", Time: at, DeviceID: id, DeviceName: device, OS: "windows",
		ProcessGUID: "7DESJ9GN-00" + id + "-00001a2c-00000000-1d9b2f0e6a1b2c3", PID: 6820, FilePath: path}
}

// seedWorld fills a memstore with items in every state and an Activity with six hours of work.
func seedWorld(t testing.TB) *world {
	t.Helper()
	w := &world{store: memstore.New()}
	t.Cleanup(func() { w.store.Close() })
	at := func(d time.Duration) time.Time { return testNow.Add(-d) }

	ransom := hashesOf("invoice_0423.exe")
	w.ransomware = mustKey(t, ransom)
	offline := hashesOf("setup_helper.msi")
	w.offline = mustKey(t, offline)
	unfetch := hashesOf("Q4-report.docm")
	w.unfetchable = mustKey(t, unfetch)
	awaitH := hashesOf("updater.dll")
	w.awaiting = mustKey(t, awaitH)
	throttled := hashesOf("putty.exe")
	w.throttled = mustKey(t, throttled)
	cleanH := hashesOf("notepad++.exe")
	w.clean = mustKey(t, cleanH)
	respH := hashesOf("svch0st.exe")
	w.responding = mustKey(t, respH)

	malicious := &connector.Verdict{Kind: connector.Malicious, Score: 92, Severity: 9, Analyzer: "vmray",
		AnalysisID: "4711", Classifications: []string{"Ransomware"}, ThreatNames: []string{"Win32.Ransomware.LockBit"},
		ReportURL: "https://eu.cloud.vmray.com/samples/4711", Time: at(3 * time.Hour)}
	items := []connector.Item{
		{Key: w.ransomware, State: connector.StateDone, Verdict: malicious, VerdictAt: at(3 * time.Hour),
			Ticket:      &connector.Ticket{Analyzer: "vmray", ID: `{"submission_id":9001,"sample_id":4711}`, Submitted: at(3*time.Hour + 6*time.Minute)},
			Submissions: 1, Sample: &connector.SampleRecord{Name: "invoice_0423.exe", Size: 482816, Source: "carbonblack", Hashes: ransom},
			Evidence: connector.Evidence{Hashes: ransom, FileName: "invoice_0423.exe", Size: 482816, Source: "carbonblack",
				FirstSeen: at(3*time.Hour + 10*time.Minute), LastSeen: at(2 * time.Hour),
				Sightings: []connector.Sighting{
					cbcSighting("WS-FIN-042", "3402198", at(3*time.Hour+10*time.Minute), `C:\Users\mkoch\Downloads\invoice_0423.exe`),
					cbcSighting("WS-FIN-017", "3402311", at(2*time.Hour), `C:\Users\aweber\AppData\Local\Temp\invoice_0423.exe`),
				}},
			Created: at(3*time.Hour + 9*time.Minute), Updated: at(2*time.Hour - time.Minute)},
		{Key: w.offline, State: connector.StateFailed, VerdictAt: at(5 * time.Hour),
			Verdict: &connector.Verdict{Kind: connector.Suspicious, Score: 55, Severity: 6, Analyzer: "vmray", AnalysisID: "4690",
				ReportURL: "https://eu.cloud.vmray.com/samples/4690"},
			Failure: &connector.Failure{Stage: connector.StageRespond, At: at(40 * time.Minute),
				Reason: "cbc-quarantine: device 3402500: carbonblack: POST /appservices/v6/orgs/{}/device_actions: 409 Conflict: device is not online; gave up after 24h"},
			Evidence: connector.Evidence{Hashes: offline, FileName: "setup_helper.msi", Size: 1_204_224, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("LAPTOP-SALES-07", "3402500", at(5*time.Hour), `C:\Users\jlang\Downloads\setup_helper.msi`)}},
			Created: at(5*time.Hour + 30*time.Minute), Updated: at(40 * time.Minute)},
		{Key: w.unfetchable, State: connector.StateFailed,
			Failure: &connector.Failure{Stage: connector.StageFetch, At: at(90 * time.Minute),
				Reason: "no source could deliver the file: carbonblack: the binary store does not hold it (404)"},
			Evidence: connector.Evidence{Hashes: unfetch, FileName: "Q4-report.docm", Size: 88_064, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("WS-HR-003", "3402777", at(100*time.Minute), `C:\Users\pmeier\Documents\Q4-report.docm`)}},
			Created: at(100 * time.Minute), Updated: at(90 * time.Minute)},
		{Key: w.awaiting, State: connector.StateAwaiting,
			Ticket:      &connector.Ticket{Analyzer: "vmray", ID: `{"submission_id":9044,"sample_id":4720}`, Submitted: at(12 * time.Minute)},
			Submissions: 1,
			Retry: &connector.RetryState{Stage: connector.StageAwait, Class: connector.Transient, Attempts: 3, Since: at(9 * time.Minute),
				Next: testNow.Add(4 * time.Minute), LastError: "vmray: GET /rest/submission/{}: 503 Service Unavailable", Component: "vmray"},
			Evidence: connector.Evidence{Hashes: awaitH, FileName: "updater.dll", Size: 301_056, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("SRV-BUILD-01", "3400001", at(15*time.Minute), `D:\ci\cache\updater.dll`)}},
			Created: at(15 * time.Minute), Updated: at(3 * time.Minute)},
		{Key: w.throttled, State: connector.StateNew,
			Retry: &connector.RetryState{Stage: connector.StageLookup, Class: connector.Transient, Attempts: 1, Since: at(2 * time.Minute),
				Next: testNow.Add(30 * time.Second), LastError: "vmray: GET /rest/sample/sha256/{}: 429 Too Many Requests", Component: "vmray"},
			Evidence: connector.Evidence{Hashes: throttled, FileName: "putty.exe", Size: 3_641_896, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("WS-IT-011", "3401020", at(3*time.Minute), `C:\Tools\putty.exe`)}},
			Created: at(3 * time.Minute), Updated: at(2 * time.Minute)},
		{Key: w.clean, State: connector.StateDone, VerdictAt: at(4 * time.Hour),
			Verdict: &connector.Verdict{Kind: connector.Clean, Analyzer: "vmray", AnalysisID: "3120", ReportURL: "https://eu.cloud.vmray.com/samples/3120"},
			Evidence: connector.Evidence{Hashes: cleanH, FileName: "notepad++.exe", Size: 6_512_640, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("WS-DEV-020", "3401555", at(4*time.Hour), `C:\Program Files\Notepad++\notepad++.exe`)}},
			Created: at(4 * time.Hour), Updated: at(4 * time.Hour)},
		{Key: w.responding, State: connector.StateResponding, VerdictAt: at(time.Minute),
			Verdict: &connector.Verdict{Kind: connector.Malicious, Score: 88, Severity: 8, Analyzer: "vmray", AnalysisID: "4725",
				ThreatNames: []string{"Win32.Trojan.Agent"}, ReportURL: "https://eu.cloud.vmray.com/samples/4725"},
			Evidence: connector.Evidence{Hashes: respH, FileName: "svch0st.exe", Size: 73_728, Source: "carbonblack",
				Sightings: []connector.Sighting{cbcSighting("WS-FIN-042", "3402198", at(8*time.Minute), `C:\ProgramData\svch0st.exe`)}},
			Created: at(8 * time.Minute), Updated: at(time.Minute)},
	}
	actions := []connector.Action{
		{ActionKey: connector.ActionKey{Responder: "cbc-watchlist", Item: w.ransomware}, Status: connector.Acted,
			Detail: "report soarkit-4711 added to feed soarkit-vmray", At: at(2*time.Hour + 58*time.Minute)},
		{ActionKey: connector.ActionKey{Responder: "cbc-ban", Item: w.ransomware}, Status: connector.Acted,
			Detail: "hash banned (reputation override)", At: at(2*time.Hour + 58*time.Minute)},
		{ActionKey: connector.ActionKey{Responder: "cbc-quarantine", Item: w.ransomware, Target: "device:3402198"},
			Status: connector.Acted, Detail: "device quarantined", At: at(2*time.Hour + 57*time.Minute)},
		{ActionKey: connector.ActionKey{Responder: "cbc-quarantine", Item: w.ransomware, Target: "device:3402311"},
			Status: connector.Unchanged, Detail: "device already quarantined", At: at(time.Hour + 59*time.Minute)},
		{ActionKey: connector.ActionKey{Responder: "cbc-watchlist", Item: w.offline}, Status: connector.Acted,
			Detail: "report soarkit-4690 added to feed soarkit-vmray", At: at(5 * time.Hour)},
	}
	err := w.store.Update(context.Background(), func(tx connector.Tx) error {
		if err := tx.SetCheckpoint("carbonblack", connector.Checkpoint(`{"since":"2026-12-03T12:55:00Z","alert_ids":["a81c3f"]}`)); err != nil {
			return err
		}
		for _, it := range items {
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		for _, a := range actions {
			if err := tx.PutAction(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.activity = seedActivity()
	return w
}

// seedActivity returns an Activity with six hours of a connector's work before testNow: collections every five
// minutes, a few verdicts and actions, vendor calls with some 429s and one error, component health.
func seedActivity() *Activity {
	now := testNow.Add(-Window)
	a := NewActivity(func() time.Time { return now })
	for m := 0; m < int(Window/time.Minute); m++ {
		now = testNow.Add(-Window + time.Duration(m)*time.Minute + time.Second)
		if m%5 == 0 {
			a.Add(connector.CounterCollected, 2+m%7, "carbonblack")
			a.SourceCollected("carbonblack", now)
			a.ObserveRequest(rest.RequestEvent{Vendor: "carbonblack", Method: "POST", Route: "/api/alerts/v7/orgs/{}/alerts/_search", Attempt: 1, StatusCode: 200})
		}
		if m%11 == 0 {
			a.Add(connector.CounterVerdicts, 1+m%3, []string{"clean", "malicious", "suspicious", "clean", "unknown"}[m%5])
			a.ObserveRequest(rest.RequestEvent{Vendor: "vmray", Method: "GET", Route: "/rest/sample/sha256/{}", Attempt: 1, StatusCode: 200})
		}
		if m%23 == 0 {
			a.Add(connector.CounterActions, 2, "cbc-watchlist", "acted")
		}
		if m%97 == 0 {
			a.ObserveRequest(rest.RequestEvent{Vendor: "vmray", Method: "GET", Route: "/rest/sample/sha256/{}", Attempt: 1, StatusCode: 429})
			a.ObserveRequest(rest.RequestEvent{Vendor: "vmray", Method: "GET", Route: "/rest/sample/sha256/{}", Attempt: 2, StatusCode: 200})
		}
		if m == 300 || m == 320 {
			a.Add(connector.CounterFailures, 1, string(connector.StageRespond))
		}
	}
	now = testNow.Add(-3 * time.Minute)
	a.ObserveRequest(rest.RequestEvent{Vendor: "vmray", Method: "GET", Route: "/rest/submission/{}", Attempt: 1, StatusCode: 503})
	a.ComponentHealth(connector.KindSource, "carbonblack", true, "")
	a.ComponentHealth(connector.KindAnalyzer, "vmray", true, "")
	a.ComponentHealth(connector.KindResponder, "cbc-watchlist", true, "")
	a.ComponentHealth(connector.KindResponder, "cbc-quarantine", true, "")
	now = testNow
	return a
}

// newTestConsole returns a console over w with auth, at testNow.
func newTestConsole(t testing.TB, w *world, auth Auth) *Console {
	t.Helper()
	c, err := New(Options{Name: "cbc-vmray", Store: w.store, Sources: []string{"carbonblack"}, Activity: w.activity,
		Auth: auth, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func restEvent(vendor, route string, status int) rest.RequestEvent {
	return rest.RequestEvent{Vendor: vendor, Method: "GET", Route: route, Attempt: 1, StatusCode: status}
}
