package connector_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// A dead letter is listed, shown with its reason and action log, requeued keeping what was done (no second analysis,
// no repeated action), and forgotten.
func TestStateOperations(t *testing.T) {
	ctx := context.Background()
	edr := connectortest.NewSource("edr")
	h1, h2 := edr.AddFile([]byte("MZ state one")), edr.AddFile([]byte("MZ state two"))
	for _, h := range []connector.Hashes{h1, h2} {
		edr.Add(connector.Evidence{Hashes: h, Sightings: sighting("1")})
	}
	a := connectortest.NewAnalyzer("sandbox")
	a.Default = connector.Malicious
	note := connectortest.NewResponder("note", connector.ScopeEvidence)
	ban := &countingResponder{Responder: connectortest.NewResponder("ban", connector.ScopeEvidence),
		errs: []error{connector.Permanent(errors.New("ban list full"))}}
	store := memstore.New()
	clk := newClock()
	cfg := fastConfig(store, a, []connector.Source{edr}, []connector.Responder{note, ban})
	cfg.Now = clk.Now
	cfg.Respond.Concurrency = 1 // countingResponder counts without a lock
	p := newPipeline(t, cfg)
	sum, err := p.RunOnce(ctx)
	if err != nil || sum.Failures[connector.StageRespond] != 1 {
		t.Fatalf("first run: %v, failures %v; want one respond dead letter", err, sum.Failures)
	}
	failed, err := connector.ListItems(ctx, store, connector.StateFailed)
	if err != nil || len(failed) != 1 {
		t.Fatalf("ListItems(failed) = %d items, %v", len(failed), err)
	}
	if all, _ := connector.ListItems(ctx, store); len(all) != 2 {
		t.Errorf("ListItems() = %d items, want 2", len(all))
	}
	dead := failed[0]
	// Any hash of the file names the item.
	byHash, err := connector.ParseItemKey(dead.Evidence.Hashes.MD5)
	if err != nil {
		t.Fatal(err)
	}
	d, err := connector.ShowItem(ctx, store, byHash)
	if err != nil || d.Item.Key != dead.Key || d.Item.Failure == nil || d.Item.Failure.Reason == "" ||
		d.Item.Verdict == nil || len(d.Actions) != 1 || d.Actions[0].Responder != "note" {
		t.Fatalf("ShowItem = %+v, %v; want the dead letter with its reason, verdict and the note action", d, err)
	}
	counts, err := connector.CountItems(ctx, store)
	if err != nil || counts.ByState[connector.StateFailed] != 1 || counts.ByState[connector.StateDone] != 1 ||
		!counts.OldestOpen.IsZero() {
		t.Errorf("CountItems = %+v, %v", counts, err)
	}
	if _, err := connector.RetryItems(ctx, store, clk.Now(), d.Item.Key, failed[0].Key); err != nil {
		t.Fatal(err)
	}
	doneKey, _ := connector.ParseItemKey(h1.SHA256)
	if doneKey == dead.Key {
		doneKey, _ = connector.ParseItemKey(h2.SHA256)
	}
	if _, err := connector.RetryItems(ctx, store, clk.Now(), doneKey); err == nil {
		t.Error("RetryItems of a done item succeeded")
	}
	if it := onlyItem(t, store, dead.Key); it.State != connector.StateResponding || it.Failure != nil {
		t.Fatalf("requeued item in %s (failure %+v); want responding, keeping its verdict", it.State, it.Failure)
	}
	submissions := len(a.Submissions())
	sum, err = p.RunOnce(ctx)
	if err != nil || sum.Pending != 0 || sum.FailureCount() != 0 {
		t.Fatalf("run after retry: %v, pending %d, failures %v", err, sum.Pending, sum.Failures)
	}
	if len(a.Submissions()) != submissions || len(ban.Effects()) != 2 || note.Effects()[dead.Key.String()] != 1 {
		t.Errorf("after the retry: %d submissions (want %d), ban effects %v, note effects %v; want no repeat",
			len(a.Submissions()), submissions, ban.Effects(), note.Effects())
	}
	gone, err := connector.ForgetItems(ctx, store, dead.Key)
	if err != nil || len(gone) != 1 {
		t.Fatalf("ForgetItems = %v, %v", gone, err)
	}
	if _, err := connector.ShowItem(ctx, store, dead.Key); !errors.Is(err, connector.ErrItemNotFound) {
		t.Errorf("ShowItem after forget = %v, want ErrItemNotFound", err)
	}
	if _, err := connector.ForgetItems(ctx, store, dead.Key); !errors.Is(err, connector.ErrItemNotFound) {
		t.Errorf("ForgetItems of an unknown key = %v, want ErrItemNotFound", err)
	}
	for _, bad := range []string{"", "xyz", "sha256:12"} {
		if _, err := connector.ParseItemKey(bad); err == nil {
			t.Errorf("ParseItemKey(%q) succeeded", bad)
		}
	}
	if sts, err := connector.ParseState("open"); err != nil || len(sts) != 4 {
		t.Errorf("ParseState(open) = %v, %v", sts, err)
	}
	if _, err := connector.ParseState("dead"); err == nil {
		t.Error("ParseState(dead) succeeded")
	}
}

// itemCountingStore wraps a Store whose transactions count items (connector.ItemCounter) and records which states'
// items were read.
type itemCountingStore struct {
	connector.Store
	mu   sync.Mutex
	read map[connector.State]int
}

type itemCountingTx struct {
	connector.Tx
	s *itemCountingStore
}

func (s *itemCountingStore) View(ctx context.Context, fn func(connector.Tx) error) error {
	return s.Store.View(ctx, func(tx connector.Tx) error { return fn(itemCountingTx{tx, s}) })
}

func (tx itemCountingTx) Items(st connector.State) iter.Seq2[connector.Item, error] {
	tx.s.mu.Lock()
	tx.s.read[st]++
	tx.s.mu.Unlock()
	return tx.Tx.Items(st)
}

func (tx itemCountingTx) ItemCount(st connector.State) (int, error) {
	n := 0
	for _, err := range tx.Tx.Items(st) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// CountItems reads the open items and only counts the final ones when the store can count.
func TestCountItemsCountsFinalStatesWithoutReadingThem(t *testing.T) {
	ctx := context.Background()
	inner := memstore.New()
	if err := inner.Update(ctx, func(tx connector.Tx) error {
		for i, st := range []connector.State{connector.StateDone, connector.StateDone, connector.StateFailed, connector.StateAwaiting} {
			it := connectortest.SampleItem(i+1, st)
			it.Retry = nil
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s := &itemCountingStore{Store: inner, read: map[connector.State]int{}}
	c, err := connector.CountItems(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.ByState[connector.StateDone] != 2 || c.ByState[connector.StateFailed] != 1 || c.ByState[connector.StateAwaiting] != 1 ||
		c.OldestOpen.IsZero() {
		t.Errorf("counts %+v", c)
	}
	if s.read[connector.StateDone] != 0 || s.read[connector.StateFailed] != 0 || s.read[connector.StateAwaiting] != 1 {
		t.Errorf("items read by state %v; want only the open states read", s.read)
	}
}
