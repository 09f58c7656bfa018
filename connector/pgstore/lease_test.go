package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

// fakeClock is the lease clock shared by the replicas of one test, so expiry is decided by the test, not by waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// replicas opens n handles on one fresh schema, sharing one fake lease clock.
func replicas(t *testing.T, n int) ([]*pgstore.Store, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	schema := pgstoretest.NewSchema(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		stores[i] = pgstoretest.Open(t, schema, pgstore.Options{Now: clock.Now})
	}
	return stores, clock
}

func putItems(t *testing.T, s *pgstore.Store, items ...connector.Item) {
	t.Helper()
	mustUpdate(t, s, func(tx connector.Tx) error {
		for _, it := range items {
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		return nil
	})
}

var open = connector.OpenStates()

// Four replicas race to claim 60 open items in small batches: every item is claimed exactly once, final items and
// items of other states are never claimed, and every lease has its own token.
func TestClaimItemsRacingReplicasGetDisjointSets(t *testing.T) {
	stores, _ := replicas(t, 4)
	const n = 60
	var want []string
	var items []connector.Item
	for i := range n {
		it := connectortest.SampleItem(i, open[i%len(open)])
		items = append(items, it)
		want = append(want, it.Key.String())
	}
	items = append(items, connectortest.SampleItem(n, connector.StateDone), connectortest.SampleItem(n+1, connector.StateFailed))
	putItems(t, stores[0], items...)

	var mu sync.Mutex
	claimed := map[string]string{} // item -> owner
	tokens := map[int64]bool{}
	var wg sync.WaitGroup
	for r, s := range stores {
		owner := fmt.Sprintf("replica-%d", r)
		wg.Go(func() {
			for {
				cs, err := s.ClaimItems(context.Background(), owner, open, 4, time.Minute)
				if err != nil {
					t.Errorf("%s: ClaimItems: %v", owner, err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					k := c.Lease.Item.String()
					if prev, dup := claimed[k]; dup {
						t.Errorf("item %s claimed by %s and again by %s", k, prev, owner)
					}
					if tokens[c.Lease.Token] {
						t.Errorf("token %d handed out twice", c.Lease.Token)
					}
					if c.Lease.Owner != owner || c.Item.Key != c.Lease.Item || c.Item.State.Final() {
						t.Errorf("claim %+v of item %s in state %s", c.Lease, c.Item.Key, c.Item.State)
					}
					claimed[k], tokens[c.Lease.Token] = owner, true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := make([]string, 0, len(claimed))
	for k := range claimed {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claimed %d items, want the %d open ones", len(got), len(want))
	}
	// Every lease is held: nothing is left to claim.
	if cs, err := stores[1].ClaimItems(context.Background(), "late", open, 100, time.Minute); err != nil || len(cs) != 0 {
		t.Errorf("ClaimItems while every lease is held = %d claims, %v", len(cs), err)
	}
}

// A replica paused past its lease comes back to find the item claimed by another: its renewals, releases and fenced
// writes fail with a *LeaseLostError that names the new holder, and nothing it writes lands.
func TestStaleOwnerIsFenced(t *testing.T) {
	stores, clock := replicas(t, 2)
	a, b := stores[0], stores[1]
	ctx := context.Background()
	it := connectortest.SampleItem(1, connector.StateAwaiting)
	it.Revision = 0
	putItems(t, a, it)

	ca, ok, err := a.ClaimItem(ctx, it.Key, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("a: ClaimItem = %v, %v", ok, err)
	}
	clock.Advance(59 * time.Second)
	if _, ok, err := b.ClaimItem(ctx, it.Key, "b", time.Minute); err != nil || ok {
		t.Fatalf("b claimed an item under a's unexpired lease (ok=%v, err=%v)", ok, err)
	}
	// A renewed lease runs from the renewal.
	renewed, err := a.Renew(ctx, ca.Lease, time.Minute)
	if err != nil || !renewed.Expires.Equal(clock.Now().Add(time.Minute)) || renewed.Token != ca.Lease.Token {
		t.Fatalf("Renew = %+v, %v; want the same token expiring at %s", renewed, err, clock.Now().Add(time.Minute))
	}
	clock.Advance(61 * time.Second) // a is paused past its renewed lease
	cb, ok, err := b.ClaimItem(ctx, it.Key, "b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("b: ClaimItem of an expired lease = %v, %v", ok, err)
	}
	if cb.Lease.Token <= ca.Lease.Token {
		t.Errorf("new token %d is not larger than the old %d", cb.Lease.Token, ca.Lease.Token)
	}

	stale := it
	stale.Revision = 99
	err = a.UpdateFenced(ctx, renewed, func(tx connector.Tx) error {
		if err := tx.PutItem(stale); err != nil {
			return err
		}
		return tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "ban", Item: it.Key}, Status: connector.Acted})
	})
	var lost *pgstore.LeaseLostError
	if !errors.As(err, &lost) || !errors.Is(err, pgstore.ErrLeaseLost) || lost.Owner != "b" || lost.Token != cb.Lease.Token {
		t.Fatalf("stale UpdateFenced = %v; want a LeaseLostError naming b and token %d", err, cb.Lease.Token)
	}
	if _, err := a.Renew(ctx, renewed, time.Minute); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("stale Renew = %v, want ErrLeaseLost", err)
	}
	if err := a.Release(ctx, renewed); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("stale Release = %v, want ErrLeaseLost", err)
	}
	mustView(t, b, func(tx connector.Tx) error {
		got, _, err := tx.Item(it.Key)
		if err != nil || got.Revision != 0 {
			t.Errorf("item after the stale write: revision %d, %v; want 0", got.Revision, err)
		}
		if _, found, _ := tx.Action(connector.ActionKey{Responder: "ban", Item: it.Key}); found {
			t.Errorf("the stale owner's action was recorded")
		}
		return nil
	})
	// The new owner writes.
	if err := b.UpdateFenced(ctx, cb.Lease, func(tx connector.Tx) error {
		cur, _, err := tx.Item(it.Key)
		if err != nil {
			return err
		}
		cur.Revision = 1
		return tx.PutItem(cur)
	}); err != nil {
		t.Fatalf("owner's UpdateFenced: %v", err)
	}
	// A released lease makes the item claimable at once, and fences its former owner.
	if err := b.Release(ctx, cb.Lease); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := b.UpdateFenced(ctx, cb.Lease, func(connector.Tx) error { return nil }); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("UpdateFenced after Release = %v, want ErrLeaseLost", err)
	}
	if c, ok, err := a.ClaimItem(ctx, it.Key, "a", time.Minute); err != nil || !ok || c.Item.Revision != 1 {
		t.Errorf("ClaimItem after Release = %v (revision %d), %v; want the item with b's write", ok, c.Item.Revision, err)
	}
}

// A claim that races with the holder's fenced transaction waits for it: the holder's write lands, and the new owner
// starts from it. The test waits for the claim to block on the row lock (pg_stat_activity), not for a duration.
func TestClaimWaitsForFencedWrite(t *testing.T) {
	stores, clock := replicas(t, 2)
	a, b := stores[0], stores[1]
	ctx := context.Background()
	it := connectortest.SampleItem(1, connector.StateResponding)
	it.Revision = 0
	putItems(t, a, it)
	ca, ok, err := a.ClaimItem(ctx, it.Key, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimItem: %v, %v", ok, err)
	}
	clock.Advance(2 * time.Minute) // a's lease has expired, but nobody claimed the item yet

	inFn := make(chan struct{}, 10)
	proceed := make(chan struct{})
	fenced := make(chan error, 1)
	go func() {
		fenced <- a.UpdateFenced(ctx, ca.Lease, func(tx connector.Tx) error {
			inFn <- struct{}{}
			<-proceed
			cur, _, err := tx.Item(it.Key)
			if err != nil {
				return err
			}
			cur.Revision = 7
			return tx.PutItem(cur)
		})
	}()
	<-inFn
	type claimResult struct {
		c   pgstore.Claim
		ok  bool
		err error
	}
	claimed := make(chan claimResult, 1)
	go func() {
		c, ok, err := b.ClaimItem(ctx, it.Key, "b", time.Minute)
		claimed <- claimResult{c, ok, err}
	}()
	blocked := waitForLockWait(t)
	close(proceed)
	if !blocked {
		t.Fatal("the racing claim never waited for the fenced transaction's row lock")
	}
	if err := <-fenced; err != nil {
		t.Fatalf("a's fenced write with an expired but unclaimed lease: %v", err)
	}
	r := <-claimed
	if r.err != nil || !r.ok || r.c.Item.Revision != 7 {
		t.Fatalf("b's claim = %v (revision %d), %v; want the item with a's write (revision 7)", r.ok, r.c.Item.Revision, r.err)
	}
	if err := a.UpdateFenced(ctx, ca.Lease, func(connector.Tx) error { return nil }); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("a's next fenced write = %v, want ErrLeaseLost", err)
	}
}

