package sentinelone_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// Fetch a threat's file from the endpoint, verified against the threat's
// SHA1, and write a note on the threat.
func Example() {
	srv, err := sentinelonetest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-FIN-042", IsActive: true})
	sample := []byte("MZ... not really malware")
	threat := srv.AddThreat(sentinelone.Threat{
		ThreatInfo:        sentinelone.ThreatInfo{ThreatName: "invoice_8821.exe", SHA1: sha1hex(sample), FilePath: `C:\Users\jdoe\Downloads\invoice_8821.exe`},
		AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID},
	})
	srv.SetThreatFile(threat.ID, sentinelonetest.File{Content: sample})

	c := srv.Client() // in production: sentinelone.New("https://<console>", token)
	ctx := context.Background()
	for th, err := range c.Threats.All(ctx, sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{
		ConfidenceLevels: []string{sentinelone.ConfidenceMalicious}}}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		f, err := c.Threats.FetchFile(ctx, th.ID, sentinelone.FetchOptions{})
		if err != nil {
			fmt.Println(err)
			return
		}
		data, err := io.ReadAll(f) // the final Read checks the SHA1
		f.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d bytes from %s, verified %v\n", th.ThreatInfo.ThreatName, len(data), f.Path, f.Verified())
		if _, err := c.Threats.AddNote(ctx, sentinelone.ThreatFilter{IDs: []string{th.ID}}, "Analysed: malicious"); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(srv.Notes(threat.ID)[0].Text)
	// Output:
	// invoice_8821.exe: 24 bytes from C:\Users\jdoe\Downloads\invoice_8821.exe, verified true
	// Analysed: malicious
}

// Block a hash for every OS in a site; a second run reports the entries as
// already existing instead of failing.
func ExampleBlocklistService_CreateForOSTypes() {
	srv, _ := sentinelonetest.New()
	defer srv.Close()
	c := srv.Client()
	scope := sentinelone.Scope{SiteIDs: []string{sentinelonetest.DefaultSiteID}}
	entry := sentinelone.NewRestriction{Value: "3395856ce81f2b7382dee72602f798b642f14140", Description: "Reported from VMRay Analyzer"}
	for range 2 {
		res, err := c.Blocklist.CreateForOSTypes(context.Background(), scope, entry, sentinelone.OSWindows, sentinelone.OSMacOS, sentinelone.OSLinux)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res[0].AlreadyExists, res[1].AlreadyExists, res[2].AlreadyExists)
	}
	// Output:
	// false false false
	// true true true
}

// Run a Deep Visibility query and read every event, page by page.
func ExampleDeepVisibilityService_AllQueryEvents() {
	srv, _ := sentinelonetest.New()
	defer srv.Close()
	at := time.Date(2024, 5, 2, 9, 13, 58, 0, time.UTC)
	srv.AddDVEvents(
		sentinelone.DVEvent{ObjectType: "process", ProcessName: "invoice_8821.exe", CreatedAt: sentinelone.NewTime(at)},
		sentinelone.DVEvent{ObjectType: "process", SrcProcName: "powershell.exe", CreatedAt: sentinelone.NewTime(at.Add(time.Second))},
	)
	c := srv.Client()
	q := sentinelone.DVQuery{Query: `ObjectType = "Process"`, FromDate: sentinelone.NewTime(at.Add(-time.Hour)), ToDate: sentinelone.NewTime(at.Add(time.Hour))}
	for ev, err := range c.DeepVisibility.AllQueryEvents(context.Background(), q) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.ProcessName + ev.SrcProcName)
	}
	// Output:
	// invoice_8821.exe
	// powershell.exe
}

// Actions whose filter holds only scope are refused before anything is sent.
func ExampleAgentsService_Disconnect() {
	srv, _ := sentinelonetest.New()
	defer srv.Close()
	c := srv.Client()
	_, err := c.Agents.Disconnect(context.Background(), sentinelone.AgentFilter{Scope: sentinelone.Scope{Tenant: true}})
	fmt.Println(errors.Is(err, sentinelone.ErrEmptyFilter))
	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
	n, err := c.Agents.Disconnect(context.Background(), sentinelone.AgentFilter{IDs: []string{agent.ID}})
	fmt.Println(n, err, srv.AgentActions(agent.ID))
	// Output:
	// true
	// 1 <nil> [disconnect]
}

func ExampleGeneratePassword() {
	pw := sentinelone.GeneratePassword()
	fmt.Println(len(pw), sentinelone.ValidatePassword(pw))
	fmt.Println(errors.Is(sentinelone.ValidatePassword("short"), sentinelone.ErrInvalidPassword))
	// Output:
	// 24 <nil>
	// true
}
