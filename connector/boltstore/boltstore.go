package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/soarkit/soarkit/connector"
)

// Bucket names. The layout is versioned by the "meta" bucket.
var (
	bucketMeta        = []byte("meta")
	bucketCheckpoints = []byte("checkpoints") // source -> checkpoint
	bucketItems       = []byte("items")       // item key -> JSON Item
	bucketStateOf     = []byte("state_of")    // item key -> state
	bucketStates      = []byte("states")      // state \x00 item key -> (empty): the per-state index
	bucketAliases     = []byte("aliases")     // hash key -> item key
	bucketActions     = []byte("actions")     // item key \x00 responder \x00 target -> JSON Action
	keyVersion        = []byte("version")
)

const layoutVersion = "1"

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process (default 10 s).
	LockTimeout time.Duration
	// BatchDelay is how long Update waits for concurrent Updates to join one commit (one fsync) (default 2 ms).
	BatchDelay time.Duration
	// MaxBatchSize is the most Updates one commit takes; a full batch commits at once, without waiting for
	// BatchDelay (default 1000, bbolt's).
	MaxBatchSize int
	// NoSync skips fsync on commit. It makes the store fast and not crash-safe: for tests and benchmarks only.
	NoSync bool
}

// Store is a connector.Store in one bbolt file. It is safe for concurrent use by one process.
type Store struct {
	path string
	opts Options

	mu     sync.RWMutex // held for reading by every operation, for writing by Close and Compact
	db     *bolt.DB
	closed bool

	// updates counts Update calls, commits the write transactions they ran in, lastTx the id of the latest.
	updates, commits, lastTx atomic.Int64
}

// Stats counts the store's writes since Open, for measuring group commit (see Options.BatchDelay).
type Stats struct {
	// Updates is the number of Update calls (Prune's included).
	Updates int64
	// Commits is the number of write transactions they ran in, each one commit with one fsync: concurrent Updates
	// share one, so Commits is at most Updates.
	Commits int64
}

// Stats returns the counts of writes since Open.
func (s *Store) Stats() Stats {
	return Stats{Updates: s.updates.Load(), Commits: s.commits.Load()}
}

// Open opens (creating it if needed) the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 10 * time.Second
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = 2 * time.Millisecond
	}
	s := &Store{path: path, opts: opts}
	db, err := s.open()
	if err != nil {
		return nil, err
	}
	s.db = db
	return s, nil
}

func (s *Store) open() (*bolt.DB, error) {
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout, NoSync: s.opts.NoSync})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", s.path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketCheckpoints, bucketItems, bucketStateOf, bucketStates,
			bucketAliases, bucketActions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyVersion); {
		case v == nil:
			return meta.Put(keyVersion, []byte(layoutVersion))
		case string(v) != layoutVersion:
			return fmt.Errorf("layout version %q, this build reads %q", v, layoutVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: initialise %s: %w", s.path, err)
	}
	db.MaxBatchDelay = s.opts.BatchDelay
	if s.opts.MaxBatchSize > 0 {
		db.MaxBatchSize = s.opts.MaxBatchSize
	}
	return db, nil
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.path }

// Close closes the file. Later calls return connector.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// acquire takes the read lock for one operation and checks that the store is open and ctx alive.
func (s *Store) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, connector.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// View runs fn in a read-only bbolt transaction.
func (s *Store) View(ctx context.Context, fn func(connector.Tx) error) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.db.View(func(btx *bolt.Tx) error { return fn(&tx{btx}) })
}

// Update runs fn in a read-write bbolt transaction, committed (and synced) when fn returns nil. Concurrent Updates
// share one commit (bbolt's Batch), so fn may run more than once, as connector.Store allows.
func (s *Store) Update(ctx context.Context, fn func(connector.Tx) error) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.updates.Add(1)
	return s.db.Batch(func(btx *bolt.Tx) error {
		// The functions of one batch run one after another in the same transaction: count each transaction once.
		if id := int64(btx.ID()); s.lastTx.Swap(id) != id {
			s.commits.Add(1)
		}
		return fn(&tx{btx})
	})
}

