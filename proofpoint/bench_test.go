package proofpoint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
)

// windowBody is a messages/delivered answer with n realistic messages.
func windowBody(b *testing.B, n int) []byte {
	b.Helper()
	msgs := make([]proofpoint.Message, n)
	for i := range msgs {
		at := testNow.Add(-time.Hour + time.Duration(i)*time.Second)
		sha := fmt.Sprintf("%064x", i)
		msgs[i] = proofpoint.Message{
			GUID: fmt.Sprintf("fA8S1YIRh2taWGdoS02QyNcc%08d", i), ID: fmt.Sprintf("9de5069c-5afe-602b-2ea0-%012d", i), QID: "381f1q3k77-1",
			MessageID: fmt.Sprintf("<%d.1A2B@evil.zz>", i), MessageTime: proofpoint.Time{Time: at},
			Sender: "e99d7ed5580193f36a51f597bc2c0210@evil.zz", SenderIP: "192.0.2.255",
			Recipient: proofpoint.Addresses{"clark.kent@pharmtech.zz"}, ToAddresses: proofpoint.Addresses{"clark.kent@pharmtech.zz"},
			FromAddress: proofpoint.Addresses{"billing@evil.zz"}, HeaderFrom: `"Billing" <billing@evil.zz>`, Subject: "Invoice 4821",
			MessageSize: 184233, SpamScore: 4, PhishScore: 46, MalwareScore: 100, Cluster: "pharmtech_hosted",
			CompletelyRewritten: proofpoint.RewrittenTrue, ModulesRun: []string{"av", "spam", "pdr", "sandbox", "urldefense"},
			PolicyRoutes: []string{"default_inbound"},
			MessageParts: []proofpoint.MessagePart{
				{Disposition: "inline", Filename: "text.html", ContentType: "text/html", OContentType: "text/html", MD5: sha[:32], SHA256: sha},
				{Disposition: "attached", Filename: "Invoice_4821.docm", ContentType: "application/vnd.ms-word.document.macroEnabled.12",
					OContentType: "application/octet-stream", MD5: sha[32:], SHA256: sha, SandboxStatus: "threat"},
			},
			ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatID: sha, Threat: sha, ThreatType: "attachment", Classification: "malware",
				ThreatStatus: "active", ThreatTime: proofpoint.Time{Time: at}, ThreatURL: "https://threatinsight.proofpoint.com/e65934ff/threat/email/" + sha}},
		}
	}
	body, err := json.Marshal(proofpoint.Events{QueryEndTime: proofpoint.Time{Time: testNow.Add(-time.Minute)}, MessagesDelivered: msgs})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// One busy hour (5,000 delivered messages) fetched and decoded.
func BenchmarkMessagesDelivered5000(b *testing.B) {
	body := windowBody(b, 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	tr := proofpoint.NewPoolTracker(func() time.Time { return testNow })
	tr.SetLimit(proofpoint.PoolSIEM, 1<<30, 0)
	c, err := proofpoint.New(srv.URL, testPrincipal, testSecret, proofpoint.WithClock(func() time.Time { return testNow }), proofpoint.WithPoolTracker(tr))
	if err != nil {
		b.Fatal(err)
	}
	q := proofpoint.SIEMOptions{Interval: hourBefore(time.Minute)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := c.SIEM.MessagesDelivered(context.Background(), q)
		if err != nil || len(ev.MessagesDelivered) != 5000 {
			b.Fatalf("%v, %d", err, len(ev.MessagesDelivered))
		}
	}
}

// Deduplicating a 5,000-message window against a Seen set that already
// holds the previous window.
func BenchmarkPollDedupe5000(b *testing.B) {
	body := windowBody(b, 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	tr := proofpoint.NewPoolTracker(func() time.Time { return testNow })
	tr.SetLimit(proofpoint.PoolSIEM, 1<<30, 0)
	c, err := proofpoint.New(srv.URL, testPrincipal, testSecret, proofpoint.WithClock(func() time.Time { return testNow }), proofpoint.WithPoolTracker(tr))
	if err != nil {
		b.Fatal(err)
	}
	seen := proofpoint.NewSeen()
	q := proofpoint.SIEMRangeOptions{Streams: []proofpoint.Stream{proofpoint.StreamMessagesDelivered}, From: testNow.Add(-61 * time.Minute), Seen: seen}
	b.ReportAllocs()
	for b.Loop() {
		for batch, err := range c.SIEM.All(context.Background(), q) {
			if err != nil {
				b.Fatal(err)
			}
			_ = batch.Len()
		}
	}
	if seen.Len() != 5000 {
		b.Fatalf("seen = %d", seen.Len())
	}
}

// Counting a request in a pool holding a full day of SIEM traffic.
func BenchmarkPoolAcquire(b *testing.B) {
	now := testNow
	tr := proofpoint.NewPoolTracker(func() time.Time { return now })
	tr.SetLimit(proofpoint.PoolSIEM, 1<<30, 0)
	for i := range 1800 {
		tr.Record(proofpoint.PoolSIEM, now.Add(-24*time.Hour+time.Duration(i)*48*time.Second))
	}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(48 * time.Second) // one ages out as one is added
		if err := tr.Acquire(proofpoint.PoolSIEM, false); err != nil {
			b.Fatal(err)
		}
	}
}
