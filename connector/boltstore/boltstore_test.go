package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestPruneAndCompactShrinkTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	const n = 2000
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx connector.Tx) error {
		for i := range n {
			it := connectortest.SampleItem(i, connector.StateDone)
			it.Updated = old
			if i == 0 {
				it.Updated = old.Add(90 * 24 * time.Hour) // one recent item stays
			}
			if err := tx.PutItem(it); err != nil {
				return err
			}
			if err := tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "report", Item: it.Key},
				Status: connector.Acted, Detail: strings.Repeat("x", 200), At: old}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	pr, err := s.Prune(ctx, old.Add(30*24*time.Hour))
	if err != nil || pr.Items != n-1 || pr.Actions != n-1 {
		t.Fatalf("Prune = %+v, %v; want %d items and actions", pr, err, n-1)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	after := fileSize(t, path)
	if after*4 > before {
		t.Errorf("file is %d bytes after Compact, %d before; want it much smaller", after, before)
	}
	// The store still works and kept the recent item.
	keep := connectortest.SampleItem(0, connector.StateDone)
	err = s.View(ctx, func(tx connector.Tx) error {
		if _, found, err := tx.Item(keep.Key); err != nil || !found {
			t.Errorf("recent item lost by Compact: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx connector.Tx) error { return tx.SetCheckpoint("s", connector.Checkpoint("1")) }); err != nil {
		t.Errorf("Update after Compact: %v", err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("temporary compaction file left behind: %v", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestSecondProcessWaitsForTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	defer s.Close()
	_, err := boltstore.Open(path, boltstore.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("a second open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "timeout") && !strings.Contains(err.Error(), "lock") {
		t.Errorf("second open: %v; want the lock timeout", err)
	}
}

func TestSnapshotIsAnIndependentCopy(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "state.db"))
	defer s.Close()
	ctx := context.Background()
	it := connectortest.SampleItem(1, connector.StateNew)
	if err := s.Update(ctx, func(tx connector.Tx) error { return tx.PutItem(it) }); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if err := s.Snapshot(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	if err := s.Snapshot(ctx, copyPath); err == nil {
		t.Error("a snapshot over an existing file succeeded")
	}
	c := open(t, copyPath)
	defer c.Close()
	err := c.Update(ctx, func(tx connector.Tx) error {
		got, found, err := tx.Item(it.Key)
		if err != nil || !found || got.State != connector.StateNew {
			t.Errorf("the copy lacks the item: %+v %v %v", got.State, found, err)
		}
		got.State = connector.StateDone
		if err := tx.PutItem(got); err != nil {
			return err
		}
		return tx.SetCheckpoint("edr", connector.Checkpoint("later"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx connector.Tx) error {
		got, _, err := tx.Item(it.Key)
		cp, _ := tx.Checkpoint("edr")
		if got.State != connector.StateNew || cp != nil {
			t.Errorf("writing the copy changed the original: state %s, checkpoint %q", got.State, cp)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentUpdatesShareOneCommit holds group commit by counts: Updates made at once share one write transaction
// (one fsync), and Updates made one after another each commit on their own.
func TestConcurrentUpdatesShareOneCommit(t *testing.T) {
	ctx := context.Background()
	const n = 16
	// A batch commits when n Updates joined it, never on the delay: the count does not depend on timing.
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{BatchDelay: time.Hour, MaxBatchSize: n})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Update(ctx, func(tx connector.Tx) error {
				return tx.SetCheckpoint(fmt.Sprint("source-", i), connector.Checkpoint("cp"))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := s.Stats(), (boltstore.Stats{Updates: n, Commits: 1}); got != want {
		t.Errorf("%d concurrent Updates: stats %+v, want %+v", n, got, want)
	}
	err = s.View(ctx, func(tx connector.Tx) error {
		for i := range n {
			if cp, err := tx.Checkpoint(fmt.Sprint("source-", i)); err != nil || string(cp) != "cp" {
				return fmt.Errorf("checkpoint %d: %q, %v", i, cp, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	seq := open(t, filepath.Join(t.TempDir(), "seq.db"))
	defer seq.Close()
	for i := range 3 {
		if err := seq.Update(ctx, func(tx connector.Tx) error {
			return tx.SetCheckpoint("source", connector.Checkpoint(fmt.Sprint(i)))
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := seq.Stats(), (boltstore.Stats{Updates: 3, Commits: 3}); got != want {
		t.Errorf("3 Updates in turn: stats %+v, want %+v", got, want)
	}
}
