package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// quietWindow is how long a Wait must stay quiet for the tests that check that no notification was sent. A late
// notification on a busy machine can only make such a test pass wrongly, never fail wrongly.
const quietWindow = 300 * time.Millisecond

func expectQuiet(t *testing.T, l *pgstore.Listener, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quietWindow)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: Wait = %v, want no notification", what, err)
	}
}

func expectWork(t *testing.T, l *pgstore.Listener, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("%s: Wait = %v, want a notification", what, err)
	}
}

// A replica waiting for work wakes when another stores a new item or releases one, and not for final items, for
// leased items, or for work in another schema.
func TestListenerWakesOnClaimableWork(t *testing.T) {
	stores, _ := replicas(t, 2)
	a, b := stores[0], stores[1]
	ctx := context.Background()
	other := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{})
	l, err := b.Listen(ctx)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()

	putItems(t, a, connectortest.SampleItem(1, connector.StateDone))
	putItems(t, other, connectortest.SampleItem(2, connector.StateNew))
	expectQuiet(t, l, "a final item, and a new item in another schema")

	// Several new items in one transaction: one notification.
	fresh := []connector.Item{connectortest.SampleItem(3, connector.StateNew), connectortest.SampleItem(4, connector.StateNew)}
	putItems(t, a, fresh...)
	expectWork(t, l, "new items")
	expectQuiet(t, l, "after the one notification of a transaction")

	c, ok, err := a.ClaimItem(ctx, fresh[0].Key, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimItem: %v, %v", ok, err)
	}
	if err := a.UpdateFenced(ctx, c.Lease, func(tx connector.Tx) error {
		it := c.Item
		it.State = connector.StateSubmitting
		return tx.PutItem(it)
	}); err != nil {
		t.Fatal(err)
	}
	expectQuiet(t, l, "a claim and the owner's state change")
	if err := a.Release(ctx, c.Lease); err != nil {
		t.Fatal(err)
	}
	expectWork(t, l, "a released open item")

	// A notification that arrives while nobody waits is kept for the next Wait.
	putItems(t, a, connectortest.SampleItem(5, connector.StateNew))
	time.Sleep(quietWindow) // let it arrive before anyone waits (the test passes either way if it is late)
	expectWork(t, l, "a notification sent before Wait")

	// Close ends a Wait in progress.
	waited := make(chan error, 1)
	go func() { waited <- l.Wait(ctx) }()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-waited; err == nil {
		t.Errorf("a Wait ended by Close returned nil")
	}
	if err := l.Wait(ctx); err == nil {
		t.Errorf("Wait after Close succeeded")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
