package proofpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
)

func TestSIEMStreamsRequestShape(t *testing.T) {
	window := hourBefore(30 * time.Minute)
	tests := []struct {
		stream proofpoint.Stream
		call   func(*proofpoint.SIEMService, context.Context, proofpoint.Query) (*proofpoint.Events, error)
	}{
		{proofpoint.StreamAll, (*proofpoint.SIEMService).All},
		{proofpoint.StreamIssues, (*proofpoint.SIEMService).Issues},
		{proofpoint.StreamMessagesDelivered, (*proofpoint.SIEMService).MessagesDelivered},
		{proofpoint.StreamMessagesBlocked, (*proofpoint.SIEMService).MessagesBlocked},
		{proofpoint.StreamClicksPermitted, (*proofpoint.SIEMService).ClicksPermitted},
		{proofpoint.StreamClicksBlocked, (*proofpoint.SIEMService).ClicksBlocked},
	}
	for _, tt := range tests {
		t.Run(string(tt.stream), func(t *testing.T) {
			ts := setup(t)
			ts.mux.HandleFunc("/v2/siem/"+string(tt.stream), func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, http.MethodGet)
				testAuth(t, r)
				testHeader(t, r, "Accept", "application/json")
				testQuery(t, r, url.Values{
					"format":       {"json"},
					"interval":     {"2024-05-14T10:30:00Z/2024-05-14T11:30:00Z"},
					"threatType":   {"url", "attachment"},
					"threatStatus": {"active", "falsePositive"},
				})
				w.Write([]byte(`{"queryEndTime":"2024-05-14T11:30:00Z","messagesDelivered":[],"messagesBlocked":[],"clicksPermitted":[],"clicksBlocked":[]}`))
			})
			ev, err := tt.call(ts.client.SIEM, context.Background(), proofpoint.Query{
				Interval:       window,
				ThreatTypes:    []string{proofpoint.ThreatTypeURL, proofpoint.ThreatTypeAttachment},
				ThreatStatuses: []string{proofpoint.ThreatStatusActive, proofpoint.ThreatStatusFalsePositive},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !ev.QueryEndTime.Equal(window.End) || ev.Len() != 0 {
				t.Errorf("events = %+v, want empty ending %v", ev, window.End)
			}
			if st := ts.client.Pools().Status(tt.stream.Pool()); st.Used != 1 {
				t.Errorf("pool %s used = %d, want 1", st.Pool, st.Used)
			}
		})
	}
}

