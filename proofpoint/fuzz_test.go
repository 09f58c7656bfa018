package proofpoint_test

import (
	"context"
	"testing"
	"time"

	"github.com/soarkit/soarkit/internal/rest/resttest"
	"github.com/soarkit/soarkit/proofpoint"
)

const fuzzSecret = "fuzz-tap-secret-0123456789abcdef"

// FuzzListResponse feeds arbitrary bytes to the decoding of Proofpoint TAP's
// list responses: the SIEM event streams (messages, clicks, their threat
// maps and TAP's loose field types), the VAP and top-clicker people lists and
// the campaign id pages. It must never panic, and a failure must be a typed
// *proofpoint.Error that never shows the service secret.
//
//	go test -run '^$' -fuzz FuzzListResponse ./proofpoint/
func FuzzListResponse(f *testing.F) {
	resttest.AddSeeds(f, nil, "siem_all.json", "siem_issues.json", "siem_messages_delivered.json",
		"people_vap.json", "people_top_clickers.json", "campaign_ids.json")
	for kind := range uint8(6) {
		f.Add(kind, []byte(`{"queryEndTime":"2024-05-02T09:16:40Z","messagesDelivered":[{"GUID":"g","spamScore":"7",`+
			`"messageParts":[{"sha256":null}],"threatsInfoMap":[{"threatTime":"soon"}]}],"clicksPermitted":null}`))
		f.Add(kind, []byte(`{"users":[{"identity":{"guid":1},"threatStatistics":{"attackIndex":"x"}}],"totalVapUsers":-1,"`+fuzzSecret+`":0}`))
		f.Add(kind, []byte(`{"campaigns":[{"id":"c","lastUpdatedAt":0}]}`))
	}
	canned := &resttest.Canned{}
	c, err := proofpoint.New("https://tap-api-v2.proofpoint.example", "principal", fuzzSecret,
		proofpoint.WithHTTPClient(canned.Client()), proofpoint.WithRetry(proofpoint.RetryPolicy{Disabled: true}))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	window := proofpoint.Interval{Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour)}
	resttest.FuzzCalls(f, canned, []string{fuzzSecret},
		func(ctx context.Context) error {
			_, err := c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.Query{SinceSeconds: 600})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.SIEM.List(ctx, proofpoint.StreamIssues, proofpoint.Query{SinceSeconds: 600})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.SIEM.List(ctx, proofpoint.StreamMessagesDelivered, proofpoint.Query{SinceSeconds: 600})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.People.ListVAP(ctx, proofpoint.PeopleQuery{Window: 30})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.People.ListTopClickers(ctx, proofpoint.PeopleQuery{Window: 30})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.Campaigns.ListIDs(ctx, proofpoint.CampaignIDsQuery{Interval: window})
			return err
		},
	)
}
