package connector

import (
	"context"
	"errors"
	"time"
)

// openItem is an item left open in the store.
type openItem struct {
	key   Key
	state State
}

// openItems lists the open items left in the store by earlier runs that are due (not waiting on a backoff that
// has not run out); the run takes them up before it collects.
func (e *engine) openItems() []openItem {
	items, err := e.dueItems()
	if err != nil {
		e.log.Error("store failed while resuming", "err", err)
		e.mu.Lock()
		if e.storeErr == nil {
			e.storeErr = err
		}
		e.mu.Unlock()
		return nil
	}
	if len(items) > 0 {
		e.log.Info("resuming open items", "count", len(items))
		e.count(func(s *Summary) { s.Resumed += len(items) })
	}
	return items
}

// dueItems lists the open items that are due: not waiting on a backoff that has not run out.
func (e *engine) dueItems() ([]openItem, error) {
	var items []openItem
	now := e.cfg.Now()
	err := e.cfg.Store.View(e.persist, func(tx Tx) error {
		items = items[:0]
		for _, st := range OpenStates() {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				if due(it, now) {
					items = append(items, openItem{it.Key, it.State})
				}
			}
		}
		return nil
	})
	return items, err
}

// due reports whether an open item may be worked on at now.
func due(it Item, now time.Time) bool { return it.Retry == nil || !it.Retry.Next.After(now) }

// resumeDue takes up, in a new cycle of Run, the open items whose backoff has run out and that no job works on.
func (e *engine) resumeDue() {
	items, err := e.dueItems()
	if err != nil {
		e.log.Error("store failed listing due items", "err", err)
		return
	}
	if len(items) > 0 {
		e.log.Debug("taking up the open items that are due", "count", len(items))
	}
	for _, o := range items {
		if e.stopping() {
			return
		}
		// An item a job already works on is left to it.
		e.start(o.key, o.state, false)
	}
}

// resume dispatches the open items.
func (e *engine) resume(items []openItem) {
	defer e.feeders.Done()
	for _, o := range items {
		if e.stopping() {
			return
		}
		e.dispatch(o.key, o.state)
	}
}

func (e *engine) hasEnded(source string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended[source]
}

// collect calls src until it is caught up (Batch.More is false), has ended, keeps failing, or the run stops.
func (e *engine) collect(src Source) {
	defer e.feeders.Done()
	name := src.Name()
	failures := 0
	for !e.stopping() {
		var cp Checkpoint
		err := e.cfg.Store.View(e.persist, func(tx Tx) error {
			var err error
			cp, err = tx.Checkpoint(name)
			return err
		})
		if err != nil {
			e.log.Error("store failed reading checkpoint", "source", name, "err", err)
			e.mu.Lock()
			if e.storeErr == nil {
				e.storeErr = err
			}
			e.mu.Unlock()
			return
		}
		batch, err := call(e, e.ctx, StageCollect, name, e.cfg.CollectTimeout,
			func(ctx context.Context) (Batch, error) { return src.Collect(ctx, cp) })
		switch {
		case errors.Is(err, ErrEndOfInput):
			e.log.Info("source ended", "source", name)
			e.collected(name)
			e.mu.Lock()
			e.ended[name] = true
			e.mu.Unlock()
			return
		case err != nil:
			if e.stopping() {
				return
			}
			failures++
			e.count(func(s *Summary) { s.SourceErrors++ })
			if class := Classify(err); class != Transient || failures >= e.collectTries() {
				e.log.Error("source failed; trying again next cycle", "source", name, "tries", failures,
					"class", class, "err", err)
				return
			}
			d := e.cfg.Retry.wait(failures, err)
			e.log.Warn("source failed, will retry", "source", name, "try", failures, "delay", d, "err", err)
			if sleep(e.ctx, d) != nil {
				return
			}
			continue
		}
		failures = 0
		e.collected(name)
		if !e.commit(name, batch) {
			return
		}
		if !batch.More {
			return
		}
	}
}

// collectTries bounds the tries of one collection (Config.Retry.Attempts, default 5); the checkpoint does not move,
// so the next cycle starts from the same place.
func (e *engine) collectTries() int {
	if e.cfg.Retry.Attempts > 0 {
		return e.cfg.Retry.Attempts
	}
	return 5
}

