package connector

import (
	"errors"
	"sync"
	"time"
)

// ErrActionSettling marks a responder's RetryLater that sent nothing: an earlier request for the action (see
// Finding.EarlierAttempt) may still take effect, so the responder waits out its settle window instead of sending
// again. The engine then keeps the earlier start, so the window runs from the attempt that may have sent.
var ErrActionSettling = errors.New("an earlier request for this action may still take effect")

// startKey is the key of an action in Item.ActionStarts.
func startKey(k ActionKey) string { return k.Responder + "|" + k.Target }

// sharedStarts remembers, per responder and target, the latest action start of any item: a device that saw two
// files is the target of two actions (one per item), and the request the first sent just before a crash may still
// take effect when the second is tried after the restart. It is loaded from the open items at the first use.
type sharedStarts struct {
	// before is when the engine started: only attempts started before it are loaded from the store (later ones
	// are this process's own, in flight).
	before time.Time
	once   sync.Once
	mu     sync.Mutex
	m      map[string]time.Time
}

// note records t for k when it is later than what is held; the caller holds s.mu or runs in once.
func (s *sharedStarts) note(k string, t time.Time) {
	if t.After(s.m[k]) {
		s.m[k] = t
	}
}

// sharedStart returns the latest start of an unfinished action of k's responder on k's target for any item: loaded
// at the first call from the store's responding items (attempts started before this engine: in flight at a crash
// or a stop), then noted by
// settleStarts for attempts that failed without an answer. Evidence-scoped actions (no target) share nothing.
// Within one process the responders' own memory of what they sent covers attempts that were answered.
func (e *engine) sharedStart(k ActionKey) time.Time {
	if k.Target == "" {
		return time.Time{}
	}
	s := &e.shared
	s.once.Do(func() {
		s.m = map[string]time.Time{}
		err := e.cfg.Store.View(e.persist, func(tx Tx) error {
			for it, err := range tx.Items(StateResponding) {
				if err != nil {
					return err
				}
				for key, t := range it.ActionStarts {
					if t.Before(s.before) {
						s.note(key, t)
					}
				}
			}
			return nil
		})
		if err != nil {
			// Items' own starts still hold; only other items' attempts on a shared target are not seen.
			e.log.Warn("loading the action starts of other items", "err", err)
		}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[startKey(k)]
}

// startActions records in the item, in one write before the responder is called for acts (with the pass's records
// not written yet), that an attempt of each starts now, and sets each finding's EarlierAttempt to the start of the earlier unfinished attempt (of this item,
// or of another item's action on the same target, whichever is later). It reports false when the write failed
// (the job is then handled by storeFailed) or the lease was lost.
func (e *engine) startActions(j *job, pass *respondPass, acts []action) bool {
	now := e.cfg.Now()
	prev := make([]time.Time, len(acts))
	shared := make([]time.Time, len(acts))
	for i := range acts {
		// Before the write: the first call loads what the store held when this engine started.
		shared[i] = e.sharedStart(acts[i].key)
	}
	if _, ok := e.change(j, func(it *Item, tx Tx) error {
		if err := putRecords(it, tx, pass.unrecorded); err != nil {
			return err
		}
		if it.ActionStarts == nil {
			it.ActionStarts = map[string]time.Time{}
		}
		for i, a := range acts {
			prev[i] = it.ActionStarts[startKey(a.key)]
			it.ActionStarts[startKey(a.key)] = now
		}
		return nil
	}); !ok {
		return false
	}
	pass.recorded()
	for i := range acts {
		acts[i].f.EarlierAttempt = prev[i]
		if shared[i].After(prev[i]) {
			acts[i].f.EarlierAttempt = shared[i]
		}
	}
	return true
}

// settleStarts notes the attempts that failed without settling (their request may have been sent and its outcome
// is unknown) for other items' actions on the same target, and gives each action that sent nothing because an
// earlier attempt may still take effect (ErrActionSettling) that earlier start back, so its settle window runs
// from the attempt that may have sent. Other answers keep the new start: the attempt may have sent, and a done
// action's start is dropped when it is recorded. It reports false when the write failed or the lease was lost.
func (e *engine) settleStarts(j *job, acts []action, outs []Outcome) bool {
	now := e.cfg.Now()
	var restore []int
	e.shared.mu.Lock()
	for i, a := range acts {
		settling := errors.Is(outs[i].Err, ErrActionSettling)
		if a.key.Target != "" && e.shared.m != nil && !settling && outs[i].Err != nil {
			e.shared.note(startKey(a.key), now)
		}
		if settling && !a.f.EarlierAttempt.IsZero() {
			restore = append(restore, i)
		}
	}
	e.shared.mu.Unlock()
	if len(restore) == 0 {
		return true
	}
	_, ok := e.change(j, func(it *Item, _ Tx) error {
		if it.ActionStarts == nil {
			it.ActionStarts = map[string]time.Time{}
		}
		for _, i := range restore {
			it.ActionStarts[startKey(acts[i].key)] = acts[i].f.EarlierAttempt
		}
		return nil
	})
	return ok
}
