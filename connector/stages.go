package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// found pairs a value with a "found" flag, so that two-result component calls fit call.
type found[T any] struct {
	v  T
	ok bool
}

// route sends j to the stage that matches the item's state, from a goroutine of its own, or finishes it.
func (e *engine) route(j *job, st State) {
	if q := e.queueFor(st); q != nil {
		e.later(q, j, 0)
		return
	}
	e.finish(j)
}

// lookup asks the analyzer for a known verdict; after a crash in StateSubmitting it first looks for the lost ticket.
func (e *engine) lookup(j *job) {
	it, ok := e.item(j)
	if !ok {
		return
	}
	if it.State != StateNew && it.State != StateSubmitting {
		e.route(j, it.State)
		return
	}
	a := e.cfg.Analyzer
	if err := e.blockedErr(a.Name()); err != nil {
		e.wait(j, StageLookup, a.Name(), err)
		return
	}
	if tf, isFinder := a.(TicketFinder); isFinder && it.State == StateSubmitting {
		r, err := call(e, e.ctx, StageLookup, a.Name(), e.cfg.Lookup.Timeout, func(ctx context.Context) (found[Ticket], error) {
			t, ok, err := tf.FindTicket(ctx, it.Evidence, it.SubmitStarted)
			return found[Ticket]{t, ok}, err
		})
		if err != nil {
			e.retry(j, StageLookup, a.Name(), e.lookupQ, err)
			return
		}
		if r.ok {
			t := r.v
			if t.Analyzer == "" {
				t.Analyzer = a.Name()
			}
			if t.Submitted.IsZero() {
				t.Submitted = it.SubmitStarted
			}
			if _, ok := e.change(j, func(it *Item, _ Tx) error {
				it.State, it.Ticket = StateAwaiting, &t
				it.Submissions++
				return nil
			}); !ok {
				return
			}
			e.count(func(s *Summary) { s.Recovered++ })
			e.log.Info("found the ticket of an interrupted submission", "key", j.key.String(), "ticket", t.ID)
			e.send(e.awaitQ, j)
			return
		}
	}
	r, err := call(e, e.ctx, StageLookup, a.Name(), e.cfg.Lookup.Timeout, func(ctx context.Context) (found[Verdict], error) {
		v, ok, err := a.Lookup(ctx, it.Evidence)
		return found[Verdict]{v, ok}, err
	})
	if err != nil {
		e.retry(j, StageLookup, a.Name(), e.lookupQ, err)
		return
	}
	result := "unknown"
	if r.ok {
		result = "found"
	}
	e.count(func(s *Summary) {
		s.LookedUp++
		if r.ok {
			s.Known++
		}
	})
	e.obs.Add(CounterLookups, 1, result)
	e.log.Debug("looked up", "key", j.key.String(), "stage", StageLookup, "result", result, "verdict", r.v.Kind.String())
	switch {
	case !r.ok:
		e.send(e.fetchQ, j)
	case e.resubmit(it, r.v):
		v := r.v
		j.known = &v
		e.log.Info("resubmitting a known file", "key", j.key.String(), "verdict", v.Kind.String())
		e.send(e.fetchQ, j)
	default:
		e.setVerdict(j, r.v, nil)
	}
}

// resubmit reports whether a verdict the analyzer already had calls for a new analysis.
func (e *engine) resubmit(it Item, v Verdict) bool {
	return e.cfg.Resubmit.Has(v.Kind) && it.Submissions == 0
}

// setVerdict stores the verdict (and the sample it came from, if given) and moves the item on to the responders.
func (e *engine) setVerdict(j *job, v Verdict, sample *SampleRecord) {
	if v.Analyzer == "" {
		v.Analyzer = e.cfg.Analyzer.Name()
	}
	now := e.cfg.Now()
	if _, ok := e.change(j, func(it *Item, tx Tx) error {
		verdict := v
		it.Verdict, it.VerdictAt, it.State, it.Failure = &verdict, now, StateResponding, nil
		if sample != nil {
			rec := *sample
			it.Sample = &rec
		}
		return e.putAliases(tx, *it)
	}); !ok {
		return
	}
	e.count(func(s *Summary) { s.Verdicts[v.Kind]++ })
	e.obs.Add(CounterVerdicts, 1, v.Kind.String())
	e.log.Info("verdict", "key", j.key.String(), "verdict", v.Kind.String(), "score", v.Score, "analyzer", v.Analyzer,
		"report", v.ReportURL)
	j.known = nil
	e.send(e.respondQ, j)
}

