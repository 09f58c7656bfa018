package proofpointconn_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/proofpointconn"
	"github.com/soarkit/soarkit/proofpoint"
)

// pendingHunts decodes the hunts a checkpoint carries.
func pendingHunts(t *testing.T, cp connector.Checkpoint) []string {
	t.Helper()
	var c struct {
		Hunts []struct {
			Evidence connector.Evidence `json:"evidence"`
		} `json:"hunts"`
	}
	if err := json.Unmarshal(cp, &c); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range c.Hunts {
		out = append(out, h.Evidence.Hashes.SHA256)
	}
	return out
}

// A failing hunt neither fails Collect nor holds the window back: the
// checkpoint moves past the window and keeps the failed attachment, whose
// hunt is retried after the back-off; the other attachment is delivered at
// once, and each is delivered once, with its hunt's sightings.
func TestHuntFailureDelaysOnlyItsAttachment(t *testing.T) {
	srv, clk := newFake(t)
	srv.AddDeliveredMessage(message("g1", firstWindow.Start.Add(time.Minute), 85, []string{"a@example.com"},
		[]proofpoint.MessagePart{exePart, docPart}, attachmentThreat(exeSHA, "malware", "active"),
		attachmentThreat(docSHA, "malware", "active")), time.Time{})
	var mu sync.Mutex
	calls := map[string]int{}
	failures := map[string]int{docSHA: 2}
	src := newSource(t, srv, proofpointconn.Options{
		HuntRetry: connector.Backoff{Initial: time.Minute, Max: time.Minute},
		Enrich: func(_ context.Context, ev *connector.Evidence) error {
			mu.Lock()
			defer mu.Unlock()
			sha := ev.Hashes.SHA256
			calls[sha]++
			if failures[sha] > 0 {
				failures[sha]--
				return errors.New("process search: 503")
			}
			ev.Sightings = append(ev.Sightings, connector.Sighting{Source: "cbc-hunt", DeviceID: sha[:4], ProcessGUID: "guid-" + sha[:4]})
			return nil
		}})
	b, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatalf("Collect of the window = %v", err)
	}
	// The window's attachments are recorded before any is hunted.
	if len(b.Evidence) != 0 || b.Next == nil || !b.More || len(pendingHunts(t, b.Next)) != 2 || len(calls) != 0 {
		t.Fatalf("window batch = %d evidence, more %v, pending %v, calls %v; want both attachments recorded, none hunted yet",
			len(b.Evidence), b.More, pendingHunts(t, b.Next), calls)
	}
	b, err = src.Collect(context.Background(), b.Next)
	if err != nil {
		t.Fatalf("Collect with a failing hunt = %v, want the window", err)
	}
	// delivered returns the number of device and recipient sightings of the
	// file's evidence in b, or -1 when b does not hold it.
	delivered := func(b connector.Batch, sha string) (devices, recipients int) {
		for _, ev := range b.Evidence {
			if ev.Hashes.SHA256 != sha {
				continue
			}
			for _, s := range ev.Sightings {
				if s.DeviceID != "" {
					devices++
				}
				if s.Recipient != "" {
					recipients++
				}
			}
			return devices, recipients
		}
		return -1, -1
	}
	if d, r := delivered(b, exeSHA); len(b.Evidence) != 1 || d != 1 || r != 1 || b.Next == nil || b.More {
		t.Fatalf("first batch = %d evidence, exe with %d devices and %d recipients, more %v; want the exe alone, hunted",
			len(b.Evidence), d, r, b.More)
	}
	if !strings.Contains(string(b.Next), firstWindow.End.Format(time.RFC3339)) {
		t.Errorf("checkpoint %s does not move past the window", b.Next)
	}
	if got := pendingHunts(t, b.Next); len(got) != 1 || got[0] != docSHA {
		t.Fatalf("pending hunts = %v, want the doc's only", got)
	}
	cp := b.Next
	// Not due yet: nothing to do, nothing stored.
	if b, err := src.Collect(context.Background(), cp); err != nil || b.Next != nil || len(b.Evidence) != 0 {
		t.Fatalf("Collect before the back-off = %+v, %v", b, err)
	}
	for try := 2; try <= 3; try++ {
		clk.Advance(time.Minute)
		b, err = src.Collect(context.Background(), cp)
		if err != nil || b.Next == nil {
			t.Fatalf("retry %d: %+v, %v", try, b, err)
		}
		cp = b.Next
	}
	if d, r := delivered(b, docSHA); d != 1 || r != 1 || len(pendingHunts(t, cp)) != 0 || calls[docSHA] != 3 || calls[exeSHA] != 1 {
		t.Errorf("after the retries: doc with %d devices and %d recipients, pending %v, calls %v; want the doc hunted on its third try",
			d, r, pendingHunts(t, cp), calls)
	}
}

