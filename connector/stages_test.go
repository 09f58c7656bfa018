package connector_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

func sighting(device string) []connector.Sighting {
	return []connector.Sighting{{DeviceID: device, DeviceName: "WS-" + device, ProcessGUID: "guid-" + device}}
}

func onlyItem(t *testing.T, store connector.Store, key connector.Key) connector.Item {
	t.Helper()
	var it connector.Item
	err := store.View(context.Background(), func(tx connector.Tx) error {
		var found bool
		var err error
		it, found, err = tx.Item(key)
		if err == nil && !found {
			err = errors.New("item not found")
		}
		return err
	})
	if err != nil {
		t.Fatalf("item %s: %v", key, err)
	}
	return it
}

func key256(h connector.Hashes) connector.Key {
	return connector.Key{Kind: connector.SHA256, Hex: h.SHA256}
}

func TestTruncatedSample(t *testing.T) {
	full := bytes.Repeat([]byte("MZ big file "), 1000)
	t.Run("KnownByItsOwnHash", func(t *testing.T) {
		src := connectortest.NewSource("cbc")
		fullH, partH := src.AddTruncatedFile(full, 4096, true)
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: fullH.SHA256}, Sightings: sighting("1")})
		a := connectortest.NewAnalyzer("sandbox")
		a.Know(partH, connector.Verdict{Kind: connector.Malicious})
		r := connectortest.NewResponder("report", connector.ScopeEvidence)
		store := memstore.New()
		if _, err := newPipeline(t, fastConfig(store, a, []connector.Source{src}, []connector.Responder{r})).RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(a.Submissions()); n != 0 {
			t.Errorf("%d submissions; the truncated part was known and must not be uploaded", n)
		}
		it := onlyItem(t, store, key256(fullH))
		if it.State != connector.StateDone || it.Sample == nil || !it.Sample.Truncated || it.Sample.Hashes.SHA256 != partH.SHA256 {
			t.Errorf("item = %s, sample %+v; want done with the truncated part's hashes", it.State, it.Sample)
		}
		f := r.Findings()
		if len(f) != 1 || f[0].Evidence.Hashes.SHA256 != fullH.SHA256 || f[0].Verdict.SampleHashes.SHA256 != partH.SHA256 {
			t.Fatalf("finding must carry both the evidence hash and the analysed part's hash: %+v", f)
		}
		// The truncated part's hash must not become an alias of the full file.
		store.View(context.Background(), func(tx connector.Tx) error {
			if _, found, _ := tx.Alias(key256(partH)); found {
				t.Errorf("the truncated part's hash was recorded as an alias of the full file")
			}
			return nil
		})
	})
	t.Run("SubmittedAndRecorded", func(t *testing.T) {
		src := connectortest.NewSource("cbc")
		fullH, partH := src.AddTruncatedFile(full, 4096, false)
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: fullH.SHA256}, Sightings: sighting("1")})
		a := connectortest.NewAnalyzer("sandbox")
		store := memstore.New()
		if _, err := newPipeline(t, fastConfig(store, a, []connector.Source{src}, nil)).RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		subs := a.Submissions()
		if len(subs) != 1 || !subs[0].Truncated || subs[0].Hashes.SHA256 != partH.SHA256 || subs[0].Size != 4096 {
			t.Fatalf("submissions = %+v; want the truncated part, once", subs)
		}
		it := onlyItem(t, store, key256(fullH))
		if it.Sample == nil || it.Sample.Hashes.SHA256 != partH.SHA256 || it.Sample.Size != 4096 || it.Sample.Source != "cbc" {
			t.Errorf("recorded sample = %+v; want the delivered part's SHA256 computed by the engine", it.Sample)
		}
	})
}

// wrongFile delivers other bytes than the evidence names.
type wrongFile struct{ *connectortest.Source }

func (w wrongFile) Fetch(context.Context, connector.Evidence) (connector.Sample, error) {
	return connector.Sample{Body: io.NopCloser(strings.NewReader("not the file")), Name: "x.exe"}, nil
}

