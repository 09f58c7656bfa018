package vmrayconn_test

import (
	"context"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// The analyzer in the engine: one submission per distinct file however many
// devices saw it, truncated samples in their own mode, verdicts reaching the
// responders, and a crash between submit and ticket closed by FindTicket.
func TestInPipeline(t *testing.T) {
	srv := vmraytest.NewServer(t, vmraytest.WithTiming(vmraytest.Timing{QueuedPolls: 1, InWorkPolls: 1}))
	edr := connectortest.NewSource("edr")
	mal, clean := randomFile(t, 5000), randomFile(t, 3000)
	hm, hc := edr.AddFile(mal), edr.AddFile(clean)
	srv.SetOutcome(hm.SHA256, maliciousOutcome())
	fullBig, partBig := edr.AddTruncatedFile(randomFile(t, 9000), 4000, true)
	for _, dev := range []string{"1", "2", "3"} {
		for _, h := range []connector.Hashes{hm, hc, fullBig} {
			edr.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: []connector.Sighting{{DeviceID: dev}}})
		}
	}
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	quarantine := connectortest.NewResponder("quarantine", connector.ScopeDevice)
	store := memstore.New()
	p, err := connector.New(connector.Config{
		Store: store, Sources: []connector.Source{edr}, Analyzer: a,
		Responders:   []connector.Responder{connector.Gate(quarantine, connector.Kinds(connector.Malicious))},
		PollInterval: 5 * time.Millisecond,
		Retry:        connector.Backoff{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Submitted != 3 || sum.FailureCount() != 0 {
		t.Fatalf("summary: %+v", sum)
	}
	for _, h := range []string{hm.SHA256, hc.SHA256, partBig.SHA256} {
		if n := len(srv.SubmissionsFor(h)); n != 1 {
			t.Errorf("submissions of %s = %d, want 1", h, n)
		}
	}
	if subs := srv.SubmissionsFor(partBig.SHA256); len(subs) == 1 && subs[0].AnalyzerMode != vmray.AnalyzerReputationStatic {
		t.Errorf("truncated sample mode = %q", subs[0].AnalyzerMode)
	}
	if n := len(quarantine.Effects()); n != 3 {
		t.Errorf("quarantined devices = %d, want 3 (the malicious file's)", n)
	}
	// A second run re-collects nothing and submits nothing.
	sum, err = p.RunOnce(context.Background())
	if err != nil || sum.Submitted != 0 {
		t.Errorf("second run: %+v, %v", sum, err)
	}
}

// The engine asks FindTicket before submitting a file whose submission may
// have been accepted before a crash; the ticket found is awaited instead.
func TestFindTicketAfterCrash(t *testing.T) {
	srv := vmraytest.NewServer(t)
	a := newAnalyzer(t, srv, vmrayconn.Options{})
	content := randomFile(t, 777)
	ev, tk := submitOne(t, srv, a, content)
	// The engine would have stored the item as "submitting" before the crash.
	store := memstore.New()
	key, _ := ev.Key()
	err := store.Update(context.Background(), func(tx connector.Tx) error {
		now := time.Now()
		return tx.PutItem(connector.Item{Key: key, Evidence: ev, State: connector.StateSubmitting,
			SubmitStarted: now.Add(-time.Minute), Created: now, Updated: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	edr := connectortest.NewSource("edr")
	edr.AddFile(content)
	p, err := connector.New(connector.Config{Store: store, Sources: []connector.Source{edr}, Analyzer: a, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Recovered != 1 || sum.Submitted != 0 {
		t.Errorf("summary: recovered %d, submitted %d; want 1 and 0", sum.Recovered, sum.Submitted)
	}
	if n := len(srv.SubmissionsFor(ev.Hashes.SHA256)); n != 1 {
		t.Errorf("submissions = %d, want 1 (ticket %s)", n, tk.ID)
	}
}
