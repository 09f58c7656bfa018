package pgstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// The engine runs on pgstore end to end: every file is analysed once and acted on once per sighting, and a process
// that starts again on the same schema (a restart, or a standby taking over) finds the work done and repeats nothing.
func TestPipelineOnPostgres(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	src := connectortest.NewSource("edr")
	const files = 25
	for i := range files {
		h := src.AddFile(fmt.Appendf(nil, "payload %d", i))
		for d := range 2 {
			src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
				Sightings: []connector.Sighting{{DeviceID: fmt.Sprint(d), Source: "edr"}}})
		}
	}
	sandbox := connectortest.NewAnalyzer("sandbox")
	sandbox.Default = connector.Malicious
	isolate := connectortest.NewResponder("isolate", connector.ScopeSighting)

	for run := 1; run <= 2; run++ {
		store := pgstoretest.Open(t, schema, pgstore.Options{})
		p, err := connector.New(connector.Config{Store: store, Sources: []connector.Source{src}, Analyzer: sandbox,
			Responders: []connector.Responder{connector.Gate(isolate, connector.Kinds(connector.Malicious))}})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.RunOnce(context.Background())
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if sum.Pending != 0 || len(sum.Failures) != 0 {
			t.Errorf("run %d: %d pending, failures %v", run, sum.Pending, sum.Failures)
		}
		store.Close()
	}
	if n := len(sandbox.Submissions()); n != files {
		t.Errorf("%d submissions for %d distinct files", n, files)
	}
	effects := isolate.Effects()
	if len(effects) != 2*files {
		t.Errorf("isolate acted on %d targets, want %d (every sighting)", len(effects), 2*files)
	}
	for target, n := range effects {
		if n != 1 {
			t.Errorf("isolate acted %d times on %s", n, target)
		}
	}
}
