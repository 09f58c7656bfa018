package connectortest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// SourceHarness tells TestSource how to build the source under test.
type SourceHarness struct {
	// New returns the source under test, wired to a (fake) vendor that holds at least one file of interest. When
	// the source is a connector.Fetcher, the vendor must be able to deliver the first evidence's file.
	New func(t *testing.T) connector.Source
	// MaxBatches bounds the batches a drain from a nil checkpoint may take (default 1000): a source that keeps
	// asking for more without getting anywhere fails.
	MaxBatches int
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
}

// TestSource is the conformance suite for connector.Source (and connector.Fetcher) implementations: a stable name;
// valid evidence (a usable hash, sightings of its own source); checkpoints that make progress and resume; prompt
// return on an ended context; for fetchers, a sample that streams the evidence's own bytes and a permanent error
// for a file the vendor does not hold.
func TestSource(t *testing.T, h SourceHarness) {
	t.Helper()
	if h.MaxBatches <= 0 {
		h.MaxBatches = 1000
	}
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	t.Run("NameIsStable", func(t *testing.T) { checkSourceName(t, h.New(t)) })
	t.Run("DrainAndResume", func(t *testing.T) { checkSourceDrain(t, h.New(t), h) })
	t.Run("EndedContext", func(t *testing.T) { checkSourceEndedContext(t, h.New(t)) })
	t.Run("Fetch", func(t *testing.T) { checkSourceFetch(t, h.New(t), h) })
	t.Run("FetchUnknownFileIsPermanent", func(t *testing.T) { checkSourceFetchUnknown(t, h.New(t), h) })
}

func (h SourceHarness) call(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, h.Timeout)
}

func checkSourceName(t testing.TB, s connector.Source) {
	if first, again := s.Name(), s.Name(); first == "" || first != again {
		t.Errorf("Name() = %q then %q; want a stable, non-empty name", first, again)
	}
}

func checkSourceDrain(t testing.TB, s connector.Source, h SourceHarness) {
	all, last := drain(t, s, nil, h)
	if len(all) == 0 {
		t.Fatalf("a drain from a nil checkpoint delivered no evidence; the harness must seed the vendor")
	}
	for i, ev := range all {
		checkEvidence(t, s.Name(), i, ev)
	}
	// Resuming from the last checkpoint works and does not loop.
	drain(t, s, last, h)
}

func checkSourceEndedContext(t testing.TB, s connector.Source) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Collect panicked on an ended context: %v", r)
			}
		}()
		s.Collect(ctx, nil)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("Collect did not return within 5 s of its context ending")
	}
}

// firstEvidence returns s as a Fetcher and the first evidence it collects; it skips when s is not a Fetcher.
func firstEvidence(t testing.TB, s connector.Source, h SourceHarness) (connector.Fetcher, connector.Evidence) {
	f, ok := s.(connector.Fetcher)
	if !ok {
		t.Skip("not a Fetcher")
	}
	all, _ := drain(t, s, nil, h)
	if len(all) == 0 {
		t.Fatal("no evidence to fetch")
	}
	return f, all[0]
}

func checkSourceFetch(t testing.TB, s connector.Source, h SourceHarness) {
	f, ev := firstEvidence(t, s, h)
	ctx, cancel := h.call(context.Background())
	defer cancel()
	sample, err := f.Fetch(ctx, ev)
	if err != nil {
		t.Fatalf("Fetch(first evidence): %v", err)
	}
	if sample.Body == nil {
		t.Fatalf("Fetch returned a sample without a body")
	}
	content, err := io.ReadAll(sample.Body)
	if cerr := sample.Body.Close(); cerr != nil {
		t.Errorf("closing the sample: %v", cerr)
	}
	if err != nil {
		t.Fatalf("reading the sample: %v", err)
	}
	if sample.Size > 0 && int64(len(content)) != sample.Size {
		t.Errorf("sample delivered %d bytes, Size says %d", len(content), sample.Size)
	}
	got := HashesOf(content)
	if !sample.Truncated {
		for _, kind := range []connector.HashKind{connector.SHA256, connector.SHA1, connector.MD5} {
			if want := ev.Hashes.Get(kind); want != "" && !equalHex(want, got.Get(kind)) {
				t.Errorf("sample %s is %s, the evidence says %s (a source must verify what it delivers)", kind, got.Get(kind), want)
			}
		}
	}
	for _, kind := range []connector.HashKind{connector.SHA256, connector.SHA1, connector.MD5} {
		if claim := sample.Hashes.Get(kind); claim != "" && !equalHex(claim, got.Get(kind)) {
			t.Errorf("Sample.Hashes claims %s %s, the bytes are %s", kind, claim, got.Get(kind))
		}
	}
}

