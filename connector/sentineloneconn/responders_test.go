package sentineloneconn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// must returns v; constructors fail only on bad options, a test bug.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func respond(t testing.TB, r connector.Responder, f connector.Finding) connector.Result {
	t.Helper()
	res, err := r.Respond(context.Background(), f)
	if err != nil {
		t.Fatalf("%s: %v", r.Name(), err)
	}
	return res
}

// requests returns the bodies of the requests to path.
func requests(fake *sentinelonetest.Server, method, path string) []string {
	var out []string
	for _, r := range fake.Requests() {
		if r.Method == method && r.Path == sentinelone.APIPrefix+path {
			out = append(out, string(r.Body))
		}
	}
	return out
}

type responderCase struct {
	new        func(t testing.TB, w *world) connector.Responder
	finding    func(w *world) connector.Finding
	effects    func(w *world) int
	repeatable bool
}

// responderCases are every responder with a finding it acts on and a count
// of its effects in the fake.
func responderCases() map[string]responderCase {
	type tc = responderCase
	malicious := func(w *world) connector.Finding { return finding(w.t1, connector.Malicious) }
	onDevice := func(w *world) connector.Finding { return device(finding(w.t1, connector.Malicious)) }
	restrictions := func(w *world) int { return len(w.fake.Restrictions()) }
	cases := map[string]tc{
		"note": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewNote(w.c, sentineloneconn.NoteOptions{}))
		}, malicious, func(w *world) int { return len(w.fake.Notes(w.t1.ID)) }, false},
		"indicators": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewIndicators(w.c, sentineloneconn.IndicatorOptions{Scope: w.scope(t)}))
		}, malicious, func(w *world) int { return len(w.fake.IOCs()) }, false},
		"global-blocklist": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewGlobalBlocklist(w.c, sentineloneconn.GlobalBlocklistOptions{Scope: w.scope(t)}))
		}, malicious, restrictions, false},
		"threat-blocklist": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewThreatBlocklist(w.c, sentineloneconn.ThreatBlocklistOptions{}))
		}, malicious, restrictions, false},
		"dv-blocklist": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewDVBlocklist(w.c, sentineloneconn.DVBlocklistOptions{Scope: w.scope(t)}))
		}, onDevice, restrictions, false},
		"kill": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewMitigation(w.c, sentinelone.MitigateKill, ""))
		}, malicious, func(w *world) int { return len(w.fake.ThreatActions(w.t1.ID)) }, false},
		"quarantine": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewMitigation(w.c, sentinelone.MitigateQuarantine, ""))
		}, malicious, func(w *world) int { return len(w.fake.ThreatActions(w.t1.ID)) }, false},
		"disconnect": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionDisconnect, ""))
		}, onDevice, func(w *world) int { return len(w.fake.AgentActions(w.ws1.ID)) }, false},
		"initiate-scan": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionInitiateScan, ""))
		}, onDevice, func(w *world) int { return len(w.fake.AgentActions(w.ws1.ID)) }, false},
		// The console keeps an agent that was told to shut down on line
		// until it goes: only the engine's action log prevents a repeat.
		"shutdown": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionShutdown, ""))
		}, onDevice, func(w *world) int { return len(w.fake.AgentActions(w.ws1.ID)) }, true},
		"false-positive": {func(t testing.TB, w *world) connector.Responder {
			return must(sentineloneconn.NewFalsePositive(w.c, sentineloneconn.FalsePositiveOptions{}))
		}, func(w *world) connector.Finding { return finding(w.t1, connector.Clean) },
			func(w *world) int { return len(w.fake.ThreatActions(w.t1.ID)) + len(w.fake.Notes(w.t1.ID)) }, false},
	}
	return cases
}

func TestResponderConformance(t *testing.T) {
	for name, c := range responderCases() {
		t.Run(name, func(t *testing.T) {
			var w *world
			connectortest.TestResponder(t, connectortest.ResponderHarness{
				New:        func(t *testing.T) connector.Responder { w = newWorld(t); return c.new(t, w) },
				Finding:    func(testing.TB) connector.Finding { return c.finding(w) },
				Effects:    func(testing.TB) int { return c.effects(w) },
				Repeatable: c.repeatable,
			})
		})
	}
}

