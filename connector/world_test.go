package connector_test

import (
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
)

// world is a deterministic test setup: files, three sources that report them, an analyzer and responders.
type world struct {
	files    [][]byte
	hashes   []connector.Hashes
	kinds    []connector.Kind
	cbc, s1  *connectortest.Source
	tap      *connectortest.Source
	analyzer *connectortest.Analyzer

	all        *connectortest.Responder // every sighting, no gate
	note       *connectortest.Responder // per sighting, malicious only
	report     *connectortest.Responder // per evidence, malicious and suspicious
	quarantine *connectortest.Responder // per device, malicious only

	evidence   int // evidence records added
	sightings  map[string]int
	fileOfItem map[string]int // primary key -> file index
}

var verdictCycle = []connector.Kind{connector.Malicious, connector.Suspicious, connector.Clean, connector.Unknown}

// newWorld makes nFiles files and nEvidence evidence records spread over three sources: "cbc" (SHA256, device and
// process; it can deliver every file), "s1" (SHA256 and SHA1, agent and threat) and "tap" (SHA256 and MD5, message
// and recipient).
func newWorld(nFiles, nEvidence int) *world {
	w := &world{
		cbc: connectortest.NewSource("cbc"), s1: connectortest.NewSource("s1"), tap: connectortest.NewSource("tap"),
		analyzer:   connectortest.NewAnalyzer("sandbox"),
		all:        connectortest.NewResponder("webhook", connector.ScopeSighting),
		note:       connectortest.NewResponder("note", connector.ScopeSighting),
		report:     connectortest.NewResponder("report", connector.ScopeEvidence),
		quarantine: connectortest.NewResponder("quarantine", connector.ScopeDevice),
		sightings:  map[string]int{}, fileOfItem: map[string]int{},
	}
	for _, s := range []*connectortest.Source{w.cbc, w.s1, w.tap} {
		s.BatchSize = 50
	}
	for i := range nFiles {
		content := fmt.Appendf(nil, "MZ\x90\x00 test file %d", i)
		h := w.cbc.AddFile(content)
		w.files = append(w.files, content)
		w.hashes = append(w.hashes, h)
		kind := verdictCycle[i%len(verdictCycle)]
		w.kinds = append(w.kinds, kind)
		w.analyzer.SetVerdict(h, connector.Verdict{Kind: kind, Score: float64(25 * int(kind))})
		w.fileOfItem[connector.Key{Kind: connector.SHA256, Hex: h.SHA256}.String()] = i
	}
	w.add(nEvidence)
	return w
}

// add appends n more evidence records, continuing the numbering.
func (w *world) add(n int) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for range n {
		j := w.evidence
		w.evidence++
		f := j % len(w.files)
		h := w.hashes[f]
		seen := t0.Add(time.Duration(j) * time.Second)
		switch j % 3 {
		case 0:
			w.cbc.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, FileName: "invoice.exe",
				Sightings: []connector.Sighting{{Time: seen, DeviceID: fmt.Sprint(1000 + j%37), DeviceName: fmt.Sprintf("WS-%d", j%37),
					ProcessGUID: fmt.Sprintf("ORG-%08d", j), PID: int64(4000 + j), FilePath: `c:\temp\invoice.exe`}}})
		case 1:
			w.s1.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256, SHA1: h.SHA1},
				Sightings: []connector.Sighting{{Time: seen, ID: fmt.Sprintf("threat-%d", j), AgentID: fmt.Sprint(5000 + j%41),
					ThreatID: fmt.Sprintf("threat-%d", j), SiteName: "Default site"}}})
		case 2:
			w.tap.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256, MD5: h.MD5},
				Sightings: []connector.Sighting{{Time: seen, MessageID: fmt.Sprintf("<msg-%d@example.com>", j),
					Recipient: fmt.Sprintf("user%d@example.com", j%53)}}})
		}
		w.sightings[fmt.Sprint(f)]++
	}
}

func (w *world) sources() []connector.Source {
	return []connector.Source{w.cbc, w.s1, w.tap}
}

func (w *world) responders() []connector.Responder {
	return []connector.Responder{
		w.all,
		connector.Gate(w.note, connector.Kinds(connector.Malicious)),
		connector.Gate(w.report, connector.Kinds(connector.Malicious, connector.Suspicious)),
		connector.Gate(w.quarantine, connector.Kinds(connector.Malicious)),
	}
}

// fastConfig returns a pipeline configuration with tiny waits for tests.
func fastConfig(store connector.Store, analyzer connector.Analyzer, sources []connector.Source, responders []connector.Responder) connector.Config {
	return connector.Config{
		Store: store, Analyzer: analyzer, Sources: sources, Responders: responders,
		Lookup: connector.StageLimits{Concurrency: 4}, Fetch: connector.StageLimits{Concurrency: 4},
		Submit: connector.StageLimits{Concurrency: 4}, Await: connector.StageLimits{Concurrency: 16},
		Respond:      connector.StageLimits{Concurrency: 8},
		Retry:        connector.Backoff{Attempts: 5, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		PollInterval: time.Millisecond, ShutdownTimeout: 2 * time.Second,
		Logger: testLogger(),
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("CONNECTOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newPipeline(t testing.TB, cfg connector.Config) *connector.Pipeline {
	t.Helper()
	p, err := connector.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}
