package pending_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
)

// An attempt the engine started before a restart (connector.ActionStarted)
// holds a new request back for the rest of the hold, and only then is the
// action requested again.
func TestEarlierStartHoldsTheRequestBack(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	a := pending.New(time.Minute, func() time.Time { return now })
	sent := 0
	quarantine := func(ctx context.Context) (connector.Result, error) {
		return a.Do(ctx, "42", func(r pending.Request) (connector.Result, bool, error) {
			if res, ok, err := a.Pending(r, "quarantine of 42"); ok {
				return res, false, err
			}
			sent++
			return connector.Result{Status: connector.Acted}, true, nil
		})
	}
	ctx := connector.WithActionStarted(context.Background(), now.Add(-20*time.Second))
	_, err := quarantine(ctx)
	after, later := connector.RetryAfter(err)
	if !later || after != 40*time.Second || !errors.Is(err, connector.ErrActionSettling) || sent != 0 {
		t.Fatalf("within the hold: err %v (after %v), %d sent; want RetryLater for 40s, settling, nothing sent", err, after, sent)
	}
	now = now.Add(41 * time.Second)
	if res, err := quarantine(ctx); err != nil || res.Status != connector.Acted || sent != 1 {
		t.Fatalf("after the hold: %+v, %v, %d sent; want acted once", res, err, sent)
	}
}
