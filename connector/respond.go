package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// action is one responder call the respond stage has to make.
type action struct {
	r   Responder
	f   Finding
	key ActionKey
}

// respondPass gathers what the actions of one pass over an item did.
type respondPass struct {
	transient, permanent, refused []error
	// failedBy and refusedBy name the first responder that failed transiently and that was refused.
	failedBy, refusedBy string
	// progress is set when an action was recorded as done in this pass.
	progress bool
	// unrecorded holds the records of done actions not written yet: each goes to the store with the next write of
	// the pass (the start of the next call, or the pass's end), which is before any other call is made.
	unrecorded []Action
}

// recorded notes that the unrecorded actions were written to the store (with a start, or by flushRecords).
func (p *respondPass) recorded() {
	if len(p.unrecorded) > 0 {
		p.unrecorded, p.progress = nil, true
	}
}

func (p *respondPass) refuse(responder string, err error) {
	p.refused = append(p.refused, err)
	p.refusedBy = cmp.Or(p.refusedBy, responder)
}

// respond runs every responder on every target of the item that the action log does not list as done, and finishes
// the item unless new sightings arrived meanwhile. The actions of a BatchResponder join those of other items in one
// call (see batcher); the others are made one after another.
func (e *engine) respond(j *job) {
	it, ok := e.respondable(j)
	if !ok {
		return
	}
	groups, err := e.pendingActions(it)
	if err != nil {
		e.storeFailed(j, err)
		return
	}
	var pass respondPass
	for _, group := range groups {
		if !e.runActions(j, group, &pass) {
			return
		}
	}
	e.settleRespond(j, it.Revision, &pass)
}

// respondable returns the item of j when it is ready for its responders; otherwise it routes the job on and reports
// false.
func (e *engine) respondable(j *job) (Item, bool) {
	it, ok := e.item(j)
	if !ok {
		return Item{}, false
	}
	if it.State != StateResponding {
		e.route(j, it.State)
		return Item{}, false
	}
	if it.Verdict == nil {
		if _, ok := e.change(j, func(it *Item, _ Tx) error { it.State = StateNew; return nil }); ok {
			e.route(j, StateNew)
		}
		return Item{}, false
	}
	return it, true
}

// pendingActions returns the actions of the item still to make, grouped by responder in the configured order: those
// the action log lists as done, and those skipped earlier in this run for the same verdict, are left out.
func (e *engine) pendingActions(it Item) ([][]action, error) {
	var todo []action
	for _, r := range e.cfg.Responders {
		for _, f := range targets(r.Scope(), it.Key, it.Evidence, *it.Verdict) {
			todo = append(todo, action{r, f, ActionKey{Responder: r.Name(), Item: it.Key, Target: f.Target}})
		}
	}
	done := make([]bool, len(todo))
	if err := e.cfg.Store.View(e.persist, func(tx Tx) error {
		for i, a := range todo {
			_, found, err := tx.Action(a.key)
			if err != nil {
				return err
			}
			done[i] = found
		}
		return nil
	}); err != nil {
		return nil, err
	}
	mark := markOf(*it.Verdict)
	var groups [][]action
	for i, a := range todo {
		switch {
		case done[i]:
			e.countAction(a.r.Name(), "done_before")
			continue
		case e.wasSkipped(a.key, mark):
			continue
		}
		if n := len(groups); n > 0 && groups[n-1][0].r.Name() == a.r.Name() {
			groups[n-1] = append(groups[n-1], a)
		} else {
			groups = append(groups, []action{a})
		}
	}
	return groups, nil
}

// runActions makes the actions of one responder: a BatchResponder's in one batch whose done actions are recorded in
// one store write, any other's one after another, each recorded as soon as it is done (so a crash repeats at most
// one call). Each call's start is recorded first (startActions, in the same write as the records of the actions done
// before it), so that the next attempt after a crash knows an earlier request may still take effect
// (Finding.EarlierAttempt). It reports false when a write failed (the job is then handled by storeFailed) or the item's lease
// was lost (the job is abandoned).
func (e *engine) runActions(j *job, group []action, pass *respondPass) bool {
	name := group[0].r.Name()
	b := e.batchers[name]
	if b == nil {
		for _, a := range group {
			if err := e.blockedErr(name); err != nil {
				pass.refuse(name, err)
				continue
			}
			acts := []action{a}
			if !e.guard(j) || !e.startActions(j, pass, acts) {
				return false
			}
			outs := make([]Outcome, 1)
			outs[0].Result, outs[0].Err = call(e, e.effectsCtx(j), StageRespond, name, e.cfg.Respond.Timeout,
				func(ctx context.Context) (Result, error) { return a.r.Respond(ctx, acts[0].f) })
			if !e.settleStarts(j, acts, outs) {
				return false
			}
			if rec, ok := e.judgeAction(j, a, outs[0], pass); ok {
				pass.unrecorded = append(pass.unrecorded, rec)
			}
		}
		return true
	}
	if err := e.blockedErr(name); err != nil {
		pass.refuse(name, err)
		return true
	}
	if !e.guard(j) || !e.startActions(j, pass, group) {
		return false
	}
	fs := make([]Finding, len(group))
	for i, a := range group {
		fs[i] = a.f
	}
	outs := b.do(fs)
	if !e.settleStarts(j, group, outs) {
		return false
	}
	for i, a := range group {
		if rec, ok := e.judgeAction(j, a, outs[i], pass); ok {
			pass.unrecorded = append(pass.unrecorded, rec)
		}
	}
	return true
}