// Prune removes final items last updated before cutoff, with their aliases and action-log records, in one
// transaction. The file does not shrink: run Compact to give the space back.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (connector.Pruned, error) {
	var pr connector.Pruned
	err := s.Update(ctx, func(ctxTx connector.Tx) error {
		t := ctxTx.(*tx)
		pr = connector.Pruned{}
		var old []connector.Item
		for _, st := range []connector.State{connector.StateDone, connector.StateFailed} {
			for it, err := range t.Items(st) {
				if err != nil {
					return err
				}
				if it.Updated.Before(cutoff) {
					old = append(old, it)
				}
			}
		}
		for _, it := range old {
			n, err := t.deleteItem(it)
			if err != nil {
				return err
			}
			pr.Items++
			pr.Aliases += n.aliases
			pr.Actions += n.actions
		}
		return nil
	})
	return pr, err
}

// Compact rewrites the file without the free pages that pruning left behind, then reopens it. Operations wait while
// it runs. If it fails, the original file is kept.
func (s *Store) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return connector.ErrClosed
	}
	tmp := s.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout})
	if err != nil {
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	if err := bolt.Compact(dst, s.db, 16<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	renameErr := os.Rename(tmp, s.path)
	db, err := s.open()
	if err != nil {
		s.closed = true
		return errors.Join(renameErr, err)
	}
	s.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return fmt.Errorf("boltstore: compact: %w", renameErr)
	}
	return nil
}

// Snapshot writes a consistent copy of the store to a new file at path (which must not exist), from one read
// transaction, while the store stays in use. Open the copy to work on the state without changing the original (the
// example connectors' dry run does).
func (s *Store) Snapshot(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("boltstore: snapshot: %s already exists", path)
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := s.db.View(func(btx *bolt.Tx) error { return btx.CopyFile(path, 0o600) }); err != nil {
		os.Remove(path)
		return fmt.Errorf("boltstore: snapshot: %w", err)
	}
	return nil
}

// tx adapts a bbolt transaction to connector.Tx.
type tx struct{ b *bolt.Tx }

func (t *tx) writeCheck() error {
	if !t.b.Writable() {
		return connector.ErrReadOnly
	}
	return nil
}

func (t *tx) Checkpoint(source string) (connector.Checkpoint, error) {
	v := t.b.Bucket(bucketCheckpoints).Get([]byte(source))
	if v == nil {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

func (t *tx) SetCheckpoint(source string, cp connector.Checkpoint) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if cp == nil {
		cp = connector.Checkpoint{}
	}
	return t.b.Bucket(bucketCheckpoints).Put([]byte(source), cp)
}

func (t *tx) Item(key connector.Key) (connector.Item, bool, error) {
	v := t.b.Bucket(bucketItems).Get([]byte(key.String()))
	if v == nil {
		return connector.Item{}, false, nil
	}
	var it connector.Item
	if err := json.Unmarshal(v, &it); err != nil {
		return connector.Item{}, false, fmt.Errorf("boltstore: item %s: %w", key, err)
	}
	return it, true, nil
}

func stateKey(st connector.State, key string) []byte {
	return []byte(string(st) + "\x00" + key)
}

func (t *tx) PutItem(it connector.Item) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if it.Key.IsZero() {
		return errors.New("boltstore: item without key")
	}
	raw, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("boltstore: item %s: %w", it.Key, err)
	}
	key := it.Key.String()
	stateOf := t.b.Bucket(bucketStateOf)
	states := t.b.Bucket(bucketStates)
	if old := stateOf.Get([]byte(key)); old != nil && string(old) != string(it.State) {
		if err := states.Delete(stateKey(connector.State(old), key)); err != nil {
			return err
		}
	}
	if err := stateOf.Put([]byte(key), []byte(it.State)); err != nil {
		return err
	}
	if err := states.Put(stateKey(it.State, key), nil); err != nil {
		return err
	}
	return t.b.Bucket(bucketItems).Put([]byte(key), raw)
}

