package proofpointconn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/proofpointconn"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

var now = time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)

const (
	exeSHA = "2d1a5e0ab5f3f6b8e7dd6b2ba6c49c0b7e4bf6b93cd1d1f3e3c1f7e2a0b1c2d3"
	pdfSHA = "7f0e5c9a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccd"
	docSHA = "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"
)

func newFake(t *testing.T) (*proofpointtest.Server, *proofpointtest.ManualClock) {
	t.Helper()
	clk := proofpointtest.NewManualClock(now)
	return proofpointtest.NewServer(t, proofpointtest.WithClock(clk)), clk
}

func newSource(t *testing.T, srv *proofpointtest.Server, opts proofpointconn.Options) *proofpointconn.Source {
	t.Helper()
	if opts.Now == nil {
		opts.Now = srv.Now
	}
	s, err := proofpointconn.NewSource(srv.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func attachmentThreat(sha, classification, status string) proofpoint.ThreatInfo {
	return proofpoint.ThreatInfo{
		ThreatID: sha, Threat: sha, ThreatType: "attachment", Classification: classification, ThreatStatus: status,
		ThreatTime: proofpoint.Time{Time: now.Add(-80 * time.Minute)},
		ThreatURL:  "https://threatinsight.proofpoint.com/a9b3/threat/email/" + sha,
	}
}

// message is a delivered message event at the given time with the given
// parts and threats.
func message(guid string, at time.Time, score float64, recipients []string, parts []proofpoint.MessagePart, threats ...proofpoint.ThreatInfo) proofpoint.Message {
	return proofpoint.Message{
		GUID: guid, ID: "evt-" + guid, QID: "r2FNwRHF004109", MessageID: "<" + guid + "@mail.example.com>",
		MessageTime: proofpoint.Time{Time: at}, Sender: "e99d7ed5580193f36a51f597bc2c0210@evil.example",
		SenderIP: "192.0.2.255", Recipient: recipients, FromAddress: proofpoint.Addresses{"billing@evil.example"},
		HeaderFrom: `"Billing" <billing@evil.example>`, Subject: "Invoice " + guid, MalwareScore: score,
		MessageParts: parts, ThreatsInfoMap: threats,
	}
}

var (
	exePart  = proofpoint.MessagePart{Disposition: "attached", Filename: "invoice.exe", SHA256: exeSHA, MD5: "5873c7d37608e0d49bcaa6f32b6c731f", ContentType: "application/x-dosexec", SandboxStatus: "threat"}
	pdfPart  = proofpoint.MessagePart{Disposition: "attached", Filename: "terms.pdf", SHA256: pdfSHA, MD5: "11c7d37608e0d49bcaa6f32b6c73aaaa", ContentType: "application/pdf", SandboxStatus: "clean"}
	bodyPart = proofpoint.MessagePart{Disposition: "inline", Filename: "text.html", SHA256: strings.Repeat("ee", 32), ContentType: "text/html"}
	docPart  = proofpoint.MessagePart{Disposition: "attached", Filename: "order.docm", SHA256: docSHA, MD5: "22c7d37608e0d49bcaa6f32b6c73bbbb", SandboxStatus: "threat"}
)

// The window of the first run is [now-15m-1h, now-15m).
var firstWindow = proofpoint.Interval{Start: now.Add(-75 * time.Minute), End: now.Add(-15 * time.Minute)}

func TestCollectOnlyCondemnedAttachments(t *testing.T) {
	srv, _ := newFake(t)
	in := firstWindow.Start.Add(10 * time.Minute)
	// A malicious exe next to a clean PDF and an HTML body (seed bug D.4: the PDF must not become evidence).
	srv.AddDeliveredMessage(message("g1", in, 85, []string{"Alice@Example.com"}, []proofpoint.MessagePart{bodyPart, exePart, pdfPart},
		attachmentThreat(exeSHA, "MALWARE", "active")), time.Time{})
	// The same exe to two more recipients, with a lower score.
	srv.AddDeliveredMessage(message("g2", in.Add(time.Minute), 45, []string{"bob@example.com", "carol@example.com"}, []proofpoint.MessagePart{exePart},
		attachmentThreat(exeSHA, "malware", "active")), time.Time{})
	// A phishing attachment and a URL threat are not malware attachments.
	srv.AddDeliveredMessage(message("g3", in.Add(2*time.Minute), 20, []string{"dave@example.com"}, []proofpoint.MessagePart{docPart},
		attachmentThreat(docSHA, "phish", "active"),
		proofpoint.ThreatInfo{ThreatType: "url", Threat: "http://evil.example/x", Classification: "malware", ThreatStatus: "active"}), time.Time{})
	// A blocked message is read only when blocked messages are selected.
	srv.AddBlockedMessage(message("g4", in.Add(3*time.Minute), 3, []string{"erin@example.com"}, []proofpoint.MessagePart{docPart},
		attachmentThreat(docSHA, "malware", "cleared")), time.Time{})
	// Outside the window.
	srv.AddDeliveredMessage(message("g5", now.Add(-5*time.Minute), 99, []string{"frank@example.com"}, []proofpoint.MessagePart{pdfPart},
		attachmentThreat(pdfSHA, "malware", "active")), time.Time{})

	src := newSource(t, srv, proofpointconn.Options{})
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v2/siem/messages/delivered" {
		t.Fatalf("requests = %+v, want one to /v2/siem/messages/delivered", reqs)
	}
	if got, want := reqs[0].Query.Get("interval"), "2024-05-14T10:45:00Z/2024-05-14T11:45:00Z"; got != want {
		t.Errorf("interval = %q, want %q", got, want)
	}
	if got := reqs[0].Query["threatType"]; !cmp.Equal(got, []string{"attachment"}) {
		t.Errorf("threatType = %v", got)
	}
	if len(b.Evidence) != 1 {
		t.Fatalf("evidence = %d (%+v), want only the exe", len(b.Evidence), b.Evidence)
	}
	ev := b.Evidence[0]
	if ev.Hashes != (connector.Hashes{SHA256: exeSHA, MD5: exePart.MD5}) || ev.FileName != "invoice.exe" || ev.Source != "proofpoint-tap" {
		t.Errorf("evidence = %+v", ev)
	}
	var got []string
	for _, s := range ev.Sightings {
		got = append(got, s.MessageID+" "+s.Recipient+" "+s.Sender)
		if s.Source != "proofpoint-tap" || s.ID == "" || s.Time.IsZero() {
			t.Errorf("sighting identity: %+v", s)
		}
	}
	want := []string{"g1 alice@example.com billing@evil.example", "g2 bob@example.com billing@evil.example", "g2 carol@example.com billing@evil.example"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sightings (-want +got):\n%s", diff)
	}
	a := ev.Sightings[1].Attributes
	for k, v := range map[string]string{"subject": "Invoice g2", "recipients": "bob@example.com,carol@example.com",
		"sender": "e99d7ed5580193f36a51f597bc2c0210@evil.example", "stream": "delivered", "threat_id": exeSHA,
		"classification": "malware", "threat_status": "active", "malware_score": "45", "message_id_header": "<g2@mail.example.com>"} {
		if a[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, a[k], v)
		}
	}
	v := ev.SourceVerdict
	if v == nil || v.Kind != connector.Malicious || v.Score != 85 || v.Severity != 9 || v.ReportURL == "" ||
		!cmp.Equal(v.Classifications, []string{"MALWARE"}) || v.AnalysisID != exeSHA {
		t.Errorf("source verdict = %+v, want malicious, the highest score 85, severity 9", v)
	}
	var cp struct{ Resume time.Time }
	if err := json.Unmarshal(b.Next, &cp); err != nil || !cp.Resume.Equal(firstWindow.End) || b.More {
		t.Errorf("checkpoint = %s (%v), more %v; want the window's end", b.Next, err, b.More)
	}
}

