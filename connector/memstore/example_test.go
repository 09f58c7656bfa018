package memstore_test

import (
	"context"
	"fmt"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/memstore"
)

// Transactions are atomic: a failing function leaves nothing behind.
func Example() {
	s := memstore.New()
	ctx := context.Background()
	s.Update(ctx, func(tx connector.Tx) error {
		return tx.SetCheckpoint("tap", connector.Checkpoint("2026-03-01T10:00:00Z"))
	})
	err := s.Update(ctx, func(tx connector.Tx) error {
		tx.SetCheckpoint("tap", connector.Checkpoint("2026-03-01T11:00:00Z"))
		return fmt.Errorf("batch could not be stored")
	})
	s.View(ctx, func(tx connector.Tx) error {
		cp, _ := tx.Checkpoint("tap")
		fmt.Printf("%v; checkpoint still %s\n", err, cp)
		return nil
	})
	// Output: batch could not be stored; checkpoint still 2026-03-01T10:00:00Z
}