func (t *tx) Items(state connector.State) iter.Seq2[connector.Item, error] {
	return func(yield func(connector.Item, error) bool) {
		prefix := stateKey(state, "")
		c := t.b.Bucket(bucketStates).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			key, err := connector.ParseKey(string(k[len(prefix):]))
			if err != nil {
				yield(connector.Item{}, fmt.Errorf("boltstore: state index: %w", err))
				return
			}
			it, found, err := t.Item(key)
			if err == nil && !found {
				err = fmt.Errorf("boltstore: state index names missing item %s", key)
			}
			if err != nil {
				yield(connector.Item{}, err)
				return
			}
			if !yield(it, nil) {
				return
			}
		}
	}
}

func (t *tx) Alias(h connector.Key) (connector.Key, bool, error) {
	v := t.b.Bucket(bucketAliases).Get([]byte(h.String()))
	if v == nil {
		return connector.Key{}, false, nil
	}
	k, err := connector.ParseKey(string(v))
	if err != nil {
		return connector.Key{}, false, fmt.Errorf("boltstore: alias %s: %w", h, err)
	}
	return k, true, nil
}

func (t *tx) PutAlias(h connector.Key, item connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	return t.b.Bucket(bucketAliases).Put([]byte(h.String()), []byte(item.String()))
}

func actionKey(k connector.ActionKey) []byte {
	return []byte(k.Item.String() + "\x00" + k.Responder + "\x00" + k.Target)
}

func (t *tx) Action(k connector.ActionKey) (connector.Action, bool, error) {
	v := t.b.Bucket(bucketActions).Get(actionKey(k))
	if v == nil {
		return connector.Action{}, false, nil
	}
	var a connector.Action
	if err := json.Unmarshal(v, &a); err != nil {
		return connector.Action{}, false, fmt.Errorf("boltstore: action %s/%s: %w", k.Responder, k.Item, err)
	}
	return a, true, nil
}

func (t *tx) PutAction(a connector.Action) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return t.b.Bucket(bucketActions).Put(actionKey(a.ActionKey), raw)
}

func (t *tx) Actions(item connector.Key) iter.Seq2[connector.Action, error] {
	return func(yield func(connector.Action, error) bool) {
		prefix := []byte(item.String() + "\x00")
		c := t.b.Bucket(bucketActions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a connector.Action
			if err := json.Unmarshal(v, &a); err != nil {
				yield(connector.Action{}, fmt.Errorf("boltstore: action %q: %w", k, err))
				return
			}
			if !yield(a, nil) {
				return
			}
		}
	}
}

func (t *tx) DeleteItem(key connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	it, found, err := t.Item(key)
	if err != nil || !found {
		return err
	}
	_, err = t.deleteItem(it)
	return err
}

type deleted struct{ aliases, actions int }

// deleteItem removes an item with its index entries, the aliases that point to it and its action-log records.
func (t *tx) deleteItem(it connector.Item) (deleted, error) {
	var n deleted
	key := it.Key.String()
	if err := t.b.Bucket(bucketStates).Delete(stateKey(it.State, key)); err != nil {
		return n, err
	}
	if err := t.b.Bucket(bucketStateOf).Delete([]byte(key)); err != nil {
		return n, err
	}
	if err := t.b.Bucket(bucketItems).Delete([]byte(key)); err != nil {
		return n, err
	}
	aliases := t.b.Bucket(bucketAliases)
	for _, h := range it.HashKeys() {
		if v := aliases.Get([]byte(h.String())); string(v) == key {
			if err := aliases.Delete([]byte(h.String())); err != nil {
				return n, err
			}
			n.aliases++
		}
	}
	prefix := []byte(key + "\x00")
	c := t.b.Bucket(bucketActions).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return n, err
		}
		n.actions++
	}
	return n, nil
}
