package sentinelone_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

func sha1hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// seedThreat adds an online agent and a threat whose file it can upload.
func seedThreat(t *testing.T, srv *sentinelonetest.Server, content []byte) (sentinelone.Agent, sentinelone.Threat) {
	t.Helper()
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-FIN-042", IsActive: true, ExternalIP: "203.0.113.7"})
	th := srv.AddThreat(sentinelone.Threat{
		ThreatInfo: sentinelone.ThreatInfo{ThreatName: "invoice_8821.exe", SHA1: sha1hex(content), Classification: "Trojan",
			FilePath: `C:\Users\jdoe\Downloads\invoice_8821.exe`, ConfidenceLevel: sentinelone.ConfidenceMalicious},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID},
	})
	srv.SetThreatFile(th.ID, sentinelonetest.File{Content: content})
	return ag, th
}

func TestFlowThreatListToVerifiedFile(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithUploadDelay(20*time.Millisecond))
	c := srv.Client()
	ctx := context.Background()
	content := []byte("MZ\x90\x00 pretend this is a trojan")
	ag, th := seedThreat(t, srv, content)

	var got []sentinelone.Threat
	for threat, err := range c.Threats.All(ctx, sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{
		ConfidenceLevels: []string{sentinelone.ConfidenceMalicious, sentinelone.ConfidenceSuspicious}}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, threat)
	}
	if len(got) != 1 || got[0].ID != th.ID || got[0].AgentRealtimeInfo.AgentID != ag.ID {
		t.Fatalf("threats = %+v", got)
	}

	f, err := c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	sum256 := sha256.Sum256(content)
	if string(data) != string(content) || !f.Verified() || f.ComputedSHA1() != sha1hex(content) || f.ComputedSHA256() != hex.EncodeToString(sum256[:]) {
		t.Fatalf("content %q verified %v sha1 %s", data, f.Verified(), f.ComputedSHA1())
	}
	if f.Path != `C:\Users\jdoe\Downloads\invoice_8821.exe` || f.Name != "C/Users/jdoe/Downloads/invoice_8821.exe" {
		t.Errorf("path %q name %q", f.Path, f.Name)
	}
	if f.Activity == nil || f.Activity.ActivityType != 86 || f.Activity.ThreatID != th.ID {
		t.Errorf("activity = %+v", f.Activity)
	}
	if acts := srv.ThreatActions(th.ID); len(acts) != 1 || acts[0] != "fetch-file" {
		t.Errorf("threat actions = %v", acts)
	}
}

func TestFlowAgentOffline(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ag, th := seedThreat(t, srv, []byte("x"))
	srv.SetAgentActive(ag.ID, false)
	_, err := c.Threats.FetchFile(context.Background(), th.ID, sentinelone.FetchOptions{})
	if !errors.Is(err, sentinelone.ErrAgentOffline) {
		t.Fatalf("err = %v", err)
	}
	if acts := srv.ThreatActions(th.ID); len(acts) != 0 {
		t.Errorf("fetch requested for an offline agent: %v", acts)
	}
}

func TestFlowWrongPassword(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	_, th := seedThreat(t, srv, []byte("payload"))
	req, err := c.Threats.RequestFile(ctx, th.ID, "Right-Password-123")
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Activities.WaitUpload(ctx, req, sentinelone.PollPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Agents.OpenUpload(ctx, a, "Wrong-Password-456", sentinelone.ArchiveOptions{RequireManifest: true})
	if !errors.Is(err, sentinelone.ErrBadArchive) || !errors.Is(err, sentinelone.ErrWrongPassword) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "Wrong-Password-456") || strings.Contains(err.Error(), "Right-Password-123") {
		t.Error("password in error")
	}
}

func TestFlowStaleActivityIgnored(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	content := []byte("fresh sample")
	ag, th := seedThreat(t, srv, content)
	stale := srv.AddActivity(sentinelone.Activity{ActivityType: 86, AgentID: ag.ID, ThreatID: th.ID,
		CreatedAt: sentinelone.NewTime(time.Now().Add(-time.Hour)),
		Data:      sentinelone.ActivityData{Raw: []byte(`{"downloadUrl":"/agents/` + ag.ID + `/uploads/1"}`)}})
	f, err := c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Activity.ID == stale.ID {
		t.Fatal("stale activity taken")
	}
	data, err := io.ReadAll(f)
	if err != nil || string(data) != string(content) {
		t.Fatalf("data %q err %v", data, err)
	}
}

