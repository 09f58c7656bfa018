package proofpointtest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

var t0 = time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)

func newFake(t *testing.T, opts ...proofpointtest.Option) (*proofpointtest.Server, *proofpointtest.ManualClock) {
	t.Helper()
	clk := proofpointtest.NewManualClock(t0)
	return proofpointtest.NewServer(t, append([]proofpointtest.Option{proofpointtest.WithClock(clk)}, opts...)...), clk
}

type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a raw request with the fake's credentials.
func call(t *testing.T, s *proofpointtest.Server, method, path string, query url.Values, body string) answer {
	t.Helper()
	u := s.URL() + path
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(s.Principal(), s.Secret())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestSIEMValidation(t *testing.T) {
	s, _ := newFake(t)
	iv := func(v string) url.Values { return url.Values{"format": {"json"}, "interval": {v}} }
	tests := []struct {
		name   string
		q      url.Values
		status int
		body   string
	}{
		{"valid start/end", iv("2024-05-14T10:00:00Z/2024-05-14T11:00:00Z"), 200, ""},
		{"valid duration/end", iv("PT30M/2024-05-14T11:00:00Z"), 200, ""},
		{"valid start/duration with offset", iv("2024-05-14T03:00:00-0700/PT30M"), 200, ""},
		{"format upper case", url.Values{"format": {"JSON"}, "sinceSeconds": {"600"}}, 200, ""},
		{"no format", url.Values{"sinceTime": {"2024-05-14T11:30:00Z"}}, 200, ""},
		{"no time", url.Values{"format": {"json"}}, 400, proofpointtest.TextMissingTime},
		{"two times", url.Values{"interval": {"PT30M/2024-05-14T11:00:00Z"}, "sinceSeconds": {"60"}}, 400, proofpointtest.TextTooManyTimes},
		{"bad interval", iv("yesterday/today"), 400, proofpointtest.TextBadInterval},
		{"bad sinceTime", url.Values{"sinceTime": {"noon"}}, 400, proofpointtest.TextBadSinceTime},
		{"bad sinceSeconds", url.Values{"sinceSeconds": {"-1"}}, 400, proofpointtest.TextBadSinceSeconds},
		{"reversed", iv("2024-05-14T11:00:00Z/2024-05-14T10:00:00Z"), 400, ""},
		{"too short", iv("2024-05-14T10:00:00Z/2024-05-14T10:00:29Z"), 400, proofpointtest.TextIntervalTooShort},
		{"sinceSeconds too short", url.Values{"sinceSeconds": {"20"}}, 400, proofpointtest.TextIntervalTooShort},
		{"too long", iv("2024-05-14T09:00:00Z/2024-05-14T10:00:01Z"), 400, proofpointtest.TextIntervalTooLong},
		{"sinceTime too long", url.Values{"sinceTime": {"2024-05-14T10:00:00Z"}}, 400, proofpointtest.TextIntervalTooLong},
		{"too old", iv("2024-05-07T11:59:00Z/2024-05-07T12:30:00Z"), 400,
			"The requested start time is too far into the past. Requests for information up to 7.00d are accepted"},
		{"still current", iv("2024-05-14T11:30:00Z/2024-05-14T12:00:10Z"), 400, proofpointtest.TextIntervalCurrent},
		{"bad format", url.Values{"format": {"xml"}, "sinceSeconds": {"60"}}, 400, proofpointtest.TextBadFormat},
		{"syslog", url.Values{"format": {"syslog"}, "sinceSeconds": {"60"}}, 400, proofpointtest.TextSyslogUnsupported},
		{"bad threatType", url.Values{"sinceSeconds": {"60"}, "threatType": {"url", "macro"}}, 400, proofpointtest.TextBadThreatType},
		{"bad threatStatus", url.Values{"sinceSeconds": {"60"}, "threatStatus": {"open"}}, 400, proofpointtest.TextBadThreatStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, http.MethodGet, "/v2/siem/all", tt.q, "")
			if a.status != tt.status {
				t.Fatalf("status = %d (%s), want %d", a.status, a.body, tt.status)
			}
			if tt.status == 400 && a.body != tt.body {
				t.Errorf("body = %q, want %q", a.body, tt.body)
			}
		})
	}
	if got := proofpointtest.TextStartTooOld(0.5); got != "The requested start time is too far into the past. Requests for information up to 0.50d are accepted" {
		t.Errorf("TextStartTooOld = %q", got)
	}
}

