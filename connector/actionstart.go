package connector

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrActionSettling marks a responder's RetryLater that sent nothing: an earlier request for the action (see
// ActionStarted) may still take effect, so the responder waits out its settle window instead of sending again. The
// engine then keeps the earlier start time, so the window runs from the attempt that may have sent.
var ErrActionSettling = errors.New("an earlier request for this action may still take effect")

type actionStartKey struct{}

// ActionStarted returns when the engine started an earlier, unfinished attempt of the action a Respond call is for
// (zero when none is recorded). The engine records an attempt's start in the Store before it calls the responder,
// so the time survives a crash: a responder whose vendor applies requests late (device actions) reads it, and when
// the target does not show the effect yet and the start is within its settle window, returns
// RetryLater(fmt.Errorf("...: %w", ErrActionSettling), rest of the window) instead of sending a second request.
func ActionStarted(ctx context.Context) time.Time {
	t, _ := ctx.Value(actionStartKey{}).(time.Time)
	return t
}

// WithActionStarted returns ctx carrying t for ActionStarted; for tests of responders and for callers that run
// responders outside the engine.
func WithActionStarted(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, actionStartKey{}, t)
}

// startKey is the key of an action in Item.ActionStarts.
func startKey(k ActionKey) string { return k.Responder + "|" + k.Target }

// sharedStarts remembers, per responder and target, the latest action start of any item: a device that saw two
// files is the target of two actions (one per item), and the request the first sent just before a crash may still
// take effect when the second is tried after the restart. It is loaded from the open items at the first use.
type sharedStarts struct {
	once sync.Once
	mu   sync.Mutex
	m    map[string]time.Time
}

func (s *sharedStarts) note(k string, t time.Time) {
	if t.After(s.m[k]) {
		s.m[k] = t
	}
}

// sharedStart returns the latest start of an action of k's responder on k's target for any item (loaded from the
// store's responding and done items at the first call, then noted by settled).
func (e *engine) sharedStart(k ActionKey) time.Time {
	s := &e.shared
	s.once.Do(func() {
		s.m = map[string]time.Time{}
		_ = e.cfg.Store.View(e.persist, func(tx Tx) error {
			for _, st := range []State{StateResponding, StateDone} {
				for it, err := range tx.Items(st) {
					if err != nil {
						return err
					}
					for key, t := range it.ActionStarts {
						s.note(key, t)
					}
				}
			}
			return nil
		})
	})
	if k.Target == "" {
		return time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[startKey(k)]
}

// startAction records in the item, before a responder is called for k, that an attempt starts now, and returns the
// start of the earlier unfinished attempt (zero if none). ok is false when the store failed (j is abandoned).
func (e *engine) startAction(j *job, k ActionKey) (prev time.Time, ok bool) {
	now := e.cfg.Now()
	_, ok = e.change(j, func(it *Item, _ Tx) error {
		prev = it.ActionStarts[startKey(k)]
		if it.ActionStarts == nil {
			it.ActionStarts = map[string]time.Time{}
		}
		it.ActionStarts[startKey(k)] = now
		return nil
	})
	if other := e.sharedStart(k); ok && other.After(prev) {
		// Another item's later attempt on the same target may still take effect.
		prev = other
	}
	return prev, ok
}

// settled notes the attempt for other items' actions on the same target, and gives k its earlier start back when the responder sent nothing because that attempt may still take
// effect (err is ErrActionSettling), so the settle window runs from the attempt that may have sent. Other answers
// leave the new start: the attempt may have sent, and a done action is never called again.
func (e *engine) settled(j *job, k ActionKey, prev time.Time, res Result, err error) bool {
	if k.Target != "" && (err != nil || res.Status != Skipped) && !errors.Is(err, ErrActionSettling) {
		// The attempt may have sent a request for the target: other items' actions on it wait for it too.
		e.shared.mu.Lock()
		e.shared.note(startKey(k), e.cfg.Now())
		e.shared.mu.Unlock()
	}
	if prev.IsZero() || !errors.Is(err, ErrActionSettling) {
		return true
	}
	_, ok := e.change(j, func(it *Item, _ Tx) error {
		it.ActionStarts[startKey(k)] = prev
		return nil
	})
	return ok
}