func TestNoteLayoutAndNoDuplicates(t *testing.T) {
	w := newWorld(t)
	n := must(sentineloneconn.NewNote(w.c, sentineloneconn.NoteOptions{}))
	f := finding(w.t1, connector.Malicious)
	if res := respond(t, n, f); res.Status != connector.Acted {
		t.Fatalf("first note: %+v", res)
	}
	want := "Evidence SHA1: " + w.t1.ThreatInfo.SHA1 + "\n" +
		"Verdict: MALICIOUS\n" +
		"Sample Url: https://eu.cloud.vmray.com/samples/4242\n" +
		"Classifications: Downloader, Trojan\n" +
		"Threat Names: Mal/Drop-Ä\n" +
		"VTI's:\n" +
		"- Network: Contacts a C2 server (score 5)\n" +
		"- Persistence: Installs a run key (score 3)\n" +
		"IOC's:\n" +
		"MD5: -\n" +
		"SHA1: " + w.t1.ThreatInfo.SHA1 + "\n" +
		"SHA256: -\n" +
		"IPV4: 198.51.100.7\n" +
		"DOMAIN: c2.exämple.net\n" +
		"URL: http://c2.example.net/a\n"
	notes := w.fake.Notes(w.t1.ID)
	if len(notes) != 1 || notes[0].Text != want {
		t.Fatalf("notes %+v\nwant %q", notes, want)
	}
	if res := respond(t, n, f); res.Status != connector.Unchanged || len(w.fake.Notes(w.t1.ID)) != 1 {
		t.Errorf("repeat: %+v, %d notes", res, len(w.fake.Notes(w.t1.ID)))
	}
	// The other threat of the same file gets its own note.
	if res := respond(t, n, finding(w.t2, connector.Malicious)); res.Status != connector.Acted || len(w.fake.Notes(w.t2.ID)) != 1 {
		t.Errorf("second threat of the hash: %+v", res)
	}
	// A note the analyst wrote is no reason to skip ours.
	other := must(sentineloneconn.NewNote(w.c, sentineloneconn.NoteOptions{Subtypes: []string{"verdict"}}))
	if res := respond(t, other, f); res.Status != connector.Acted {
		t.Errorf("a different layout was taken as the same note: %+v", res)
	}
	got := w.fake.Notes(w.t1.ID)[1].Text
	if strings.Contains(got, "VTI's") || strings.Contains(got, "IOC's") || !strings.Contains(got, "Verdict: MALICIOUS") {
		t.Errorf("verdict-only note %q", got)
	}
	// A DV sighting has no threat to note.
	dv := f
	dv.Sighting = &connector.Sighting{AgentID: w.ws1.ID, FilePath: `C:\x.exe`}
	if res := respond(t, n, dv); res.Status != connector.Skipped {
		t.Errorf("note without a threat: %+v", res)
	}
	if _, err := sentineloneconn.NewNote(w.c, sentineloneconn.NoteOptions{IOCFields: []string{"cmdline"}}); err == nil {
		t.Error("an unknown IOC field was accepted")
	}
}

func TestNoteErrorClasses(t *testing.T) {
	w := newWorld(t)
	n := must(sentineloneconn.NewNote(w.c, sentineloneconn.NoteOptions{}))
	f := finding(w.t1, connector.Malicious)
	w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/threats/" + w.t1.ID + "/notes", Status: http.StatusBadGateway})
	if _, err := n.Respond(context.Background(), f); err == nil || connector.IsPermanent(err) {
		t.Errorf("5xx: %v, want transient", err)
	}
	w.fake.ClearFaults()
	w.fake.InjectFault(sentinelonetest.Fault{Method: http.MethodPost, Path: sentinelone.APIPrefix + "/threats/notes", Status: http.StatusForbidden})
	if _, err := n.Respond(context.Background(), f); !connector.IsPermanent(err) {
		t.Errorf("403: %v, want permanent", err)
	}
	w.fake.ClearFaults()
	w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/threats/" + w.t1.ID + "/notes", Status: http.StatusTooManyRequests, RetryAfter: "7"})
	_, err := n.Respond(context.Background(), f)
	if after, ok := connector.RetryAfter(err); !ok || after.Seconds() != 7 {
		t.Errorf("429: %v (after %v), want RetryLater 7s", err, after)
	}
}