func TestSIEMQueryEndTimeForSinceParameters(t *testing.T) {
	s, clk := newFake(t)
	clk.Set(t0.Add(40 * time.Second)) // rounds up to 12:01
	a := call(t, s, http.MethodGet, "/v2/siem/clicks/blocked", url.Values{"sinceSeconds": {"300"}}, "")
	if a.status != 200 || a.body != `{"clicksBlocked":[],"queryEndTime":"2024-05-14T12:01:00Z"}` {
		t.Errorf("answer = %d %s", a.status, a.body)
	}
}

func seedMessage(guid string, at time.Time, threatType, status string) proofpoint.Message {
	return proofpoint.Message{
		GUID: guid, ID: "id-" + guid, MessageID: "<" + guid + "@evil.zz>", MessageTime: proofpoint.Time{Time: at},
		Sender: "e99d7ed5580193f36a51f597bc2c0210@evil.zz", SenderIP: "192.0.2.255",
		Recipient: proofpoint.Addresses{"clark.kent@pharmtech.zz"}, FromAddress: proofpoint.Addresses{"billing@evil.zz"},
		HeaderFrom: `"Billing" <billing@evil.zz>`, Subject: "Invoice", MessageSize: 1024, MalwareScore: 100,
		Cluster: "pharmtech_hosted", CompletelyRewritten: proofpoint.RewrittenNA,
		MessageParts: []proofpoint.MessagePart{
			{Disposition: "inline", Filename: "text.html", ContentType: "text/html", MD5: "b10a", SHA256: "a591"},
			{Disposition: "attached", Filename: "Invoice.docm", ContentType: "application/vnd.ms-word.document.macroEnabled.12", MD5: "6aa7", SHA256: "9f36", SandboxStatus: "threat"},
		},
		ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatID: "9f36", Threat: "9f36", ThreatType: threatType, Classification: "malware",
			ThreatStatus: status, ThreatTime: proofpoint.Time{Time: at.Add(time.Minute)}, ThreatURL: "https://threatinsight.proofpoint.com/x/threat/email/9f36"}},
	}
}

func seedClick(id string, at time.Time, status string) proofpoint.Click {
	return proofpoint.Click{ID: id, GUID: "g-" + id, MessageID: "<m@evil.zz>", ClickTime: proofpoint.Time{Time: at}, ClickIP: "198.51.100.1",
		Recipient: "bruce.wayne@pharmtech.zz", Sender: "9fac@badguy.zz", SenderIP: "192.0.2.255", URL: "http://badguy.zz/",
		UserAgent: "Mozilla/5.0", Classification: "malware", ThreatID: "f1f2", ThreatTime: proofpoint.Time{Time: at}, ThreatURL: "https://threatinsight.proofpoint.com/x", ThreatStatus: status}
}