func TestSIEMSinceParameters(t *testing.T) {
	ts := setup(t)
	var got []url.Values
	ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Query())
		w.Write([]byte(`{"queryEndTime":"2024-05-14T12:00:00Z"}`))
	})
	ctx := context.Background()
	if _, err := ts.client.SIEM.All(ctx, proofpoint.Query{SinceTime: testNow.Add(-20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.SIEM.All(ctx, proofpoint.Query{SinceSeconds: 3600}); err != nil {
		t.Fatal(err)
	}
	want := []url.Values{
		{"format": {"json"}, "sinceTime": {"2024-05-14T11:40:00Z"}},
		{"format": {"json"}, "sinceSeconds": {"3600"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

// The fixture is an XSOAR mock with the documented spellings (clusterId,
// threatId, campaignId, fromAddress as a string) and no queryEndTime.
func TestSIEMAllDecodesDocumentedCasing(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) { serveFixture(t, w, "siem_all.json") })
	ev, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.MessagesDelivered) != 1 || len(ev.MessagesBlocked) != 1 || len(ev.ClicksPermitted) != 1 || len(ev.ClicksBlocked) != 1 {
		t.Fatalf("counts = %d/%d/%d/%d, want 1 each", len(ev.MessagesDelivered), len(ev.MessagesBlocked), len(ev.ClicksPermitted), len(ev.ClicksBlocked))
	}
	if !ev.QueryEndTime.IsZero() {
		t.Errorf("queryEndTime = %v, want zero (absent)", ev.QueryEndTime)
	}
	wantMsg := proofpoint.Message{
		GUID: "1111", QID: "r2FNwRHF004109", MessageID: "1111@evil.zz",
		MessageTime: mustTime(t, "2010-01-30T00:00:59.000Z"),
		Sender:      "e99d7ed5580193f36a51f597bc2c0210@evil.zz",
		SenderIP:    "192.0.2.255",
		Recipient:   proofpoint.Addresses{"clark.kent@pharmtech.zz", "diana.prince@pharmtech.zz"},
		CcAddresses: proofpoint.Addresses{"bruce.wayne@university-of-education.zz"},
		FromAddress: proofpoint.Addresses{"badguy@evil.zz"},
		HeaderFrom:  `"A. Badguy" <badguy@evil.zz>`,
		HeaderTo:    `"Clark Kent" <clark.kent@pharmtech.zz>; "Diana Prince" <diana.prince@pharmtech.zz>`,
		HeaderCC:    `"Bruce Wayne" <bruce.wayne@university-of-education.zz>`,
		Subject:     "Please find a totally safe invoice attached.",
		SpamScore:   4, PhishScore: 46, MalwareScore: 100,
		Cluster:          "pharmtech_hosted",
		ModulesRun:       []string{"pdr", "sandbox", "spam", "urldefense"},
		PolicyRoutes:     []string{"default_inbound", "executives"},
		QuarantineFolder: "Attachment Defense",
		QuarantineRule:   "module.sandbox.threat",
		ThreatsInfoMap: []proofpoint.ThreatInfo{
			{ThreatID: "threat_num", Threat: "threat_num", ThreatType: "ATTACHMENT", Classification: "MALWARE", ThreatStatus: "active",
				ThreatTime: mustTime(t, "2010-01-30T00:00:40.000Z"), CampaignID: "46e01b8a-c899-404d-bcd9-189bb393d1a7",
				ThreatURL: "https://threatinsight.proofpoint.com/43fc1aa4c1cd0146d334c5593b1428f6d062b2c406e5efe8abe95ca"},
			{ThreatID: "3ba97fc852c66a7ba761450edfdfb9f4ffab74715b591294f78b5e37a76481aa", Threat: "badsite.zz", ThreatType: "URL",
				Classification: "MALWARE", ThreatTime: mustTime(t, "2010-01-30T00:00:30.000Z"),
				CampaignID: "46e01b8a-c899-404d-bcd9-189bb393d1a7",
				ThreatURL:  "https://threatinsight.proofpoint.com/a7ba761450edfdfb9f4ffab74715b591294f78b5e37a76481aa"},
		},
	}
	if diff := cmp.Diff(wantMsg, ev.MessagesDelivered[0]); diff != "" {
		t.Errorf("delivered message (-want +got):\n%s", diff)
	}
	wantClick := proofpoint.Click{
		CampaignID: "46e01b8a-c899-404d-bcd9-189bb393d1a7", Classification: "MALWARE", ClickIP: "192.0.2.1",
		ClickTime: mustTime(t, "2010-01-11T00:00:20.000Z"), MessageID: "3333", Recipient: "bruce.wayne@pharmtech.zz",
		Recipients: proofpoint.Addresses{"bruce.wayne@pharmtech.zz"},
		Sender:     "9facbf452def2d7efc5b5c48cdb837fa@badguy.zz", SenderIP: "192.0.2.255", ThreatID: "threat_num2",
		ThreatTime: mustTime(t, "2010-01-11T00:00:10.000Z"),
		ThreatURL:  "https://threatinsight.proofpoint.com/#/f7622167144dba5e3ae4480eeee78b23d66f7dfed970cfc3d086cc0dabdf50",
		URL:        "http://badguy.zz/", UserAgent: "Mozilla/5.0(WindowsNT6.1;WOW64;rv:27.0)Gecko/20100101Firefox/27.0",
	}
	if diff := cmp.Diff(wantClick, ev.ClicksPermitted[0]); diff != "" {
		t.Errorf("permitted click (-want +got):\n%s", diff)
	}
	if got := ev.MessagesBlocked[0].GUID; got != "2222" {
		t.Errorf("blocked GUID = %q", got)
	}
	if got := ev.ClicksBlocked[0].ClickIP; got != "192.0.2.2" {
		t.Errorf("blocked click IP = %q", got)
	}
}

func TestSIEMIssuesAndDeliveredFixtures(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/siem/issues", func(w http.ResponseWriter, r *http.Request) { serveFixture(t, w, "siem_issues.json") })
	ts.mux.HandleFunc("/v2/siem/messages/delivered", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, "siem_messages_delivered.json")
	})
	ctx := context.Background()
	issues, err := ts.client.SIEM.Issues(ctx, proofpoint.Query{Interval: hourBefore(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(issues.MessagesDelivered) != 1 || len(issues.ClicksPermitted) != 1 || issues.ClicksPermitted[0].ThreatID != "threat_num2" {
		t.Errorf("issues = %+v", issues)
	}
	ev, err := ts.client.SIEM.MessagesDelivered(ctx, proofpoint.Query{Interval: hourBefore(time.Hour), ThreatTypes: []string{"attachment"}})
	if err != nil {
		t.Fatal(err)
	}
	want := proofpoint.Events{
		QueryEndTime: mustTime(t, "2021-08-24T13:00:00Z"),
		MessagesDelivered: []proofpoint.Message{{
			ThreatsInfoMap: []proofpoint.ThreatInfo{{
				Threat: "Example Threat", ThreatID: "d22be456cbc0a0e5d900696c36c92c547bea13cc76d32b63ed...",
				ThreatStatus: "active", ThreatTime: mustTime(t, "2021-08-27T15:59:49.000Z"), ThreatType: "attachment",
				ThreatURL: "https://example.com", Classification: "phish",
			}},
			SpamScore: 100, ToAddresses: proofpoint.Addresses{"user@example.com"}, Subject: "A phishy email",
			FromAddress: proofpoint.Addresses{"user@example.com"}, QuarantineFolder: "Phish",
		}},
	}
	if diff := cmp.Diff(want, *ev); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// Live payloads: threatID/campaignID casing, cluster, list recipient,
// completelyRewritten as "na", messageParts with a null sandboxStatus.
func TestSIEMDecodesLivePayload(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/siem/messages/delivered", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"queryEndTime":"2024-05-14T10:00:00Z","messagesDelivered":[{
  "GUID":"fA8S1YIRh2taWGdoS02QyNccz985vY2D","id":"9de5069c-5afe-602b-2ea0-a04b66beb2c0","QID":null,
  "messageID":"<20240514091502.1A2B@evil.zz>","messageTime":"2024-05-14T09:15:02.000Z",
  "sender":"e99d7ed5580193f36a51f597bc2c0210@evil.zz","senderIP":"192.0.2.255",
  "recipient":["clark.kent@pharmtech.zz"],"toAddresses":["clark.kent@pharmtech.zz"],"ccAddresses":[],"replyToAddress":null,
  "fromAddress":["billing@evil.zz"],"headerFrom":"\"Billing\" <billing@evil.zz>","headerReplyTo":null,
  "subject":"Invoice 4821","xmailer":null,"messageSize":184233,
  "spamScore":4,"phishScore":46.5,"malwareScore":100,"impostorScore":0.0,"cluster":"pharmtech_hosted","completelyRewritten":"na",
  "modulesRun":["av","sandbox"],"policyRoutes":["default_inbound"],"quarantineFolder":null,"quarantineRule":null,
  "messageParts":[
    {"disposition":"inline","filename":"text.html","contentType":"text/html","oContentType":"text/html",
     "md5":"b10a8db164e0754105b7a99be72e3fe5","sha256":"a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e","sandboxStatus":null},
    {"disposition":"attached","filename":"Invoice_4821.docm","contentType":"application/vnd.ms-word.document.macroEnabled.12",
     "oContentType":"application/octet-stream","md5":"6aa7b6f68ed713d0dbb7857367d4573f",
     "sha256":"9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69","sandboxStatus":"threat"}],
  "threatsInfoMap":[{"threatID":"9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69",
     "threat":"9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69","threatType":"attachment",
     "classification":"malware","threatStatus":"active","threatTime":"2024-05-14T09:40:11.000Z","campaignID":null,
     "threatUrl":"https://threatinsight.proofpoint.com/e65934ff/threat/email/9f36af8a","detectionType":"sandbox",
     "actors":[{"id":"6e3b86b0","name":"TA505"}]}]}]}`))
	})
	ev, err := ts.client.SIEM.MessagesDelivered(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	m := ev.MessagesDelivered[0]
	if m.Cluster != "pharmtech_hosted" || m.CompletelyRewritten != proofpoint.RewrittenNA || m.PhishScore != 46.5 || m.QID != "" || m.MessageSize != 184233 {
		t.Errorf("message = %+v", m)
	}
	if v, known := m.CompletelyRewritten.Bool(); v || known {
		t.Errorf("na Bool() = %v, %v", v, known)
	}
	att := m.AttachedParts()
	if len(att) != 1 || att[0].SHA256 != "9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69" || att[0].SandboxStatus != "threat" {
		t.Errorf("attached parts = %+v", att)
	}
	ti := m.ThreatsInfoMap[0]
	if ti.ThreatID != ti.Threat || ti.CampaignID != "" || ti.DetectionType != "sandbox" || len(ti.Actors) != 1 || ti.Actors[0].Name != "TA505" {
		t.Errorf("threat info = %+v", ti)
	}
	if len(m.CcAddresses) != 0 || m.ReplyToAddress != nil {
		t.Errorf("cc = %#v, replyTo = %#v", m.CcAddresses, m.ReplyToAddress)
	}
}

func TestSIEMValidationRefusesBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		q      proofpoint.Query
		reason error
	}{
		{"no time parameter", proofpoint.Query{}, nil},
		{"two time parameters", proofpoint.Query{Interval: hourBefore(time.Hour), SinceSeconds: 60}, nil},
		{"too short", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-time.Hour), End: testNow.Add(-time.Hour + 29*time.Second)}}, proofpoint.ErrWindowTooShort},
		{"too long", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-3 * time.Hour), End: testNow.Add(-time.Hour - time.Second)}}, proofpoint.ErrWindowTooLong},
		{"reversed", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-time.Hour), End: testNow.Add(-2 * time.Hour)}}, proofpoint.ErrWindowReversed},
		{"start too old", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-7*24*time.Hour - time.Minute), End: testNow.Add(-7*24*time.Hour + 30*time.Minute)}}, proofpoint.ErrStartTooOld},
		{"still current", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-time.Hour), End: testNow.Add(-30 * time.Second)}}, proofpoint.ErrWindowStillCurrent},
		{"end missing", proofpoint.Query{Interval: proofpoint.Interval{Start: testNow.Add(-time.Hour)}}, nil},
		{"sinceTime over an hour ago", proofpoint.Query{SinceTime: testNow.Add(-61 * time.Minute)}, proofpoint.ErrWindowTooLong},
		{"sinceTime too recent", proofpoint.Query{SinceTime: testNow.Add(-50 * time.Second)}, proofpoint.ErrWindowTooShort},
		{"sinceTime too long once rounded", proofpoint.Query{SinceTime: testNow.Add(-59*time.Minute - 45*time.Second)}, proofpoint.ErrWindowTooLong},
		{"sinceSeconds too small", proofpoint.Query{SinceSeconds: 29}, proofpoint.ErrWindowTooShort},
		{"sinceSeconds negative", proofpoint.Query{SinceSeconds: -5}, proofpoint.ErrWindowTooShort},
		{"sinceSeconds too large", proofpoint.Query{SinceSeconds: 3601}, proofpoint.ErrWindowTooLong},
	}
	ts := setup(t)
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.client.SIEM.All(context.Background(), tt.q)
			if !errors.Is(err, proofpoint.ErrInvalidWindow) || !errors.Is(err, proofpoint.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidWindow and ErrInvalidRequest", err)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Errorf("err = %v, want %v", err, tt.reason)
			}
			var we *proofpoint.WindowError
			var pe *proofpoint.Error
			if !errors.As(err, &we) || !errors.As(err, &pe) || pe.Op != "SIEM.All" || pe.Vendor != "proofpoint" {
				t.Fatalf("err = %#v, want *Error wrapping *WindowError", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "proofpoint: SIEM.All: GET /v2/siem/all: invalid time window: ") || we.Detail == "" {
				t.Errorf("message = %q", msg)
			}
		})
	}
	if _, err := ts.client.SIEM.List(context.Background(), "messages/quarantined", proofpoint.Query{SinceSeconds: 60}); !errors.Is(err, proofpoint.ErrInvalidRequest) {
		t.Errorf("unknown stream err = %v", err)
	}
	if n := ts.requests(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if used := ts.client.Pools().Status(proofpoint.PoolSIEM).Used; used != 0 {
		t.Errorf("pool used = %d, want 0", used)
	}
}

func TestSIEMLookBackOption(t *testing.T) {
	ts := setup(t, proofpoint.WithLookBack(12*time.Hour))
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(12 * time.Hour)})
	if !errors.Is(err, proofpoint.ErrStartTooOld) {
		t.Errorf("err = %v, want ErrStartTooOld", err)
	}
	if ts.client.LookBack() != 12*time.Hour {
		t.Errorf("LookBack() = %v", ts.client.LookBack())
	}
}

// TAP's 400 texts about windows match the window sentinels and keep the
// text as the message.
func TestSIEMServer400Texts(t *testing.T) {
	tests := []struct {
		text   string
		reason error
	}{
		{"The requested interval is too short. Requests must be for at least 30.00s of data", proofpoint.ErrWindowTooShort},
		{"The requested start time is too far into the past. Requests for information up to 7.00d are accepted", proofpoint.ErrStartTooOld},
		{"The requested interval is still current.", proofpoint.ErrWindowStillCurrent},
		{"The requested interval is too long. Requests must be for at most 1.00h of data", proofpoint.ErrWindowTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			ts := setup(t)
			ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(tt.text + "\n"))
			})
			_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
			var pe *proofpoint.Error
			if !errors.As(err, &pe) || pe.StatusCode != 400 || pe.Message != tt.text {
				t.Fatalf("err = %#v", err)
			}
			if !errors.Is(err, proofpoint.ErrBadRequest) || !errors.Is(err, proofpoint.ErrInvalidWindow) || !errors.Is(err, tt.reason) {
				t.Errorf("err = %v does not match the sentinels", err)
			}
			if ts.requests() != 1 {
				t.Errorf("400 retried: %d requests", ts.requests())
			}
		})
	}
	t.Run("empty body for a reversed interval", func(t *testing.T) {
		ts := setup(t)
		ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
		_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
		if !errors.Is(err, proofpoint.ErrBadRequest) || errors.Is(err, proofpoint.ErrInvalidWindow) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		ts := setup(t)
		ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"code":"BAD_PARAM","message":"The requested interval is still current."}`))
		})
		_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
		var pe *proofpoint.Error
		if !errors.As(err, &pe) || pe.Code != "BAD_PARAM" || !errors.Is(err, proofpoint.ErrWindowStillCurrent) {
			t.Errorf("err = %#v", err)
		}
	})
}