func TestFlowAgentGoesOfflineWhileWaiting(t *testing.T) {
	clock := sentinelonetest.NewManualClock(time.Date(2024, 5, 2, 9, 14, 0, 0, time.UTC))
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithClock(clock), sentinelonetest.WithUploadDelay(time.Minute))
	c := srv.Client(sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: time.Millisecond, Timeout: 50 * time.Millisecond}))
	ag, th := seedThreat(t, srv, []byte("x"))
	req, err := c.Threats.RequestFile(context.Background(), th.ID, sentinelone.GeneratePassword())
	if err != nil {
		t.Fatal(err)
	}
	if !req.RequestedAt.Equal(clock.Now().Add(-time.Second)) {
		t.Errorf("requestedAt = %v, want the fake's Date minus 1s", req.RequestedAt)
	}
	srv.SetAgentActive(ag.ID, false)
	clock.Advance(2 * time.Minute) // due, but the agent is off line
	_, err = c.Threats.FetchFile(context.Background(), th.ID, sentinelone.FetchOptions{SkipOnlineCheck: true})
	if !errors.Is(err, sentinelone.ErrWaitTimeout) {
		t.Fatalf("err = %v", err)
	}
	f, err := c.Agents.FetchFile(context.Background(), ag.ID, `C:\x`, sentinelone.FetchOptions{})
	if !errors.Is(err, sentinelone.ErrAgentOffline) || f != nil {
		t.Fatalf("err = %v", err)
	}
	// Back on line, the pending uploads complete.
	srv.SetAgentActive(ag.ID, true)
	if a, err := c.Activities.FindUpload(context.Background(), req); err != nil || a == nil {
		t.Fatalf("upload after reconnect: %v %v", a, err)
	}
}

func TestFlowTimeoutDiagnosesOfflineAgent(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithUploadDelay(time.Hour))
	c := srv.Client(sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: time.Millisecond, Timeout: 30 * time.Millisecond}))
	ag, _ := seedThreat(t, srv, []byte("x"))
	srv.AddAgentFile(ag.ID, sentinelonetest.File{Path: "/tmp/x", Content: []byte("x")})
	done := make(chan error, 1)
	go func() {
		_, err := c.Agents.FetchFile(context.Background(), ag.ID, "/tmp/x", sentinelone.FetchOptions{})
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); len(srv.AgentActions(ag.ID)) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fetch was never requested")
		}
	}
	srv.SetAgentActive(ag.ID, false)
	err := <-done
	if !errors.Is(err, sentinelone.ErrAgentOffline) || !errors.Is(err, sentinelone.ErrWaitTimeout) {
		t.Fatalf("err = %v", err)
	}
}

func TestFlowAgentFetchFiles(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-2", IsActive: true})
	content := []byte("#!/bin/sh\necho pwned\n")
	srv.AddAgentFile(ag.ID, sentinelonetest.File{Path: `C:\Users\Public\dropper.ps1`, Content: content})
	f, err := c.Agents.FetchFile(ctx, ag.ID, `c:\users\public\DROPPER.ps1`, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != string(content) || !f.Verified() || f.Activity.ActivityType != 80 {
		t.Fatalf("data %q err %v verified %v", data, err, f.Verified())
	}
	_, err = c.Agents.FetchFile(ctx, ag.ID, `C:\missing.exe`, sentinelone.FetchOptions{})
	var ff *sentinelone.FetchFailedError
	if !errors.As(err, &ff) || ff.Path != `C:\missing.exe` || ff.Reason == "" || !errors.Is(err, sentinelone.ErrNotCollected) {
		t.Fatalf("err = %v", err)
	}
	if acts := srv.AgentActions(ag.ID); len(acts) != 2 || acts[0] != "fetch-files" {
		t.Errorf("actions = %v", acts)
	}
}

func TestFlowHashMismatch(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-3", IsActive: true})
	good := []byte("the real sample")
	th := srv.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: sha1hex(good), FilePath: `C:\a.exe`},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID}})

	// The agent reports the expected hash but uploads other bytes: caught at EOF.
	srv.SetThreatFile(th.ID, sentinelonetest.File{Content: []byte("tampered bytes"), SHA1: sha1hex(good)})
	f, err := c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(f)
	f.Close()
	var hm *sentinelone.HashMismatchError
	if !errors.As(err, &hm) || hm.Source != "content" || hm.Expected != sha1hex(good) || f.Verified() {
		t.Fatalf("err = %v", err)
	}

	// The manifest itself names another hash: refused before reading.
	srv.SetThreatFile(th.ID, sentinelonetest.File{Content: []byte("other file")})
	_, err = c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
	if !errors.As(err, &hm) || hm.Source != "manifest" {
		t.Fatalf("err = %v", err)
	}
}

