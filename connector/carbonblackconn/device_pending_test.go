package carbonblackconn_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// Carbon Black applies device actions when the sensor checks in: a device
// whose quarantine was accepted may still read as not quarantined. The next
// file seen on it (another item, at the same time or later) must not ask
// again, and a request whose answer was lost is not repeated blindly.
func TestQuarantineNotRepeatedWhilePending(t *testing.T) {
	fake, _ := newFake(t)
	q, _ := carbonblackconn.NewQuarantine(fake.Client(), "")
	actions := "/appservices/v6/orgs/" + fake.OrgKey() + "/device_actions"
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-20", OS: "WINDOWS"})
	// Accepted (204) but not applied yet.
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: actions, Status: 204, Times: 1})
	var wg sync.WaitGroup
	results := make([]connector.Result, 4)
	errs := make([]error, 4)
	for i := range results {
		f := deviceFinding(dev, "", 0)
		f.Key.Hex = strings.Repeat(string(rune('a'+i)), 64) // four files on one device
		wg.Go(func() { results[i], errs[i] = q.Respond(context.Background(), f) })
	}
	wg.Wait()
	acted := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("respond %d: %v", i, errs[i])
		}
		if res.Status == connector.Acted {
			acted++
		}
	}
	if n := fake.CountRequests("POST", actions); n != 1 || acted != 1 {
		t.Errorf("quarantine requests = %d, acted %d; want one request, the others unchanged (%+v)", n, acted, results)
	}

	// The answer is lost: the outcome is unknown, so the next call asks the
	// engine to come back later instead of sending the request again.
	other := fake.AddDevice(carbonblack.Device{Name: "WS-21", OS: "WINDOWS"})
	fake.ResetRequests()
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: actions, Drop: true})
	if _, err := q.Respond(context.Background(), deviceFinding(other, "", 0)); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost answer: %v, want a transient error", err)
	}
	sent := fake.CountRequests("POST", actions)
	fake.ClearFaults()
	_, err := q.Respond(context.Background(), deviceFinding(other, "", 0))
	if d, ok := connector.RetryAfter(err); !ok || d <= 0 || !errors.Is(err, carbonblackconn.ErrActionPending) {
		t.Errorf("after a lost answer: %v, want RetryLater", err)
	}
	if n := fake.CountRequests("POST", actions); n != sent {
		t.Errorf("requests after a lost answer: %d more", n-sent)
	}
}

// A policy move that does not show yet is not asked for again either.
func TestPolicyMoveNotRepeatedWhilePending(t *testing.T) {
	fake, _ := newFake(t)
	pol := fake.AddPolicy(carbonblack.Policy{Name: "Isolation Policy"})
	p, _ := carbonblackconn.NewPolicyMove(fake.Client(), "Isolation Policy", "")
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-22", OS: "WINDOWS", PolicyID: 1})
	actions := "/appservices/v6/orgs/" + fake.OrgKey() + "/device_actions"
	fake.InjectFault(carbonblacktest.Fault{Method: "POST", Path: actions, Status: 204, Times: 1})
	for i, want := range []connector.Status{connector.Acted, connector.Unchanged} {
		f := deviceFinding(dev, "", 0)
		f.Key.Hex = strings.Repeat(string(rune('a'+i)), 64)
		if res, err := p.Respond(context.Background(), f); err != nil || res.Status != want {
			t.Errorf("move %d to policy %d: %+v, %v; want %s", i, pol.ID, res, err, want)
		}
	}
	if n := fake.CountRequests("POST", actions); n != 1 {
		t.Errorf("policy moves = %d, want 1", n)
	}
}