// The window is checked as sent, in whole seconds: a start a fraction of a
// second inside the look-back that TAP would see outside it is refused.
func TestSIEMValidatesWholeSeconds(t *testing.T) {
	now := testNow.Add(500 * time.Millisecond)
	ts := setup(t, proofpoint.WithClock(func() time.Time { return now }))
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	start := now.Add(-7*24*time.Hour + 200*time.Millisecond)
	_, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: proofpoint.Interval{Start: start, End: start.Add(time.Hour)}})
	if !errors.Is(err, proofpoint.ErrStartTooOld) {
		t.Errorf("err = %v, want ErrStartTooOld", err)
	}
}

func TestMessageAttachmentThreats(t *testing.T) {
	bad := "9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69"
	clean := "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"
	m := proofpoint.Message{
		MessageParts: []proofpoint.MessagePart{
			{Disposition: "inline", Filename: "text.html", SHA256: bad}, // a body part never counts
			{Disposition: "attached", Filename: "Invoice.docm", SHA256: strings.ToUpper(bad), SandboxStatus: "threat"},
			{Disposition: "attached", Filename: "terms.pdf", SHA256: clean, SandboxStatus: "clean"},
		},
		ThreatsInfoMap: []proofpoint.ThreatInfo{
			{ThreatID: "url-threat", Threat: "http://evil.zz/", ThreatType: "url", Classification: "phish"},
			{ThreatID: bad, Threat: bad, ThreatType: "ATTACHMENT", Classification: "MALWARE", ThreatStatus: "active"},
		},
	}
	got := m.AttachmentThreats()
	if len(got) != 1 || got[0].Part.Filename != "Invoice.docm" || got[0].Threat.Classification != "MALWARE" {
		t.Errorf("attachment threats = %+v", got)
	}
	if n := len(m.AttachedParts()); n != 2 {
		t.Errorf("attached parts = %d", n)
	}
}