func TestSampleMismatchIsADeadLetter(t *testing.T) {
	src := wrongFile{connectortest.NewSource("s1")}
	h := connectortest.HashesOf([]byte("the real file"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA1: h.SHA1}, Sightings: sighting("1")})
	a := connectortest.NewAnalyzer("sandbox")
	store := memstore.New()
	sum, err := newPipeline(t, fastConfig(store, a, []connector.Source{src}, nil)).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Submissions()) != 0 {
		t.Errorf("the analyzer accepted a sample whose hash does not match the evidence")
	}
	it := onlyItem(t, store, connector.Key{Kind: connector.SHA1, Hex: h.SHA1})
	if it.State != connector.StateFailed || it.Failure.Stage != connector.StageSubmit ||
		!strings.Contains(it.Failure.Reason, "does not match") {
		t.Errorf("item = %s %+v; want a dead letter at submit for the mismatch", it.State, it.Failure)
	}
	if sum.Failures[connector.StageSubmit] != 1 {
		t.Errorf("summary failures = %v", sum.Failures)
	}
}

func TestKnownFilesAndResubmission(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := connectortest.NewSource("cbc")
	mal, clean := src.AddFile([]byte("known bad")), src.AddFile([]byte("known good"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: mal.SHA256}, Sightings: sighting("1")},
		connector.Evidence{Hashes: connector.Hashes{SHA256: clean.SHA256}, Sightings: sighting("2")})
	a := connectortest.NewAnalyzer("sandbox")
	a.Know(mal, connector.Verdict{Kind: connector.Malicious})
	a.Know(clean, connector.Verdict{Kind: connector.Clean})
	a.SetVerdict(mal, connector.Verdict{Kind: connector.Malicious, Score: 99})
	store := memstore.New()
	cfg := fastConfig(store, a, []connector.Source{src}, nil)
	cfg.Resubmit = connector.Kinds(connector.Malicious)
	cfg.VerdictTTL = time.Hour
	cfg.Now = clock
	p := newPipeline(t, cfg)
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	subs := a.Submissions()
	if len(subs) != 1 || subs[0].Evidence != key256(mal) {
		t.Fatalf("submissions = %+v; want only the known-malicious file, resubmitted once", subs)
	}
	if sum.Known != 2 || sum.Submitted != 1 {
		t.Errorf("summary known %d submitted %d; want 2 and 1", sum.Known, sum.Submitted)
	}
	if v := onlyItem(t, store, key256(mal)).Verdict; v == nil || v.Score != 99 {
		t.Errorf("verdict after resubmission = %+v; want the new analysis", v)
	}

	// After the TTL the files are looked up again when seen again, but a file the engine submitted itself is not
	// resubmitted: the seeds resubmitted on every cycle.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: mal.SHA256}, Sightings: sighting("3")},
		connector.Evidence{Hashes: connector.Hashes{SHA256: clean.SHA256}, Sightings: sighting("2")})
	lookups := a.Lookups()
	sum, err = p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Submissions()) != 1 || a.Lookups() != lookups+2 || sum.Known != 2 {
		t.Errorf("after TTL: %d submissions, %d new lookups (known %d); want 1 submission and 2 lookups",
			len(a.Submissions()), a.Lookups()-lookups, sum.Known)
	}
}

func TestAliasJoinsEvidenceThatKnowsOnlyAWeakerHash(t *testing.T) {
	src := connectortest.NewSource("edr")
	h := src.AddFile([]byte("dropper"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: sighting("1")})
	a := connectortest.NewAnalyzer("sandbox")
	r := connectortest.NewResponder("note", connector.ScopeSighting)
	store := memstore.New()
	p := newPipeline(t, fastConfig(store, a, []connector.Source{src}, []connector.Responder{r}))
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A SentinelOne-like record with only the SHA1: the analyzer reported the sample's SHA1, so it joins the item.
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA1: strings.ToUpper(h.SHA1)},
		Sightings: []connector.Sighting{{ThreatID: "t-9", AgentID: "a-9"}}})
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 0 || len(a.Submissions()) != 1 {
		t.Errorf("new %d, submissions %d; want the SHA1 evidence merged into the known file", sum.New, len(a.Submissions()))
	}
	if len(r.Findings()) != 2 {
		t.Errorf("responder saw %d sightings, want 2", len(r.Findings()))
	}
}