// waitForLockWait reports whether a session of the test database waits for a row lock within 30 s (a bound for a
// busy machine, not a timing assertion: the wait normally shows at the first poll).
func waitForLockWait(t *testing.T) bool {
	t.Helper()
	for range 3000 {
		var waiting int
		if err := queryRow(t, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", &waiting); err != nil {
			t.Error(err)
			return false
		}
		if waiting > 0 {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Items whose next attempt lies ahead are not claimed until it is due; due items come earliest first.
func TestClaimHonoursNextAttempt(t *testing.T) {
	stores, clock := replicas(t, 1)
	s := stores[0]
	later, soon, now := connectortest.SampleItem(1, connector.StateNew), connectortest.SampleItem(2, connector.StateNew),
		connectortest.SampleItem(3, connector.StateNew)
	// The engine persists a failed step's next try as Item.Retry.Next; PutItem copies it to the claimable index.
	later.Retry = &connector.RetryState{Stage: connector.StageLookup, Class: connector.Transient, Attempts: 1,
		Since: clock.Now(), Next: clock.Now().Add(time.Hour)}
	soon.Retry = &connector.RetryState{Stage: connector.StageSubmit, Class: connector.Transient, Attempts: 2,
		Since: clock.Now(), Next: clock.Now().Add(time.Minute)}
	putItems(t, s, later, soon, now)

	claimKeys := func() []connector.Key {
		cs, err := s.ClaimItems(context.Background(), "r", open, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var keys []connector.Key
		for _, c := range cs {
			keys = append(keys, c.Lease.Item)
		}
		return keys
	}
	if got := claimKeys(); !slices.Equal(got, []connector.Key{now.Key}) {
		t.Errorf("claimable now: %v, want only %s", got, now.Key)
	}
	clock.Advance(2 * time.Hour) // every lease has expired and every attempt is due
	if got := claimKeys(); !slices.Equal(got, []connector.Key{now.Key, soon.Key, later.Key}) {
		t.Errorf("claim order = %v, want the item without a next attempt, then earliest next attempt first", got)
	}
}

// One collector per source: the second replica is refused while the lease runs, takes over once it expires, and the
// first replica's checkpoint write is then refused.
func TestSourceLease(t *testing.T) {
	stores, clock := replicas(t, 2)
	a, b := stores[0], stores[1]
	ctx := context.Background()
	la, ok, err := a.ClaimSource(ctx, "cbc-alerts", "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("a: ClaimSource = %v, %v", ok, err)
	}
	if _, ok, err := b.ClaimSource(ctx, "cbc-alerts", "b", time.Minute); err != nil || ok {
		t.Fatalf("b claimed a source under a's lease: %v, %v", ok, err)
	}
	if _, ok, err := b.ClaimSource(ctx, "s1-threats", "b", time.Minute); err != nil || !ok {
		t.Fatalf("b: ClaimSource of another source = %v, %v", ok, err)
	}
	setCP := func(cp string) func(connector.Tx) error {
		return func(tx connector.Tx) error { return tx.SetCheckpoint("cbc-alerts", connector.Checkpoint(cp)) }
	}
	if err := a.UpdateFenced(ctx, la, setCP("window-1")); err != nil {
		t.Fatalf("a: fenced checkpoint: %v", err)
	}
	clock.Advance(time.Minute)
	lb, ok, err := b.ClaimSource(ctx, "cbc-alerts", "b", time.Minute)
	if err != nil || !ok || lb.Token <= la.Token {
		t.Fatalf("b: ClaimSource after expiry = %+v, %v, %v", lb, ok, err)
	}
	if err := a.UpdateFenced(ctx, la, setCP("window-2-from-a")); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("a's checkpoint write after losing the source = %v, want ErrLeaseLost", err)
	}
	if err := b.UpdateFenced(ctx, lb, setCP("window-2")); err != nil {
		t.Fatalf("b: fenced checkpoint: %v", err)
	}
	mustView(t, a, func(tx connector.Tx) error {
		if cp, err := tx.Checkpoint("cbc-alerts"); err != nil || string(cp) != "window-2" {
			t.Errorf("checkpoint = %q, %v; want b's window-2", cp, err)
		}
		return nil
	})
	if err := b.Release(ctx, lb); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, ok, err := a.ClaimSource(ctx, "cbc-alerts", "a", time.Minute); err != nil || !ok {
		t.Errorf("ClaimSource after Release = %v, %v", ok, err)
	}
}

// Collectors racing on one checkpoint with compare-and-swap: every swap that succeeds advances it by one, every
// other fails with ErrCheckpointMoved, and none is lost.
func TestSwapCheckpointUnderContention(t *testing.T) {
	stores, _ := replicas(t, 2)
	ctx := context.Background()
	if err := stores[0].SwapCheckpoint(ctx, "tap", nil, connector.Checkpoint("0")); err != nil {
		t.Fatalf("first SwapCheckpoint: %v", err)
	}
	if err := stores[1].SwapCheckpoint(ctx, "tap", nil, connector.Checkpoint("0")); !errors.Is(err, pgstore.ErrCheckpointMoved) {
		t.Fatalf("second swap from no checkpoint = %v, want ErrCheckpointMoved", err)
	}
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for w := range 6 {
		s := stores[w%2]
		wg.Go(func() {
			for range 15 {
				var cur connector.Checkpoint
				if err := s.View(ctx, func(tx connector.Tx) error {
					var err error
					cur, err = tx.Checkpoint("tap")
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				var n int
				fmt.Sscan(string(cur), &n)
				err := s.SwapCheckpoint(ctx, "tap", cur, connector.Checkpoint(fmt.Sprint(n+1)))
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
				case !errors.Is(err, pgstore.ErrCheckpointMoved):
					t.Errorf("SwapCheckpoint: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	mustView(t, stores[0], func(tx connector.Tx) error {
		if cp, err := tx.Checkpoint("tap"); err != nil || string(cp) != fmt.Sprint(won) {
			t.Errorf("checkpoint = %q, %v after %d successful swaps", cp, err, won)
		}
		return nil
	})
}

// Leases need an owner and a positive duration; a fenced update needs a lease on exactly one resource; a closed store
// refuses them all.
func TestLeaseBadInput(t *testing.T) {
	stores, _ := replicas(t, 1)
	s := stores[0]
	ctx := context.Background()
	key := connectortest.SampleItem(1, connector.StateNew).Key
	for name, err := range map[string]error{
		"ClaimItems without owner":    second(s.ClaimItems(ctx, "", open, 1, time.Minute)),
		"ClaimItems without duration": second(s.ClaimItems(ctx, "r", open, 1, 0)),
		"ClaimItems without limit":    second(s.ClaimItems(ctx, "r", open, 0, time.Minute)),
		"ClaimItems without states":   second(s.ClaimItems(ctx, "r", nil, 1, time.Minute)),
		"ClaimSource without name":    third(s.ClaimSource(ctx, "", "r", time.Minute)),
		"Renew without duration":      second(s.Renew(ctx, pgstore.Lease{Item: key, Owner: "r", Token: 1}, -time.Second)),
		"UpdateFenced on nothing":     s.UpdateFenced(ctx, pgstore.Lease{Owner: "r"}, func(connector.Tx) error { return nil }),
	} {
		if err == nil {
			t.Errorf("%s succeeded", name)
		}
	}
	if _, found, err := s.ClaimItem(ctx, key, "r", time.Minute); err != nil || found {
		t.Errorf("ClaimItem of a missing item = %v, %v; want not found", found, err)
	}
	if err := s.Release(ctx, pgstore.Lease{Item: key, Owner: "r", Token: 1}); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Errorf("Release of a lease never granted = %v, want ErrLeaseLost", err)
	}
	s.Close()
	if _, err := s.ClaimItems(ctx, "r", open, 1, time.Minute); !errors.Is(err, connector.ErrClosed) {
		t.Errorf("ClaimItems after Close = %v, want ErrClosed", err)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }
