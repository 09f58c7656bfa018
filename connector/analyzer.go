package connector

import (
	"context"
	"errors"
	"time"
)

// Ticket identifies one submission to an analyzer. It is serialisable: the engine stores it before it considers the
// submission done, and after a restart it awaits the stored ticket instead of submitting the file again.
type Ticket struct {
	// Analyzer is the name of the analyzer that issued it.
	Analyzer string `json:"analyzer"`
	// ID is the analyzer's opaque reference (for VMRay, submission and sample id). The engine never interprets it.
	ID string `json:"id"`
	// Submitted is when the submission was made; the analysis timeout runs from here, across restarts.
	Submitted time.Time `json:"submitted"`
}

// Analyzer turns files into verdicts.
//
// Contract:
//   - Name is stable across restarts (tickets carry it).
//   - Lookup returns the verdict the analyzer already holds for the file (by ev.Hashes; use the strongest hash it
//     supports), without uploading anything. found is false when the analyzer does not know the file; an error is
//     an error, never "not found" (the engine retries instead of uploading).
//   - Submit uploads the sample and returns a ticket as soon as the analyzer has accepted it; it does not wait for
//     the analysis. It must stream s.Body (the engine verifies the hash of what was read and fails the read at EOF
//     when it does not match the evidence). The engine closes s.Body.
//   - Await returns the ticket's verdict. It may block, polling at the analyzer's pace, until ctx ends (the engine
//     bounds it with the analysis timeout), or return RetryLater to be called again later. A finished analysis that
//     failed is a Permanent error or an Unknown verdict.
type Analyzer interface {
	Name() string
	Lookup(ctx context.Context, ev Evidence) (v Verdict, found bool, err error)
	Submit(ctx context.Context, ev Evidence, s Sample) (Ticket, error)
	Await(ctx context.Context, t Ticket) (Verdict, error)
}

// TicketFinder is implemented by analyzers that can find a submission made earlier for a file, closing the one
// window the engine cannot close alone: a crash after the analyzer accepted a submission but before the engine stored
// the ticket. After a restart the engine asks FindTicket (submissions of ev's file made at or after since) before
// submitting again. Without it, a crash in that window submits the file a second time.
type TicketFinder interface {
	FindTicket(ctx context.Context, ev Evidence, since time.Time) (t Ticket, found bool, err error)
}

// ErrNoAnalysis is returned (as a Permanent error) by the PassThrough analyzer's Submit and Await.
var ErrNoAnalysis = errors.New("pass-through analyzer does not analyse samples")

// PassThrough returns an Analyzer for sources whose evidence already carries a verdict (Proofpoint TAP classifies
// attachments itself): Lookup returns Evidence.SourceVerdict, or an Unknown verdict when the evidence has none, and
// nothing is ever uploaded. name becomes the verdict's Analyzer when the source left it empty.
func PassThrough(name string) Analyzer { return passThrough{name: name} }

type passThrough struct{ name string }

func (p passThrough) Name() string { return p.name }

func (p passThrough) Lookup(_ context.Context, ev Evidence) (Verdict, bool, error) {
	var v Verdict
	if ev.SourceVerdict != nil {
		v = *ev.SourceVerdict
	}
	if v.Analyzer == "" {
		v.Analyzer = p.name
	}
	return v, true, nil
}

func (p passThrough) Submit(context.Context, Evidence, Sample) (Ticket, error) {
	return Ticket{}, Permanent(ErrNoAnalysis)
}

func (p passThrough) Await(context.Context, Ticket) (Verdict, error) {
	return Verdict{}, Permanent(ErrNoAnalysis)
}
