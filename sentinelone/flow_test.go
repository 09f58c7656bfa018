package sentinelone_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

func sha1hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// seedThreat adds an online agent and a threat whose file it can upload.
func seedThreat(t *testing.T, srv *sentinelonetest.Server, content []byte) (sentinelone.Agent, sentinelone.Threat) {
	t.Helper()
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-FIN-042", IsActive: true, ExternalIP: "203.0.113.7"})
	th := srv.AddThreat(sentinelone.Threat{
		ThreatInfo: sentinelone.ThreatInfo{ThreatName: "invoice_8821.exe", SHA1: sha1hex(content), Classification: "Trojan",
			FilePath: `C:\Users\jdoe\Downloads\invoice_8821.exe`, ConfidenceLevel: sentinelone.ConfidenceMalicious},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID},
	})
	srv.SetThreatFile(th.ID, sentinelonetest.File{Content: content})
	return ag, th
}

func TestFlowThreatListToVerifiedFile(t *testing.T) {
	srv := sentinelonetest.NewServer(t, sentinelonetest.WithUploadDelay(20*time.Millisecond))
	c := srv.Client()
	ctx := context.Background()
	content := []byte("MZ\x90\x00 pretend this is a trojan")
	ag, th := seedThreat(t, srv, content)

	var got []sentinelone.Threat
	for threat, err := range c.Threats.All(ctx, sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{
		ConfidenceLevels: []string{sentinelone.ConfidenceMalicious, sentinelone.ConfidenceSuspicious}}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, threat)
	}
	if len(got) != 1 || got[0].ID != th.ID || got[0].AgentRealtimeInfo.AgentID != ag.ID {
		t.Fatalf("threats = %+v", got)
	}

	f, err := c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(content) || !f.Verified() || f.ComputedSHA1() != sha1hex(content) {
		t.Fatalf("content %q verified %v sha1 %s", data, f.Verified(), f.ComputedSHA1())
	}
	if f.Path != `C:\Users\jdoe\Downloads\invoice_8821.exe` || f.Name != "C/Users/jdoe/Downloads/invoice_8821.exe" {
		t.Errorf("path %q name %q", f.Path, f.Name)
	}
	if f.Activity == nil || f.Activity.ActivityType != 86 || f.Activity.ThreatID != th.ID {
		t.Errorf("activity = %+v", f.Activity)
	}
	if acts := srv.ThreatActions(th.ID); len(acts) != 1 || acts[0] != "fetch-file" {
		t.Errorf("threat actions = %v", acts)
	}
}

func TestFlowAgentOffline(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ag, th := seedThreat(t, srv, []byte("x"))
	srv.SetAgentActive(ag.ID, false)
	_, err := c.Threats.FetchFile(context.Background(), th.ID, sentinelone.FetchOptions{})
	if !errors.Is(err, sentinelone.ErrAgentOffline) {
		t.Fatalf("err = %v", err)
	}
	if acts := srv.ThreatActions(th.ID); len(acts) != 0 {
		t.Errorf("fetch requested for an offline agent: %v", acts)
	}
}
