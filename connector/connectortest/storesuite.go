package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// StoreHarness tells TestStore how to open the store under test.
type StoreHarness struct {
	// Open returns a new, empty store. The suite closes it.
	Open func(t testing.TB) connector.Store
	// Reopen opens the data of s again, as a restarted process would; the suite has closed s before.
	Reopen func(t testing.TB, s connector.Store) connector.Store
}

// TestStore is the conformance suite for connector.Store implementations: records round-trip exactly, transactions
// are atomic and read their own writes, View is read-only, the state index follows every change, concurrent updates
// lose nothing, Prune applies retention without touching open work, and a closed store refuses use while its data
// survives a reopen.
func TestStore(t *testing.T, h StoreHarness) {
	t.Helper()
	open := func(t *testing.T) connector.Store {
		s := h.Open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open(t)) })
	t.Run("ItemRoundTrip", func(t *testing.T) { testItemRoundTrip(t, open(t)) })
	t.Run("StateIndex", func(t *testing.T) { testStateIndex(t, open(t)) })
	t.Run("AliasesAndActions", func(t *testing.T) { testAliasesAndActions(t, open(t)) })
	t.Run("Atomicity", func(t *testing.T) { testAtomicity(t, open(t)) })
	t.Run("ReadOnlyView", func(t *testing.T) { testReadOnly(t, open(t)) })
	t.Run("ContextEnded", func(t *testing.T) { testContextEnded(t, open(t)) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open(t)) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open(t)) })
	t.Run("DeleteItemAndListActions", func(t *testing.T) { testDeleteAndActions(t, open(t)) })
	t.Run("ReopenAfterClose", func(t *testing.T) { testReopen(t, h) })
}

var (
	storeT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ctxBG   = context.Background()
)