func TestIndicatorsOnlyNewValuesInOneRequest(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The domain exists already.
	if _, err := w.c.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{AccountIDs: []string{sentinelonetest.DefaultAccountID}},
		[]sentinelone.IOC{{Type: "DNS", Value: "c2.exämple.net", Source: "analyst"}}); err != nil {
		t.Fatal(err)
	}
	w.fake.ResetRequests()
	in := must(sentineloneconn.NewIndicators(w.c, sentineloneconn.IndicatorOptions{Scope: w.scope(t)}))
	f := finding(w.t1, connector.Malicious)
	if res := respond(t, in, f); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	posts := requests(w.fake, http.MethodPost, "/threat-intelligence/iocs")
	if len(posts) != 1 {
		t.Fatalf("%d create requests, want one batch", len(posts))
	}
	var body struct {
		Filter sentinelone.Scope `json:"filter"`
		Data   []sentinelone.IOC `json:"data"`
	}
	if err := json.Unmarshal([]byte(posts[0]), &body); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ioc := range body.Data {
		got = append(got, ioc.Type+"="+ioc.Value)
		if ioc.Method != "EQUALS" || ioc.Source != "VMRay" || ioc.Name != sentineloneconn.DefaultIndicatorName ||
			!slices.Equal(ioc.Reference, []string{"https://eu.cloud.vmray.com/samples/4242"}) || ioc.CreationTime.IsZero() {
			t.Errorf("indicator %+v", ioc)
		}
	}
	want := []string{"SHA1=" + w.t1.ThreatInfo.SHA1, "IPV4=198.51.100.7", "IPV6=2001:db8::7", "URL=http://c2.example.net/a"}
	if !slices.Equal(got, want) {
		t.Errorf("indicators %v, want %v (the existing domain and the registry key left out)", got, want)
	}
	if !slices.Equal(body.Filter.AccountIDs, []string{sentinelonetest.DefaultAccountID}) {
		t.Errorf("scope %+v", body.Filter)
	}
	if res := respond(t, in, f); res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v", res)
	}
	// A second file shares the URL and brings a new domain: only the domain
	// is created, and the account's indicators are not listed again.
	g := finding(w.t3, connector.Malicious)
	g.Verdict.IOCs = []connector.IOC{{Type: connector.IOCURL, Value: "http://c2.example.net/a"}, {Type: connector.IOCDomain, Value: "new.example"}}
	if res := respond(t, in, g); res.Status != connector.Acted || !strings.Contains(res.Detail, "1 of 2") {
		t.Errorf("second file: %+v", res)
	}
	if lists := len(requests(w.fake, http.MethodGet, "/threat-intelligence/iocs")); lists != 1 {
		t.Errorf("%d indicator listings for three calls, want 1 (baseline reused)", lists)
	}
	if n := len(w.fake.IOCs()); n != 6 {
		t.Errorf("%d indicators, want 6", n)
	}
	// Only IOCs with a selected verdict.
	sel := must(sentineloneconn.NewIndicators(w.c, sentineloneconn.IndicatorOptions{Scope: w.scope(t), Verdicts: connector.Kinds(connector.Suspicious)}))
	if res := respond(t, sel, f); res.Status != connector.Skipped {
		t.Errorf("no suspicious IOC: %+v", res)
	}
}

func TestGlobalBlocklistPerOSType(t *testing.T) {
	w := newWorld(t)
	g := must(sentineloneconn.NewGlobalBlocklist(w.c, sentineloneconn.GlobalBlocklistOptions{Scope: w.scope(t)}))
	f := finding(w.t1, connector.Malicious)
	lin := f.Evidence.Sightings[0]
	lin.ID, lin.ThreatID, lin.OS = "x", "x", "linux"
	f.Evidence.Sightings = append(f.Evidence.Sightings, lin)
	if res := respond(t, g, f); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	var oses []string
	for _, r := range w.fake.Restrictions() {
		if r.Value != w.t1.ThreatInfo.SHA1 || r.Type != "black_hash" || r.Description != sentineloneconn.DefaultBlocklistDescription ||
			!slices.Equal(r.Scope.AccountIDs, []string{sentinelonetest.DefaultAccountID}) {
			t.Errorf("entry %+v", r)
		}
		oses = append(oses, r.OSType)
	}
	slices.Sort(oses)
	if !slices.Equal(oses, []string{"linux", "windows"}) {
		t.Errorf("OS types %v", oses)
	}
	if res := respond(t, g, f); res.Status != connector.Unchanged || len(w.fake.Restrictions()) != 2 {
		t.Errorf("repeat: %+v", res)
	}
	fixed := must(sentineloneconn.NewGlobalBlocklist(w.c, sentineloneconn.GlobalBlocklistOptions{Scope: w.scope(t), OSTypes: []string{"macos"}}))
	if res := respond(t, fixed, f); res.Status != connector.Acted || len(w.fake.Restrictions()) != 3 {
		t.Errorf("configured OS type: %+v", res)
	}
}