// commit records a batch in one transaction (merging evidence into items and moving the checkpoint) and dispatches
// the items that need work. It returns false when the store failed.
func (e *engine) commit(source string, b Batch) bool {
	now := e.cfg.Now()
	type entry struct {
		key Key
		ev  Evidence
	}
	entries := make([]entry, 0, len(b.Evidence))
	rejected := 0
	for _, ev := range b.Evidence {
		key, err := ev.normalize(source, now)
		if err != nil {
			rejected++
			e.log.Warn("evidence rejected", "source", source, "err", err)
			continue
		}
		entries = append(entries, entry{key, ev})
	}
	var (
		touched map[Key]State
		parked  map[Key]bool
		order   []Key
		created int
		merged  int
		hits    int
	)
	err := e.cfg.Store.Update(e.persist, func(tx Tx) error {
		touched, parked, order, created, merged, hits = map[Key]State{}, map[Key]bool{}, nil, 0, 0, 0
		for _, en := range entries {
			key, err := e.resolve(tx, en.key, en.ev.Hashes)
			if err != nil {
				return err
			}
			it, found, err := tx.Item(key)
			if err != nil {
				return err
			}
			if !found {
				it = Item{Key: key, Evidence: en.ev, State: StateNew, Created: now}
				created++
			} else {
				merged++
				newFetcher := e.newFetcher(it.Evidence, en.ev)
				added, raised := it.Evidence.merge(en.ev)
				if added > 0 || raised {
					it.Revision++
				}
				before := it.State
				it.State = e.reopen(it, added > 0, raised, now)
				if it.State == StateFailed && newFetcher && it.Failure != nil && it.Failure.Stage == StageFetch {
					// A source that can deliver files saw it for the first time: try fetching again.
					it.State = StateNew
				}
				if it.State != before && it.State == StateResponding {
					hits++
				}
				if it.State == StateNew || it.State == StateResponding {
					it.Failure = nil
				}
			}
			it.Updated = now
			if err := tx.PutItem(it); err != nil {
				return err
			}
			if err := e.putAliases(tx, it); err != nil {
				return err
			}
			if _, seen := touched[key]; !seen {
				order = append(order, key)
			}
			touched[key] = it.State
			parked[key] = !due(it, now)
		}
		if b.Next != nil {
			return tx.SetCheckpoint(source, b.Next)
		}
		return nil
	})
	if err != nil {
		e.log.Error("store failed recording a batch; the checkpoint did not move", "source", source, "err", err)
		e.mu.Lock()
		if e.storeErr == nil {
			e.storeErr = err
		}
		e.mu.Unlock()
		return false
	}
	e.count(func(s *Summary) {
		s.Collected += len(b.Evidence)
		s.Rejected += rejected
		s.New += created
		s.Deduped += merged
		s.CacheHits += hits
	})
	e.obs.Add(CounterCollected, len(b.Evidence), source)
	if rejected > 0 {
		e.obs.Add(CounterRejected, rejected, source)
	}
	if merged > 0 {
		e.obs.Add(CounterDeduped, merged, source)
	}
	if hits > 0 {
		e.obs.Add(CounterCacheHits, hits)
	}
	e.log.Info("batch collected", "source", source, "evidence", len(b.Evidence), "new", created, "deduped", merged,
		"rejected", rejected, "more", b.More)
	for _, key := range order {
		st := touched[key]
		if st.Final() || parked[key] {
			continue
		}
		e.log.Debug("dispatch", "key", key.String(), "stage", StageDedupe, "state", st)
		e.dispatch(key, st)
	}
	return true
}

// resolve returns the key of the item the evidence belongs to: the item any of its hashes is an alias of, else its
// own primary key.
func (e *engine) resolve(tx Tx, primary Key, h Hashes) (Key, error) {
	keys, err := h.Keys()
	if err != nil {
		return Key{}, err
	}
	for _, k := range keys {
		item, found, err := tx.Alias(k)
		if err != nil {
			return Key{}, err
		}
		if found {
			return item, nil
		}
	}
	return primary, nil
}

// putAliases records every hash of the item as an alias, keeping aliases that already point to another item.
func (e *engine) putAliases(tx Tx, it Item) error {
	for _, k := range it.HashKeys() {
		_, found, err := tx.Alias(k)
		if err != nil {
			return err
		}
		if !found {
			if err := tx.PutAlias(k, it.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// newFetcher reports whether ev comes from a source that can deliver files and had not reported the file before.
func (e *engine) newFetcher(have, ev Evidence) bool {
	if _, ok := e.p.fetch[ev.Source]; !ok || have.Source == ev.Source {
		return false
	}
	for _, s := range have.Sightings {
		if s.Source == ev.Source {
			return false
		}
	}
	return true
}

// reopen decides the state of a known item after new evidence was merged into it.
func (e *engine) reopen(it Item, added, raised bool, now time.Time) State {
	fresh := it.Verdict != nil && now.Sub(it.VerdictAt) < e.cfg.VerdictTTL
	switch it.State {
	case StateDone:
		switch {
		case raised || !fresh:
			return StateNew
		case added:
			return StateResponding
		}
	case StateFailed:
		if it.Failure == nil || now.Sub(it.Failure.At) >= e.cfg.RetryFailedAfter {
			if fresh && !raised {
				return StateResponding
			}
			return StateNew
		}
	case StateResponding:
		if raised {
			return StateNew
		}
	}
	return it.State
}