func TestFlowNotesVerdictMitigationVisible(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	_, th := seedThreat(t, srv, []byte("x"))
	byID := sentinelone.ThreatFilter{IDs: []string{th.ID}}
	if n, err := c.Threats.AddNote(ctx, byID, "VMRay verdict: MALICIOUS – Trojan.Agent"); err != nil || n != 1 {
		t.Fatalf("note: %d %v", n, err)
	}
	notes, err := c.Threats.ListNotes(ctx, th.ID, sentinelone.NoteListOptions{})
	if err != nil || len(notes.Items) != 1 || notes.Items[0].Text != "VMRay verdict: MALICIOUS – Trojan.Agent" || notes.TotalItems != 1 {
		t.Fatalf("notes: %+v %v", notes, err)
	}
	if _, err := c.Threats.UpdateNote(ctx, th.ID, notes.Items[0].ID, "edited"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Notes(th.ID); len(got) != 1 || got[0].Text != "edited" || !got[0].Edited {
		t.Errorf("fake notes = %+v", got)
	}
	res, err := c.Threats.SetAnalystVerdict(ctx, byID, sentinelone.VerdictTruePositive)
	if err != nil || res.Affected != 1 || res.Details[0].Result != "updated" {
		t.Fatalf("verdict: %+v %v", res, err)
	}
	if res, err := c.Threats.SetAnalystVerdict(ctx, byID, sentinelone.VerdictTruePositive); err != nil || res.Affected != 0 || res.Details[0].Result != "not_changed" {
		t.Fatalf("repeat verdict: %+v %v", res, err)
	}
	if _, err := c.Threats.SetIncidentStatus(ctx, byID, sentinelone.IncidentUpdate{IncidentStatus: sentinelone.IncidentInProgress}); err != nil {
		t.Fatal(err)
	}
	mres, err := c.Threats.Mitigate(ctx, sentinelone.MitigateQuarantine, []string{th.ID}, sentinelone.Scope{})
	if err != nil || mres.Affected != 1 || mres.Details[0].Reports[0].Status != "success" {
		t.Fatalf("mitigate: %+v %v", mres, err)
	}
	got, err := c.Threats.Get(ctx, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	ti := got.ThreatInfo
	if ti.AnalystVerdict != "true_positive" || ti.AnalystVerdictDescription != "True positive" || ti.IncidentStatus != "in_progress" ||
		ti.MitigationStatus != "mitigated" || len(got.MitigationStatus) != 1 || got.MitigationStatus[0].Action != "quarantine" {
		t.Errorf("threat after actions = %+v %+v", ti, got.MitigationStatus)
	}
	if !ti.UpdatedAt.After(ti.CreatedAt.Time) && !ti.UpdatedAt.Equal(ti.CreatedAt.Time) {
		t.Errorf("updatedAt %v createdAt %v", ti.UpdatedAt, ti.CreatedAt)
	}
	// Filters see the new state.
	p, err := c.Threats.List(ctx, sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{IncidentStatuses: []string{"in_progress"},
		AnalystVerdictsNin: []string{"false_positive"}}})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("filtered: %+v %v", p, err)
	}
	want := []string{"notes", "analyst-verdict/true_positive", "analyst-verdict/true_positive", "incident/in_progress", "mitigate/quarantine"}
	if diff := cmp.Diff(want, srv.ThreatActions(th.ID)); diff != "" {
		t.Error(diff)
	}
}