func TestCollectBlockedAndSeverityNeverZero(t *testing.T) {
	srv, _ := newFake(t)
	srv.AddBlockedMessage(message("g4", firstWindow.Start.Add(time.Minute), 3, []string{"erin@example.com"}, []proofpoint.MessagePart{docPart},
		attachmentThreat(docSHA, "malware", "cleared")), time.Time{})
	src := newSource(t, srv, proofpointconn.Options{Streams: []proofpoint.Stream{proofpoint.StreamMessagesDelivered, proofpoint.StreamMessagesBlocked}})
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.CountRequests(http.MethodGet, "/v2/siem/messages/") != 2 {
		t.Errorf("requests = %+v, want delivered and blocked", srv.Requests())
	}
	if len(b.Evidence) != 1 || b.Evidence[0].SourceVerdict.Severity != 1 || b.Evidence[0].Sightings[0].Attributes["stream"] != "blocked" {
		t.Fatalf("evidence = %+v", b.Evidence)
	}
}

func TestSeverity(t *testing.T) {
	for score, want := range map[float64]int{0: 1, 1: 1, 4.9: 1, 5: 1, 14.9: 1, 15: 2, 45: 5, 55: 6, 84: 8, 85: 9, 100: 10, 250: 10} {
		if got := proofpointconn.Severity(score); got != want {
			t.Errorf("Severity(%v) = %d, want %d", score, got, want)
		}
	}
}