func checkSourceFetchUnknown(t testing.TB, s connector.Source, h SourceHarness) {
	f, ev := firstEvidence(t, s, h)
	ev.Hashes = randomHashes()
	ctx, cancel := h.call(context.Background())
	defer cancel()
	sample, err := f.Fetch(ctx, ev)
	if err == nil {
		sample.Body.Close()
		t.Fatalf("Fetch of a file the vendor does not hold succeeded")
	}
	if !connector.IsPermanent(err) {
		t.Errorf("Fetch of an unknown file = %v; want a Permanent error so the engine tries another source", err)
	}
}

func equalHex(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func randomHashes() connector.Hashes {
	b := make([]byte, 64)
	rand.Read(b)
	return HashesOf(b)
}

// drain collects from cp until the source is caught up and returns the evidence and the last checkpoint.
func drain(t testing.TB, s connector.Source, cp connector.Checkpoint, h SourceHarness) ([]connector.Evidence, connector.Checkpoint) {
	t.Helper()
	var all []connector.Evidence
	for i := 0; ; i++ {
		if i >= h.MaxBatches {
			t.Fatalf("source still asks for more after %d batches (a cursor that does not advance?)", h.MaxBatches)
		}
		ctx, cancel := h.call(context.Background())
		b, err := s.Collect(ctx, cp)
		cancel()
		if errors.Is(err, connector.ErrEndOfInput) {
			return all, cp
		}
		if err != nil {
			t.Fatalf("Collect (batch %d): %v", i, err)
		}
		all = append(all, b.Evidence...)
		if b.More && (b.Next == nil || bytes.Equal(b.Next, cp)) {
			t.Fatalf("batch %d asks for more without a new checkpoint (%q)", i, b.Next)
		}
		if b.Next != nil {
			cp = b.Next
		}
		if !b.More {
			return all, cp
		}
	}
}

func checkEvidence(t testing.TB, source string, i int, ev connector.Evidence) {
	t.Helper()
	if _, err := ev.Hashes.Key(); err != nil {
		t.Errorf("evidence %d: %v", i, err)
	}
	if ev.Source != "" && ev.Source != source {
		t.Errorf("evidence %d: Source %q, want %q or empty", i, ev.Source, source)
	}
	if ev.Size < 0 {
		t.Errorf("evidence %d: negative size", i)
	}
	if ev.SourceVerdict != nil && ev.SourceVerdict.Kind > connector.Malicious {
		t.Errorf("evidence %d: source verdict kind out of range", i)
	}
	for j, s := range ev.Sightings {
		if s.Source != "" && s.Source != source {
			t.Errorf("evidence %d sighting %d: Source %q, want %q or empty", i, j, s.Source, source)
		}
		if s.ID == "" && s.DeviceID == "" && s.AgentID == "" && s.ThreatID == "" && s.ProcessGUID == "" &&
			s.MessageID == "" && s.FilePath == "" && s.Recipient == "" {
			t.Errorf("evidence %d sighting %d has no identifying field: every sighting would look the same", i, j)
		}
	}
}

// ResponderHarness tells TestResponder how to build and observe the responder under test.
type ResponderHarness struct {
	// New returns the responder under test, wired to a (fake) vendor.
	New func(t *testing.T) connector.Responder
	// Finding returns a finding the responder acts on (with a sighting when its scope is not ScopeEvidence).
	Finding func(t testing.TB) connector.Finding
	// Effects reports the number of changes the vendor has seen so far (notes written, reports created, devices
	// isolated). Nil skips the checks that need it.
	Effects func(t testing.TB) int
	// Repeatable marks responders that cannot see earlier deliveries (webhooks, commands): a second call acts again
	// and receivers deduplicate. Others must report Unchanged on a repeat.
	Repeatable bool
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
}

// TestResponder is the conformance suite for connector.Responder implementations: a stable name and scope; an action
// that reports what it did; idempotence (a repeat reports Unchanged and changes nothing); no effect on an ended
// context; and no panic on findings that lack the fields the responder needs (it skips or fails permanently).
func TestResponder(t *testing.T, h ResponderHarness) {
	t.Helper()
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	t.Run("NameAndScope", func(t *testing.T) { checkResponderName(t, h.New(t)) })
	t.Run("ActsIdempotently", func(t *testing.T) { checkResponderActs(t, h.New(t), h) })
	t.Run("EndedContext", func(t *testing.T) { checkResponderEndedContext(t, h.New(t), h) })
	t.Run("MissingFields", func(t *testing.T) { checkResponderMissingFields(t, h.New(t), h) })
}

func (h ResponderHarness) effects(t testing.TB) int {
	if h.Effects == nil {
		return 0
	}
	return h.Effects(t)
}

// respond calls r, turning a panic into a test failure.
func (h ResponderHarness) respond(t testing.TB, r connector.Responder, ctx context.Context, f connector.Finding) (res connector.Result, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Respond panicked: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	return r.Respond(ctx, f)
}

func checkResponderName(t testing.TB, r connector.Responder) {
	name, scope := r.Name(), r.Scope()
	if name == "" || name != r.Name() || scope != r.Scope() || scope > connector.ScopeDevice {
		t.Errorf("Name %q, Scope %v: want a stable non-empty name and a valid, constant scope", name, scope)
	}
}

func checkResponderActs(t testing.TB, r connector.Responder, h ResponderHarness) {
	f := h.Finding(t)
	before := h.effects(t)
	res, err := h.respond(t, r, context.Background(), f)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if res.Status != connector.Acted && res.Status != connector.Unchanged {
		t.Fatalf("Respond status %q, want acted or unchanged", res.Status)
	}
	if res.Detail == "" {
		t.Errorf("Respond reported no detail: say what was done")
	}
	first := h.effects(t)
	if h.Effects != nil && res.Status == connector.Acted && first <= before {
		t.Errorf("Respond reported Acted but the vendor saw no change")
	}
	res, err = h.respond(t, r, context.Background(), f)
	if err != nil {
		t.Fatalf("second Respond: %v", err)
	}
	if h.Repeatable {
		return
	}
	if res.Status != connector.Unchanged {
		t.Errorf("repeat Respond status %q, want unchanged (responders must be idempotent)", res.Status)
	}
	if h.Effects != nil && h.effects(t) != first {
		t.Errorf("repeat Respond changed the vendor again: %d changes, want %d", h.effects(t), first)
	}
}

func checkResponderEndedContext(t testing.TB, r connector.Responder, h ResponderHarness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := h.effects(t)
	if _, err := h.respond(t, r, ctx, h.Finding(t)); err == nil {
		t.Errorf("Respond on an ended context succeeded")
	}
	if h.effects(t) != before {
		t.Errorf("Respond on an ended context changed the vendor")
	}
}

func checkResponderMissingFields(t testing.TB, r connector.Responder, h ResponderHarness) {
	f := h.Finding(t)
	bare := connector.Finding{Key: f.Key, Evidence: connector.Evidence{Hashes: f.Evidence.Hashes}, Verdict: f.Verdict}
	if r.Scope() != connector.ScopeEvidence {
		bare.Sighting, bare.Target = &connector.Sighting{}, "empty"
	}
	before := h.effects(t)
	res, err := h.respond(t, r, context.Background(), bare)
	switch {
	case err != nil && !connector.IsPermanent(err):
		t.Errorf("a finding without the fields the responder needs gave a retryable error (%v); want Skipped or Permanent", err)
	case err == nil && res.Status != connector.Skipped && r.Scope() != connector.ScopeEvidence:
		t.Errorf("acted (%q: %s) on a sighting that names nothing", res.Status, res.Detail)
	}
	if r.Scope() != connector.ScopeEvidence && h.effects(t) != before {
		t.Errorf("a sighting that names nothing changed the vendor")
	}
}

// ExampleFinding returns a realistic malicious finding for responder tests: a file seen by Carbon Black on one
// device, with process and path, and a VMRay-like verdict with IOCs.
func ExampleFinding(scope connector.Scope) connector.Finding {
	content := []byte("MZ\x90\x00 example dropper")
	h := HashesOf(content)
	key, _ := h.Key()
	s := connector.Sighting{Source: "cbc", Time: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), DeviceID: "98765",
		DeviceName: "WS-0042", OS: "windows", ProcessGUID: "7DESJ9GN-00181b7a-00001c2c-00000000-1d9b0c6d0b3d6b5",
		PID: 7212, FilePath: `c:\users\alice\downloads\invoice.exe`}
	f := connector.Finding{
		Key: key,
		Evidence: connector.Evidence{Hashes: h, FileName: "invoice.exe", Size: int64(len(content)), Source: "cbc",
			FirstSeen: s.Time, LastSeen: s.Time, Sightings: []connector.Sighting{s}},
		Verdict: connector.Verdict{Kind: connector.Malicious, Score: 92, Severity: 9, Classifications: []string{"Downloader"},
			ThreatNames: []string{"Mal/Dropper-A"}, ReportURL: "https://eu.cloud.vmray.com/samples/4242", Analyzer: "vmray",
			IOCs: []connector.IOC{{Type: connector.IOCSHA256, Value: h.SHA256, Verdict: connector.Malicious},
				{Type: connector.IOCDomain, Value: "c2.example.net"}, {Type: connector.IOCIP, Value: "198.51.100.7"}}},
	}
	if scope == connector.ScopeSighting {
		f.Sighting, f.Target = &s, s.Key()
	}
	if scope == connector.ScopeDevice {
		f.Sighting, f.Target = &s, s.DeviceKey()
	}
	return f
}