func TestThreatAndDVBlocklist(t *testing.T) {
	w := newWorld(t)
	tb := must(sentineloneconn.NewThreatBlocklist(w.c, sentineloneconn.ThreatBlocklistOptions{}))
	f := finding(w.t1, connector.Malicious)
	if res := respond(t, tb, f); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	body := requests(w.fake, http.MethodPost, "/threats/add-to-blacklist")
	if len(body) != 1 || !strings.Contains(body[0], `"ids":["`+w.t1.ID+`"]`) || !strings.Contains(body[0], `"targetScope":"account"`) {
		t.Errorf("add-to-blacklist %v", body)
	}
	// The second threat of the same hash finds it blocked.
	if res := respond(t, tb, finding(w.t2, connector.Malicious)); res.Status != connector.Unchanged {
		t.Errorf("same hash via another threat: %+v", res)
	}
	dv := must(sentineloneconn.NewDVBlocklist(w.c, sentineloneconn.DVBlocklistOptions{Scope: w.scope(t)}))
	if res := respond(t, dv, device(f)); res.Status != connector.Unchanged {
		t.Errorf("DV blocklist of a blocked hash: %+v", res)
	}
	content := []byte("MZ dv only")
	g := finding(w.t1, connector.Malicious)
	g.Evidence.Hashes.SHA1 = sha1Hex(content)
	g.Sighting = &connector.Sighting{AgentID: w.ws2.ID, OS: "windows", FilePath: `C:\dv.exe`}
	if res := respond(t, dv, device(g)); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	body = requests(w.fake, http.MethodPost, "/threats/dv-add-to-blacklist")
	if len(body) != 1 || !strings.Contains(body[0], `"hashes":[{"agentId":"`+w.ws2.ID+`","hash":"`+sha1Hex(content)+`"}]`) {
		t.Errorf("dv-add-to-blacklist %v", body)
	}
}

func TestMitigationTargetsTheThreatID(t *testing.T) {
	w := newWorld(t)
	kill := must(sentineloneconn.NewMitigation(w.c, sentinelone.MitigateKill, ""))
	for _, th := range []sentinelone.Threat{w.t1, w.t2} {
		if res := respond(t, kill, finding(th, connector.Malicious)); res.Status != connector.Acted {
			t.Fatalf("%+v", res)
		}
	}
	bodies := requests(w.fake, http.MethodPost, "/threats/mitigate/kill")
	if len(bodies) != 2 {
		t.Fatalf("%d kill requests", len(bodies))
	}
	for i, th := range []sentinelone.Threat{w.t1, w.t2} {
		var b struct {
			Filter struct {
				IDs []string `json:"ids"`
			} `json:"filter"`
		}
		_ = json.Unmarshal([]byte(bodies[i]), &b)
		if !slices.Equal(b.Filter.IDs, []string{th.ID}) {
			t.Errorf("kill filter ids %v, want the threat id %s (not agent %s)", b.Filter.IDs, th.ID, th.AgentRealtimeInfo.AgentID)
		}
		if acts := w.fake.ThreatActions(th.ID); !slices.Equal(acts, []string{"mitigate/kill"}) {
			t.Errorf("threat %s actions %v", th.ID, acts)
		}
	}
	if res := respond(t, kill, finding(w.t1, connector.Malicious)); res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v", res)
	}
	dv := finding(w.t1, connector.Malicious)
	dv.Sighting = &connector.Sighting{AgentID: w.ws1.ID, FilePath: `C:\x.exe`}
	if res := respond(t, kill, dv); res.Status != connector.Skipped {
		t.Errorf("process sighting: %+v, want skipped", res)
	}
	rb := must(sentineloneconn.NewMitigation(w.c, sentinelone.MitigateRollbackRemediation, ""))
	if res := respond(t, rb, finding(w.t3, connector.Malicious)); res.Status != connector.Acted {
		t.Errorf("rollback: %+v", res)
	}
	if _, err := sentineloneconn.NewMitigation(w.c, sentinelone.MitigateUnquarantine, ""); err == nil {
		t.Error("un-quarantine accepted as a response")
	}
}