// TestSIEMFieldsInEveryShape decodes the fields TAP payloads send in more
// than one shape: a click's recipient as a string or a list, a message's
// size and scores as numbers or numeric strings.
func TestSIEMFieldsInEveryShape(t *testing.T) {
	var ev proofpoint.Events
	body := `{"queryEndTime":"2026-03-01T12:00:00Z",
	 "clicksPermitted":[
	  {"id":"c1","recipient":"a@example.com","clickTime":"2026-03-01T11:00:00Z"},
	  {"id":"c2","recipient":["b@example.com","c@example.com"]},
	  {"id":"c3","recipient":null},
	  {"id":"c4","recipient":[]}],
	 "messagesDelivered":[
	  {"GUID":"g1","messageSize":"1234","spamScore":"5","phishScore":"0.5","malwareScore":100,"impostorScore":null},
	  {"GUID":"g2","messageSize":4321,"spamScore":7,"phishScore":"n/a"}]}`
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatal(err)
	}
	type rcpt struct {
		one  string
		list []string
	}
	got := []rcpt{}
	for _, c := range ev.ClicksPermitted {
		got = append(got, rcpt{c.Recipient, c.Recipients})
	}
	want := []rcpt{{"a@example.com", []string{"a@example.com"}}, {"b@example.com", []string{"b@example.com", "c@example.com"}},
		{"", nil}, {"", []string{}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(rcpt{}), cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	if ev.ClicksPermitted[0].ClickTime.IsZero() {
		t.Error("click time lost")
	}
	m1, m2 := ev.MessagesDelivered[0], ev.MessagesDelivered[1]
	if m1.MessageSize != 1234 || m1.SpamScore != 5 || m1.PhishScore != 0.5 || m1.MalwareScore != 100 || m1.ImpostorScore != 0 {
		t.Errorf("message 1 = %+v", m1)
	}
	if m2.MessageSize != 4321 || m2.SpamScore != 7 || m2.PhishScore != 0 {
		t.Errorf("message 2 = %+v", m2)
	}
}

// TestSIEMMalformedEventSkipped checks that one event with a field of an
// unexpected type never loses its window: it is left out, logged at warning
// with its id, listed in SkippedItems and passed to the skip handler.
func TestSIEMMalformedEventSkipped(t *testing.T) {
	var logs strings.Builder
	var handled []proofpoint.SkippedItem
	ts := setup(t, proofpoint.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		proofpoint.WithSkipHandler(func(s proofpoint.SkippedItem) { handled = append(handled, s) }))
	var all map[string]any
	if err := json.Unmarshal(fixture(t, "siem_all.json"), &all); err != nil {
		t.Fatal(err)
	}
	// A second delivered message whose messageParts is a string, and a
	// blocked click whose clickIP is a number.
	bad := map[string]any{"GUID": "bad-guid", "messageParts": "oops", "subject": "x"}
	all["messagesDelivered"] = append(all["messagesDelivered"].([]any), bad)
	all["clicksBlocked"].([]any)[0].(map[string]any)["clickIP"] = 42
	body, _ := json.Marshal(all)
	ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	ev, err := ts.client.SIEM.All(context.Background(), proofpoint.Query{Interval: hourBefore(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.MessagesDelivered) != 1 || ev.MessagesDelivered[0].GUID != "1111" || len(ev.MessagesBlocked) != 1 ||
		len(ev.ClicksPermitted) != 1 || len(ev.ClicksBlocked) != 0 {
		t.Fatalf("events = %d/%d/%d/%d", len(ev.MessagesDelivered), len(ev.MessagesBlocked), len(ev.ClicksPermitted), len(ev.ClicksBlocked))
	}
	if len(ev.SkippedItems) != 2 || ev.SkippedItems[0].ID != "bad-guid" || ev.SkippedItems[0].Index != 1 ||
		ev.SkippedItems[0].Op != "SIEM.All" || ev.SkippedItems[1].Index != 0 {
		t.Fatalf("skipped = %+v", ev.SkippedItems)
	}
	if len(handled) != 2 || strings.Count(logs.String(), "level=WARN") != 2 || !strings.Contains(logs.String(), "id=bad-guid") {
		t.Errorf("handled %d; logs:\n%s", len(handled), logs.String())
	}
	if strings.Contains(logs.String(), testSecret) {
		t.Error("secret in logs")
	}
}
