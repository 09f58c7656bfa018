package proofpoint_test

import (
	"context"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
)

// The code blocks of the package documentation, compiled here so that they
// cannot drift from the API (TestDocSnippetsAreCompiled in the module root
// checks that every line of them appears in this file).

func docAuthentication(principal, secret string) (*proofpoint.Client, error) {
	c, err := proofpoint.New(proofpoint.DefaultBaseURL, principal, secret)
	return c, err
}

func docPolling(ctx context.Context, c *proofpoint.Client, checkpoint time.Time, handle func([]proofpoint.Message)) error {
	seen := proofpoint.NewSeen()
	for b, err := range c.SIEM.All(ctx, proofpoint.SIEMRangeOptions{
		Streams:     []proofpoint.Stream{proofpoint.StreamMessagesDelivered},
		From:        checkpoint,
		LookBack:    proofpoint.DefaultPollLookBack,
		ThreatTypes: []string{proofpoint.ThreatTypeAttachment},
		Seen:        seen,
	}) {
		if err != nil {
			return err
		}
		handle(b.MessagesDelivered)
		checkpoint = b.Resume
	}
	return nil
}

var _, _ = docAuthentication, docPolling