func TestAgentActions(t *testing.T) {
	w := newWorld(t)
	dis := must(sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionDisconnect, ""))
	f := device(finding(w.t2, connector.Malicious))
	if res := respond(t, dis, f); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	body := requests(w.fake, http.MethodPost, "/agents/actions/disconnect")
	if len(body) != 1 || !strings.Contains(body[0], `"ids":["`+w.ws2.ID+`"]`) {
		t.Errorf("disconnect %v", body)
	}
	if res := respond(t, dis, f); res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v", res)
	}
	sd := must(sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionShutdown, ""))
	if res := respond(t, sd, device(finding(w.t3, connector.Malicious))); res.Status != connector.Unchanged {
		t.Errorf("shutdown of an offline agent: %+v", res)
	}
	if _, err := sd.Respond(context.Background(), connector.Finding{Sighting: &connector.Sighting{AgentID: "100000000000000001"}}); !connector.IsPermanent(err) {
		t.Errorf("unknown agent: %v, want permanent", err)
	}
}

func TestFalsePositive(t *testing.T) {
	w := newWorld(t)
	fp := must(sentineloneconn.NewFalsePositive(w.c, sentineloneconn.FalsePositiveOptions{}))
	clean := finding(w.t1, connector.Clean)
	if res := respond(t, fp, clean); res.Status != connector.Acted {
		t.Fatalf("%+v", res)
	}
	th, _ := w.fake.Threat(w.t1.ID)
	notes := w.fake.Notes(w.t1.ID)
	if th.ThreatInfo.AnalystVerdict != sentinelone.VerdictFalsePositive || len(notes) != 1 ||
		!strings.Contains(notes[0].Text, sentineloneconn.DefaultFalsePositiveDescription) || !strings.Contains(notes[0].Text, "Verdict: CLEAN") {
		t.Errorf("verdict %q, notes %+v", th.ThreatInfo.AnalystVerdict, notes)
	}
	if res := respond(t, fp, clean); res.Status != connector.Unchanged {
		t.Errorf("repeat: %+v", res)
	}
	// Confidence n/a is not in the default set; a malicious verdict never
	// marks anything.
	if res := respond(t, fp, finding(w.tNA, connector.Clean)); res.Status != connector.Skipped {
		t.Errorf("n/a threat: %+v", res)
	}
	if res := respond(t, fp, finding(w.t2, connector.Malicious)); res.Status != connector.Skipped {
		t.Errorf("malicious verdict: %+v", res)
	}
	if acts := w.fake.ThreatActions(w.t2.ID); len(acts) != 0 {
		t.Errorf("threat %s touched: %v", w.t2.ID, acts)
	}
}

func TestIndicatorsSharedAcrossConcurrentFiles(t *testing.T) {
	w := newWorld(t)
	in := must(sentineloneconn.NewIndicators(w.c, sentineloneconn.IndicatorOptions{Scope: w.scope(t)}))
	done := make(chan error, 4)
	for _, th := range []sentinelone.Threat{w.t1, w.t2, w.t3, w.tNA} {
		go func() {
			_, err := in.Respond(context.Background(), finding(th, connector.Malicious))
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	count := map[string]int{}
	for _, ioc := range w.fake.IOCs() {
		count[ioc.Value]++
	}
	for v, n := range count {
		if n != 1 {
			t.Errorf("indicator %s created %d times", v, n)
		}
	}
}

func TestResponderErrorClasses(t *testing.T) {
	for name, c := range responderCases() {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			f := c.finding(w)
			if _, err := w.scope(t).Resolve(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				status    int
				permanent bool
			}{{http.StatusInternalServerError, false}, {http.StatusServiceUnavailable, false},
				{http.StatusBadRequest, true}, {http.StatusUnauthorized, true}, {http.StatusForbidden, true}} {
				w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/threat", Status: tc.status})
				w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/agents", Status: tc.status})
				w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/restrictions", Status: tc.status})
				// A fresh responder for each status: cached state must not hide the failure.
				r := c.new(t, w)
				_, err := r.Respond(context.Background(), f)
				w.fake.ClearFaults()
				if err == nil {
					t.Errorf("status %d: no error", tc.status)
					continue
				}
				if connector.IsPermanent(err) != tc.permanent {
					t.Errorf("status %d: %v (permanent %v), want permanent %v", tc.status, err, connector.IsPermanent(err), tc.permanent)
				}
			}
		})
	}
}
