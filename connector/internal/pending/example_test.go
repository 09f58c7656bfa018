package pending_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
)

// A device responder over a vendor that applies actions later: the second
// file seen on the device does not ask again, and after a lost answer the
// responder waits instead of asking blindly.
func Example() {
	quarantined := map[string]bool{} // the vendor's state, which lags behind
	requests := 0
	lost := false
	actions := pending.New(0, nil)
	quarantine := func(device string) (connector.Result, error) {
		return actions.Do(device, time.Time{}, func(r pending.Request) (connector.Result, bool, error) {
			if quarantined[device] {
				return connector.Result{Status: connector.Unchanged, Detail: "already quarantined"}, false, nil
			}
			if res, ok, err := actions.Pending(r, "quarantine of "+device); ok {
				return res, false, err
			}
			requests++
			if lost {
				return connector.Result{}, true, errors.New("connection reset")
			}
			return connector.Result{Status: connector.Acted, Detail: "quarantined"}, true, nil
		})
	}
	for _, device := range []string{"ws-1", "ws-1"} {
		res, err := quarantine(device)
		fmt.Println(device, res.Status, err)
	}
	lost = true
	_, err := quarantine("ws-2")
	fmt.Println("ws-2", err)
	_, err = quarantine("ws-2")
	_, later := connector.RetryAfter(err)
	fmt.Println("ws-2 again: retry later", later, errors.Is(err, pending.ErrUnknownOutcome))
	fmt.Println("requests:", requests)
	// Output:
	// ws-1 acted <nil>
	// ws-1 unchanged <nil>
	// ws-2 connection reset
	// ws-2 again: retry later true true
	// requests: 2
}
