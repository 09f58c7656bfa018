package memstore

import (
	"cmp"
	"context"
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// Store is an in-memory connector.Store. Create it with New; it is safe for concurrent use.
type Store struct {
	d      *data
	closed atomic.Bool
}

// data is the state shared by a Store and the handles Reopen returns.
type data struct {
	mu          sync.RWMutex
	checkpoints map[string][]byte
	items       map[connector.Key][]byte // JSON, so callers never share memory with the store
	aliases     map[connector.Key]connector.Key
	actions     map[connector.ActionKey]connector.Action
}

// New returns an empty store.
func New() *Store {
	return &Store{d: &data{
		checkpoints: map[string][]byte{},
		items:       map[connector.Key][]byte{},
		aliases:     map[connector.Key]connector.Key{},
		actions:     map[connector.ActionKey]connector.Action{},
	}}
}

// Reopen returns a new open handle on the same data, as a restarted process would see a durable store. It lets tests
// simulate a restart without a file.
func (s *Store) Reopen() *Store { return &Store{d: s.d} }

// Close closes this handle; later calls on it return connector.ErrClosed.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return connector.ErrClosed
	}
	return ctx.Err()
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(connector.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	return fn(&tx{d: s.d})
}

// Update runs fn in a read-write transaction; its writes are applied only when it returns nil.
func (s *Store) Update(ctx context.Context, fn func(connector.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	t := &tx{d: s.d, writable: true, checkpoints: map[string][]byte{}, items: map[connector.Key][]byte{},
		aliases: map[connector.Key]connector.Key{}, actions: map[connector.ActionKey]connector.Action{},
		goneItems: map[connector.Key]bool{}, goneAliases: map[connector.Key]bool{},
		goneActions: map[connector.ActionKey]bool{}}
	if err := fn(t); err != nil {
		return err
	}
	for k := range t.goneItems {
		delete(s.d.items, k)
	}
	for k := range t.goneAliases {
		delete(s.d.aliases, k)
	}
	for k := range t.goneActions {
		delete(s.d.actions, k)
	}
	maps.Copy(s.d.checkpoints, t.checkpoints)
	maps.Copy(s.d.items, t.items)
	maps.Copy(s.d.aliases, t.aliases)
	maps.Copy(s.d.actions, t.actions)
	return nil
}

// Prune removes final items last updated before cutoff, with their aliases and action-log records.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (connector.Pruned, error) {
	if err := s.check(ctx); err != nil {
		return connector.Pruned{}, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var pr connector.Pruned
	gone := map[connector.Key]bool{}
	for k, raw := range s.d.items {
		var it connector.Item
		if err := json.Unmarshal(raw, &it); err != nil {
			return pr, err
		}
		if !it.State.Final() || !it.Updated.Before(cutoff) {
			continue
		}
		gone[k] = true
		delete(s.d.items, k)
		pr.Items++
		for _, h := range it.HashKeys() {
			if s.d.aliases[h] == k {
				delete(s.d.aliases, h)
				pr.Aliases++
			}
		}
	}
	for ak := range s.d.actions {
		if gone[ak.Item] {
			delete(s.d.actions, ak)
			pr.Actions++
		}
	}
	return pr, nil
}

// tx is a transaction. Writes go to the overlay maps and deletions to the gone sets; both reach data on commit. A
// key is never in an overlay map and its gone set at once.
type tx struct {
	d           *data
	writable    bool
	checkpoints map[string][]byte
	items       map[connector.Key][]byte
	aliases     map[connector.Key]connector.Key
	actions     map[connector.ActionKey]connector.Action
	goneItems   map[connector.Key]bool
	goneAliases map[connector.Key]bool
	goneActions map[connector.ActionKey]bool
}

func (t *tx) writeCheck() error {
	if !t.writable {
		return connector.ErrReadOnly
	}
	return nil
}

func (t *tx) Checkpoint(source string) (connector.Checkpoint, error) {
	cp, ok := t.checkpoints[source]
	if !ok {
		cp, ok = t.d.checkpoints[source]
	}
	if !ok {
		return nil, nil
	}
	return slices.Clone(cp), nil
}

func (t *tx) SetCheckpoint(source string, cp connector.Checkpoint) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	t.checkpoints[source] = slices.Clone(cp)
	return nil
}

func (t *tx) Item(key connector.Key) (connector.Item, bool, error) {
	raw, ok := t.items[key]
	if !ok && t.goneItems[key] {
		return connector.Item{}, false, nil
	}
	if !ok {
		raw, ok = t.d.items[key]
	}
	if !ok {
		return connector.Item{}, false, nil
	}
	var it connector.Item
	err := json.Unmarshal(raw, &it)
	return it, err == nil, err
}

func (t *tx) PutItem(it connector.Item) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	raw, err := json.Marshal(it)
	if err != nil {
		return err
	}
	t.items[it.Key] = raw
	delete(t.goneItems, it.Key)
	return nil
}

func (t *tx) DeleteItem(key connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	delete(t.items, key)
	t.goneItems[key] = true
	for _, m := range []map[connector.Key]connector.Key{t.d.aliases, t.aliases} {
		for h, item := range m {
			if item == key {
				delete(t.aliases, h)
				t.goneAliases[h] = true
			}
		}
	}
	for a, err := range t.Actions(key) {
		if err != nil {
			return err
		}
		delete(t.actions, a.ActionKey)
		t.goneActions[a.ActionKey] = true
	}
	return nil
}

func (t *tx) Items(state connector.State) iter.Seq2[connector.Item, error] {
	return func(yield func(connector.Item, error) bool) {
		keys := slices.Collect(maps.Keys(t.d.items))
		for k := range t.items {
			if _, ok := t.d.items[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b connector.Key) int { return cmp.Compare(a.String(), b.String()) })
		for _, k := range keys {
			it, found, err := t.Item(k)
			if err != nil {
				yield(connector.Item{}, err)
				return
			}
			if found && it.State == state && !yield(it, nil) {
				return
			}
		}
	}
}

func (t *tx) Alias(h connector.Key) (connector.Key, bool, error) {
	k, ok := t.aliases[h]
	if !ok && !t.goneAliases[h] {
		k, ok = t.d.aliases[h]
	}
	return k, ok, nil
}

func (t *tx) PutAlias(h connector.Key, item connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	t.aliases[h] = item
	delete(t.goneAliases, h)
	return nil
}

func (t *tx) Action(k connector.ActionKey) (connector.Action, bool, error) {
	a, ok := t.actions[k]
	if !ok && !t.goneActions[k] {
		a, ok = t.d.actions[k]
	}
	return a, ok, nil
}

func (t *tx) PutAction(a connector.Action) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	t.actions[a.ActionKey] = a
	delete(t.goneActions, a.ActionKey)
	return nil
}

func (t *tx) Actions(item connector.Key) iter.Seq2[connector.Action, error] {
	return func(yield func(connector.Action, error) bool) {
		var keys []connector.ActionKey
		for _, m := range []map[connector.ActionKey]connector.Action{t.d.actions, t.actions} {
			for k := range m {
				if k.Item == item && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		slices.SortFunc(keys, func(a, b connector.ActionKey) int {
			return cmp.Or(cmp.Compare(a.Responder, b.Responder), cmp.Compare(a.Target, b.Target))
		})
		for _, k := range keys {
			if a, found, _ := t.Action(k); found && !yield(a, nil) {
				return
			}
		}
	}
}
