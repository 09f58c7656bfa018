package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/connector/connectortest"
)

func open(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	connectortest.TestStore(t, connectortest.StoreHarness{
		Open: func(t testing.TB) connector.Store { return open(t, filepath.Join(t.TempDir(), "state.db")) },
		Reopen: func(t testing.TB, s connector.Store) connector.Store {
			return open(t, s.(*boltstore.Store).Path())
		},
	})
}