// A hunt that keeps failing is given up after HuntFor and the attachment
// delivered without it; while MaxPendingHunts is reached no window is read.
func TestHuntGivenUpAfterHuntFor(t *testing.T) {
	srv, clk := newFake(t)
	srv.AddDeliveredMessage(message("g1", firstWindow.Start.Add(time.Minute), 85, []string{"a@example.com"},
		[]proofpoint.MessagePart{exePart}, attachmentThreat(exeSHA, "malware", "active")), time.Time{})
	src := newSource(t, srv, proofpointconn.Options{
		HuntRetry: connector.Backoff{Initial: time.Minute, Max: time.Minute}, HuntFor: 3 * time.Minute, MaxPendingHunts: 1,
		Enrich: func(context.Context, *connector.Evidence) error { return connector.Permanent(errors.New("forbidden")) }})
	b, err := src.Collect(context.Background(), nil)
	if err != nil || len(pendingHunts(t, b.Next)) != 1 {
		t.Fatalf("first Collect = %+v, %v", b, err)
	}
	cp := b.Next
	polls := srv.CountRequests("", "/v2/siem/")
	for range 3 {
		clk.Advance(time.Minute)
		if b, err = src.Collect(context.Background(), cp); err != nil {
			t.Fatal(err)
		}
		if b.Next != nil {
			cp = b.Next
		}
	}
	if n := srv.CountRequests("", "/v2/siem/"); n != polls {
		t.Errorf("windows read with the pending hunts at their maximum: %d", n-polls)
	}
	if got := pendingHunts(t, cp); len(got) != 0 || len(b.Evidence) != 1 || b.Evidence[0].Hashes.SHA256 != exeSHA {
		t.Errorf("pending after HuntFor = %v, delivered %+v; want the hunt given up and the attachment delivered", got, b.Evidence)
	}
}

// flakyJobs fails a seeded fraction of Carbon Black search-job requests with
// a 503 or a connection reset.
type flakyJobs struct {
	base http.RoundTripper
	mu   sync.Mutex
	rnd  *rand.Rand
	rate float64
	hits int
}