// SampleItem returns a fully populated item for key n, useful for store tests.
func SampleItem(n int, state connector.State) connector.Item {
	content := fmt.Appendf(nil, "sample file %d", n)
	h := HashesOf(content)
	key, _ := h.Key()
	seen := storeT0.Add(time.Duration(n) * time.Minute)
	v := &connector.Verdict{
		Kind: connector.Malicious, Score: 87, Severity: 8,
		Classifications: []string{"Ransomware"}, ThreatNames: []string{"Mal/Generic-S"},
		VTIs: []connector.VTI{{Category: "Defense Evasion", Operation: "Modifies security settings", Score: 4}},
		IOCs: []connector.IOC{
			{Type: connector.IOCSHA256, Value: h.SHA256, Verdict: connector.Malicious},
			{Type: connector.IOCIP, Value: "198.51.100.7"},
			{Type: connector.IOCDomain, Value: "c2.example.net"},
		},
		ReportURL: "https://eu.cloud.vmray.com/samples/42", Analyzer: "vmray", AnalysisID: "42",
		SampleHashes: h, Time: seen.Add(time.Hour), Attributes: map[string]string{"sample_type": "Windows Exe"},
	}
	return connector.Item{
		Key: key,
		Evidence: connector.Evidence{
			Hashes: h, FileName: "invoice.exe", Size: int64(len(content)), Source: "cbc-alerts",
			FirstSeen: seen, LastSeen: seen.Add(time.Minute),
			Sightings: []connector.Sighting{{
				Source: "cbc-alerts", Time: seen, DeviceID: "98765", DeviceName: "WS-0042", OS: "windows",
				ProcessGUID: "7DESJ9GN-00181b7a-00001c2c-00000000-1d9b0c6d0b3d6b5", PID: 7212,
				FilePath: `c:\users\alice\downloads\invoice.exe`, Attributes: map[string]string{"alert_id": "a-1"},
			}},
		},
		State: state, Revision: 2, Verdict: v, VerdictAt: seen.Add(time.Hour),
		Ticket:      &connector.Ticket{Analyzer: "vmray", ID: `{"submission_id":7,"sample_id":42}`, Submitted: seen},
		Submissions: 1, SubmitStarted: seen,
		ActionStarts: map[string]time.Time{"quarantine|98765": seen.Add(90 * time.Minute)},
		Sample: &connector.SampleRecord{Name: "invoice.exe", Size: int64(len(content)), Source: "cbc-alerts",
			Hashes: h},
		Created: seen, Updated: seen.Add(2 * time.Hour),
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

func update(t testing.TB, s connector.Store, fn func(connector.Tx) error) {
	t.Helper()
	if err := s.Update(ctxBG, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, s connector.Store, fn func(connector.Tx) error) {
	t.Helper()
	if err := s.View(ctxBG, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func getItem(t testing.TB, s connector.Store, key connector.Key) (connector.Item, bool) {
	t.Helper()
	var it connector.Item
	var found bool
	view(t, s, func(tx connector.Tx) error {
		var err error
		it, found, err = tx.Item(key)
		return err
	})
	return it, found
}

func itemKeys(t testing.TB, s connector.Store, st connector.State) []string {
	t.Helper()
	var keys []string
	view(t, s, func(tx connector.Tx) error {
		for it, err := range tx.Items(st) {
			if err != nil {
				return err
			}
			if it.State != st {
				return fmt.Errorf("Items(%s) yielded an item in state %s", st, it.State)
			}
			keys = append(keys, it.Key.String())
		}
		return nil
	})
	return keys
}

func testCheckpoints(t testing.TB, s connector.Store) {
	view(t, s, func(tx connector.Tx) error {
		cp, err := tx.Checkpoint("never-seen")
		if err != nil || cp != nil {
			t.Errorf("Checkpoint of an unknown source = %q, %v; want nil, nil", cp, err)
		}
		return nil
	})
	update(t, s, func(tx connector.Tx) error {
		if err := tx.SetCheckpoint("tap", connector.Checkpoint(`{"end":"2026-03-01T12:00:00Z"}`)); err != nil {
			return err
		}
		return tx.SetCheckpoint("s1-threats", connector.Checkpoint("cursor-1"))
	})
	update(t, s, func(tx connector.Tx) error { return tx.SetCheckpoint("s1-threats", connector.Checkpoint("cursor-2")) })
	view(t, s, func(tx connector.Tx) error {
		for src, want := range map[string]string{"tap": `{"end":"2026-03-01T12:00:00Z"}`, "s1-threats": "cursor-2"} {
			got, err := tx.Checkpoint(src)
			if err != nil || string(got) != want {
				t.Errorf("Checkpoint(%q) = %q, %v; want %q", src, got, err, want)
			}
		}
		return nil
	})
}

func testItemRoundTrip(t testing.TB, s connector.Store) {
	want := SampleItem(1, connector.StateDone)
	update(t, s, func(tx connector.Tx) error { return tx.PutItem(want) })
	got, found := getItem(t, s, want.Key)
	if !found {
		t.Fatalf("Item(%s) not found after PutItem", want.Key)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(g, w) {
		t.Errorf("item changed in the store:\n got %s\nwant %s", g, w)
	}
	// The caller's copy must not share memory with the store.
	got.Evidence.Sightings[0].DeviceID = "changed"
	again, _ := getItem(t, s, want.Key)
	if again.Evidence.Sightings[0].DeviceID != "98765" {
		t.Errorf("modifying a returned item changed the stored one")
	}
	if _, found := getItem(t, s, SampleItem(2, connector.StateNew).Key); found {
		t.Errorf("Item of a key never stored was found")
	}
}

func testStateIndex(t testing.TB, s connector.Store) {
	a, b, c := SampleItem(1, connector.StateNew), SampleItem(2, connector.StateAwaiting), SampleItem(3, connector.StateNew)
	update(t, s, func(tx connector.Tx) error {
		for _, it := range []connector.Item{a, b, c} {
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		return nil
	})
	wantNew := []string{a.Key.String(), c.Key.String()}
	if a.Key.String() > c.Key.String() {
		wantNew = []string{c.Key.String(), a.Key.String()}
	}
	if got := itemKeys(t, s, connector.StateNew); fmt.Sprint(got) != fmt.Sprint(wantNew) {
		t.Errorf("Items(new) = %v, want %v in key order", got, wantNew)
	}
	a.State = connector.StateResponding
	update(t, s, func(tx connector.Tx) error {
		if err := tx.PutItem(a); err != nil {
			return err
		}
		return tx.PutItem(a) // writing the same state twice must not duplicate the index entry
	})
	if got := itemKeys(t, s, connector.StateNew); fmt.Sprint(got) != fmt.Sprint([]string{c.Key.String()}) {
		t.Errorf("after a state change Items(new) = %v, want [%s]", got, c.Key)
	}
	if got := itemKeys(t, s, connector.StateResponding); fmt.Sprint(got) != fmt.Sprint([]string{a.Key.String()}) {
		t.Errorf("Items(responding) = %v, want [%s]", got, a.Key)
	}
	if got := itemKeys(t, s, connector.StateFailed); len(got) != 0 {
		t.Errorf("Items(failed) = %v, want none", got)
	}
	// A store that counts without reading (connector.ItemCounter) counts what Items lists.
	want := map[connector.State]int{}
	for _, st := range connector.States() {
		want[st] = len(itemKeys(t, s, st))
	}
	if err := s.View(context.Background(), func(tx connector.Tx) error {
		counter, ok := tx.(connector.ItemCounter)
		if !ok {
			return nil
		}
		for _, st := range connector.States() {
			n, err := counter.ItemCount(st)
			if err != nil {
				return err
			}
			if n != want[st] {
				t.Errorf("ItemCount(%s) = %d, want %d", st, n, want[st])
			}
		}
		return nil
	}); err != nil {
		t.Errorf("ItemCount: %v", err)
	}
}

func testAliasesAndActions(t testing.TB, s connector.Store) {
	it := SampleItem(1, connector.StateDone)
	sha1Key := connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1}
	ak := connector.ActionKey{Responder: "watchlist", Item: it.Key}
	ak2 := connector.ActionKey{Responder: "watchlist", Item: it.Key, Target: "cbc-alerts?device=98765"}
	ak3 := connector.ActionKey{Responder: "ban", Item: it.Key}
	rec := connector.Action{ActionKey: ak, Status: connector.Acted, Detail: "created report 8f2c", At: storeT0}
	update(t, s, func(tx connector.Tx) error {
		if err := tx.PutAlias(sha1Key, it.Key); err != nil {
			return err
		}
		return tx.PutAction(rec)
	})
	view(t, s, func(tx connector.Tx) error {
		if k, found, err := tx.Alias(sha1Key); err != nil || !found || k != it.Key {
			t.Errorf("Alias(%s) = %s, %v, %v; want %s", sha1Key, k, found, err, it.Key)
		}
		if _, found, err := tx.Alias(connector.Key{Kind: connector.MD5, Hex: it.Evidence.Hashes.MD5}); err != nil || found {
			t.Errorf("Alias of an unknown hash: found=%v err=%v", found, err)
		}
		got, found, err := tx.Action(ak)
		if err != nil || !found {
			t.Fatalf("Action(%v) = %v, %v", ak, found, err)
		}
		if !bytes.Equal(mustJSON(t, got), mustJSON(t, rec)) {
			t.Errorf("Action = %+v, want %+v", got, rec)
		}
		for _, other := range []connector.ActionKey{ak2, ak3} {
			if _, found, err := tx.Action(other); err != nil || found {
				t.Errorf("Action(%v) found=%v err=%v; only %v was recorded", other, found, err, ak)
			}
		}
		return nil
	})
}

func testDeleteAndActions(t testing.TB, s connector.Store) {
	it, other := SampleItem(1, connector.StateFailed), SampleItem(2, connector.StateDone)
	sha1Key := connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1}
	acts := []connector.Action{
		{ActionKey: connector.ActionKey{Responder: "watchlist", Item: it.Key}, Status: connector.Acted, At: storeT0},
		{ActionKey: connector.ActionKey{Responder: "ban", Item: it.Key}, Status: connector.Unchanged, At: storeT0},
		{ActionKey: connector.ActionKey{Responder: "ban", Item: it.Key, Target: "device=2"}, Status: connector.Acted, At: storeT0},
	}
	kept := connector.Action{ActionKey: connector.ActionKey{Responder: "ban", Item: other.Key}, Status: connector.Acted, At: storeT0}
	update(t, s, func(tx connector.Tx) error {
		for _, x := range []connector.Item{it, other} {
			if err := tx.PutItem(x); err != nil {
				return err
			}
		}
		if err := tx.PutAlias(sha1Key, it.Key); err != nil {
			return err
		}
		for _, a := range append(acts, kept) {
			if err := tx.PutAction(a); err != nil {
				return err
			}
		}
		return nil
	})
	listActions := func(tx connector.Tx, key connector.Key) []string {
		var got []string
		for a, err := range tx.Actions(key) {
			if err != nil {
				t.Fatalf("Actions(%s): %v", key, err)
			}
			got = append(got, a.Responder+"/"+a.Target+"/"+string(a.Status))
		}
		return got
	}
	view(t, s, func(tx connector.Tx) error {
		want := []string{"ban//unchanged", "ban/device=2/acted", "watchlist//acted"}
		if got := listActions(tx, it.Key); !slices.Equal(got, want) {
			t.Errorf("Actions = %v, want %v (by responder, then target)", got, want)
		}
		return nil
	})
	// A deletion inside a transaction is seen by that transaction and applied only when it commits.
	errAbort := errors.New("abort")
	err := s.Update(ctxBG, func(tx connector.Tx) error {
		if err := tx.DeleteItem(it.Key); err != nil {
			return err
		}
		if _, found, err := tx.Item(it.Key); err != nil || found {
			t.Errorf("the deleting transaction still sees the item: found=%v err=%v", found, err)
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("aborted Update = %v", err)
	}
	view(t, s, func(tx connector.Tx) error {
		if _, found, _ := tx.Item(it.Key); !found {
			t.Error("an aborted deletion was applied")
		}
		return nil
	})
	update(t, s, func(tx connector.Tx) error {
		if err := tx.DeleteItem(it.Key); err != nil {
			return err
		}
		return tx.DeleteItem(connector.Key{Kind: connector.SHA256, Hex: strings.Repeat("0", 64)}) // absent: no error
	})
	view(t, s, func(tx connector.Tx) error {
		if _, found, err := tx.Item(it.Key); err != nil || found {
			t.Errorf("deleted item still found=%v err=%v", found, err)
		}
		for x, err := range tx.Items(connector.StateFailed) {
			t.Errorf("state index still lists %s (%v)", x.Key, err)
		}
		if _, found, _ := tx.Alias(sha1Key); found {
			t.Error("the deleted item's alias is still there")
		}
		if got := listActions(tx, it.Key); len(got) != 0 {
			t.Errorf("the deleted item's actions are still there: %v", got)
		}
		if got := listActions(tx, other.Key); len(got) != 1 {
			t.Errorf("another item's actions = %v, want its one record kept", got)
		}
		if _, found, _ := tx.Item(other.Key); !found {
			t.Error("another item was deleted")
		}
		return nil
	})
	// Read-only transactions refuse deletions.
	if err := s.View(ctxBG, func(tx connector.Tx) error { return tx.DeleteItem(other.Key) }); !errors.Is(err, connector.ErrReadOnly) {
		t.Errorf("DeleteItem in View = %v, want ErrReadOnly", err)
	}
}

func testAtomicity(t testing.TB, s connector.Store) {
	it := SampleItem(1, connector.StateNew)
	boom := errors.New("boom")
	err := s.Update(ctxBG, func(tx connector.Tx) error {
		if err := tx.PutItem(it); err != nil {
			return err
		}
		if err := tx.PutAlias(connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1}, it.Key); err != nil {
			return err
		}
		if err := tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "r", Item: it.Key}, Status: connector.Acted}); err != nil {
			return err
		}
		if err := tx.SetCheckpoint("src", connector.Checkpoint("7")); err != nil {
			return err
		}
		// Reads see the transaction's own writes.
		if _, found, err := tx.Item(it.Key); err != nil || !found {
			t.Errorf("Item inside the writing transaction: found=%v err=%v", found, err)
		}
		n := 0
		for _, err := range tx.Items(connector.StateNew) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 1 {
			t.Errorf("Items(new) inside the writing transaction yielded %d items, want 1", n)
		}
		if cp, err := tx.Checkpoint("src"); err != nil || string(cp) != "7" {
			t.Errorf("Checkpoint inside the writing transaction = %q, %v", cp, err)
		}
		if _, found, err := tx.Action(connector.ActionKey{Responder: "r", Item: it.Key}); err != nil || !found {
			t.Errorf("Action inside the writing transaction: found=%v err=%v", found, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	if _, found := getItem(t, s, it.Key); found {
		t.Errorf("item of a failed transaction was stored")
	}
	view(t, s, func(tx connector.Tx) error {
		if _, found, _ := tx.Alias(connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1}); found {
			t.Errorf("alias of a failed transaction was stored")
		}
		if _, found, _ := tx.Action(connector.ActionKey{Responder: "r", Item: it.Key}); found {
			t.Errorf("action of a failed transaction was stored")
		}
		if cp, _ := tx.Checkpoint("src"); cp != nil {
			t.Errorf("checkpoint of a failed transaction was stored: %q", cp)
		}
		return nil
	})
	if keys := itemKeys(t, s, connector.StateNew); len(keys) != 0 {
		t.Errorf("state index kept %v from a failed transaction", keys)
	}
}

func testReadOnly(t testing.TB, s connector.Store) {
	it := SampleItem(1, connector.StateNew)
	view(t, s, func(tx connector.Tx) error {
		for name, err := range map[string]error{
			"PutItem":       tx.PutItem(it),
			"PutAlias":      tx.PutAlias(it.Key, it.Key),
			"PutAction":     tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "r", Item: it.Key}}),
			"SetCheckpoint": tx.SetCheckpoint("src", connector.Checkpoint("1")),
		} {
			if !errors.Is(err, connector.ErrReadOnly) {
				t.Errorf("%s inside View = %v, want ErrReadOnly", name, err)
			}
		}
		return nil
	})
	if _, found := getItem(t, s, it.Key); found {
		t.Errorf("a write inside View was stored")
	}
}

func testContextEnded(t testing.TB, s connector.Store) {
	ctx, cancel := context.WithCancel(ctxBG)
	cancel()
	ran := false
	if err := s.Update(ctx, func(connector.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with an ended context = %v, want context.Canceled", err)
	}
	if err := s.View(ctx, func(connector.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with an ended context = %v, want context.Canceled", err)
	}
	if ran {
		t.Errorf("a transaction function ran although the context had ended")
	}
}

func testConcurrency(t testing.TB, s connector.Store) {
	it := SampleItem(1, connector.StateResponding)
	it.Revision = 0
	update(t, s, func(tx connector.Tx) error { return tx.PutItem(it) })
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for r := range rounds {
				err := s.Update(ctxBG, func(tx connector.Tx) error {
					cur, found, err := tx.Item(it.Key)
					if err != nil || !found {
						return fmt.Errorf("item missing: %v", err)
					}
					cur.Revision++
					if err := tx.PutItem(cur); err != nil {
						return err
					}
					return tx.PutAction(connector.Action{
						ActionKey: connector.ActionKey{Responder: fmt.Sprintf("r%d", w), Item: it.Key, Target: fmt.Sprint(r)},
						Status:    connector.Acted, At: storeT0,
					})
				})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range rounds {
				err := s.View(ctxBG, func(tx connector.Tx) error {
					cur, found, err := tx.Item(it.Key)
					if err != nil || !found || cur.Evidence.Hashes != it.Evidence.Hashes {
						return fmt.Errorf("concurrent read saw a broken item: found=%v err=%v", found, err)
					}
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := getItem(t, s, it.Key)
	if got.Revision != workers*rounds {
		t.Errorf("after %d concurrent increments Revision = %d (lost updates)", workers*rounds, got.Revision)
	}
	view(t, s, func(tx connector.Tx) error {
		for w := range workers {
			for r := range rounds {
				k := connector.ActionKey{Responder: fmt.Sprintf("r%d", w), Item: it.Key, Target: fmt.Sprint(r)}
				if _, found, err := tx.Action(k); err != nil || !found {
					t.Errorf("action %v lost: %v", k, err)
				}
			}
		}
		return nil
	})
}

func testPrune(t testing.TB, s connector.Store) {
	cutoff := storeT0.Add(24 * time.Hour)
	oldDone := SampleItem(1, connector.StateDone)
	oldFailed := SampleItem(2, connector.StateFailed)
	oldOpen := SampleItem(3, connector.StateAwaiting)
	youngDone := SampleItem(4, connector.StateDone)
	youngDone.Updated = cutoff.Add(time.Hour)
	items := []connector.Item{oldDone, oldFailed, oldOpen, youngDone}
	update(t, s, func(tx connector.Tx) error {
		for _, it := range items {
			if err := tx.PutItem(it); err != nil {
				return err
			}
			for _, h := range it.HashKeys() {
				if err := tx.PutAlias(h, it.Key); err != nil {
					return err
				}
			}
			for _, target := range []string{"", "cbc-alerts?device=98765"} {
				if err := tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "watchlist", Item: it.Key, Target: target},
					Status: connector.Acted, At: storeT0}); err != nil {
					return err
				}
			}
		}
		// An alias of oldDone's MD5 that points to another item must survive.
		return tx.SetCheckpoint("cbc-alerts", connector.Checkpoint("keep me"))
	})
	pr, err := s.Prune(ctxBG, cutoff)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if want := (connector.Pruned{Items: 2, Aliases: 6, Actions: 4}); pr != want {
		t.Errorf("Prune = %+v, want %+v", pr, want)
	}
	for _, it := range items {
		_, found := getItem(t, s, it.Key)
		wantFound := it.Key == oldOpen.Key || it.Key == youngDone.Key
		if found != wantFound {
			t.Errorf("item %s (%s, updated %s): found=%v after Prune, want %v", it.Key, it.State, it.Updated, found, wantFound)
		}
		view(t, s, func(tx connector.Tx) error {
			_, aliasFound, err := tx.Alias(connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1})
			if err != nil || aliasFound != wantFound {
				t.Errorf("alias of %s: found=%v err=%v, want found=%v", it.Key, aliasFound, err, wantFound)
			}
			_, actFound, err := tx.Action(connector.ActionKey{Responder: "watchlist", Item: it.Key, Target: "cbc-alerts?device=98765"})
			if err != nil || actFound != wantFound {
				t.Errorf("action of %s: found=%v err=%v, want found=%v", it.Key, actFound, err, wantFound)
			}
			return nil
		})
	}
	if keys := itemKeys(t, s, connector.StateDone); fmt.Sprint(keys) != fmt.Sprint([]string{youngDone.Key.String()}) {
		t.Errorf("Items(done) after Prune = %v", keys)
	}
	if keys := itemKeys(t, s, connector.StateFailed); len(keys) != 0 {
		t.Errorf("Items(failed) after Prune = %v", keys)
	}
	view(t, s, func(tx connector.Tx) error {
		if cp, err := tx.Checkpoint("cbc-alerts"); err != nil || string(cp) != "keep me" {
			t.Errorf("Prune touched a checkpoint: %q, %v", cp, err)
		}
		return nil
	})
}

func testReopen(t testing.TB, h StoreHarness) {
	s := h.Open(t)
	it := SampleItem(1, connector.StateAwaiting)
	ak := connector.ActionKey{Responder: "note", Item: it.Key, Target: "s1?threat=1"}
	alias := connector.Key{Kind: connector.SHA1, Hex: it.Evidence.Hashes.SHA1}
	update(t, s, func(tx connector.Tx) error {
		if err := tx.PutItem(it); err != nil {
			return err
		}
		if err := tx.PutAlias(alias, it.Key); err != nil {
			return err
		}
		if err := tx.PutAction(connector.Action{ActionKey: ak, Status: connector.Unchanged, Detail: "note exists", At: storeT0}); err != nil {
			return err
		}
		return tx.SetCheckpoint("s1", connector.Checkpoint("c9"))
	})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := s.View(ctxBG, func(connector.Tx) error { return nil }); !errors.Is(err, connector.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if err := s.Update(ctxBG, func(connector.Tx) error { return nil }); !errors.Is(err, connector.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Prune(ctxBG, storeT0); !errors.Is(err, connector.ErrClosed) {
		t.Errorf("Prune after Close = %v, want ErrClosed", err)
	}
	r := h.Reopen(t, s)
	defer r.Close()
	got, found := getItem(t, r, it.Key)
	if !found || !bytes.Equal(mustJSON(t, got), mustJSON(t, it)) {
		t.Errorf("after reopen Item = %v (found %v), want the stored item", got.Key, found)
	}
	if keys := itemKeys(t, r, connector.StateAwaiting); fmt.Sprint(keys) != fmt.Sprint([]string{it.Key.String()}) {
		t.Errorf("after reopen Items(awaiting) = %v", keys)
	}
	view(t, r, func(tx connector.Tx) error {
		if k, found, err := tx.Alias(alias); err != nil || !found || k != it.Key {
			t.Errorf("after reopen Alias = %v, %v, %v", k, found, err)
		}
		if a, found, err := tx.Action(ak); err != nil || !found || a.Detail != "note exists" {
			t.Errorf("after reopen Action = %+v, %v, %v", a, found, err)
		}
		if cp, err := tx.Checkpoint("s1"); err != nil || string(cp) != "c9" {
			t.Errorf("after reopen Checkpoint = %q, %v", cp, err)
		}
		return nil
	})
	update(t, r, func(tx connector.Tx) error { return tx.SetCheckpoint("s1", connector.Checkpoint("c10")) })
}