func TestCollectFalsePositiveIgnoredByDefault(t *testing.T) {
	srv, _ := newFake(t)
	srv.AddDeliveredMessage(message("g6", firstWindow.Start.Add(time.Minute), 90, []string{"a@example.com"}, []proofpoint.MessagePart{exePart},
		attachmentThreat(exeSHA, "malware", "falsePositive")), time.Time{})
	b, err := newSource(t, srv, proofpointconn.Options{}).Collect(context.Background(), nil)
	if err != nil || len(b.Evidence) != 0 {
		t.Fatalf("default statuses: %+v, %v; want no evidence", b.Evidence, err)
	}
	b, err = newSource(t, srv, proofpointconn.Options{ThreatStatuses: []string{"active", "Cleared", "falsepositive"}}).Collect(context.Background(), nil)
	if err != nil || len(b.Evidence) != 1 {
		t.Fatalf("with falsePositive: %+v, %v; want the exe", b.Evidence, err)
	}
	reqs := srv.Requests()
	if got := reqs[len(reqs)-1].Query["threatStatus"]; !cmp.Equal(got, []string{"active", "cleared", "falsePositive"}) {
		t.Errorf("threatStatus sent = %v, want TAP's spelling", got)
	}
}

func TestCollectWalksWindowsAndResumes(t *testing.T) {
	srv, clk := newFake(t)
	start := now.Add(-15*time.Minute - 3*time.Hour)
	for i, at := range []time.Duration{10 * time.Minute, 70 * time.Minute, 130 * time.Minute} {
		sha := strings.Repeat(string(rune('a'+i)), 64)
		srv.AddDeliveredMessage(message("w"+string(rune('0'+i)), start.Add(at), 80, []string{"a@example.com"},
			[]proofpoint.MessagePart{{Disposition: "attached", SHA256: sha, Filename: "f.exe"}}, attachmentThreat(sha, "malware", "active")), time.Time{})
	}
	src := newSource(t, srv, proofpointconn.Options{FirstLookBack: 3 * time.Hour})
	var cp connector.Checkpoint
	var hashes []string
	for i := 0; ; i++ {
		b, err := src.Collect(context.Background(), cp)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range b.Evidence {
			hashes = append(hashes, ev.Hashes.SHA256[:1])
		}
		if b.Next != nil {
			cp = b.Next
		}
		if !b.More {
			break
		}
		if i > 5 {
			t.Fatal("too many windows")
		}
	}
	if !cmp.Equal(hashes, []string{"a", "b", "c"}) || srv.CountRequests("", "/v2/siem/") != 3 {
		t.Errorf("hashes = %v after %d requests; want a, b, c in three windows", hashes, srv.CountRequests("", "/v2/siem/"))
	}
	// Caught up: nothing to read until a whole new window is ready.
	b, err := src.Collect(context.Background(), cp)
	if err != nil || b.Next != nil || b.More || len(b.Evidence) != 0 {
		t.Errorf("caught-up Collect = %+v, %v", b, err)
	}
	// Ten minutes later a ten-minute window is read; an empty window is no error.
	clk.Advance(10 * time.Minute)
	b, err = src.Collect(context.Background(), cp)
	if err != nil || b.Next == nil || len(b.Evidence) != 0 {
		t.Fatalf("empty window: %+v, %v", b, err)
	}
	if got := srv.Requests()[len(srv.Requests())-1].Query.Get("interval"); got != "2024-05-14T11:45:00Z/2024-05-14T11:55:00Z" {
		t.Errorf("interval after the checkpoint = %q", got)
	}
}

func TestFirstLookBackCappedAtTAPLimit(t *testing.T) {
	srv, _ := newFake(t)
	src := newSource(t, srv, proofpointconn.Options{FirstLookBack: 30 * 24 * time.Hour})
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatalf("first Collect with a 30-day look-back: %v", err)
	}
	if !b.More {
		t.Error("More = false, want the remaining windows of the seven days")
	}
	start, _, _ := strings.Cut(srv.Requests()[0].Query.Get("interval"), "/")
	at, err := time.Parse(time.RFC3339, start)
	if err != nil || now.Sub(at) > 7*24*time.Hour {
		t.Errorf("first window starts %s, beyond TAP's seven days", start)
	}
}

