package connectortest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// SharedStoreHarness tells TestSharedStore how to open handles on one shared store.
type SharedStoreHarness struct {
	// Open returns n handles (as n replicas would open them) on one new, empty store, whose leases all follow the
	// clock now. The suite closes them.
	Open func(t testing.TB, n int, now func() time.Time) []connector.LeasingStore
}

// TestSharedStore is the conformance suite for connector.LeasingStore implementations, the stores several replicas
// share: replicas that claim at once get disjoint items with distinct, growing fencing tokens; a lease keeps the
// item from everyone else until it expires or is released; the writes and renewals of an owner whose lease was taken
// over are refused and change nothing; due times and final states are honoured; one replica at a time holds a
// source, and its checkpoint advances without a lost update under contention; a replica is woken when another stores
// claimable work.
func TestSharedStore(t *testing.T, h SharedStoreHarness) {
	t.Helper()
	open := func(t *testing.T, n int) ([]connector.LeasingStore, *fakehttp.ManualClock) {
		clock := fakehttp.NewManualClock(storeT0)
		stores := h.Open(t, n, clock.Now)
		if len(stores) != n {
			t.Fatalf("harness opened %d handles, want %d", len(stores), n)
		}
		t.Cleanup(func() {
			for _, s := range stores {
				s.Close()
			}
		})
		return stores, clock
	}
	t.Run("RacingClaims", func(t *testing.T) { testRacingClaims(t, open) })
	t.Run("ExpiredLease", func(t *testing.T) { testExpiredLease(t, open) })
	t.Run("Release", func(t *testing.T) { testRelease(t, open) })
	t.Run("DueAndFinal", func(t *testing.T) { testDueAndFinal(t, open) })
	t.Run("SourceLease", func(t *testing.T) { testSourceLease(t, open) })
	t.Run("CheckpointContention", func(t *testing.T) { testCheckpointContention(t, open) })
	t.Run("WorkNotification", func(t *testing.T) { testWorkNotification(t, open) })
}

type openShared func(t *testing.T, n int) ([]connector.LeasingStore, *fakehttp.ManualClock)

var openStates = connector.OpenStates()

