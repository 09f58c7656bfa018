package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector/memstore"
)

// Example runs the server on the demo world and calls a read tool and an
// action tool with the go-sdk's client, as an agent would.
func Example() {
	world, err := StartDemo(time.Now())
	if err != nil {
		log.Fatal(err)
	}
	defer world.Close()
	dir, err := os.MkdirTemp("", "soarkit-mcp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := defaults()
	world.Configure(cfg, dir)

	var audit bytes.Buffer
	app, err := NewApp(cfg, Deps{Store: memstore.New(), Audit: NewAuditor(&audit)})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	serverSide, clientSide := mcp.NewInMemoryTransports()
	if _, err := app.NewServer().Connect(ctx, serverSide, nil); err != nil {
		log.Fatal(err)
	}
	agent, err := mcp.NewClient(&mcp.Implementation{Name: "example-agent", Version: "1.0"}, nil).Connect(ctx, clientSide, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()

	call := func(tool string, args map[string]any, out any) {
		res, err := agent.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || res.IsError {
			log.Fatalf("%s: %v %v", tool, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, out)
	}
	var verdict VerdictOutput
	call("vmray_hash_verdict", map[string]any{"hash": demoDropper.sha256}, &verdict)
	fmt.Println(verdict.Verdict, verdict.Score, verdict.ThreatNames, verdict.VTIs[0].Operation)

	var ban ActionOutput
	call("cbc_ban_hash", map[string]any{"sha256": demoDropper.sha256, "reason": "VMRay says malicious", "execute": true}, &ban)
	fmt.Println(ban.Mode, ban.Status, world.CarbonBlack.Banned(demoDropper.sha256))
	// Output:
	// malicious 92 [Demo.Dropper] Downloads an executable
	// dry-run skipped false
}