// fetchOrder lists the sources that can deliver files: first those that saw this file, in the order they reported
// it, then the others (a binary store can often deliver a file by hash that another source reported).
func (e *engine) fetchOrder(ev Evidence) []string {
	var names []string
	add := func(n string) {
		if _, ok := e.p.fetch[n]; ok && !containsString(names, n) {
			names = append(names, n)
		}
	}
	add(ev.Source)
	for _, s := range ev.Sightings {
		add(s.Source)
	}
	for _, s := range e.cfg.Sources {
		add(s.Name())
	}
	return names
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fetchSample gets the file from the first source that can deliver it.
func (e *engine) fetchSample(j *job) {
	it, ok := e.item(j)
	if !ok {
		return
	}
	var reasons []string
	var refused error
	refusedBy := ""
	for _, name := range e.fetchOrder(it.Evidence) {
		if err := e.blockedErr(name); err != nil {
			refused, refusedBy = err, name
			continue
		}
		f := e.p.fetch[name]
		s, err := call(e, e.ctx, StageFetch, name, e.cfg.Fetch.Timeout, func(ctx context.Context) (Sample, error) {
			return f.Fetch(ctx, it.Evidence)
		})
		if err == nil && s.Body == nil {
			err = Permanent(errors.New("fetch returned no body"))
		}
		if err != nil {
			switch Classify(err) {
			case PermanentFailure:
				reasons = append(reasons, name+": "+err.Error())
				continue
			case Authorization:
				refused, refusedBy = err, name
				continue
			}
			e.retry(j, StageFetch, name, e.fetchQ, err)
			return
		}
		e.count(func(s *Summary) { s.Fetched++ })
		e.obs.Add(CounterFetched, 1, name)
		e.log.Debug("fetched", "key", j.key.String(), "stage", StageFetch, "source", name, "size", s.Size,
			"truncated", s.Truncated)
		j.sample, j.sampleSource = s, name
		e.afterFetch(j, it)
		return
	}
	if refused != nil {
		// A source that may hold the file refused us: wait for it rather than give up.
		e.wait(j, StageFetch, refusedBy, refused)
		return
	}
	if j.known != nil {
		e.log.Warn("no sample to resubmit; keeping the known verdict", "key", j.key.String(), "reasons", reasons)
		e.setVerdict(j, *j.known, nil)
		return
	}
	reason := "no source could deliver the file"
	if len(reasons) > 0 {
		reason += ": " + strings.Join(reasons, "; ")
	}
	e.fail(j, StageFetch, Permanent(errors.New(reason)))
}

// afterFetch looks a truncated sample up by its own hashes before uploading it, then hands the sample to submit.
func (e *engine) afterFetch(j *job, it Item) {
	s := j.sample
	if sh := s.Hashes.normalized(); s.Truncated && !sh.IsZero() {
		ev := it.Evidence
		ev.Hashes, ev.Size, ev.SourceVerdict = sh, s.Size, nil
		a := e.cfg.Analyzer
		r, err := call(e, e.ctx, StageLookup, a.Name(), e.cfg.Lookup.Timeout, func(ctx context.Context) (found[Verdict], error) {
			v, ok, err := a.Lookup(ctx, ev)
			return found[Verdict]{v, ok}, err
		})
		if err != nil {
			e.retry(j, StageFetch, a.Name(), e.fetchQ, err)
			return
		}
		e.count(func(s *Summary) {
			s.LookedUp++
			if r.ok {
				s.Known++
			}
		})
		if r.ok && !e.resubmit(it, r.v) {
			s.Body.Close()
			j.sample = Sample{}
			e.log.Info("truncated sample already known", "key", j.key.String(), "sample_sha256", sh.SHA256)
			e.setVerdict(j, r.v, &SampleRecord{Name: s.Name, Size: s.Size, Truncated: true, Source: j.sampleSource,
				Hashes: sh})
			return
		}
	}
	e.send(e.submitQ, j)
}

// submit records the intent, streams the sample to the analyzer through a verifying reader, and stores the ticket.
func (e *engine) submit(j *job) {
	it, ok := e.item(j)
	if !ok {
		return
	}
	if err := e.blockedErr(e.cfg.Analyzer.Name()); err != nil {
		e.wait(j, StageSubmit, e.cfg.Analyzer.Name(), err)
		return
	}
	now := e.cfg.Now()
	if _, ok := e.change(j, func(it *Item, _ Tx) error {
		it.State, it.SubmitStarted = StateSubmitting, now
		return nil
	}); !ok {
		return
	}
	s := j.sample
	j.sample = Sample{}
	want := s.Hashes.normalized()
	if !s.Truncated {
		want = it.Evidence.Hashes
		want.fill(s.Hashes.normalized())
	}
	vr := newVerifyingReader(s.Body, want, s.Size)
	s.Body = vr
	a := e.cfg.Analyzer
	t, err := call(e, e.work, StageSubmit, a.Name(), e.cfg.Submit.Timeout, func(ctx context.Context) (Ticket, error) {
		return a.Submit(ctx, it.Evidence, s)
	})
	vr.Close()
	n, got, complete, mismatch := vr.result()
	if mismatch != nil {
		if err == nil {
			mismatch = fmt.Errorf("%w (the analyzer accepted it as ticket %q)", mismatch, t.ID)
		}
		e.fail(j, StageSubmit, mismatch)
		return
	}
	if err != nil {
		// The analyzer may have accepted the sample although the call failed (a lost response): going back through
		// lookup asks TicketFinder first, so the file is not submitted twice.
		e.retry(j, StageSubmit, a.Name(), e.lookupQ, err)
		return
	}
	if t.Analyzer == "" {
		t.Analyzer = a.Name()
	}
	if t.Submitted.IsZero() {
		t.Submitted = now
	}
	rec := SampleRecord{Name: s.Name, Size: s.Size, Truncated: s.Truncated, Source: j.sampleSource,
		Hashes: s.Hashes.normalized()}
	if complete {
		got.fill(rec.Hashes)
		rec.Hashes, rec.Size = got, n
	}
	if _, ok := e.change(j, func(it *Item, _ Tx) error {
		ticket, sample := t, rec
		it.State, it.Ticket, it.Sample = StateAwaiting, &ticket, &sample
		it.Submissions++
		return nil
	}); !ok {
		return
	}
	e.count(func(s *Summary) { s.Submitted++ })
	e.obs.Add(CounterSubmitted, 1, a.Name())
	e.log.Info("submitted", "key", j.key.String(), "ticket", t.ID, "size", rec.Size, "truncated", rec.Truncated,
		"sample_sha256", rec.Hashes.SHA256)
	e.send(e.awaitQ, j)
}

// await waits for the ticket's verdict, within the analysis timeout counted from the submission.
func (e *engine) await(j *job) {
	it, ok := e.item(j)
	if !ok {
		return
	}
	a := e.cfg.Analyzer
	if it.State != StateAwaiting {
		e.route(j, it.State)
		return
	}
	if it.Ticket == nil || it.Ticket.Analyzer != a.Name() {
		e.log.Warn("no usable ticket; looking the file up again", "key", j.key.String())
		if _, ok := e.change(j, func(it *Item, _ Tx) error { it.State = StateNew; return nil }); ok {
			e.route(j, StateNew)
		}
		return
	}
	if err := e.blockedErr(a.Name()); err != nil {
		e.wait(j, StageAwait, a.Name(), err)
		return
	}
	t := *it.Ticket
	remaining := t.Submitted.Add(e.cfg.AnalysisTimeout).Sub(e.cfg.Now())
	if remaining <= 0 {
		e.fail(j, StageAwait, Permanent(fmt.Errorf("analysis of ticket %q not finished within %s",
			t.ID, e.cfg.AnalysisTimeout)))
		return
	}
	timeout := min(e.cfg.Await.Timeout, remaining)
	start := time.Now()
	v, err := call(e, e.ctx, StageAwait, a.Name(), timeout, func(ctx context.Context) (Verdict, error) {
		return a.Await(ctx, t)
	})
	switch {
	case err == nil:
		e.count(func(s *Summary) { s.Analysed++ })
		e.setVerdict(j, v, nil)
	case e.stopping():
		e.abandon(j)
	case Classify(err) != Transient:
		e.retry(j, StageAwait, a.Name(), e.awaitQ, err)
	case errors.Is(err, ErrRetryLater):
		d, _ := RetryAfter(err)
		if d <= 0 {
			d = e.cfg.PollInterval
		}
		e.later(e.awaitQ, j, min(d, remaining))
	case errors.Is(err, context.DeadlineExceeded) && time.Since(start) >= timeout*9/10:
		// The bound of this call ran out, not the analysis: look again (the overall timeout is checked above).
		e.later(e.awaitQ, j, 0)
	default:
		e.retry(j, StageAwait, a.Name(), e.awaitQ, err)
	}
}

// action is one responder call the respond stage has to make.
type action struct {
	r   Responder
	f   Finding
	key ActionKey
}

// respond runs every responder on every target of the item that the action log does not list as done, and finishes
// the item unless new sightings arrived meanwhile.
func (e *engine) respond(j *job) {
	it, ok := e.item(j)
	if !ok {
		return
	}
	if it.State != StateResponding {
		e.route(j, it.State)
		return
	}
	if it.Verdict == nil {
		if _, ok := e.change(j, func(it *Item, _ Tx) error { it.State = StateNew; return nil }); ok {
			e.route(j, StateNew)
		}
		return
	}
	rev := it.Revision
	mark := markOf(*it.Verdict)
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
		e.storeFailed(j, err)
		return
	}
	var transient, permanent, refused []error
	failedBy, refusedBy := "", ""
	progress := false
	for i, a := range todo {
		name := a.r.Name()
		if done[i] {
			e.countAction(name, "done_before")
			continue
		}
		if e.wasSkipped(a.key, mark) {
			continue
		}
		if err := e.blockedErr(name); err != nil {
			refused = append(refused, err)
			refusedBy = cmp.Or(refusedBy, name)
			continue
		}
		started, ok := e.startAction(j, a.key)
		if !ok {
			return
		}
		res, err := call(e, e.work, StageRespond, name, e.cfg.Respond.Timeout, func(ctx context.Context) (Result, error) {
			return a.r.Respond(WithActionStarted(ctx, started), a.f)
		})
		if !e.settled(j, a.key, started, res, err) {
			return
		}
		if err == nil && res.Status != Acted && res.Status != Unchanged && res.Status != Skipped {
			err = Permanent(fmt.Errorf("responder returned unknown status %q", res.Status))
		}
		if err != nil {
			e.countAction(name, "failed")
			err = fmt.Errorf("%s on %s: %w", name, describeTarget(a.f), err)
			e.log.Warn("action failed", "key", j.key.String(), "responder", name, "target", a.f.Target, "err", err)
			switch Classify(err) {
			case PermanentFailure:
				permanent = append(permanent, err)
			case Authorization:
				refused = append(refused, err)
				refusedBy = cmp.Or(refusedBy, name)
			default:
				transient = append(transient, err)
				failedBy = cmp.Or(failedBy, name)
			}
			continue
		}
		e.countAction(name, string(res.Status))
		if res.Status == Skipped {
			e.rememberSkip(a.key, mark)
			e.log.Debug("action skipped", "key", j.key.String(), "responder", name, "target", a.f.Target,
				"detail", res.Detail)
			continue
		}
		rec := Action{ActionKey: a.key, Status: res.Status, Detail: res.Detail, At: e.cfg.Now()}
		if err := e.cfg.Store.Update(e.persist, func(tx Tx) error { return tx.PutAction(rec) }); err != nil {
			e.storeFailed(j, err)
			return
		}
		progress = true
		e.log.Info("action", "key", j.key.String(), "responder", name, "target", a.f.Target,
			"status", string(res.Status), "detail", res.Detail)
	}
	if len(permanent) > 0 {
		e.fail(j, StageRespond, errors.Join(append(permanent, transient...)...))
		return
	}
	if progress && (len(transient) > 0 || len(refused) > 0) {
		// Some actions went through: the step made progress, so its backoff starts over.
		if _, ok := e.change(j, func(it *Item, _ Tx) error { it.Retry = nil; return nil }); !ok {
			return
		}
	}
	if len(refused) > 0 {
		e.wait(j, StageRespond, refusedBy, errors.Join(refused...))
		return
	}
	if len(transient) > 0 {
		e.retry(j, StageRespond, failedBy, e.respondQ, errors.Join(transient...))
		return
	}
	finished := false
	after, ok := e.change(j, func(it *Item, _ Tx) error {
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

// verdictMark is what identifies a verdict for the skip memory: what gates look at.
type verdictMark struct {
	kind     Kind
	score    float64
	severity int
	analyzer string
}

func markOf(v Verdict) verdictMark { return verdictMark{v.Kind, v.Score, v.Severity, v.Analyzer} }

// maxSkipMemory bounds the skip memory of a long Run; when full it starts over (responders are only asked again).
const maxSkipMemory = 1 << 17

func (e *engine) wasSkipped(k ActionKey, m verdictMark) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	have, ok := e.skipped[k]
	return ok && have == m
}

func (e *engine) rememberSkip(k ActionKey, m verdictMark) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.skipped) >= maxSkipMemory {
		clear(e.skipped)
	}
	e.skipped[k] = m
}

func (e *engine) countAction(responder, status string) {
	e.count(func(s *Summary) {
		c := s.Actions[responder]
		switch status {
		case "acted":
			c.Acted++
		case "unchanged":
			c.Unchanged++
		case "skipped":
			c.Skipped++
		case "done_before":
			c.DoneBefore++
		case "failed":
			c.Failed++
		}
		s.Actions[responder] = c
	})
	e.obs.Add(CounterActions, 1, responder, status)
}

func describeTarget(f Finding) string {
	if f.Target == "" {
		return f.Key.String()
	}
	return f.Key.String() + " " + f.Target
}