func putSharedItems(t testing.TB, s connector.Store, items ...connector.Item) {
	t.Helper()
	update(t, s, func(tx connector.Tx) error {
		for _, it := range items {
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// Four replicas claim 120 items in batches at once: each item is claimed exactly once, every token is distinct.
func testRacingClaims(t *testing.T, open openShared) {
	stores, _ := open(t, 4)
	const n = 120
	items := make([]connector.Item, n)
	for i := range items {
		items[i] = SampleItem(i, openStates[i%len(openStates)])
	}
	putSharedItems(t, stores[0], items...)
	var mu sync.Mutex
	owners := map[connector.Key]string{}
	tokens := map[int64]bool{}
	var wg sync.WaitGroup
	for i, s := range stores {
		owner := "replica-" + strconv.Itoa(i)
		wg.Go(func() {
			for {
				claims, err := s.ClaimItems(ctxBG, owner, openStates, 7, time.Minute)
				if err != nil {
					t.Errorf("%s: ClaimItems: %v", owner, err)
					return
				}
				if len(claims) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claims {
					if prev, dup := owners[c.Item.Key]; dup {
						t.Errorf("item %s claimed by %s and %s", c.Item.Key, prev, owner)
					}
					if tokens[c.Lease.Token] {
						t.Errorf("token %d handed out twice", c.Lease.Token)
					}
					if c.Lease.Owner != owner || c.Lease.Item != c.Item.Key {
						t.Errorf("claim %+v for item %s", c.Lease, c.Item.Key)
					}
					owners[c.Item.Key], tokens[c.Lease.Token] = owner, true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owners) != n {
		t.Errorf("%d of %d items claimed", len(owners), n)
	}
}

// A lease keeps an item from the others until it expires; then a new owner claims it with a larger token, and the
// old owner's renewal and writes fail with ErrLeaseLost and change nothing.
func testExpiredLease(t *testing.T, open openShared) {
	stores, clock := open(t, 2)
	a, b := stores[0], stores[1]
	it := SampleItem(1, connector.StateNew)
	putSharedItems(t, a, it)
	ca, ok, err := a.ClaimItem(ctxBG, it.Key, "a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("a: ClaimItem = %v, %v", ok, err)
	}
	if _, ok, err := b.ClaimItem(ctxBG, it.Key, "b", time.Minute); err != nil || ok {
		t.Fatalf("b claimed an item under a's lease: %v, %v", ok, err)
	}
	if cs, err := b.ClaimItems(ctxBG, "b", openStates, 10, time.Minute); err != nil || len(cs) != 0 {
		t.Fatalf("b's ClaimItems under a's lease = %d claims, %v", len(cs), err)
	}
	clock.Advance(30 * time.Second)
	renewed, err := a.Renew(ctxBG, ca.Lease, time.Minute)
	if err != nil || renewed.Token != ca.Lease.Token || !renewed.Expires.After(ca.Lease.Expires) {
		t.Fatalf("Renew = %+v, %v; want the same token with a later expiry", renewed, err)
	}
	clock.Advance(2 * time.Minute)
	cbs, err := b.ClaimItems(ctxBG, "b", openStates, 10, time.Minute)
	if err != nil || len(cbs) != 1 {
		t.Fatalf("b could not claim the expired item: %d claims, %v", len(cbs), err)
	}
	cb := cbs[0]
	if cb.Lease.Token <= ca.Lease.Token {
		t.Errorf("new token %d is not larger than the old %d", cb.Lease.Token, ca.Lease.Token)
	}
	if _, err := a.Renew(ctxBG, renewed, time.Minute); !errors.Is(err, connector.ErrLeaseLost) {
		t.Errorf("stale Renew = %v, want ErrLeaseLost", err)
	}
	err = a.UpdateFenced(ctxBG, renewed, func(tx connector.Tx) error {
		stale := it
		stale.State = connector.StateDone
		if err := tx.PutItem(stale); err != nil {
			return err
		}
		return tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "isolate", Item: it.Key},
			Status: connector.Acted, At: storeT0})
	})
	if !errors.Is(err, connector.ErrLeaseLost) {
		t.Fatalf("stale UpdateFenced = %v, want ErrLeaseLost", err)
	}
	view(t, b, func(tx connector.Tx) error {
		got, _, err := tx.Item(it.Key)
		if err != nil {
			return err
		}
		_, acted, err := tx.Action(connector.ActionKey{Responder: "isolate", Item: it.Key})
		if got.State != connector.StateNew || acted {
			t.Errorf("the stale owner's refused write left state %s, action %v", got.State, acted)
		}
		return err
	})
	if err := b.UpdateFenced(ctxBG, cb.Lease, func(tx connector.Tx) error {
		got := cb.Item
		got.State = connector.StateAwaiting
		return tx.PutItem(got)
	}); err != nil {
		t.Errorf("the new owner's UpdateFenced = %v", err)
	}
	if _, ok := getItem(t, b, it.Key); !ok {
		t.Error("item vanished")
	}
}

// A released lease makes the item claimable at once; a second release, or a write under it, fails with ErrLeaseLost.
func testRelease(t *testing.T, open openShared) {
	stores, _ := open(t, 2)
	a, b := stores[0], stores[1]
	it := SampleItem(2, connector.StateResponding)
	putSharedItems(t, a, it)
	cs, err := a.ClaimItems(ctxBG, "a", openStates, 1, time.Minute)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ClaimItems = %d, %v", len(cs), err)
	}
	if err := a.Release(ctxBG, cs[0].Lease); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := a.Release(ctxBG, cs[0].Lease); !errors.Is(err, connector.ErrLeaseLost) {
		t.Errorf("second Release = %v, want ErrLeaseLost", err)
	}
	if err := a.UpdateFenced(ctxBG, cs[0].Lease, func(connector.Tx) error { return nil }); !errors.Is(err, connector.ErrLeaseLost) {
		t.Errorf("UpdateFenced after Release = %v, want ErrLeaseLost", err)
	}
	if _, ok, err := b.ClaimItem(ctxBG, it.Key, "b", time.Minute); err != nil || !ok {
		t.Errorf("b could not claim a released item: %v, %v", ok, err)
	}
}

// ClaimItems skips items whose next attempt lies ahead and items in a final state, and takes due items earliest
// first; ClaimItem takes an item whatever its state.
func testDueAndFinal(t *testing.T, open openShared) {
	stores, clock := open(t, 1)
	s := stores[0]
	later, soon, now := SampleItem(3, connector.StateNew), SampleItem(4, connector.StateAwaiting), SampleItem(5, connector.StateNew)
	later.Retry = &connector.RetryState{Stage: connector.StageLookup, Class: connector.Transient, Attempts: 1,
		Since: clock.Now(), Next: clock.Now().Add(time.Hour)}
	soon.Retry = &connector.RetryState{Stage: connector.StageAwait, Class: connector.Transient, Attempts: 1,
		Since: clock.Now(), Next: clock.Now().Add(time.Minute)}
	done, failed := SampleItem(6, connector.StateDone), SampleItem(7, connector.StateFailed)
	putSharedItems(t, s, later, soon, now, done, failed)
	claimed := func() []connector.Key {
		cs, err := s.ClaimItems(ctxBG, "r", openStates, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var keys []connector.Key
		for _, c := range cs {
			keys = append(keys, c.Item.Key)
		}
		return keys
	}
	if got := claimed(); fmt.Sprint(got) != fmt.Sprint([]connector.Key{now.Key}) {
		t.Errorf("claimable now: %v, want only %s", got, now.Key)
	}
	clock.Advance(2 * time.Hour)
	if got := claimed(); fmt.Sprint(got) != fmt.Sprint([]connector.Key{now.Key, soon.Key, later.Key}) {
		t.Errorf("claimed %v, want the item without a next attempt, then the earliest due", got)
	}
	if _, ok, err := s.ClaimItem(ctxBG, done.Key, "r", time.Second); err != nil || !ok {
		t.Errorf("ClaimItem of a done item = %v, %v", ok, err)
	}
	if _, ok, err := s.ClaimItem(ctxBG, SampleItem(99, connector.StateNew).Key, "r", time.Second); err != nil || ok {
		t.Errorf("ClaimItem of a missing item = %v, %v", ok, err)
	}
}

// Of replicas that claim one source at once exactly one gets it; after it expires another does, and the old
// holder's checkpoint write is refused.
func testSourceLease(t *testing.T, open openShared) {
	stores, clock := open(t, 3)
	var mu sync.Mutex
	var winners []connector.Lease
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			l, ok, err := s.ClaimSource(ctxBG, "edr", "replica-"+strconv.Itoa(i), time.Minute)
			if err != nil {
				t.Errorf("ClaimSource: %v", err)
			}
			if ok {
				mu.Lock()
				winners = append(winners, l)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d replicas hold the source at once, want 1", len(winners))
	}
	old := winners[0]
	clock.Advance(2 * time.Minute)
	l, ok, err := stores[0].ClaimSource(ctxBG, "edr", "late", time.Minute)
	if err != nil || !ok || l.Token <= old.Token {
		t.Fatalf("claim after expiry = %+v, %v, %v", l, ok, err)
	}
	err = stores[1].UpdateFenced(ctxBG, old, func(tx connector.Tx) error {
		return tx.SetCheckpoint("edr", connector.Checkpoint("stale"))
	})
	if !errors.Is(err, connector.ErrLeaseLost) {
		t.Errorf("the old holder's checkpoint write = %v, want ErrLeaseLost", err)
	}
	view(t, stores[2], func(tx connector.Tx) error {
		cp, err := tx.Checkpoint("edr")
		if cp != nil {
			t.Errorf("checkpoint = %q after a refused write", cp)
		}
		return err
	})
}

// Replicas take turns on a source (claim, read the checkpoint, advance it under the lease, release): every advance
// that committed is kept, none is lost to a concurrent one.
func testCheckpointContention(t *testing.T, open openShared) {
	stores, _ := open(t, 3)
	const rounds = 15
	var mu sync.Mutex
	committed := 0
	var wg sync.WaitGroup
	for i, s := range stores {
		owner := "replica-" + strconv.Itoa(i)
		wg.Go(func() {
			for done := 0; done < rounds; {
				l, ok, err := s.ClaimSource(ctxBG, "edr", owner, time.Minute)
				if err != nil {
					t.Errorf("ClaimSource: %v", err)
					return
				}
				if !ok {
					continue
				}
				err = s.UpdateFenced(ctxBG, l, func(tx connector.Tx) error {
					cp, err := tx.Checkpoint("edr")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(cp))
					return tx.SetCheckpoint("edr", connector.Checkpoint(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("UpdateFenced: %v", err)
					return
				}
				mu.Lock()
				committed++
				mu.Unlock()
				done++
				if err := s.Release(ctxBG, l); err != nil {
					t.Errorf("Release: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	view(t, stores[0], func(tx connector.Tx) error {
		cp, err := tx.Checkpoint("edr")
		if string(cp) != strconv.Itoa(committed) {
			t.Errorf("checkpoint %q after %d committed advances", cp, committed)
		}
		return err
	})
}

// A replica listening for work is woken when another stores an open item.
func testWorkNotification(t *testing.T, open openShared) {
	stores, _ := open(t, 2)
	ctx, cancel := context.WithTimeout(ctxBG, time.Minute)
	defer cancel()
	l, err := stores[1].ListenWork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	putSharedItems(t, stores[0], SampleItem(8, connector.StateNew))
	if err := l.Wait(ctx); err != nil {
		t.Errorf("Wait = %v, want a wake-up for the new item", err)
	}
}
