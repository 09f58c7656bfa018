package sentinelone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// BenchmarkThreatsListPage decodes a full page (1000 threats in the v2.1
// shape of the recorded fixture) per iteration.
func BenchmarkThreatsListPage(b *testing.B) {
	var one struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(fixtureBytes("threats_list.json"), &one); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"data":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(one.Data[i%len(one.Data)])
	}
	buf.WriteString(`],"pagination":{"nextCursor":null,"totalItems":1000}}`)
	page := buf.Bytes()
	env := setup(b)
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) { writeBody(w, 200, page) })
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := env.client.Threats.List(context.Background(), sentinelone.ThreatListOptions{ListOptions: sentinelone.ListOptions{Limit: 1000}})
		if err != nil || len(p.Items) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchFileSmall runs the whole threat-file flow (threat and agent
// lookups, request, activity poll, download, decryption, manifest, SHA1)
// for a 64 KiB file against the in-process fake.
func BenchmarkFetchFileSmall(b *testing.B) {
	srv := sentinelonetest.NewServer(b)
	content := bytes.Repeat([]byte("sample!"), 64<<10/7)
	ag := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	th := srv.AddThreat(sentinelone.Threat{ThreatInfo: sentinelone.ThreatInfo{SHA1: sha1hex(content), FilePath: `C:\s.exe`},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: ag.ID}})
	srv.SetThreatFile(th.ID, sentinelonetest.File{Content: content})
	c := srv.Client()
	b.SetBytes(int64(len(content)))
	b.ResetTimer()
	for range b.N {
		f, err := c.Threats.FetchFile(context.Background(), th.ID, sentinelone.FetchOptions{Password: "Bench-Pass-123"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
