package sentinelone_test

import (
	"context"
	"testing"

	"github.com/soarkit/soarkit/internal/rest/resttest"
	"github.com/soarkit/soarkit/sentinelone"
)

const fuzzToken = "fuzzApiToken0123456789abcdefABCDEF"

// FuzzListPage feeds arbitrary bytes to the decoding of SentinelOne's list
// responses (the {"data", "pagination", "errors"} envelope and the threat,
// agent, activity, blocklist, IOC and Deep Visibility event records). It must
// never panic, and a failure must be a typed *sentinelone.Error that never
// shows the API token.
//
//	go test -run '^$' -fuzz FuzzListPage ./sentinelone/
func FuzzListPage(f *testing.F) {
	// The agents recording holds only the data array.
	wrap := func(data []byte) []byte {
		return append(append([]byte(`{"data":`), data...), `,"pagination":{"nextCursor":null,"totalItems":2}}`...)
	}
	resttest.AddSeeds(f, wrap, "threats_list.json", "agents_list_data.json", "activities_list.json",
		"restrictions_list.json", "threat_intelligence_iocs_list.json", "dv_events_page_1.json")
	for kind := range uint8(6) {
		f.Add(kind, []byte(`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`))
		f.Add(kind, []byte(`{"data":null,"errors":[{"code":4000010,"title":"Validation Error","detail":"token `+fuzzToken+`"}]}`))
		f.Add(kind, []byte(`{"data":[{"id":"1","createdAt":"not a time","threatInfo":{"sha1":7}}],"pagination":{"nextCursor":"YWJj"}}`))
	}
	canned := &resttest.Canned{}
	c, err := sentinelone.New("https://usea1.sentinelone.example", fuzzToken, sentinelone.WithoutRouteLimits(),
		sentinelone.WithHTTPClient(canned.Client()), sentinelone.WithRetry(sentinelone.RetryPolicy{Disabled: true}))
	if err != nil {
		f.Fatal(err)
	}
	resttest.FuzzCalls(f, canned, []string{fuzzToken},
		func(ctx context.Context) error {
			_, err := c.Threats.List(ctx, sentinelone.ThreatListOptions{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.Agents.List(ctx, sentinelone.AgentListOptions{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.Activities.List(ctx, sentinelone.ActivityListOptions{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.Blocklist.List(ctx, sentinelone.RestrictionListOptions{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.ThreatIntelligence.ListIOCs(ctx, sentinelone.IOCListOptions{})
			return err
		},
		func(ctx context.Context) error {
			_, err := c.DeepVisibility.Events(ctx, "q-1", sentinelone.DVEventListOptions{})
			return err
		},
	)
}