func TestFlowRestrictionsDuplicateAndThreatBlacklist(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	_, th := seedThreat(t, srv, []byte("x"))
	scope := sentinelone.Scope{SiteIDs: []string{sentinelonetest.DefaultSiteID}}
	entry := sentinelone.NewRestriction{Value: th.ThreatInfo.SHA1, OSType: sentinelone.OSWindows, Description: "Reported from VMRay Analyzer"}
	first, err := c.Blocklist.Create(ctx, scope, entry)
	if err != nil || first.AlreadyExists || first.Restriction.ScopeName != sentinelonetest.DefaultSiteName {
		t.Fatalf("first: %+v %v", first, err)
	}
	second, err := c.Blocklist.Create(ctx, scope, entry)
	if err != nil || !second.AlreadyExists {
		t.Fatalf("second: %+v %v", second, err)
	}
	if _, err := c.Blocklist.Create(ctx, sentinelone.Scope{SiteIDs: []string{"2163822726089822800"}}, entry); !errors.Is(err, sentinelone.ErrValidation) {
		t.Fatalf("unknown scope: %v", err)
	}
	res, err := c.Threats.AddToBlacklist(ctx, sentinelone.ThreatFilter{IDs: []string{th.ID}}, sentinelone.BlacklistData{TargetScope: "site"})
	if err != nil || res.Affected != 0 || res.Details[0].Result != "already_exists" {
		t.Fatalf("threat blacklist: %+v %v", res, err)
	}
	list, err := c.Blocklist.List(ctx, sentinelone.RestrictionListOptions{Value: th.ThreatInfo.SHA1})
	if err != nil || len(list.Items) != 1 || len(srv.Restrictions()) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if n, err := c.Blocklist.Delete(ctx, []string{list.Items[0].ID}); err != nil || n != 1 || len(srv.Restrictions()) != 0 {
		t.Fatalf("delete: %d %v", n, err)
	}
}

func TestFlowDeepVisibilityAcrossPages(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithQueryPolls(3))
	c := srv.Client()
	ctx := context.Background()
	base := time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC)
	for i := range 25 {
		srv.AddDVEvents(sentinelone.DVEvent{ObjectType: "process", EventType: "Process Creation", CreatedAt: sentinelone.NewTime(base.Add(time.Duration(i) * time.Minute)),
			ProcessImageSha1Hash: fmt.Sprintf("%040d", i), AgentID: "1742210398743211002"})
	}
	srv.AddDVEvents(sentinelone.DVEvent{CreatedAt: sentinelone.NewTime(base.Add(-48 * time.Hour))}) // outside the range
	id, err := c.DeepVisibility.RunQuery(ctx, sentinelone.DVQuery{Query: `ObjectType = "Process"`, FromDate: sentinelone.NewTime(base.Add(-time.Hour)),
		ToDate: sentinelone.NewTime(base.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	var hashes []string
	for ev, err := range c.DeepVisibility.AllEvents(ctx, id, sentinelone.DVEventListOptions{ListOptions: sentinelone.ListOptions{Limit: 10}}) {
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, ev.ImageSHA1())
	}
	if len(hashes) != 25 || hashes[24] != fmt.Sprintf("%040d", 24) {
		t.Fatalf("hashes = %v", hashes)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("pages fetched = %d, want 3", n)
	}
}

func TestFlowIOCBatchAndAgentActions(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	iocs := []sentinelone.IOC{
		{Type: sentinelone.IOCTypeSHA256, Value: "beab9fadb100a44b3bc8ea4df3249aa6d93e710193be437adb5e47c2e201c1ef", Source: "VMRay"},
		{Type: sentinelone.IOCTypeIPv4, Value: "203.0.113.9", Source: "VMRay"},
		{Type: sentinelone.IOCTypeURL, Value: "http://evil.example/x", Source: "VMRay"},
	}
	created, err := c.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{AccountIDs: []string{sentinelonetest.DefaultAccountID}}, iocs)
	if err != nil || len(created) != 3 || created[0].BatchID != created[2].BatchID || created[1].Scope != "account" {
		t.Fatalf("created: %+v %v", created, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("IOC batch took %d requests", n)
	}
	n, err := c.ThreatIntelligence.DeleteIOCs(ctx, sentinelone.IOCDeleteFilter{UUIDs: []string{created[0].UUID}})
	if err != nil || n != 1 || len(srv.IOCs()) != 2 {
		t.Fatalf("delete: %d %v", n, err)
	}

	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-9", IsActive: true})
	off := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-10"})
	both := sentinelone.AgentFilter{IDs: []string{ag.ID, off.ID}}
	if n, err := c.Agents.Disconnect(ctx, both); err != nil || n != 2 {
		t.Fatalf("disconnect: %d %v", n, err)
	}
	if n, err := c.Agents.Shutdown(ctx, both); err != nil || n != 1 {
		t.Fatalf("shutdown: %d %v", n, err)
	}
	got, _ := srv.Agent(ag.ID)
	if got.NetworkStatus != "disconnected" || !got.NetworkQuarantineEnabled {
		t.Errorf("agent = %+v", got)
	}
	if diff := cmp.Diff([]string{"disconnect", "shutdown"}, srv.AgentActions(ag.ID)); diff != "" {
		t.Error(diff)
	}
	acts, err := rest.Collect(c.Activities.All(ctx, sentinelone.ActivityListOptions{ActivityTypes: []int{sentinelone.ActivityAgentDisconnected}}))
	if err != nil || len(acts) != 2 {
		t.Fatalf("activities: %+v %v", acts, err)
	}
}

func TestFlowBinaryVault(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithTLS())
	c := srv.Client()
	content := []byte("vault copy")
	_, th := seedThreat(t, srv, content)
	srv.SetVaultFile(th.ID, sentinelonetest.File{Content: content})
	f, err := c.Threats.FetchFileFromCloud(context.Background(), th.ID, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != string(content) || !f.Verified() || f.Manifest != nil {
		t.Fatalf("data %q err %v", data, err)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/fake-vault/") && r.Header.Get("Authorization") != "" {
			t.Error("token sent to the pre-signed link")
		}
	}
}

