package connectortest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
)

// Faults make fake components fail: here every call fails with a transient error.
func ExampleFaults() {
	faults := &connectortest.Faults{ErrorRate: 1, Seed: 1}
	r := connectortest.NewResponder("note", connector.ScopeSighting)
	r.Faults = faults
	_, err := r.Respond(context.Background(), connectortest.ExampleFinding(connector.ScopeSighting))
	fmt.Println(errors.Is(err, connectortest.ErrInjected), connector.IsPermanent(err), faults.Counts().Errors)

	faults.Disable(true)
	res, err := r.Respond(context.Background(), connectortest.ExampleFinding(connector.ScopeSighting))
	fmt.Println(res.Status, err)
	// Output:
	// true false 1
	// acted <nil>
}
