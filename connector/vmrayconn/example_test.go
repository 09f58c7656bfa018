package vmrayconn_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// The analyzer in a pipeline: a file VMRay already knows is answered from its
// earlier analysis, an unknown one is uploaded once and awaited.
func Example() {
	srv, err := vmraytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	known := []byte("MZ... a dropper VMRay analysed last week")
	if _, err := srv.AddSample(vmraytest.Sample{Content: known, Outcome: vmraytest.Outcome{
		Verdict: vmray.VerdictMalicious, Score: 92, ThreatNames: []string{"Emotet"}}}); err != nil {
		log.Fatal(err)
	}

	edr := connectortest.NewSource("edr")
	for i, content := range [][]byte{known, []byte("MZ... an installer nobody has seen")} {
		h := edr.AddFile(content)
		edr.Add(connector.Evidence{Hashes: h, Sightings: []connector.Sighting{{DeviceID: fmt.Sprint(100 + i), SiteName: "EMEA Site"}}})
	}
	analyzer, err := vmrayconn.New(srv.Client(), vmrayconn.Options{
		Tags:         []string{"EDR"},
		SightingTags: vmrayconn.AttributeTags("site_name"),
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := connector.New(connector.Config{
		Store: memstore.New(), Sources: []connector.Source{edr}, Analyzer: analyzer,
		PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("known %d, submitted %d, malicious %d, clean %d\n", sum.Known, sum.Submitted,
		sum.Verdicts[connector.Malicious], sum.Verdicts[connector.Clean])
	for _, smp := range srv.Samples() {
		for _, sub := range srv.SubmissionsFor(smp.SHA256) {
			if sub.Comment != nil && strings.HasPrefix(*sub.Comment, vmrayconn.DefaultComment+" [soarkit-ref:") {
				fmt.Println("tags:", sub.Tags, "mode:", sub.AnalyzerMode)
			}
		}
	}
	// Output:
	// known 1, submitted 1, malicious 1, clean 1
	// tags: [EDR EMEA_Site] mode: reputation_static_dynamic
}

// Severity follows the original Carbon Black connector's rule.
func ExampleSeverity() {
	for _, s := range []int{0, 15, 64, 100} {
		score := vmray.Score(s)
		fmt.Print(vmrayconn.Severity(&score), " ")
	}
	fmt.Println(vmrayconn.Severity(nil))
	// Output: 1 1 6 10 1
}