func TestFakeFaults(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	srv.InjectFault(sentinelonetest.Fault{Path: "/web/api/v2.1/accounts", Status: 503, Times: 1})
	if _, err := c.Accounts.List(ctx, sentinelone.AccountListOptions{}); err != nil {
		t.Fatalf("503 then success: %v", err)
	}
	srv.InjectFault(sentinelonetest.Fault{Path: "/web/api/v2.1/accounts", Drop: true, Times: 1})
	if _, err := c.Accounts.List(ctx, sentinelone.AccountListOptions{}); err != nil {
		t.Fatalf("drop then success: %v", err)
	}
	srv.InjectFault(sentinelonetest.Fault{Path: "/web/api/v2.1/accounts", Malformed: true, Times: 1})
	if _, err := c.Accounts.List(ctx, sentinelone.AccountListOptions{}); !errors.Is(err, sentinelone.ErrMalformedResponse) {
		t.Fatalf("malformed: %v", err)
	}
	srv.InjectFault(sentinelonetest.Fault{Path: "/web/api/v2.1/accounts", Latency: time.Second, Times: 1})
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Accounts.List(tctx, sentinelone.AccountListOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency: %v", err)
	}
}

func TestFlowForeignUploadSkipped(t *testing.T) {
	clock := sentinelonetest.NewManualClock(time.Date(2024, 5, 2, 9, 14, 0, 0, time.UTC))
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithClock(clock), sentinelonetest.WithUploadDelay(time.Second))
	c := srv.Client()
	ctx := context.Background()
	content := []byte("sample")
	_, th := seedThreat(t, srv, content)
	reqA, err := c.Threats.RequestFile(ctx, th.ID, "Password-A-123")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Threats.RequestFile(ctx, th.ID, "Password-B-456"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second) // both uploads land at once; B's is listed first
	f, err := c.Agents.CompleteFetch(ctx, reqA, "Password-A-123", sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(reqA.Skip) != 1 || reqA.Skip[0] == f.Activity.ID {
		t.Errorf("skip = %v, taken %s", reqA.Skip, f.Activity.ID)
	}
	if data, err := io.ReadAll(f); err != nil || string(data) != string(content) {
		t.Fatalf("data %q err %v", data, err)
	}
}

func TestFlowAgentFetchSeveralFiles(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-4", IsActive: true})
	files := map[string][]byte{`C:\Temp\a.exe`: []byte("first"), "/var/tmp/b.sh": []byte("second")}
	for p, b := range files {
		srv.AddAgentFile(ag.ID, sentinelonetest.File{Path: p, Content: b})
	}
	arc, err := c.Agents.FetchFiles(ctx, ag.ID, []string{`C:\Temp\a.exe`, "/var/tmp/b.sh", `C:\absent`}, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	if len(arc.Manifest) != 3 || arc.Activity == nil || arc.Activity.ActivityType != 80 {
		t.Fatalf("archive = %+v", arc)
	}
	for p, want := range files {
		f, err := arc.Open(p, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(got) != string(want) || !f.Verified() {
			t.Errorf("%s: %q %v", p, got, err)
		}
	}
	if _, err := arc.Open(`C:\absent`, ""); !errors.Is(err, sentinelone.ErrNotCollected) {
		t.Errorf("absent: %v", err)
	}
	if _, err := arc.Open(`C:\never-requested`, ""); !errors.Is(err, sentinelone.ErrBadArchive) {
		t.Errorf("unlisted: %v", err)
	}
}
