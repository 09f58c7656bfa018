package pgstoretest_test

import (
	"context"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// Two replicas in one test: both handles open the same fresh schema, which is dropped when the test ends, and what
// one writes the other reads. Without SOARKIT_TEST_POSTGRES_URL the test is skipped (and fails with CI=true).
func ExampleOpen() {
	testTwoReplicas := func(t *testing.T) {
		schema := pgstoretest.NewSchema(t)
		a := pgstoretest.Open(t, schema, pgstore.Options{})
		b := pgstoretest.Open(t, schema, pgstore.Options{})
		it := connectortest.SampleItem(1, connector.StateNew)
		if err := a.Update(context.Background(), func(tx connector.Tx) error { return tx.PutItem(it) }); err != nil {
			t.Fatal(err)
		}
		err := b.View(context.Background(), func(tx connector.Tx) error {
			if _, found, err := tx.Item(it.Key); err != nil || !found {
				t.Errorf("replica b does not see replica a's item: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = testTwoReplicas
}