// The live wire: threatID/campaignID, cluster, recipient list, nulls for
// empty optional strings, event times with milliseconds, queryEndTime
// without, and only the endpoint's arrays.
func TestSIEMLiveWireFormat(t *testing.T) {
	s, _ := newFake(t)
	s.AddDeliveredMessage(seedMessage("G1", t0.Add(-90*time.Minute), "attachment", "active"), time.Time{})
	a := call(t, s, http.MethodGet, "/v2/siem/messages/delivered", url.Values{"interval": {"2024-05-14T10:00:00Z/2024-05-14T11:00:00Z"}}, "")
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(a.body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body) != 2 || string(body["queryEndTime"]) != `"2024-05-14T11:00:00Z"` {
		t.Fatalf("body keys = %s", a.body)
	}
	var msgs []map[string]any
	json.Unmarshal(body["messagesDelivered"], &msgs)
	m := msgs[0]
	checks := map[string]any{
		"GUID": "G1", "cluster": "pharmtech_hosted", "QID": nil, "xmailer": nil, "quarantineFolder": nil, "headerReplyTo": nil,
		"messageTime": "2024-05-14T10:30:00.000Z", "completelyRewritten": "na", "recipient": []any{"clark.kent@pharmtech.zz"},
		"fromAddress": []any{"billing@evil.zz"},
	}
	for k, want := range checks {
		if diff := cmp.Diff(want, m[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if _, ok := m["clusterId"]; ok {
		t.Error("live casing sent clusterId")
	}
	ti := m["threatsInfoMap"].([]any)[0].(map[string]any)
	if ti["threatID"] != "9f36" || ti["campaignID"] != nil || ti["threatUrl"] == nil {
		t.Errorf("threat info = %v", ti)
	}
	if _, ok := ti["campaignID"]; !ok {
		t.Error("campaignID absent, want null")
	}
	parts := m["messageParts"].([]any)
	if parts[0].(map[string]any)["sandboxStatus"] != nil || parts[1].(map[string]any)["sandboxStatus"] != "threat" {
		t.Errorf("parts = %v", parts)
	}

	all := call(t, s, http.MethodGet, "/v2/siem/all", url.Values{"interval": {"2024-05-14T09:00:00Z/2024-05-14T10:00:00Z"}}, "")
	if all.body != `{"clicksBlocked":[],"clicksPermitted":[],"messagesBlocked":[],"messagesDelivered":[],"queryEndTime":"2024-05-14T10:00:00Z"}` {
		t.Errorf("empty all = %s", all.body)
	}
}

func TestSIEMDocumentedCasing(t *testing.T) {
	live, _ := newFake(t)
	doc, _ := newFake(t, proofpointtest.WithDocumentedCasing())
	msg := seedMessage("G1", t0.Add(-90*time.Minute), "attachment", "active")
	msg.ThreatsInfoMap[0].CampaignID = "46e01b8a-c899-404d-bcd9-189bb393d1a7"
	live.AddDeliveredMessage(msg, time.Time{})
	doc.AddDeliveredMessage(msg, time.Time{})
	q := url.Values{"interval": {"2024-05-14T10:00:00Z/2024-05-14T11:00:00Z"}}
	raw := call(t, doc, http.MethodGet, "/v2/siem/messages/delivered", q, "").body
	for _, want := range []string{`"clusterId":"pharmtech_hosted"`, `"threatId":"9f36"`, `"campaignId":"46e01b8a-c899-404d-bcd9-189bb393d1a7"`, `"fromAddress":"billing@evil.zz"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("documented casing lacks %s: %s", want, raw)
		}
	}
	ctx := context.Background()
	query := proofpoint.SIEMOptions{Interval: proofpoint.Interval{Start: t0.Add(-2 * time.Hour), End: t0.Add(-time.Hour)}}
	a, err := live.Client().SIEM.MessagesDelivered(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	b, err := doc.Client().SIEM.MessagesDelivered(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("the client decodes both casings alike (-live +doc):\n%s", diff)
	}
	if diff := cmp.Diff(msg, a.MessagesDelivered[0]); diff != "" {
		t.Errorf("round trip (-seeded +decoded):\n%s", diff)
	}
}

func TestSIEMFiltersAndStreams(t *testing.T) {
	s, _ := newFake(t)
	at := t0.Add(-90 * time.Minute)
	s.AddDeliveredMessage(seedMessage("att-active", at, "attachment", "active"), time.Time{})
	s.AddDeliveredMessage(seedMessage("url-cleared", at, "URL", "cleared"), time.Time{})
	s.AddDeliveredMessage(seedMessage("att-fp", at, "attachment", "falsePositive"), time.Time{})
	s.AddBlockedMessage(seedMessage("blocked", at, "attachment", "active"), time.Time{})
	s.AddPermittedClick(seedClick("c-permitted", at, "active"), time.Time{})
	s.AddBlockedClick(seedClick("c-blocked", at, "active"), time.Time{})
	c := s.Client()
	ctx := context.Background()
	w := proofpoint.Interval{Start: t0.Add(-2 * time.Hour), End: t0.Add(-time.Hour)}
	guids := func(ms []proofpoint.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.GUID)
		}
		return out
	}
	all, err := c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{Interval: w})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(guids(all.MessagesDelivered), []string{"att-active", "url-cleared"}) || len(all.MessagesBlocked) != 1 ||
		len(all.ClicksPermitted) != 1 || len(all.ClicksBlocked) != 1 {
		t.Errorf("all = %v %d %d %d", guids(all.MessagesDelivered), len(all.MessagesBlocked), len(all.ClicksPermitted), len(all.ClicksBlocked))
	}
	att, err := c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{Interval: w, ThreatTypes: []string{"attachment"}, ThreatStatuses: []string{"falsePositive", "active"}})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(guids(att.MessagesDelivered), []string{"att-active", "att-fp"}) || len(att.ClicksPermitted) != 0 {
		t.Errorf("attachment filter = %v, clicks %d", guids(att.MessagesDelivered), len(att.ClicksPermitted))
	}
	issues, err := c.SIEM.Issues(ctx, proofpoint.SIEMOptions{Interval: w})
	if err != nil {
		t.Fatal(err)
	}
	if len(issues.MessagesBlocked) != 0 || len(issues.ClicksBlocked) != 0 || len(issues.MessagesDelivered) != 2 || len(issues.ClicksPermitted) != 1 {
		t.Errorf("issues = %+v", issues)
	}
	if _, err := c.SIEM.ClicksPermitted(ctx, proofpoint.SIEMOptions{Interval: w}); err != nil {
		t.Fatal(err)
	}
	if s.PoolUsed(proofpoint.PoolSIEM) != 3 || s.PoolUsed(proofpoint.PoolClicksPermitted) != 1 {
		t.Errorf("pools = %d/%d", s.PoolUsed(proofpoint.PoolSIEM), s.PoolUsed(proofpoint.PoolClicksPermitted))
	}
	if got := call(t, s, http.MethodGet, "/v2/siem/clicks/all", url.Values{"sinceSeconds": {"60"}}, ""); got.status != 404 {
		t.Errorf("unknown stream = %d", got.status)
	}
}

// An event indexed after its window closed is missing from a query made
// before its index time and present in a later query of the same window.
func TestSIEMLateIndexing(t *testing.T) {
	s, clk := newFake(t)
	at := t0.Add(-10 * time.Minute)
	s.AddDeliveredMessage(seedMessage("late", at, "attachment", "active"), at.Add(25*time.Minute))
	c := s.Client()
	q := proofpoint.SIEMOptions{Interval: proofpoint.Interval{Start: t0.Add(-30 * time.Minute), End: t0.Add(-2 * time.Minute)}}
	ev, err := c.SIEM.MessagesDelivered(context.Background(), q)
	if err != nil || len(ev.MessagesDelivered) != 0 {
		t.Fatalf("before indexing: %v, %v", ev, err)
	}
	clk.Advance(15 * time.Minute)
	ev, err = c.SIEM.MessagesDelivered(context.Background(), q)
	if err != nil || len(ev.MessagesDelivered) != 1 {
		t.Fatalf("after indexing: %v, %v", ev, err)
	}
}

func TestPools429WithoutRetryAfter(t *testing.T) {
	s, clk := newFake(t, proofpointtest.WithPoolLimit(proofpoint.PoolSIEM, 2))
	q := url.Values{"sinceSeconds": {"60"}}
	for i := range 2 {
		if a := call(t, s, http.MethodGet, "/v2/siem/messages/blocked", q, ""); a.status != 200 {
			t.Fatalf("call %d = %d", i, a.status)
		}
		clk.Advance(time.Hour)
	}
	a := call(t, s, http.MethodGet, "/v2/siem/all", q, "")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "" {
		t.Fatalf("third call = %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	if a := call(t, s, http.MethodGet, "/v2/siem/clicks/permitted", q, ""); a.status != 200 {
		t.Errorf("clicks/permitted has its own pool, got %d", a.status)
	}
	// Rolling: 24 h after the first request one request is free again.
	clk.Set(t0.Add(24*time.Hour + time.Second))
	if a := call(t, s, http.MethodGet, "/v2/siem/all", q, ""); a.status != 200 {
		t.Errorf("after the oldest aged out = %d", a.status)
	}
	if a := call(t, s, http.MethodGet, "/v2/siem/all", q, ""); a.status != 429 {
		t.Errorf("second after recovery = %d, want 429", a.status)
	}
	if got := s.PoolUsed(proofpoint.PoolSIEM); got != 2 {
		t.Errorf("used = %d", got)
	}
	s.UsePool(proofpoint.PoolPeopleVAP, 50)
	if a := call(t, s, http.MethodGet, "/v2/people/vap", url.Values{"window": {"30"}}, ""); a.status != 429 {
		t.Errorf("vap after 50 uses = %d", a.status)
	}
}

// The real client sees the fake's 429 as ErrRateLimited and retries it.
func TestPoolsThroughClient(t *testing.T) {
	s, _ := newFake(t, proofpointtest.WithPoolLimit(proofpoint.PoolForensicsThreat, 1))
	s.AddThreatForensics("t1", proofpoint.Forensics{Reports: []proofpoint.Report{{Scope: "THREAT", ID: "t1"}}})
	c := s.Client()
	ctx := context.Background()
	if _, err := c.Forensics.GetByThreat(ctx, "t1", false); err != nil {
		t.Fatal(err)
	}
	_, err := c.Forensics.GetByThreat(ctx, "t1", false)
	var pe *proofpoint.Error
	if !errors.Is(err, proofpoint.ErrRateLimited) || !errors.As(err, &pe) || pe.StatusCode != 429 || pe.Attempts != 3 {
		t.Errorf("err = %#v", err)
	}
}

func TestAuth(t *testing.T) {
	s, _ := newFake(t)
	c, err := proofpoint.New(s.URL(), s.Principal(), "wrong-secret", proofpoint.WithRetry(proofpoint.RetryPolicy{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Threats.GetSummary(context.Background(), "x"); !errors.Is(err, proofpoint.ErrUnauthorized) {
		t.Errorf("wrong secret err = %v", err)
	}
	resp, err := http.Get(s.URL() + "/v2/siem/all?sinceSeconds=60")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials = %d", resp.StatusCode)
	}
	s.SetForbidden(true)
	if _, err := s.Client().Threats.GetSummary(context.Background(), "x"); !errors.Is(err, proofpoint.ErrForbidden) {
		t.Errorf("forbidden err = %v", err)
	}
	s.SetForbidden(false)
	if _, err := s.Client().Threats.GetSummary(context.Background(), "x"); !errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown threat err = %v", err)
	}
	if _, err := proofpointtest.New(proofpointtest.WithCredentials("", "")); err == nil {
		t.Error("New without credentials should fail")
	}
	if a := call(t, s, http.MethodGet, "/v3/nothing", nil, ""); a.status != 404 {
		t.Errorf("unknown path = %d", a.status)
	}
}

func TestForensics(t *testing.T) {
	s, _ := newFake(t)
	threat := proofpoint.Forensics{Generated: proofpoint.Time{Time: t0}, Reports: []proofpoint.Report{{Scope: "THREAT", ID: "t1", Name: "https://evil.example/a",
		ThreatStatus: "active", Forensics: []proofpoint.Evidence{{Type: "url", Display: "URL", What: json.RawMessage(`{"url":"https://evil.example/a","httpStatus":200}`)}}}}}
	camp := proofpoint.Forensics{Reports: []proofpoint.Report{{Scope: "CAMPAIGN", ID: "c1", Name: "Tordal"}}}
	s.AddThreatForensics("t1", threat)
	s.AddCampaignForensics("c1", camp)
	s.AddCampaign(proofpoint.Campaign{ID: "c1", Name: "Tordal", CampaignMembers: []proofpoint.CampaignMember{{ID: "t1", Type: "url"}}}, t0.Add(-time.Hour))
	c := s.Client()
	ctx := context.Background()
	got, err := c.Forensics.GetByThreat(ctx, "t1", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reports) != 1 || !got.Generated.Equal(t0) {
		t.Errorf("threat only = %+v", got)
	}
	if u, ok := got.Reports[0].Forensics[0].Details.(*proofpoint.URLEvidence); !ok || u.HTTPStatus != 200 {
		t.Errorf("details = %#v", got.Reports[0].Forensics[0].Details)
	}
	got, err = c.Forensics.GetByThreat(ctx, "t1", true)
	if err != nil || len(got.Reports) != 2 || got.Reports[1].Scope != "CAMPAIGN" {
		t.Errorf("with campaign = %+v, %v", got, err)
	}
	got, err = c.Forensics.GetByCampaign(ctx, "c1")
	if err != nil || len(got.Reports) != 1 || !got.Generated.Equal(t0) {
		t.Errorf("campaign = %+v, %v", got, err)
	}
	if _, err := c.Forensics.GetByThreat(ctx, "nope", false); !errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown threat = %v", err)
	}
	if _, err := c.Forensics.GetByCampaign(ctx, "nope"); !errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown campaign = %v", err)
	}
	for q, want := range map[string]string{
		"":                          proofpointtest.TextForensicsParams,
		"threatId=t1&campaignId=c1": proofpointtest.TextForensicsParams,
		"campaignId=c1&includeCampaignForensics=true": proofpointtest.TextForensicsInclude,
		"threatId=t1&includeCampaignForensics=maybe":  proofpointtest.TextForensicsInclude,
	} {
		v, _ := url.ParseQuery(q)
		if a := call(t, s, http.MethodGet, "/v2/forensics", v, ""); a.status != 400 || a.body != want {
			t.Errorf("%q = %d %q", q, a.status, a.body)
		}
	}
	if s.PoolUsed(proofpoint.PoolForensicsThreat) != 6 || s.PoolUsed(proofpoint.PoolForensicsCampaign) != 3 {
		t.Errorf("pools = %d/%d", s.PoolUsed(proofpoint.PoolForensicsThreat), s.PoolUsed(proofpoint.PoolForensicsCampaign))
	}
}

func TestCampaigns(t *testing.T) {
	s, _ := newFake(t)
	for i, id := range []string{"c1", "c2", "c3"} {
		s.AddCampaign(proofpoint.Campaign{ID: id, Name: "campaign " + id}, t0.Add(-time.Duration(3-i)*time.Hour))
	}
	s.AddCampaign(proofpoint.Campaign{ID: "old", Name: "old"}, t0.Add(-48*time.Hour))
	c := s.Client()
	ctx := context.Background()
	day := proofpoint.Interval{Start: t0.Add(-24 * time.Hour), End: t0}
	var ids []string
	for ref, err := range c.Campaigns.AllIDs(ctx, proofpoint.CampaignIDsOptions{Interval: day, Size: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ref.ID)
	}
	if !cmp.Equal(ids, []string{"c1", "c2", "c3"}) {
		t.Errorf("ids = %v", ids)
	}
	a := call(t, s, http.MethodGet, "/v2/campaign/ids", url.Values{"interval": {day.String()}, "size": {"1"}, "page": {"2"}}, "")
	if a.body != `{"campaigns":[{"id":"c2","lastUpdatedAt":"2024-05-14T10:00:00.000Z"}]}` {
		t.Errorf("page 2 = %s", a.body)
	}
	empty := proofpoint.Interval{Start: t0.Add(-30 * time.Minute), End: t0}
	if a := call(t, s, http.MethodGet, "/v2/campaign/ids", url.Values{"interval": {empty.String()}}, ""); a.status != 404 {
		t.Errorf("empty interval = %d", a.status)
	}
	page, err := c.Campaigns.ListIDs(ctx, proofpoint.CampaignIDsOptions{Interval: empty})
	if err != nil || len(page.Campaigns) != 0 {
		t.Errorf("client on empty = %+v, %v", page, err)
	}
	for _, q := range []url.Values{
		{"interval": {"PT25H/2024-05-14T12:00:00Z"}},
		{"interval": {"PT10S/2024-05-14T12:00:00Z"}},
		{},
	} {
		if a := call(t, s, http.MethodGet, "/v2/campaign/ids", q, ""); a.status != 400 || a.body != proofpointtest.TextCampaignInterval {
			t.Errorf("%v = %d %s", q, a.status, a.body)
		}
	}
	for _, q := range []url.Values{{"size": {"0"}}, {"size": {"201"}}, {"page": {"0"}}, {"page": {"x"}}} {
		q.Set("interval", day.String())
		if a := call(t, s, http.MethodGet, "/v2/campaign/ids", q, ""); a.status != 400 || a.body != proofpointtest.TextPaging {
			t.Errorf("%v = %d %s", q, a.status, a.body)
		}
	}
	got, err := c.Campaigns.Get(ctx, "c2")
	if err != nil || got.Name != "campaign c2" || got.CampaignMembers == nil {
		t.Errorf("get = %+v, %v", got, err)
	}
	if _, err := c.Campaigns.Get(ctx, "zz"); !errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown = %v", err)
	}
	s.AddCampaign(proofpoint.Campaign{ID: "c2", Name: "renamed"}, t0.Add(-time.Hour))
	if got, _ := c.Campaigns.Get(ctx, "c2"); got.Name != "renamed" {
		t.Errorf("replaced campaign = %+v", got)
	}
}

func TestPeople(t *testing.T) {
	s, _ := newFake(t, proofpointtest.WithVAPThreshold(900))
	for i, idx := range []int64{100, 900, 500} {
		s.AddVAPUser(proofpoint.VAPUser{Identity: proofpoint.Identity{GUID: string(rune('a' + i)), Emails: []string{"u@x.zz"}},
			ThreatStatistics: proofpoint.ThreatStatistics{AttackIndex: idx}})
		s.AddTopClicker(proofpoint.TopClicker{Identity: proofpoint.Identity{GUID: string(rune('a' + i))},
			ClickStatistics: proofpoint.ClickStatistics{ClickCount: idx / 100}})
	}
	c := s.Client()
	ctx := context.Background()
	page, err := c.People.ListVAP(ctx, proofpoint.PeopleOptions{Window: 14, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Users[0].Identity.GUID != "b" || page.Users[1].Identity.GUID != "c" || page.TotalVAPUsers != 3 || page.NextPage != 2 ||
		page.AverageAttackIndex != 500 || page.VAPAttackIndexThreshold != 900 || page.Interval != "2024-04-30T12:00:00Z/2024-05-14T12:00:00Z" {
		t.Errorf("vap page = %+v", page)
	}
	var clickers []string
	for u, err := range c.People.AllTopClickers(ctx, proofpoint.PeopleOptions{Window: 90, Size: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		clickers = append(clickers, u.Identity.GUID)
	}
	if !cmp.Equal(clickers, []string{"b", "c", "a"}) {
		t.Errorf("clickers = %v", clickers)
	}
	if a := call(t, s, http.MethodGet, "/v2/people/vap", url.Values{"window": {"7"}}, ""); a.status != 400 || a.body != proofpointtest.TextWindow {
		t.Errorf("window 7 = %d %s", a.status, a.body)
	}
	if a := call(t, s, http.MethodGet, "/v2/people/top-clickers", url.Values{"window": {"30"}, "size": {"500"}}, ""); a.status != 400 {
		t.Errorf("size 500 = %d", a.status)
	}
}

func TestURLDecodeAndSummary(t *testing.T) {
	s, _ := newFake(t)
	s.AddDecodedURL("https://urldefense.com/v3/__https://seeded.example__;!!abc$", "https://seeded.example/override")
	s.AddThreatSummary(proofpoint.ThreatSummary{ID: "t1", Name: "Invoice.docm", Type: "attachment", Category: "malware", SeverityScore: 800})
	c := s.Client()
	ctx := context.Background()
	in := []string{
		"https://urldefense.proofpoint.com/v2/url?u=http-3A__links.mkt3337.com_ctt-3Fkn-3D3&d=DwMFaQ&c=x&r=y&m=z&s=w&e=",
		"https://urldefense.com/v3/__https://example.com/a*b__;Lg!!AbCd$",
		"https://urldefense.com/v3/__https://seeded.example__;!!abc$",
		"https://not-rewritten.example/",
	}
	got, err := c.URLs.Decode(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []proofpoint.DecodedURL{
		{EncodedURL: in[0], DecodedURL: "http://links.mkt3337.com/ctt?kn=3", Success: true},
		{EncodedURL: in[1], DecodedURL: "https://example.com/a.b", Success: true},
		{EncodedURL: in[2], DecodedURL: "https://seeded.example/override", Success: true},
		{EncodedURL: in[3], Success: false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	for _, body := range []string{`{"urls":[]}`, `not json`, `{"x":1}`} {
		if a := call(t, s, http.MethodPost, "/v2/url/decode", nil, body); a.status != 400 || a.body != proofpointtest.TextDecodeBody {
			t.Errorf("%s = %d %s", body, a.status, a.body)
		}
	}
	sum, err := c.Threats.GetSummary(ctx, "t1")
	if err != nil || sum.SeverityScore != 800 || sum.Name != "Invoice.docm" {
		t.Errorf("summary = %+v, %v", sum, err)
	}
	if _, err := c.Threats.GetSummary(ctx, "t2"); !errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown summary = %v", err)
	}
	reqs := s.Requests()
	first := reqs[0]
	if first.Method != http.MethodPost || first.Path != "/v2/url/decode" || !strings.Contains(string(first.Body), "a*b__;Lg") {
		t.Errorf("recorded = %+v", first)
	}
}

func TestDecodeURLDefense(t *testing.T) {
	tests := map[string]string{
		"https://urldefense.proofpoint.com/v1/url?u=http://www.bouncycastle.org/&amp;k=oIvRg1%2BdGAgOoM1BIlLLqw%3D%3D%0A": "http://www.bouncycastle.org/",
		"https://urldefense.proofpoint.com/v2/url?u=https-3A__example.com_path-3Fq-3D1&d=x":                               "https://example.com/path?q=1",
		// "**B" is a run of three replaced characters: "%20" from base64 "JTIw".
		"https://urldefense.com/v3/__https://example.com/a**Bb__;JTIw!!x$": "https://example.com/a%20b",
		"https://urldefense.com/v3/__https://example.com/plain__!!x$":      "https://example.com/plain",
	}
	for in, want := range tests {
		got, err := proofpointtest.DecodeURLDefense(in)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"https://example.com", "https://urldefense.com/v3/__https://a*b__;!!x$", "https://urldefense.proofpoint.com/v2/url?d=x",
		"https://urldefense.com/v3/__https://a**?__;Lg!!x", "https://urldefense.com/v3/no-underscores"} {
		if got, err := proofpointtest.DecodeURLDefense(bad); err == nil {
			t.Errorf("%s decoded to %q, want an error", bad, got)
		}
	}
}

func TestTLSAndFaults(t *testing.T) {
	s, _ := newFake(t, proofpointtest.WithTLS())
	s.AddThreatSummary(proofpoint.ThreatSummary{ID: "t1", Name: "x"})
	if !strings.HasPrefix(s.URL(), "https://") || len(s.CACertPEM()) == 0 {
		t.Fatalf("URL %s, CA %d bytes", s.URL(), len(s.CACertPEM()))
	}
	direct, err := proofpoint.New(s.URL(), s.Principal(), s.Secret(), proofpoint.WithCACertPEM(s.CACertPEM()),
		proofpoint.WithRetry(proofpoint.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := direct.Threats.GetSummary(ctx, "t1"); err != nil {
		t.Fatalf("TLS with the fake's CA: %v", err)
	}
	s.InjectFault(proofpointtest.Fault{Path: "/v2/threat/", Status: 502, Times: 1})
	c := s.Client()
	if _, err := c.Threats.GetSummary(ctx, "t1"); err != nil {
		t.Errorf("502 then success: %v", err)
	}
	s.InjectFault(proofpointtest.Fault{Path: "/v2/threat/", Malformed: true, Times: 1})
	if _, err := c.Threats.GetSummary(ctx, "t1"); !errors.Is(err, proofpoint.ErrMalformedResponse) {
		t.Errorf("malformed err = %v", err)
	}
	s.InjectFault(proofpointtest.Fault{Path: "/v2/threat/", Latency: 200 * time.Millisecond})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Threats.GetSummary(short, "t1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("latency err = %v", err)
	}
	s.ClearFaults()
	s.ResetRequests()
	if _, err := c.Threats.GetSummary(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if n := s.CountRequests(http.MethodGet, "/v2/threat/summary/"); n != 1 {
		t.Errorf("requests after reset = %d", n)
	}
	if got := s.Handler(); got == nil {
		t.Error("nil handler")
	}
}

func TestLookBackOptionAndClientTLSOptions(t *testing.T) {
	s, _ := newFake(t, proofpointtest.WithLookBack(12*time.Hour), proofpointtest.WithTLS())
	if !s.Now().Equal(t0) {
		t.Errorf("Now = %v", s.Now())
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/siem/all?interval=2024-05-13T23:00:00Z/2024-05-13T23:30:00Z", nil)
	req.SetBasicAuth(s.Principal(), s.Secret())
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(body) != proofpointtest.TextStartTooOld(0.5) {
		t.Errorf("12 h look-back = %d %q", resp.StatusCode, body)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	ctx := context.Background()
	for name, opt := range map[string]proofpoint.Option{
		"insecure":   proofpoint.WithInsecureSkipVerify(),
		"TLS config": proofpoint.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
	} {
		c, err := proofpoint.New(s.URL(), s.Principal(), s.Secret(), opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Threats.GetSummary(ctx, "none"); !errors.Is(err, proofpoint.ErrNotFound) {
			t.Errorf("%s: err = %v, want the fake's 404", name, err)
		}
	}
	plain, err := proofpoint.New(s.URL(), s.Principal(), s.Secret(), proofpoint.WithRetry(proofpoint.RetryPolicy{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Threats.GetSummary(ctx, "none"); err == nil || errors.Is(err, proofpoint.ErrNotFound) {
		t.Errorf("unknown CA accepted: %v", err)
	}
}
