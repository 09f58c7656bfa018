package sentinelonetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/soarkit/soarkit/sentinelone"
)

// examinedBy returns how many threats fn made the fake look at.
func examinedBy(s *Server, fn func()) int {
	s.mu.Lock()
	before := s.st.examined
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.examined - before
}

// A threat request that names ids or agents looks at their threats alone,
// and an agent's count of active threats at that agent's threats, however
// many threats the fake holds.
func TestThreatRequestsExamineOnlyTheirThreats(t *testing.T) {
	const agents, perAgent = 50, 40
	s := NewServer(t)
	var agentIDs, threatIDs []string
	for i := range agents {
		a := s.AddAgent(sentinelone.Agent{ComputerName: fmt.Sprintf("HOST-%02d", i), IsActive: true, OSType: "windows"})
		agentIDs = append(agentIDs, a.ID)
	}
	for j := range perAgent {
		for i := range agents {
			th := s.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{ThreatName: fmt.Sprintf("t%d-%d.exe", i, j),
				SHA1: fmt.Sprintf("%040x", i*perAgent+j)}, AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agentIDs[i]}})
			threatIDs = append(threatIDs, th.ID)
		}
	}
	c := s.Client()
	ctx := context.Background()
	// One threat by id: itself, and the 40 threats of its agent for the agent's active count.
	if got := examinedBy(s, func() {
		th, err := c.Threats.Get(ctx, threatIDs[777])
		if err != nil || th.ID != threatIDs[777] || th.AgentRealtimeInfo.ActiveThreats != perAgent {
			t.Errorf("threat: %+v %v", th, err)
		}
	}); got != 1+perAgent {
		t.Errorf("a threat by id examined %d threats, want %d", got, 1+perAgent)
	}
	// The threats of two agents, with their counts.
	if got := examinedBy(s, func() {
		page, err := c.Threats.List(ctx, sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{AgentIDs: agentIDs[3:5]},
			ListOptions: sentinelone.ListOptions{Limit: 100}})
		if err != nil || len(page.Items) != 2*perAgent {
			t.Errorf("two agents' threats: %v", err)
		}
	}); got != 4*perAgent {
		t.Errorf("two agents' threats examined %d threats, want %d (their threats, then their counts)", got, 4*perAgent)
	}
	// An action on three threats.
	if got := examinedBy(s, func() {
		res, err := c.Threats.SetIncidentStatus(ctx, sentinelone.ThreatFilter{IDs: threatIDs[10:13]},
			sentinelone.IncidentUpdate{IncidentStatus: sentinelone.IncidentResolved})
		if err != nil || res.Affected != 3 {
			t.Errorf("action: %+v %v", res, err)
		}
	}); got != 3 {
		t.Errorf("an action on 3 threats examined %d", got)
	}
}