func TestTicketFinderClosesTheCrashWindow(t *testing.T) {
	src := connectortest.NewSource("cbc")
	h := src.AddFile([]byte("payload"))
	ev := connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: sighting("1")}
	src.Add(ev)
	a := connectortest.NewAnalyzer("sandbox")
	store := memstore.New()
	// State left by a process that crashed after the analyzer accepted the sample, before the ticket was stored.
	started := time.Now().Add(-time.Second)
	store.Update(context.Background(), func(tx connector.Tx) error {
		e := ev
		e.Source = "cbc"
		return tx.PutItem(connector.Item{Key: key256(h), Evidence: e, State: connector.StateSubmitting,
			SubmitStarted: started, Created: started, Updated: started})
	})
	if _, err := a.Submit(context.Background(), ev, connector.Sample{Body: io.NopCloser(strings.NewReader("payload"))}); err != nil {
		t.Fatal(err)
	}
	sum, err := newPipeline(t, fastConfig(store, a, []connector.Source{src}, nil)).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 1 || sum.Recovered != 1 || len(a.Submissions()) != 1 {
		t.Errorf("resumed %d recovered %d submissions %d; want 1, 1, 1 (no second submission)",
			sum.Resumed, sum.Recovered, len(a.Submissions()))
	}
	if it := onlyItem(t, store, key256(h)); it.State != connector.StateDone || it.Ticket == nil || it.Ticket.ID != "ticket-1" {
		t.Errorf("item = %s ticket %+v", it.State, it.Ticket)
	}
}

func TestAnalysisTimeoutIsADeadLetter(t *testing.T) {
	// The bubble's fake clock makes the bound exact: the run ends when the analysis timeout runs out, not after the
	// analyzer's hour.
	synctest.Test(t, func(t *testing.T) {
		src := connectortest.NewSource("cbc")
		h := src.AddFile([]byte("slow"))
		src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: sighting("1")})
		a := connectortest.NewAnalyzer("sandbox")
		a.Latency, a.Poll = time.Hour, true
		store := memstore.New()
		cfg := fastConfig(store, a, []connector.Source{src}, nil)
		cfg.AnalysisTimeout = 50 * time.Millisecond
		cfg.PollInterval = 10 * time.Millisecond
		start := time.Now()
		sum, err := newPipeline(t, cfg).RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("run took %s of fake time; the analysis wait is bounded by the 50ms analysis timeout", d)
		}
		it := onlyItem(t, store, key256(h))
		if it.State != connector.StateFailed || it.Failure.Stage != connector.StageAwait || !strings.Contains(it.Failure.Reason, "not finished within") {
			t.Errorf("item %s %+v; want an await dead letter", it.State, it.Failure)
		}
		if sum.Failures[connector.StageAwait] != 1 {
			t.Errorf("failures = %v", sum.Failures)
		}
	})
}

func TestGracefulShutdownPersistsAndResumes(t *testing.T) {
	// In a synctest bubble the clock is fake: the shutdown's duration is exact, not a guess about a busy machine.
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(8, 8)
		w.analyzer.Latency = 300 * time.Millisecond
		store := memstore.New()
		cfg := fastConfig(store, w.analyzer, w.sources(), w.responders())
		p := newPipeline(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		var cancelled time.Time
		go func() {
			for len(w.analyzer.Submissions()) < 8 {
				time.Sleep(time.Millisecond)
			}
			cancelled = time.Now()
			cancel()
		}()
		sum, err := p.RunOnce(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("RunOnce after cancel = %v, want context.Canceled", err)
		}
		if d := time.Since(cancelled); d >= w.analyzer.Latency {
			t.Errorf("shutdown took %s of fake time; awaits must stop at once (their tickets are stored)", d)
		}
		if sum.Pending != 8 || sum.Submitted != 8 {
			t.Errorf("pending %d submitted %d; want 8 and 8", sum.Pending, sum.Submitted)
		}
		sum, err = p.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Resumed != 8 || sum.Submitted != 0 || sum.Analysed != 8 || len(w.analyzer.Submissions()) != 8 {
			t.Errorf("resumed %d submitted %d analysed %d (total submissions %d); want 8, 0, 8 and 8",
				sum.Resumed, sum.Submitted, sum.Analysed, len(w.analyzer.Submissions()))
		}
		checkWorld(t, w)
	})
}

func TestRunDaemon(t *testing.T) {
	w := newWorld(10, 30)
	store := memstore.New()
	cfg := fastConfig(store, w.analyzer, w.sources(), w.responders())
	cfg.Interval = 10 * time.Millisecond
	p := newPipeline(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum connector.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := p.Run(ctx)
		done <- result{s, err}
	}()
	waitFor := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitFor(func() bool { return len(w.all.Effects()) == 30 })
	if _, err := p.RunOnce(context.Background()); !errors.Is(err, connector.ErrRunning) {
		t.Errorf("RunOnce during Run = %v, want ErrRunning", err)
	}
	w.add(15) // new sightings arrive while the daemon runs
	waitFor(func() bool { return len(w.all.Effects()) == 45 })
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("Run = %v, want nil after a graceful stop", r.err)
	}
	if r.sum.Collected != 45 || r.sum.Submitted != 10 {
		t.Errorf("summary collected %d submitted %d; want 45 and 10", r.sum.Collected, r.sum.Submitted)
	}
	checkWorld(t, w)
}

