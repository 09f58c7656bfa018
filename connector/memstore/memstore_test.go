package memstore_test

import (
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

func TestConformance(t *testing.T) {
	connectortest.TestStore(t, connectortest.StoreHarness{
		Open:   func(testing.TB) connector.Store { return memstore.New() },
		Reopen: func(_ testing.TB, s connector.Store) connector.Store { return s.(*memstore.Store).Reopen() },
	})
}
