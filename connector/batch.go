package connector

import (
	"context"
	"fmt"
	"sync"
)

// BatchResponder is a Responder that can also act on several findings in one call, so that a vendor update shared by
// many files (a watchlist's report list, a lookup by many hashes) is made once per batch instead of once per file.
//
// The engine gathers the findings that reach the respond stage while an earlier batch of the same responder is under
// way, up to Config.RespondBatch, and hands them to one RespondBatch call; a lone finding is handed on at once, so
// batching adds no wait. The findings of a batch may belong to different files. Calls of RespondBatch are never
// concurrent for one responder, so a responder needs no lock of its own across the calls of one batch.
//
// Contract: everything in Responder holds for each finding of the batch (idempotency, one target per finding, the
// control-error rules). RespondBatch returns exactly one Outcome per finding, in order; a finding's failure does not
// fail the others, and the engine records each finding's action on its own. A batch call that returns a different
// number of outcomes fails every finding of the batch permanently.
type BatchResponder interface {
	Responder
	RespondBatch(ctx context.Context, fs []Finding) []Outcome
}

// Outcome is what a BatchResponder did for one finding of a batch: its Result, or the error that stopped it.
type Outcome struct {
	Result Result
	Err    error
}

// RespondEach answers a batch by calling r.Respond on each finding in turn, for responders that batch only some of
// their work (or wrappers whose inner responder does not batch).
func RespondEach(ctx context.Context, r Responder, fs []Finding) []Outcome {
	outs := make([]Outcome, len(fs))
	for i, f := range fs {
		outs[i].Result, outs[i].Err = r.Respond(ctx, f)
	}
	return outs
}

// batcher gathers the findings of one BatchResponder from every respond worker into batches: the first finding
// starts a batch at once, and those that arrive while it runs wait for the next one (group commit). Each worker
// blocks until its findings are answered.
type batcher struct {
	e   *engine
	r   BatchResponder
	max int

	mu      sync.Mutex
	queue   []*batchCall
	running bool
}

// batchCall is one worker's findings (one item's targets for the responder) and, once answered, their outcomes.
type batchCall struct {
	fs   []Finding
	outs []Outcome
	done chan struct{}
}

// do hands fs to the next batch and returns their outcomes.
func (b *batcher) do(fs []Finding) []Outcome {
	c := &batchCall{fs: fs, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if !b.running {
		b.running = true
		b.e.batchRuns.Add(1)
		go b.loop()
	}
	b.mu.Unlock()
	<-c.done
	return c.outs
}

// loop runs batches until no finding waits.
func (b *batcher) loop() {
	defer b.e.batchRuns.Done()
	for {
		b.mu.Lock()
		n, size := 0, 0
		for n < len(b.queue) && (n == 0 || size+len(b.queue[n].fs) <= b.max) {
			size += len(b.queue[n].fs)
			n++
		}
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		calls := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.run(calls, size)
	}
}

// run makes one RespondBatch call for calls and hands each its outcomes.
func (b *batcher) run(calls []*batchCall, size int) {
	fs := make([]Finding, 0, size)
	for _, c := range calls {
		fs = append(fs, c.fs...)
	}
	name := b.r.Name()
	b.e.obs.Add(CounterBatches, 1, name)
	outs, err := call(b.e, b.e.work, StageRespond, name, b.e.cfg.Respond.Timeout,
		func(ctx context.Context) ([]Outcome, error) {
			outs := b.r.RespondBatch(ctx, fs)
			if len(outs) != len(fs) {
				return nil, Permanent(fmt.Errorf("%s answered a batch of %d findings with %d outcomes", name, len(fs), len(outs)))
			}
			return outs, batchHealth(outs)
		})
	if outs == nil {
		outs = make([]Outcome, len(fs))
		for i := range outs {
			outs[i].Err = err
		}
	}
	for _, c := range calls {
		c.outs, outs = outs[:len(c.fs):len(c.fs)], outs[len(c.fs):]
		close(c.done)
	}
}

// batchHealth is the error that stands for a whole batch in the component's health and latency records: an
// authorization failure if any finding had one, else nil when any finding went through, else the first error.
func batchHealth(outs []Outcome) error {
	var first error
	for _, o := range outs {
		if o.Err == nil {
			continue
		}
		if Classify(o.Err) == Authorization {
			return o.Err
		}
		if first == nil {
			first = o.Err
		}
	}
	for _, o := range outs {
		if o.Err == nil {
			return nil
		}
	}
	return first
}