func TestRunEndsWhenAllSourcesEnd(t *testing.T) {
	w := newWorld(5, 15)
	for _, s := range []*connectortest.Source{w.cbc, w.s1, w.tap} {
		s.Finite = true
	}
	cfg := fastConfig(memstore.New(), w.analyzer, w.sources(), w.responders())
	cfg.Interval = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, err := newPipeline(t, cfg).Run(ctx)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v); want it to end by itself", err, ctx.Err())
	}
	if sum.Collected != 15 {
		t.Errorf("collected %d, want 15", sum.Collected)
	}
	checkWorld(t, w)
}

func TestPassThroughUsesTheSourceVerdict(t *testing.T) {
	src := connectortest.NewSource("tap")
	bad, good := connectortest.HashesOf([]byte("bad.doc")), connectortest.HashesOf([]byte("good.pdf"))
	src.Add(
		connector.Evidence{Hashes: connector.Hashes{SHA256: bad.SHA256, MD5: bad.MD5}, FileName: "bad.doc",
			Sightings:     []connector.Sighting{{MessageID: "m1", Recipient: "a@example.com"}},
			SourceVerdict: &connector.Verdict{Kind: connector.Malicious, Score: 100, ThreatNames: []string{"attachment"}}},
		connector.Evidence{Hashes: connector.Hashes{SHA256: good.SHA256, MD5: good.MD5}, FileName: "good.pdf",
			Sightings:     []connector.Sighting{{MessageID: "m1", Recipient: "a@example.com"}},
			SourceVerdict: &connector.Verdict{Kind: connector.Clean}},
	)
	hunt := connectortest.NewResponder("hunt", connector.ScopeSighting)
	store := memstore.New()
	sum, err := newPipeline(t, fastConfig(store, connector.PassThrough("tap"), []connector.Source{src},
		[]connector.Responder{connector.Gate(hunt, connector.Kinds(connector.Malicious))})).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Submitted != 0 || sum.Verdicts[connector.Malicious] != 1 || sum.Verdicts[connector.Clean] != 1 {
		t.Errorf("summary %+v", sum)
	}
	f := hunt.Findings()
	if len(f) != 1 || f[0].Evidence.FileName != "bad.doc" || f[0].Verdict.Analyzer != "tap" || f[0].Verdict.Score != 100 {
		t.Errorf("findings = %+v; want only the malicious attachment, with TAP's verdict", f)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	src, a, store := connectortest.NewSource("s"), connectortest.NewAnalyzer("a"), memstore.New()
	r := connectortest.NewResponder("r", connector.ScopeEvidence)
	for name, cfg := range map[string]connector.Config{
		"no store":           {Analyzer: a, Sources: []connector.Source{src}},
		"no analyzer":        {Store: store, Sources: []connector.Source{src}},
		"no source":          {Store: store, Analyzer: a},
		"duplicate source":   {Store: store, Analyzer: a, Sources: []connector.Source{src, src}},
		"duplicate response": {Store: store, Analyzer: a, Sources: []connector.Source{src}, Responders: []connector.Responder{r, r}},
		"nameless source":    {Store: store, Analyzer: a, Sources: []connector.Source{connectortest.NewSource("")}},
	} {
		if _, err := connector.New(cfg); err == nil {
			t.Errorf("%s: New accepted the configuration", name)
		}
	}
}

func TestRejectedEvidence(t *testing.T) {
	src := connectortest.NewSource("s")
	src.Add(connector.Evidence{FileName: "no hash"}, connector.Evidence{Hashes: connector.Hashes{SHA256: "xyz"}})
	sum, err := newPipeline(t, fastConfig(memstore.New(), connectortest.NewAnalyzer("a"), []connector.Source{src}, nil)).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Collected != 2 || sum.Rejected != 2 || sum.New != 0 {
		t.Errorf("collected %d rejected %d new %d; want 2, 2, 0", sum.Collected, sum.Rejected, sum.New)
	}
}
