package proofpoint_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

// Fetch one hour of delivered messages with attachment threats and list the
// attachments worth hunting for.
func ExampleSIEMService_MessagesDelivered() {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake, err := proofpointtest.New(proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	fake.AddDeliveredMessage(proofpoint.Message{
		GUID: "fA8S1YIRh2taWGdoS02QyNccz985vY2D", MessageTime: proofpoint.Time{Time: now.Add(-45 * time.Minute)},
		Recipient: proofpoint.Addresses{"clark.kent@pharmtech.zz"}, MalwareScore: 100,
		MessageParts: []proofpoint.MessagePart{
			{Disposition: "inline", Filename: "text.html", SHA256: "a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e"},
			{Disposition: "attached", Filename: "Invoice_4821.docm", SHA256: "9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69", SandboxStatus: "threat"},
		},
		ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatType: "attachment", Classification: "malware", ThreatStatus: "active",
			Threat: "9f36af8af9da13db19df1debfc4831732c2b4e9d1c3a0c5f1f7b1e2d3c4b5a69"}},
	}, time.Time{})

	// In production: proofpoint.New(proofpoint.DefaultBaseURL, principal, secret).
	c := fake.Client()
	ev, err := c.SIEM.MessagesDelivered(context.Background(), proofpoint.SIEMOptions{
		Interval:    proofpoint.Interval{Start: now.Add(-time.Hour), End: now.Add(-time.Minute)},
		ThreatTypes: []string{proofpoint.ThreatTypeAttachment},
	})
	if err != nil {
		panic(err)
	}
	for _, m := range ev.MessagesDelivered {
		for _, p := range m.AttachedParts() {
			fmt.Println(m.Recipient[0], p.Filename, p.SHA256[:12])
		}
	}
	fmt.Println("resume from", ev.QueryEndTime.UTC().Format(time.RFC3339))
	fmt.Println("SIEM requests left today:", c.Pools().Status(proofpoint.PoolSIEM).Remaining)
	// Output:
	// clark.kent@pharmtech.zz Invoice_4821.docm 9f36af8af9da
	// resume from 2024-05-14T11:59:00Z
	// SIEM requests left today: 1799
}

// Walk a backlog window by window with a look-back overlap, persisting the
// resume point; a message TAP indexed late shows up in the next run.
func ExampleSIEMService_All() {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	clock := proofpointtest.NewManualClock(now)
	fake, err := proofpointtest.New(proofpointtest.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	msg := func(guid string, at time.Time) proofpoint.Message {
		return proofpoint.Message{GUID: guid, MessageTime: proofpoint.Time{Time: at},
			ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatType: "attachment", ThreatStatus: "active"}}}
	}
	fake.AddDeliveredMessage(msg("early", now.Add(-150*time.Minute)), time.Time{})
	// Happened at 11:50, indexed by TAP at 12:10.
	fake.AddDeliveredMessage(msg("late", now.Add(-10*time.Minute)), now.Add(10*time.Minute))

	c := fake.Client()
	seen := proofpoint.NewSeen()
	checkpoint := now.Add(-3 * time.Hour)
	run := func() {
		for b, err := range c.SIEM.All(context.Background(), proofpoint.SIEMRangeOptions{
			Streams:  []proofpoint.Stream{proofpoint.StreamMessagesDelivered},
			From:     checkpoint,
			LookBack: proofpoint.DefaultPollLookBack,
			Seen:     seen,
		}) {
			if err != nil {
				panic(err)
			}
			for _, m := range b.MessagesDelivered {
				fmt.Println("message", m.GUID, "in", b.Window)
			}
			checkpoint = b.Resume
		}
		fmt.Println("checkpoint", checkpoint.Format(time.Kitchen))
	}
	run()
	clock.Advance(15 * time.Minute)
	run()
	// Output:
	// message early in 2024-05-14T09:30:00Z/2024-05-14T10:30:00Z
	// checkpoint 11:59AM
	// message late in 2024-05-14T11:29:00Z/2024-05-14T12:14:00Z
	// checkpoint 12:14PM
}

// Read the remaining budget of the rolling 24-hour pools; a call is refused
// before it would spend a pool's reserve.
func ExamplePoolTracker() {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake, err := proofpointtest.New(proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	c := fake.Client(proofpoint.WithPoolLimit(proofpoint.PoolPeopleTopClickers, 50, 1))
	ctx := context.Background()
	for range 49 {
		if _, err := c.People.ListTopClickers(ctx, proofpoint.PeopleOptions{Window: 90}); err != nil {
			panic(err)
		}
	}
	st := c.Pools().Status(proofpoint.PoolPeopleTopClickers)
	fmt.Println("used", st.Used, "remaining", st.Remaining, "available", st.Available)
	_, err = c.People.ListTopClickers(ctx, proofpoint.PeopleOptions{Window: 90})
	fmt.Println(errors.Is(err, proofpoint.ErrPoolExhausted), errors.Is(err, proofpoint.ErrRateLimited))
	_, err = c.People.ListTopClickers(proofpoint.UseReserve(ctx), proofpoint.PeopleOptions{Window: 90})
	fmt.Println("with reserve:", err)
	// Output:
	// used 49 remaining 1 available 0
	// true true
	// with reserve: <nil>
}

// Look up a campaign's forensics and the network evidence in it.
func ExampleForensicsService_GetByCampaign() {
	fake, err := proofpointtest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	fake.AddCampaignForensics("aa9b3d62-4d72-4ebc-8f39-3da3833e7038", proofpoint.Forensics{Reports: []proofpoint.Report{{
		Scope: "CAMPAIGN", ID: "aa9b3d62-4d72-4ebc-8f39-3da3833e7038", Name: "Tordal",
		Forensics: []proofpoint.Evidence{{Type: "network", Display: "TCP connect 203.0.113.9:443",
			What: []byte(`{"action":"connect","ip":"203.0.113.9","port":"443","type":"tcp"}`)}},
	}}})
	f, err := fake.Client().Forensics.GetByCampaign(context.Background(), "aa9b3d62-4d72-4ebc-8f39-3da3833e7038")
	if err != nil {
		panic(err)
	}
	for _, e := range f.Reports[0].Forensics {
		if n, ok := e.Details.(*proofpoint.NetworkEvidence); ok {
			fmt.Println(n.Action, n.IP, n.Port, n.Type)
		}
	}
	// Output:
	// connect 203.0.113.9 443 tcp
}
