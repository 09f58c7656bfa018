package sentineloneconn_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// BenchmarkThreatSourceCollect reads a first window of 2,500 threats (three
// pages) and reports the time per threat and the console calls per window.
func BenchmarkThreatSourceCollect(b *testing.B) {
	fake := sentinelonetest.NewServer(b)
	agent := fake.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	const n = 2500
	for i := range n {
		content := []byte{byte(i), byte(i >> 8), 'M', 'Z'}
		fake.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: sha1Hex(content), FilePath: `C:\x.exe`},
			AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
	}
	c := fake.Client()
	sc, _ := sentineloneconn.NewScope(c, "", nil)
	src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: sc})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := sc.Resolve(ctx); err != nil {
		b.Fatal(err)
	}
	fake.ResetRequests()
	b.ResetTimer()
	for b.Loop() {
		batch, err := src.Collect(ctx, nil)
		if err != nil || len(batch.Evidence) != n {
			b.Fatalf("%d evidence, %v", len(batch.Evidence), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/threat")
	b.ReportMetric(float64(len(fake.Requests()))/float64(b.N), "calls/window")
}

// BenchmarkFetchThreatFile fetches a 4 MiB threat file from its agent
// through the whole flow (threat check, online check, request, upload wait,
// download, decryption, streamed SHA1) and reports the throughput and the
// console calls per fetch.
func BenchmarkFetchThreatFile(b *testing.B) {
	fake := sentinelonetest.NewServer(b)
	agent := fake.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	content := make([]byte, 4<<20)
	for i := range content {
		content[i] = byte(i*7 + i/4099)
	}
	th := fake.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: sha1Hex(content), FilePath: `C:\big.exe`},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
	fake.SetThreatFile(th.ID, sentinelonetest.File{Content: content})
	c := fake.Client(sentinelone.WithFetchPoll(sentinelone.PollPolicy{Interval: time.Millisecond, MaxInterval: time.Millisecond, Timeout: 5 * time.Second}))
	sc, _ := sentineloneconn.NewScope(c, "", nil)
	src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: sc})
	if err != nil {
		b.Fatal(err)
	}
	ev := connector.Evidence{Hashes: connector.Hashes{SHA1: sha1Hex(content)}, Sightings: []connector.Sighting{{
		Source: src.Name(), ID: th.ID, ThreatID: th.ID, AgentID: agent.ID}}}
	ctx := context.Background()
	fake.ResetRequests()
	b.SetBytes(int64(len(content)))
	b.ResetTimer()
	for b.Loop() {
		s, err := src.Fetch(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, s.Body); err != nil || n != int64(len(content)) {
			b.Fatalf("%d bytes, %v", n, err)
		}
		s.Body.Close()
	}
	b.ReportMetric(float64(len(fake.Requests()))/float64(b.N), "calls/fetch")
}