func (f *flakyJobs) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/search_jobs") {
		f.mu.Lock()
		fail, reset := f.rnd.Float64() < f.rate, f.rnd.IntN(2) == 0
		if fail {
			f.hits++
		}
		f.mu.Unlock()
		if fail && r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		switch {
		case fail && reset:
			return nil, fmt.Errorf("flaky: %w", syscall.ECONNRESET)
		case fail:
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{}`)),
				Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
		}
	}
	return f.base.RoundTrip(r)
}

func testSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SOARKIT_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOARKIT_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (set SOARKIT_TEST_SEED to repeat)", seed)
	return seed
}

// tap-cbc under faults: with a third of Carbon Black's search-job calls
// failing, the first run moves the window past every attachment (those not
// hunted yet wait in the stored checkpoint), and later runs hunt every
// attachment: each file reported once, each device acted on once.
func TestHuntsUnderFaultsThroughTheEngine(t *testing.T) {
	const n = 24
	tap, tapClock := newFake(t)
	cbc := carbonblacktest.NewServer(t)
	flaky := &flakyJobs{base: http.DefaultTransport, rnd: rand.New(rand.NewPCG(testSeed(t), 13)), rate: 0.35}
	cli := cbc.Client(carbonblack.WithHTTPClient(&http.Client{Transport: flaky}),
		carbonblack.WithRetry(carbonblack.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	hunter, err := carbonblackconn.NewHunter(cli, carbonblackconn.HunterOptions{Source: "cbc-hunt"})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for i := range n {
		sum := sha256.Sum256(fmt.Appendf(nil, "attachment %d", i))
		sha := hex.EncodeToString(sum[:])
		hashes = append(hashes, sha)
		tap.AddDeliveredMessage(message(fmt.Sprintf("m%d", i), firstWindow.Start.Add(time.Duration(i)*time.Minute), 90,
			[]string{"a@example.com"}, []proofpoint.MessagePart{{Disposition: "attached", SHA256: sha, Filename: "f.exe"}},
			attachmentThreat(sha, "malware", "active")), time.Time{})
		dev := cbc.AddDevice(carbonblack.Device{Name: fmt.Sprintf("WS-%02d", i), OS: "WINDOWS"})
		cbc.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(dev.ID), ProcessHash: []string{sha}, ProcessSHA256: sha,
			ProcessGUID: fmt.Sprintf("7DESJ9GN-%04d", i), ProcessName: `c:\users\a\f.exe`, ProcessPID: carbonblack.IntList{int64(100 + i)}})
	}
	src := newSource(t, tap, proofpointconn.Options{Enrich: hunter.Enrich, HuntConcurrency: 2,
		HuntRetry: connector.Backoff{Initial: time.Minute, Max: time.Minute}})
	isolate := connectortest.NewResponder("isolate", connector.ScopeDevice)
	report := connectortest.NewResponder("report", connector.ScopeEvidence)
	store := memstore.New()
	p, err := connector.New(connector.Config{Store: store, Sources: []connector.Source{src},
		Analyzer: proofpointconn.NewAnalyzer(""), Responders: []connector.Responder{isolate, report},
		Retry: connector.Backoff{Attempts: 3, Initial: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var cp connector.Checkpoint
	_ = store.View(context.Background(), func(tx connector.Tx) error {
		cp, err = tx.Checkpoint(src.Name())
		return err
	})
	if !strings.Contains(string(cp), firstWindow.End.Format(time.RFC3339)) {
		t.Fatalf("checkpoint after the first run = %s, want the window's end %s", cp, firstWindow.End.Format(time.RFC3339))
	}
	waiting := len(pendingHunts(t, cp))
	if sum.New+waiting != n || sum.SourceErrors != 0 {
		t.Fatalf("first run: %d new, %d waiting, %d source errors; want all %d attachments recorded", sum.New, waiting,
			sum.SourceErrors, n)
	}
	t.Logf("after the first run: %d attachments hunted, %d waiting", sum.New, waiting)
	for round := 0; len(isolate.Effects()) < n && round < 40; round++ {
		tapClock.Advance(time.Minute)
		if _, err := p.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	effects := isolate.Effects()
	if len(effects) != n {
		t.Errorf("devices acted on = %d, want %d", len(effects), n)
	}
	for dev, k := range effects {
		if k != 1 {
			t.Errorf("device %s acted on %d times", dev, k)
		}
	}
	if reports := report.Effects(); len(reports) != n {
		t.Errorf("files reported = %d, want %d", len(reports), n)
	}
	_ = store.View(context.Background(), func(tx connector.Tx) error {
		for _, sha := range hashes {
			key, _ := connector.Hashes{SHA256: sha}.Key()
			it, found, err := tx.Item(key)
			if err != nil || !found || !slices.ContainsFunc(it.Evidence.Sightings, func(s connector.Sighting) bool {
				return s.Source == "cbc-hunt" && s.DeviceID != ""
			}) {
				t.Errorf("attachment %s: found %v, sightings %+v, %v; want the hunted process", sha, found, it.Evidence.Sightings, err)
			}
		}
		return nil
	})
	flaky.mu.Lock()
	defer flaky.mu.Unlock()
	if flaky.hits == 0 {
		t.Error("no fault was injected")
	}
	t.Logf("%d search-job requests failed", flaky.hits)
}
