package sentineloneconn_test

import (
	"context"
	"fmt"
	"io"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// Collect the threats of the last hour, fetch a threat's file from its
// agent, note the VMRay result on the threat and kill it.
func Example() {
	fake, err := sentinelonetest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	agent := fake.AddAgent(sentinelone.Agent{ComputerName: "WS-FIN-042", IsActive: true})
	content := []byte("MZ invoice dropper")
	threat := fake.AddThreat(sentinelone.Threat{
		ThreatInfo:        sentinelone.ThreatInfo{SHA1: sha1Hex(content), FilePath: `C:\Users\alice\invoice.exe`, ConfidenceLevel: "malicious"},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID},
	})
	fake.SetThreatFile(threat.ID, sentinelonetest.File{Content: content})
	c := fake.Client()
	ctx := context.Background()

	scope, _ := sentineloneconn.NewScope(c, "", nil) // the first account, all its sites
	src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: scope})
	if err != nil {
		panic(err)
	}
	batch, err := src.Collect(ctx, nil)
	if err != nil {
		panic(err)
	}
	ev := batch.Evidence[0]
	sg := ev.Sightings[0]
	fmt.Println(ev.FileName, sg.DeviceName, sg.SiteName, sg.Attributes["confidence_level"], sg.ThreatID == threat.ID)

	sample, err := src.Fetch(ctx, ev)
	if err != nil {
		panic(err)
	}
	got, _ := io.ReadAll(sample.Body)
	sample.Body.Close()
	fmt.Printf("%q\n", got)

	f := connector.Finding{Evidence: ev, Verdict: connector.Verdict{Kind: connector.Malicious}, Sighting: &sg}
	note, _ := sentineloneconn.NewNote(c, sentineloneconn.NoteOptions{Subtypes: []string{"verdict"}})
	kill, _ := sentineloneconn.NewMitigation(c, sentinelone.MitigateKill, "")
	for range 2 {
		n, _ := note.Respond(ctx, f)
		k, _ := kill.Respond(ctx, f)
		fmt.Println(n.Status, k.Status)
	}
	fmt.Println(fake.ThreatActions(threat.ID))
	// Output:
	// invoice.exe WS-FIN-042 Default site malicious true
	// "MZ invoice dropper"
	// acted acted
	// unchanged unchanged
	// [fetch-file notes mitigate/kill]
}
