package pending_test

import (
	"errors"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
)

// An attempt the engine started before a restart (Finding.EarlierAttempt)
// holds a new request back for the rest of the hold, and only then is the
// action requested again.
func TestEarlierStartHoldsTheRequestBack(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	a := pending.New(time.Minute, func() time.Time { return now })
	sent := 0
	quarantine := func(earlier time.Time) (connector.Result, error) {
		return a.Do("42", earlier, func(r pending.Request) (connector.Result, bool, error) {
			if res, ok, err := a.Pending(r, "quarantine of 42"); ok {
				return res, false, err
			}
			sent++
			return connector.Result{Status: connector.Acted}, true, nil
		})
	}
	earlier := now.Add(-20 * time.Second)
	_, err := quarantine(earlier)
	after, later := connector.RetryAfter(err)
	if !later || after != 40*time.Second || !errors.Is(err, connector.ErrActionSettling) || sent != 0 {
		t.Fatalf("within the hold: err %v (after %v), %d sent; want RetryLater for 40s, settling, nothing sent", err, after, sent)
	}
	now = now.Add(41 * time.Second)
	if res, err := quarantine(earlier); err != nil || res.Status != connector.Acted || sent != 1 {
		t.Fatalf("after the hold: %+v, %v, %d sent; want acted once", res, err, sent)
	}
}

// DoAll hands each target the engine's earlier attempt when this process
// requested nothing for it, and only targets whose earlier attempt is past the
// hold are asked for.
func TestDoAllHoldsTargetsWithAnEarlierAttempt(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	a := pending.New(time.Minute, func() time.Time { return now })
	keys := []string{"7", "8", "9"}
	earlier := []time.Time{now.Add(-10 * time.Second), now.Add(-2 * time.Minute), {}}
	var asked []string
	res, errs := a.DoAll(keys, earlier, func(rs []pending.Request) ([]connector.Result, []bool, []error) {
		res, sent, errs := make([]connector.Result, len(rs)), make([]bool, len(rs)), make([]error, len(rs))
		for i, r := range rs {
			if out, ok, err := a.Pending(r, "quarantine of "+keys[i]); ok {
				res[i], errs[i] = out, err
				continue
			}
			asked = append(asked, keys[i])
			res[i], sent[i] = connector.Result{Status: connector.Acted}, true
		}
		return res, sent, errs
	})
	if after, later := connector.RetryAfter(errs[0]); !later || after != 50*time.Second || !errors.Is(errs[0], connector.ErrActionSettling) {
		t.Errorf("target 7 (attempt 10 s ago): %+v, %v; want RetryLater for 50s, settling", res[0], errs[0])
	}
	if errs[1] != nil || errs[2] != nil || len(asked) != 2 || asked[0] != "8" || asked[1] != "9" {
		t.Errorf("asked %v, errors %v, %v; want 8 (attempt past the hold) and 9 (none) asked", asked, errs[1], errs[2])
	}
}
