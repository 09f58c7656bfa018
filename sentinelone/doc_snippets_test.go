package sentinelone_test

import (
	"context"
	"os"
	"testing"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// The code blocks of the package documentation, compiled here so that they
// cannot drift from the API (TestDocSnippetsAreCompiled in the module root
// checks that every line of them appears in this file).

func docAuthentication() (*sentinelone.Client, error) {
	c, err := sentinelone.New("https://usea1.sentinelone.net", os.Getenv("S1_API_TOKEN"))
	return c, err
}

func docTesting(t *testing.T, ctx context.Context, sample []byte) (*sentinelone.FetchedFile, error) {
	srv := sentinelonetest.NewServer(t)
	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	threat := srv.AddThreat(sentinelone.Threat{AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
	srv.SetThreatFile(threat.ID, sentinelonetest.File{Content: sample})
	f, err := srv.Client().Threats.FetchFile(ctx, threat.ID, sentinelone.FetchOptions{})
	return f, err
}

var _, _ = docAuthentication, docTesting
