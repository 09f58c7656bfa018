package connector_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// A file seen on three devices is analysed once; every sighting reaches the per-device responder, and the
// per-file report is written once. A second run finds nothing new to do.
func Example() {
	edr := connectortest.NewSource("edr")
	h := edr.AddFile([]byte("MZ... dropper"))
	for _, dev := range []string{"101", "102", "103"} {
		edr.Add(connector.Evidence{
			Hashes:    connector.Hashes{SHA256: h.SHA256},
			FileName:  "invoice.exe",
			Sightings: []connector.Sighting{{DeviceID: dev, ProcessGUID: "proc-" + dev}},
		})
	}
	sandbox := connectortest.NewAnalyzer("sandbox")
	sandbox.SetVerdict(h, connector.Verdict{Kind: connector.Malicious, Score: 95})
	quarantine := connectortest.NewResponder("quarantine", connector.ScopeDevice)
	report := connectortest.NewResponder("report", connector.ScopeEvidence)

	p, err := connector.New(connector.Config{
		Store:    memstore.New(),
		Sources:  []connector.Source{edr},
		Analyzer: sandbox,
		Responders: []connector.Responder{
			connector.Gate(quarantine, connector.Kinds(connector.Malicious)),
			connector.Gate(report, connector.Kinds(connector.Malicious, connector.Suspicious)),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for run := 1; run <= 2; run++ {
		sum, err := p.RunOnce(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("run %d: collected %d, new files %d, submitted %d, malicious %d, quarantined %d, reports %d\n",
			run, sum.Collected, sum.New, sum.Submitted, sum.Verdicts[connector.Malicious],
			sum.Actions["quarantine"].Acted, sum.Actions["report"].Acted)
	}
	// Output:
	// run 1: collected 3, new files 1, submitted 1, malicious 1, quarantined 3, reports 1
	// run 2: collected 0, new files 0, submitted 0, malicious 0, quarantined 0, reports 0
}

// A source that carries its own verdict (Proofpoint TAP classifies attachments) uses the pass-through analyzer:
// nothing is uploaded, and a dry-run responder logs what it would do without acting.
func ExamplePassThrough() {
	tap := connectortest.NewSource("tap")
	bad := connectortest.HashesOf([]byte("macro.doc"))
	tap.Add(connector.Evidence{
		Hashes:        connector.Hashes{SHA256: bad.SHA256, MD5: bad.MD5},
		FileName:      "macro.doc",
		Sightings:     []connector.Sighting{{MessageID: "<a1@example.com>", Recipient: "alice@example.com"}},
		SourceVerdict: &connector.Verdict{Kind: connector.Malicious, Score: 100},
	})
	hunt := connectortest.NewResponder("hunt", connector.ScopeSighting)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "key" {
				return slog.Attr{}
			}
			return a
		},
	}))
	p, err := connector.New(connector.Config{
		Store:      memstore.New(),
		Sources:    []connector.Source{tap},
		Analyzer:   connector.PassThrough("tap"),
		Responders: []connector.Responder{connector.DryRun(hunt, logger)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, _ := p.RunOnce(context.Background())
	fmt.Println("submitted:", sum.Submitted, "acted:", len(hunt.Findings()), "skipped:", sum.Actions["hunt"].Skipped)
	// Output:
	// level=INFO msg="dry run: would respond" responder=hunt target="tap?message=%3Ca1%40example.com%3E&recipient=alice%40example.com" verdict=malicious
	// submitted: 0 acted: 0 skipped: 1
}

// Control errors tell the engine how to treat a failure.
func ExampleRetryLater() {
	err := fmt.Errorf("vmray: analysis running: %w", connector.RetryLater(nil, 15*time.Second))
	d, ok := connector.RetryAfter(err)
	fmt.Println(ok, d, connector.IsPermanent(err))

	err = connector.Permanent(fmt.Errorf("ubs: binary not stored"))
	fmt.Println(connector.IsPermanent(err), err)
	// Output:
	// true 15s false
	// true ubs: binary not stored
}

// Evidence is keyed by its strongest hash.
func ExampleHashes_Key() {
	h := connector.Hashes{
		SHA1: "3395856CE81F2B7382DEE72602F798B642F14140",
		MD5:  "44d88612fea8a8f36de82e1278abb02f",
	}
	k, err := h.Key()
	fmt.Println(k, err)
	// Output: sha1:3395856ce81f2b7382dee72602f798b642f14140 <nil>
}

// A command responder fills its argument templates from the finding and runs the program without a shell.
func ExampleCommand() {
	cmd, err := connector.NewCommand(
		[]string{"echo", "kill", "--device", "{device_id}", "--pid", "{pid}", "--path", "{file_path}"},
		connector.CommandOptions{Name: "live-response", Timeout: 10 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := connectortest.ExampleFinding(connector.ScopeSighting)
	args, _ := cmd.Args(f)
	fmt.Println(args)
	res, err := cmd.Respond(context.Background(), f)
	fmt.Println(res.Status, err)
	// Output:
	// [kill --device 98765 --pid 7212 --path c:\users\alice\downloads\invoice.exe]
	// acted <nil>
}

// A responder refused a file for good: the file is a dead letter. The operator lists it, fixes the cause and
// requeues it; the next run acts on it without analysing it again.
func ExampleRetryFailed() {
	ctx := context.Background()
	edr := connectortest.NewSource("edr")
	h := edr.AddFile([]byte("MZ... dropper"))
	edr.Add(connector.Evidence{Hashes: h, Sightings: []connector.Sighting{{DeviceID: "101"}}})
	sandbox := connectortest.NewAnalyzer("sandbox")
	sandbox.Default = connector.Malicious
	ban := &flakyBan{Responder: connectortest.NewResponder("ban", connector.ScopeEvidence)}
	store := memstore.New()
	p, err := connector.New(connector.Config{Store: store, Sources: []connector.Source{edr}, Analyzer: sandbox,
		Responders: []connector.Responder{ban}, PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	p.RunOnce(ctx)
	failed, _ := connector.ListItems(ctx, store, connector.StateFailed)
	for _, it := range failed {
		fmt.Printf("dead letter in %s: %s\n", it.Failure.Stage, it.Failure.Reason)
	}
	keys, _ := connector.RetryFailed(ctx, store, time.Now())
	fmt.Println("requeued:", len(keys))
	sum, _ := p.RunOnce(ctx)
	fmt.Println("submitted again:", sum.Submitted, "ban acted:", sum.Actions["ban"].Acted)
	// Output:
	// dead letter in respond: ban on sha256:95dec2afe3875ea50d86b196c341bdad0bf54fb892cee3301421b256e3f4da52: the ban list is full
	// requeued: 1
	// submitted again: 0 ban acted: 1
}

// flakyBan refuses its first call for good.
type flakyBan struct {
	*connectortest.Responder
	refused bool
}

func (b *flakyBan) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if !b.refused {
		b.refused = true
		return connector.Result{}, connector.Permanent(errors.New("the ban list is full"))
	}
	return b.Responder.Respond(ctx, f)
}
