package sentinelonetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// Seed an agent and a threat, let a client mitigate it, and inspect what
// the client did.
func Example() {
	srv, err := sentinelonetest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-FIN-042", IsActive: true})
	threat := srv.AddThreat(sentinelone.Threat{AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})

	c := srv.Client()
	if _, err := c.Threats.Mitigate(context.Background(), sentinelone.MitigateKill, []string{threat.ID}, sentinelone.Scope{}); err != nil {
		fmt.Println(err)
		return
	}
	t, _ := srv.Threat(threat.ID)
	fmt.Println(srv.ThreatActions(threat.ID), t.ThreatInfo.MitigationStatus)
	// Output: [mitigate/kill] mitigated
}

// Uploads appear after a delay on the fake's clock, and only while the agent
// is on line.
func ExampleWithUploadDelay() {
	clock := sentinelonetest.NewManualClock(time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC))
	srv, _ := sentinelonetest.New(sentinelonetest.WithClock(clock), sentinelonetest.WithUploadDelay(30*time.Second))
	defer srv.Close()
	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	srv.AddAgentFile(agent.ID, sentinelonetest.File{Path: `C:\Temp\a.exe`, Content: []byte("a")})
	c := srv.Client()
	ctx := context.Background()
	req, _ := c.Agents.RequestFiles(ctx, agent.ID, []string{`C:\Temp\a.exe`}, "Fetch-Pass-2024")
	a, _ := c.Activities.FindUpload(ctx, req)
	fmt.Println(a == nil)
	clock.Advance(31 * time.Second)
	a, _ = c.Activities.FindUpload(ctx, req)
	fmt.Println(a.ActivityType, a.Data.DownloadURL == "/agents/"+agent.ID+"/uploads/"+a.ID)
	// Output:
	// true
	// 80 true
}