// putRecords writes the records of done actions to the action log and drops their attempt starts from the item (a
// done action is never called again, so only unfinished attempts stay recorded).
func putRecords(it *Item, tx Tx, recs []Action) error {
	for _, rec := range recs {
		if err := tx.PutAction(rec); err != nil {
			return err
		}
		delete(it.ActionStarts, startKey(rec.ActionKey))
	}
	if len(it.ActionStarts) == 0 {
		it.ActionStarts = nil
	}
	return nil
}

// flushRecords writes the pass's unrecorded actions in one transaction.
func (e *engine) flushRecords(j *job, pass *respondPass) bool {
	if len(pass.unrecorded) == 0 {
		return true
	}
	if _, ok := e.change(j, func(it *Item, tx Tx) error { return putRecords(it, tx, pass.unrecorded) }); !ok {
		return false
	}
	pass.recorded()
	return true
}

// judgeAction counts and logs what one action did, adds its failure to pass, and returns the action-log record to
// write when it is done (Acted or Unchanged).
func (e *engine) judgeAction(j *job, a action, out Outcome, pass *respondPass) (Action, bool) {
	name := a.r.Name()
	res, err := out.Result, out.Err
	if err == nil && res.Status != Acted && res.Status != Unchanged && res.Status != Skipped {
		err = Permanent(fmt.Errorf("responder returned unknown status %q", res.Status))
	}
	if err != nil {
		e.countAction(name, "failed")
		err = fmt.Errorf("%s on %s: %w", name, describeTarget(a.f), err)
		e.log.Warn("action failed", "key", j.key.String(), "responder", name, "target", a.f.Target, "err", err)
		switch Classify(err) {
		case PermanentFailure:
			pass.permanent = append(pass.permanent, err)
		case Authorization:
			pass.refuse(name, err)
		default:
			pass.transient = append(pass.transient, err)
			pass.failedBy = cmp.Or(pass.failedBy, name)
		}
		return Action{}, false
	}
	e.countAction(name, string(res.Status))
	if res.Status == Skipped {
		e.rememberSkip(a.key, markOf(a.f.Verdict))
		e.log.Debug("action skipped", "key", j.key.String(), "responder", name, "target", a.f.Target,
			"detail", res.Detail)
		return Action{}, false
	}
	e.log.Info("action", "key", j.key.String(), "responder", name, "target", a.f.Target,
		"status", string(res.Status), "detail", res.Detail)
	return Action{ActionKey: a.key, Status: res.Status, Detail: res.Detail, At: e.cfg.Now()}, true
}

// settleRespond ends a pass over an item: a permanent failure dead-letters it, a refusal makes it wait, a transient
// failure retries it, and otherwise the item is done unless new evidence (a new revision) arrived meanwhile.
func (e *engine) settleRespond(j *job, rev int, pass *respondPass) {
	if len(pass.permanent)+len(pass.refused)+len(pass.transient) > 0 && !e.flushRecords(j, pass) {
		return
	}
	if len(pass.permanent) > 0 {
		e.fail(j, StageRespond, errors.Join(append(pass.permanent, pass.transient...)...))
		return
	}
	if pass.progress && (len(pass.transient) > 0 || len(pass.refused) > 0) {
		// Some actions went through: the step made progress, so its backoff starts over.
		if _, ok := e.change(j, func(it *Item, _ Tx) error { it.Retry = nil; return nil }); !ok {
			return
		}
	}
	if len(pass.refused) > 0 {
		e.wait(j, StageRespond, pass.refusedBy, errors.Join(pass.refused...))
		return
	}
	if len(pass.transient) > 0 {
		e.retry(j, StageRespond, pass.failedBy, e.respondQ, errors.Join(pass.transient...))
		return
	}
	finished := false
	after, ok := e.change(j, func(it *Item, tx Tx) error {
		// The pass's last records go with its end.
		if err := putRecords(it, tx, pass.unrecorded); err != nil {
			return err
		}
		finished = it.State == StateResponding && it.Revision == rev
		if finished {
			it.State = StateDone
		}
		return nil
	})
	if !ok {
		return
	}
	if finished {
		e.finish(j)
		return
	}
	e.route(j, after.State)
}
