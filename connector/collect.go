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
	if e.leases != nil {
		e.poke() // the claimer takes them up
		return
	}
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

// collect calls src until it is caught up (Batch.More is false), has ended, keeps failing, or the run stops. On a
// LeasingStore it collects only under a lease on the source (another replica collects it otherwise), and moves the
// checkpoint only while that lease is current.
func (e *engine) collect(src Source) {
	defer e.feeders.Done()
	name := src.Name()
	var lease *held
	if e.leases != nil {
		var ok bool
		if lease, ok = e.claimSource(name); !ok {
			return
		}
		defer e.releaseSource(lease)
	}
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
		if !e.commit(name, batch, lease) {
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

// commit records a batch in one transaction (merging evidence into items and moving the checkpoint), fenced by the
// source's lease when there is one, and dispatches the items that need work. It returns false when the store failed
// or the lease was lost.
func (e *engine) commit(source string, b Batch, lease *held) bool {
	now := e.cfg.Now()
	entries, rejected := e.normalizeBatch(source, b, now)
	update := func(fn func(Tx) error) error { return e.cfg.Store.Update(e.persist, fn) }
	if lease != nil {
		update = func(fn func(Tx) error) error { return e.leases.UpdateFenced(e.persist, lease.current(), fn) }
	}
	var total batchTally
	for start := 0; start == 0 || start < len(entries); start += commitChunk {
		chunk := entries[start:min(start+commitChunk, len(entries))]
		last := start+commitChunk >= len(entries)
		var t batchTally
		err := update(func(tx Tx) error {
			t = batchTally{touched: map[Key]State{}, parked: map[Key]bool{}}
			for _, en := range chunk {
				if err := e.mergeEntry(tx, en, now, &t); err != nil {
					return err
				}
			}
			if last && b.Next != nil {
				return tx.SetCheckpoint(source, b.Next)
			}
			return nil
		})
		if errors.Is(err, ErrLeaseLost) {
			e.log.Warn("lost the source's lease: another replica collects it; the batch is dropped", "source", source,
				"err", err)
			return false
		}
		if err != nil {
			e.log.Error("store failed recording a batch; the checkpoint did not move", "source", source, "err", err)
			e.mu.Lock()
			if e.storeErr == nil {
				e.storeErr = err
			}
			e.mu.Unlock()
			return false
		}
		for _, key := range t.order {
			st := t.touched[key]
			if st.Final() || t.parked[key] {
				continue
			}
			e.log.Debug("dispatch", "key", key.String(), "stage", StageDedupe, "state", st)
			e.dispatch(key, st)
		}
		total.created, total.merged, total.hits = total.created+t.created, total.merged+t.merged, total.hits+t.hits
	}
	e.recordBatch(source, b, rejected, total)
	return true
}

// commitChunk is how many pieces of evidence of a batch go to the store in one transaction. A store's cost per
// write grows with the size of its transaction (bbolt keeps the entries a transaction adds to a page in one sorted
// slice until the commit), so a window of 100,000 files is written in transactions of this size; the checkpoint goes
// with the last. A crash between two of them leaves the checkpoint where it was: the window is collected again and
// its evidence merges into the items already stored, adding nothing. Each transaction's items enter the pipeline as
// soon as it is written.
const commitChunk = 1000

// batchEntry is one accepted piece of evidence of a batch, with its normalised key.
type batchEntry struct {
	key Key
	ev  Evidence
}

// batchTally is what committing a batch did: the state of every item it touched (in first-touch order), which of
// them wait for a later retry, and the counts for the summary.
type batchTally struct {
	touched               map[Key]State
	parked                map[Key]bool
	order                 []Key
	created, merged, hits int
}

// normalizeBatch validates the batch's evidence; rejected pieces are logged and counted, never stored.
func (e *engine) normalizeBatch(source string, b Batch, now time.Time) (entries []batchEntry, rejected int) {
	entries = make([]batchEntry, 0, len(b.Evidence))
	for _, ev := range b.Evidence {
		key, err := ev.normalize(source, now)
		if err != nil {
			rejected++
			e.log.Warn("evidence rejected", "source", source, "err", err)
			continue
		}
		entries = append(entries, batchEntry{key, ev})
	}
	return entries, rejected
}

// mergeEntry creates the item of one piece of evidence or merges the evidence into the item it belongs to,
// reopening it when the evidence adds something, and records the outcome in t.
func (e *engine) mergeEntry(tx Tx, en batchEntry, now time.Time, t *batchTally) error {
	key, err := e.resolve(tx, en.key, en.ev.Hashes)
	if err != nil {
		return err
	}
	it, found, err := tx.Item(key)
	if err != nil {
		return err
	}
	changed := true
	if !found {
		it = Item{Key: key, Evidence: en.ev, State: StateNew, Created: now}
		t.created++
	} else {
		t.merged++
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
			t.hits++
		}
		if it.State == StateNew || it.State == StateResponding {
			it.Failure = nil
		}
		changed = added > 0 || raised || it.State != before
	}
	it.Updated = now
	if err := tx.PutItem(it); err != nil {
		return err
	}
	if err := e.putAliases(tx, it); err != nil {
		return err
	}
	if !changed {
		// Evidence the item already holds: whatever works on the item, or the next cycle's resumption of due
		// items, goes on as it was. Dispatching it here could start a second try of a step whose failure another
		// job is recording at this moment, ahead of its backoff.
		return nil
	}
	if _, seen := t.touched[key]; !seen {
		t.order = append(t.order, key)
	}
	t.touched[key] = it.State
	t.parked[key] = !due(it, now)
	return nil
}

// recordBatch adds a committed batch to the run's summary, the observer's counters and the log.
func (e *engine) recordBatch(source string, b Batch, rejected int, t batchTally) {
	e.count(func(s *Summary) {
		s.Collected += len(b.Evidence)
		s.Rejected += rejected
		s.New += t.created
		s.Deduped += t.merged
		s.CacheHits += t.hits
	})
	e.obs.Add(CounterCollected, len(b.Evidence), source)
	if rejected > 0 {
		e.obs.Add(CounterRejected, rejected, source)
	}
	if t.merged > 0 {
		e.obs.Add(CounterDeduped, t.merged, source)
	}
	if t.hits > 0 {
		e.obs.Add(CounterCacheHits, t.hits)
	}
	e.log.Info("batch collected", "source", source, "evidence", len(b.Evidence), "new", t.created, "deduped", t.merged,
		"rejected", rejected, "more", b.More)
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
