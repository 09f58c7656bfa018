package connector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/soarkit/soarkit/internal/backoff"
)

// Backoff is a retry policy: at most Attempts tries, waiting about Initial, 2×Initial, 4×Initial, … (capped at Max)
// between them. Each wait is jittered between half and all of its nominal value so that workers do not retry in
// lock-step.
type Backoff struct {
	// Attempts is the total number of tries, the first included. Values below 1 mean 1.
	Attempts int
	// Initial is the nominal wait before the second try.
	Initial time.Duration
	// Max caps every wait, including delays a component asks for with RetryLater.
	Max time.Duration
}

// Delay returns the wait before try number retry+1 (retry counts the failed tries so far, from 1).
func (b Backoff) Delay(retry int) time.Duration {
	return backoff.Equal(backoff.Exponential(b.Initial, b.Max, retry))
}

// wait returns the wait after a failed try: the component's RetryLater delay when it gave one (capped at Max),
// else the jittered backoff.
func (b Backoff) wait(retry int, err error) time.Duration {
	if d, ok := RetryAfter(err); ok && d > 0 {
		if b.Max > 0 && d > b.Max {
			return b.Max
		}
		return d
	}
	return b.Delay(retry)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wrapped is the base of the responder middlewares: it keeps the inner responder's name and scope.
type wrapped struct{ inner Responder }

func (w wrapped) Name() string { return w.inner.Name() }
func (w wrapped) Scope() Scope { return w.inner.Scope() }

// Gate lets findings through to r only when their verdict is in kinds; other findings are Skipped (and not recorded,
// so a later, different verdict can still trigger the action). Every responder in the examples is gated. The result
// is a BatchResponder when r is one: a batch passes on the findings the gate lets through, in one call.
func Gate(r Responder, kinds KindSet) Responder {
	g := gate{wrapped{r}, kinds}
	if b, ok := r.(BatchResponder); ok {
		return batchGate{g, b}
	}
	return g
}

type gate struct {
	wrapped
	kinds KindSet
}

func (g gate) Respond(ctx context.Context, f Finding) (Result, error) {
	if res, ok := g.refuse(f); ok {
		return res, nil
	}
	return g.inner.Respond(ctx, f)
}

// refuse returns the Skipped result of a finding whose verdict the gate does not let through.
func (g gate) refuse(f Finding) (Result, bool) {
	if g.kinds.Has(f.Verdict.Kind) {
		return Result{}, false
	}
	return Result{Status: Skipped, Detail: fmt.Sprintf("verdict %s not selected (%s)", f.Verdict.Kind, g.kinds)}, true
}

type batchGate struct {
	gate
	b BatchResponder
}

func (g batchGate) RespondBatch(ctx context.Context, fs []Finding) []Outcome {
	outs := make([]Outcome, len(fs))
	var pass []Finding
	var at []int
	for i, f := range fs {
		if res, ok := g.refuse(f); ok {
			outs[i].Result = res
			continue
		}
		pass, at = append(pass, f), append(at, i)
	}
	if len(pass) == 0 {
		return outs
	}
	inner := g.b.RespondBatch(ctx, pass)
	for k, i := range at {
		if k < len(inner) && len(inner) == len(pass) {
			outs[i] = inner[k]
		} else {
			outs[i].Err = Permanent(fmt.Errorf("%s answered a batch of %d findings with %d outcomes", g.Name(), len(pass), len(inner)))
		}
	}
	return outs
}

// DryRun never calls r: it logs what r would be asked to do and reports Skipped, so nothing is recorded and turning
// dry run off later acts normally. A nil logger discards the records.
func DryRun(r Responder, logger *slog.Logger) Responder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return dryRun{wrapped{r}, logger}
}

type dryRun struct {
	wrapped
	log *slog.Logger
}

func (d dryRun) Respond(ctx context.Context, f Finding) (Result, error) {
	d.log.InfoContext(ctx, "dry run: would respond",
		"responder", d.Name(), "key", f.Key.String(), "target", f.Target, "verdict", f.Verdict.Kind.String())
	detail := "dry run: would act on " + f.Key.String()
	if f.Target != "" {
		detail += " " + f.Target
	}
	return Result{Status: Skipped, Detail: detail}, nil
}

// Retry calls r again after a transient error, up to b.Attempts tries with backoff, honouring RetryLater delays (up to
// b.Max). Permanent errors and the context's end stop it at once. The engine retries failed items on its own; Retry
// adds quick in-call retries for flaky endpoints.
func Retry(r Responder, b Backoff) Responder { return retrying{wrapped{r}, b} }

type retrying struct {
	wrapped
	b Backoff
}

func (r retrying) Respond(ctx context.Context, f Finding) (Result, error) {
	for try := 1; ; try++ {
		res, err := r.inner.Respond(ctx, f)
		if err == nil || IsPermanent(err) || try >= r.b.Attempts || ctx.Err() != nil {
			return res, err
		}
		if serr := sleep(ctx, r.b.wait(try, err)); serr != nil {
			return res, err
		}
	}
}

// RateLimit makes r wait for l before every call, so a burst of findings does not exceed a vendor's quota.
func RateLimit(r Responder, l *rate.Limiter) Responder { return limited{wrapped{r}, l} }

type limited struct {
	wrapped
	l *rate.Limiter
}

func (r limited) Respond(ctx context.Context, f Finding) (Result, error) {
	if err := r.l.Wait(ctx); err != nil {
		return Result{}, err
	}
	return r.inner.Respond(ctx, f)
}

// LimitSubmissions makes a's Submit wait for l, to stay within an analysis quota (submissions per minute). Lookup and
// Await are not limited. The result still implements TicketFinder when a does.
func LimitSubmissions(a Analyzer, l *rate.Limiter) Analyzer {
	base := limitedAnalyzer{a, l}
	if tf, ok := a.(TicketFinder); ok {
		return limitedFinder{base, tf}
	}
	return base
}

type limitedAnalyzer struct {
	Analyzer
	l *rate.Limiter
}

func (a limitedAnalyzer) Submit(ctx context.Context, ev Evidence, s Sample) (Ticket, error) {
	if err := a.l.Wait(ctx); err != nil {
		return Ticket{}, err
	}
	return a.Analyzer.Submit(ctx, ev, s)
}

type limitedFinder struct {
	limitedAnalyzer
	TicketFinder
}