func TestEnrichHook(t *testing.T) {
	srv, _ := newFake(t)
	srv.AddDeliveredMessage(message("g1", firstWindow.Start.Add(time.Minute), 85, []string{"a@example.com"}, []proofpoint.MessagePart{exePart},
		attachmentThreat(exeSHA, "malware", "active")), time.Time{})
	var calls []string
	src := newSource(t, srv, proofpointconn.Options{Enrich: func(_ context.Context, ev *connector.Evidence) error {
		calls = append(calls, ev.Hashes.SHA256)
		ev.Sightings = append(ev.Sightings, connector.Sighting{Source: "cbc-hunt", DeviceID: "42", ProcessGUID: "7DESJ9GN-0000002a-00001ac4-00000000-1d7b9f0e3b1c0d2", PID: 6852})
		return nil
	}})
	b, err := src.Collect(context.Background(), nil)
	if err != nil || len(calls) != 0 || len(b.Evidence) != 0 || !b.More {
		t.Fatalf("window: %+v, %v, calls %v; want the attachment recorded, not hunted yet", b, err, calls)
	}
	if b, err = src.Collect(context.Background(), b.Next); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(calls, []string{exeSHA}) || len(b.Evidence[0].Sightings) != 2 || b.Evidence[0].Sightings[1].DeviceID != "42" {
		t.Errorf("enrich calls %v, evidence %+v", calls, b.Evidence)
	}
}

func TestDebugSHA256(t *testing.T) {
	srv, _ := newFake(t)
	srv.AddDeliveredMessage(message("g1", firstWindow.Start.Add(time.Minute), 85, []string{"a@example.com"}, []proofpoint.MessagePart{exePart, pdfPart},
		attachmentThreat(exeSHA, "malware", "active")), time.Time{})
	b, err := newSource(t, srv, proofpointconn.Options{DebugSHA256: strings.ToUpper(docSHA)}).Collect(context.Background(), nil)
	if err != nil || len(b.Evidence) != 1 || b.Evidence[0].Hashes != (connector.Hashes{SHA256: docSHA}) {
		t.Fatalf("evidence = %+v, %v; want the debug hash for the condemned part only", b.Evidence, err)
	}
}

func TestCollectErrors(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		later     bool
	}{
		{http.StatusInternalServerError, false, false},
		{http.StatusUnauthorized, true, false},
		{http.StatusForbidden, true, false},
		{http.StatusTooManyRequests, false, true},
	} {
		srv, _ := newFake(t)
		srv.InjectFault(proofpointtest.Fault{Path: "/v2/siem/", Status: tc.status, Body: "error"})
		_, err := newSource(t, srv, proofpointconn.Options{}).Collect(context.Background(), nil)
		if err == nil || connector.IsPermanent(err) != tc.permanent || errors.Is(err, connector.ErrRetryLater) != tc.later {
			t.Errorf("HTTP %d: %v; want permanent %v, retry later %v", tc.status, err, tc.permanent, tc.later)
		}
	}
	srv, _ := newFake(t)
	if _, err := newSource(t, srv, proofpointconn.Options{}).Collect(context.Background(), connector.Checkpoint("garbage")); !connector.IsPermanent(err) {
		t.Errorf("bad checkpoint: %v, want permanent", err)
	}
}

func TestNewSourceRejectsBadOptions(t *testing.T) {
	srv, _ := newFake(t)
	for _, o := range []proofpointconn.Options{
		{Streams: []proofpoint.Stream{proofpoint.StreamClicksPermitted}},
		{WindowSize: 10 * time.Second},
		{WindowSize: 2 * time.Hour},
		{Delay: -time.Minute},
		{Overlap: 8 * 24 * time.Hour},
		{DebugSHA256: "abc"},
		{ThreatStatuses: []string{"resolved"}},
	} {
		if _, err := proofpointconn.NewSource(srv.Client(), o); err == nil {
			t.Errorf("NewSource(%+v) accepted", o)
		}
	}
	if _, err := proofpointconn.NewSource(nil, proofpointconn.Options{}); err == nil {
		t.Error("nil client accepted")
	}
}

func TestSourceConformance(t *testing.T) {
	connectortest.TestSource(t, connectortest.SourceHarness{
		New: func(t *testing.T) connector.Source {
			srv, _ := newFake(t)
			srv.AddDeliveredMessage(message("g1", firstWindow.Start.Add(time.Minute), 85, []string{"a@example.com"}, []proofpoint.MessagePart{exePart},
				attachmentThreat(exeSHA, "malware", "active")), time.Time{})
			return newSource(t, srv, proofpointconn.Options{FirstLookBack: 2 * time.Hour})
		},
	})
}

// TAP answers an empty window with 204 No Content (the original aborted on
// it): an empty batch that still moves the checkpoint.
func TestCollectNoContentWindow(t *testing.T) {
	srv, _ := newFake(t)
	srv.InjectFault(proofpointtest.Fault{Path: "/v2/siem/", Status: http.StatusNoContent})
	b, err := newSource(t, srv, proofpointconn.Options{}).Collect(context.Background(), nil)
	if err != nil || len(b.Evidence) != 0 || b.Next == nil {
		t.Fatalf("Collect over a 204 window = %+v, %v; want an empty batch with a checkpoint", b, err)
	}
}
