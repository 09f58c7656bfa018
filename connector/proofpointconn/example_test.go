package proofpointconn_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/proofpointconn"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

// TAP's verdict flows through the pass-through analyzer to the responders:
// the condemned attachment reaches them, the clean PDF next to it does not.
func Example() {
	fake, err := proofpointtest.New(proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	if err != nil {
		log.Fatal(err)
	}
	defer fake.Close()
	fake.AddDeliveredMessage(message("g1", now.Add(-time.Hour), 72, []string{"alice@example.com", "bob@example.com"},
		[]proofpoint.MessagePart{exePart, pdfPart}, attachmentThreat(exeSHA, "malware", "active")), time.Time{})

	c, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	src, err := proofpointconn.NewSource(c, proofpointconn.Options{Now: fake.Now})
	if err != nil {
		log.Fatal(err)
	}
	notify := connectortest.NewResponder("notify", connector.ScopeSighting)
	p, err := connector.New(connector.Config{
		Store: memstore.New(), Sources: []connector.Source{src}, Analyzer: proofpointconn.NewAnalyzer(""),
		Responders: []connector.Responder{connector.Gate(notify, connector.Kinds(connector.Malicious))},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := p.RunOnce(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, f := range notify.Findings() {
		fmt.Println(f.Evidence.FileName, f.Verdict.Kind, f.Verdict.Severity, f.Sighting.Recipient)
	}
	// Output:
	// invoice.exe malicious 7 alice@example.com
	// invoice.exe malicious 7 bob@example.com
}
