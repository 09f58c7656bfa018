package connector_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// chunkStore records, per Update, how many items it put and whether it set a checkpoint, and fails every Update
// from the one numbered failAt on (1-based; 0: none), as a full disk would.
type chunkStore struct {
	connector.Store
	mu      sync.Mutex
	updates []chunkUpdate
	failAt  int
}

type chunkUpdate struct {
	items      int
	checkpoint bool
}

type chunkTx struct {
	connector.Tx
	u *chunkUpdate
}

func (tx chunkTx) PutItem(it connector.Item) error {
	tx.u.items++
	return tx.Tx.PutItem(it)
}

func (tx chunkTx) SetCheckpoint(source string, cp connector.Checkpoint) error {
	tx.u.checkpoint = true
	return tx.Tx.SetCheckpoint(source, cp)
}

var errChunkStore = errors.New("disk full")

func (s *chunkStore) Update(ctx context.Context, fn func(connector.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.updates) + 1
	var u chunkUpdate
	err := s.Store.Update(ctx, func(tx connector.Tx) error {
		u = chunkUpdate{}
		if err := fn(chunkTx{tx, &u}); err != nil {
			return err
		}
		if s.failAt > 0 && n >= s.failAt {
			return errChunkStore
		}
		return nil
	})
	s.updates = append(s.updates, u)
	return err
}

// A window of 2,100 files is written in transactions of at most 1,000 items, the checkpoint with the last; when one
// fails, the checkpoint stays and the next run collects the window again without creating any item twice.
func TestLargeWindowIsCommittedInChunks(t *testing.T) {
	const n = 2100
	src, analyzer := connectortest.NewSource("edr"), connectortest.NewAnalyzer("sandbox")
	src.BatchSize = n
	for i := range n {
		h := src.AddFile(fmt.Appendf(nil, "MZ window file %d", i))
		src.Add(connector.Evidence{Hashes: h, Sightings: sighting("1")})
	}
	store := &chunkStore{Store: memstore.New(), failAt: 2}
	cfg := fastConfig(store, analyzer, []connector.Source{src}, nil)
	cfg.Retry.Attempts = 1
	if _, err := newPipeline(t, cfg).RunOnce(context.Background()); !errors.Is(err, errChunkStore) {
		t.Fatalf("run with the second chunk failing: %v, want the store's error", err)
	}
	store.mu.Lock()
	first := store.updates[:2]
	store.failAt = 0
	store.updates = nil
	store.mu.Unlock()
	if first[0].items != 1000 || first[0].checkpoint || first[1].checkpoint {
		t.Errorf("first run's collect transactions %+v, want 1000 items and no checkpoint in the first", first)
	}
	sum, err := newPipeline(t, cfg).RunOnce(context.Background())
	if err != nil || sum.New != n-1000 || sum.Deduped != 1000 {
		t.Fatalf("second run: %v, %d new, %d merged; want %d new and the first chunk's 1000 merged", err, sum.New, sum.Deduped, n-1000)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	var collects []chunkUpdate
	for _, u := range store.updates {
		if u.items >= 100 || u.checkpoint {
			collects = append(collects, u)
		}
	}
	want := []chunkUpdate{{1000, false}, {1000, false}, {100, true}}
	if fmt.Sprint(collects) != fmt.Sprint(want) {
		t.Errorf("second run's collect transactions %+v, want %+v", collects, want)
	}
	counts, err := connector.CountItems(context.Background(), store)
	if err != nil || counts.ByState[connector.StateDone] != n {
		t.Errorf("items %+v (%v), want %d done", counts.ByState, err, n)
	}
}
