package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
)

func TestHashKeys(t *testing.T) {
	h := connectortest.HashesOf([]byte("x"))
	for _, c := range []struct {
		in   connector.Hashes
		want string
	}{
		{connector.Hashes{SHA256: strings.ToUpper(h.SHA256), SHA1: h.SHA1, MD5: h.MD5}, "sha256:" + h.SHA256},
		{connector.Hashes{SHA1: " " + h.SHA1 + " ", MD5: h.MD5}, "sha1:" + h.SHA1},
		{connector.Hashes{MD5: h.MD5}, "md5:" + h.MD5},
	} {
		k, err := c.in.Key()
		if err != nil || k.String() != c.want {
			t.Errorf("%+v.Key() = %s, %v; want %s", c.in, k, err, c.want)
		}
		back, err := connector.ParseKey(k.String())
		if err != nil || back != k {
			t.Errorf("ParseKey(%s) = %v, %v", k, back, err)
		}
	}
	for _, bad := range []connector.Hashes{{}, {SHA256: "abc"}, {SHA1: strings.Repeat("z", 40)}, {MD5: h.SHA1}} {
		if k, err := bad.Key(); err == nil {
			t.Errorf("%+v.Key() = %s; want an error", bad, k)
		}
	}
	for _, bad := range []string{"", "sha256", "crc32:abcd", "md5:" + h.SHA1} {
		if _, err := connector.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	var k connector.Key
	if err := json.Unmarshal([]byte(`"sha1:`+h.SHA1+`"`), &k); err != nil || k.Kind != connector.SHA1 {
		t.Errorf("Key from JSON = %v, %v", k, err)
	}
}

func TestSightingKeys(t *testing.T) {
	a := connector.Sighting{Source: "cbc", DeviceID: "1", DeviceName: "WS-1", ProcessGUID: "g", PID: 5,
		Time: time.Now(), Attributes: map[string]string{"x": "y"}}
	b := a
	b.DeviceName, b.Time, b.Attributes = "renamed", time.Time{}, nil
	if a.Key() != b.Key() {
		t.Errorf("names, times and attributes must not change a sighting's identity: %q vs %q", a.Key(), b.Key())
	}
	c := a
	c.PID = 6
	if a.Key() == c.Key() {
		t.Errorf("another pid is another sighting")
	}
	d := a
	d.Source = "s1"
	if a.Key() == d.Key() {
		t.Errorf("another source is another sighting")
	}
	withID := connector.Sighting{Source: "s1", ID: "threat-1", AgentID: "a"}
	if withID.Key() != "s1#threat-1" {
		t.Errorf("Key with ID = %q", withID.Key())
	}
	for _, c := range []struct {
		s    connector.Sighting
		want string
	}{
		{connector.Sighting{DeviceID: "1", AgentID: "2"}, "device:1"}, {connector.Sighting{AgentID: "2", DeviceName: "h"}, "agent:2"},
		{connector.Sighting{DeviceName: "h"}, "host:h"}, {connector.Sighting{MessageID: "m"}, ""},
	} {
		if got := c.s.DeviceKey(); got != c.want {
			t.Errorf("DeviceKey(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestKinds(t *testing.T) {
	for in, want := range map[string]connector.Kind{"Malicious": connector.Malicious, "suspicious": connector.Suspicious,
		"clean": connector.Clean, "n/a": connector.Unknown, "": connector.Unknown} {
		if got, err := connector.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := connector.ParseKind("evil"); err == nil {
		t.Errorf("ParseKind accepted an unknown kind")
	}
	set, err := connector.ParseKinds("malicious", "suspicious")
	if err != nil || !set.Has(connector.Malicious) || set.Has(connector.Clean) || set.String() != "suspicious,malicious" {
		t.Errorf("ParseKinds = %v (%s), %v", set, set, err)
	}
	if connector.KindSet(0).Has(connector.Unknown) || connector.Kinds(connector.Unknown).Has(connector.Kind(9)) {
		t.Errorf("empty set or out-of-range kind matched")
	}
	b, _ := json.Marshal(connector.Verdict{Kind: connector.Suspicious})
	if !strings.Contains(string(b), `"kind":"suspicious"`) {
		t.Errorf("verdict JSON = %s", b)
	}
	v := connector.Verdict{IOCs: []connector.IOC{{Type: connector.IOCIP, Value: "1.2.3.4"}, {Type: connector.IOCDomain, Value: "x"},
		{Type: connector.IOCIP, Value: "1.2.3.4"}, {Type: connector.IOCIP, Value: "2001:db8::1"}}}
	if got := v.IOCsOf(connector.IOCIP); fmt.Sprint(got) != "[1.2.3.4 2001:db8::1]" {
		t.Errorf("IOCsOf = %v", got)
	}
}

func TestControlErrors(t *testing.T) {
	base := errors.New("HTTP 404")
	p := connector.Permanent(base)
	if !connector.IsPermanent(p) || !errors.Is(p, base) || p.Error() != "HTTP 404" {
		t.Errorf("Permanent: %v", p)
	}
	if connector.Permanent(nil) != nil {
		t.Errorf("Permanent(nil) != nil")
	}
	r := fmt.Errorf("vmray: %w", connector.RetryLater(base, 3*time.Second))
	if d, ok := connector.RetryAfter(r); !ok || d != 3*time.Second || !errors.Is(r, connector.ErrRetryLater) || !errors.Is(r, base) {
		t.Errorf("RetryAfter = %v, %v", d, ok)
	}
	if _, ok := connector.RetryAfter(base); ok {
		t.Errorf("plain error asks for a retry later")
	}
	if d, ok := connector.RetryAfter(connector.Permanent(connector.RetryLater(nil, time.Second))); !ok || d != time.Second {
		t.Errorf("nested RetryAfter = %v, %v", d, ok)
	}
	pe := &connector.PanicError{Component: "note", Stage: connector.StageRespond, Value: "boom"}
	if !connector.IsPermanent(pe) || !strings.Contains(pe.Error(), "panic in respond note: boom") {
		t.Errorf("PanicError: %v", pe)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := connector.Backoff{Attempts: 5, Initial: 100 * time.Millisecond, Max: time.Second}
	for retry, nominal := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 5: time.Second, 30: time.Second} {
		for range 20 {
			if d := b.Delay(retry); d < nominal/2 || d > nominal {
				t.Errorf("Delay(%d) = %s, want within [%s, %s]", retry, d, nominal/2, nominal)
			}
		}
	}
}

type countingResponder struct {
	*connectortest.Responder
	errs []error
	n    int
}

func (c *countingResponder) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	c.n++
	if c.n <= len(c.errs) {
		return connector.Result{}, c.errs[c.n-1]
	}
	return c.Responder.Respond(ctx, f)
}

func TestMiddleware(t *testing.T) {
	f := tapFinding()
	inner := connectortest.NewResponder("ban", connector.ScopeEvidence)

	g := connector.Gate(inner, connector.Kinds(connector.Suspicious))
	if g.Name() != "ban" || g.Scope() != connector.ScopeEvidence {
		t.Errorf("Gate hides name or scope: %q %v", g.Name(), g.Scope())
	}
	if res, err := g.Respond(context.Background(), f); err != nil || res.Status != connector.Skipped || inner.Calls() != 0 {
		t.Errorf("Gate let a malicious finding through a suspicious-only gate: %+v %v", res, err)
	}
	f2 := f
	f2.Verdict.Kind = connector.Suspicious
	if res, _ := g.Respond(context.Background(), f2); res.Status != connector.Acted || inner.Calls() != 1 {
		t.Errorf("Gate blocked a selected verdict: %+v", res)
	}

	var logged strings.Builder
	d := connector.DryRun(inner, slog.New(slog.NewTextHandler(&logged, nil)))
	if res, _ := d.Respond(context.Background(), f); res.Status != connector.Skipped || inner.Calls() != 1 ||
		!strings.Contains(logged.String(), "would respond") || !strings.Contains(logged.String(), "responder=ban") {
		t.Errorf("DryRun: %+v, log %q", res, logged.String())
	}

	c := &countingResponder{Responder: inner, errs: []error{errors.New("503"), connector.RetryLater(nil, time.Millisecond)}}
	r := connector.Retry(c, connector.Backoff{Attempts: 3, Initial: time.Millisecond})
	if res, err := r.Respond(context.Background(), f); err != nil || res.Status != connector.Acted || c.n != 3 {
		t.Errorf("Retry: %+v %v after %d calls", res, err, c.n)
	}
	c = &countingResponder{Responder: inner, errs: []error{connector.Permanent(errors.New("400"))}}
	if _, err := connector.Retry(c, connector.Backoff{Attempts: 3}).Respond(context.Background(), f); !connector.IsPermanent(err) || c.n != 1 {
		t.Errorf("Retry retried a permanent error: %v after %d calls", err, c.n)
	}
	c = &countingResponder{Responder: inner, errs: []error{errors.New("a"), errors.New("b"), errors.New("c")}}
	if _, err := connector.Retry(c, connector.Backoff{Attempts: 2, Initial: time.Millisecond}).Respond(context.Background(), f); err == nil || c.n != 2 {
		t.Errorf("Retry: %v after %d calls; want the last error after 2", err, c.n)
	}

	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	rl := connector.RateLimit(inner, lim)
	if _, err := rl.Respond(context.Background(), f2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := rl.Respond(ctx, f2); err == nil {
		t.Errorf("RateLimit let a second call through within the hour")
	}
}

func TestLimitSubmissionsKeepsTicketFinder(t *testing.T) {
	a := connectortest.NewAnalyzer("sandbox")
	l := connector.LimitSubmissions(a, rate.NewLimiter(rate.Every(time.Hour), 1))
	if _, ok := l.(connector.TicketFinder); !ok {
		t.Errorf("LimitSubmissions hid TicketFinder")
	}
	if l.Name() != "sandbox" {
		t.Errorf("name %q", l.Name())
	}
	pt := connector.LimitSubmissions(connector.PassThrough("tap"), rate.NewLimiter(1, 1))
	if _, ok := pt.(connector.TicketFinder); ok {
		t.Errorf("LimitSubmissions invented a TicketFinder")
	}
	ev := connector.Evidence{Hashes: connectortest.HashesOf([]byte("a"))}
	if _, err := l.Submit(context.Background(), ev, connector.Sample{Body: nopBody("a")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Submit(ctx, ev, connector.Sample{Body: nopBody("a")}); err == nil {
		t.Errorf("second submission within the hour was not held back")
	}
	if n := len(a.Submissions()); n != 1 {
		t.Errorf("%d submissions reached the analyzer", n)
	}
}

func TestPassThroughNeverSubmits(t *testing.T) {
	pt := connector.PassThrough("tap")
	v, found, err := pt.Lookup(context.Background(), connector.Evidence{})
	if err != nil || !found || v.Kind != connector.Unknown || v.Analyzer != "tap" {
		t.Errorf("Lookup without a source verdict = %+v, %v, %v", v, found, err)
	}
	if _, err := pt.Submit(context.Background(), connector.Evidence{}, connector.Sample{}); !errors.Is(err, connector.ErrNoAnalysis) || !connector.IsPermanent(err) {
		t.Errorf("Submit = %v", err)
	}
	if _, err := pt.Await(context.Background(), connector.Ticket{}); !connector.IsPermanent(err) {
		t.Errorf("Await = %v", err)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func nopBody(s string) nopCloser { return nopCloser{strings.NewReader(s)} }
