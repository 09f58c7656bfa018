package connectortest

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// Analyzer is an in-memory connector.Analyzer and connector.TicketFinder. Lookup finds the files registered with
// Know and every file it has analysed; Submit reads the sample to the end and hashes it; an analysis takes Latency
// from its submission and yields the verdict registered with SetVerdict (or one of kind Default).
type Analyzer struct {
	name string
	// Latency is how long an analysis takes, counted from its submission.
	Latency time.Duration
	// Poll makes Await return connector.RetryLater until the analysis is done, instead of blocking.
	Poll bool
	// Default is the verdict kind of files without a SetVerdict (the zero value is connector.Unknown).
	Default connector.Kind
	// Faults, when set, injects failures into every method.
	Faults *Faults

	mu       sync.Mutex
	verdicts map[string]connector.Verdict // by hash: what an analysis yields
	known    map[string]connector.Verdict // by hash: what Lookup finds
	subs     []Submission
	lookups  int
}

// Submission records one Submit call that the analyzer accepted.
type Submission struct {
	Ticket    connector.Ticket
	Evidence  connector.Key    // the primary key of the evidence submitted
	Hashes    connector.Hashes // of the bytes read from the sample
	Size      int64
	Truncated bool
	At        time.Time
}

// NewAnalyzer returns an analyzer with the given name that knows no file.
func NewAnalyzer(name string) *Analyzer {
	return &Analyzer{name: name, verdicts: map[string]connector.Verdict{}, known: map[string]connector.Verdict{}}
}

// Name returns the analyzer's name.
func (a *Analyzer) Name() string { return a.name }

// SetVerdict sets the verdict an analysis of the file with hashes h yields.
func (a *Analyzer) SetVerdict(h connector.Hashes, v connector.Verdict) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range []string{h.SHA256, h.SHA1, h.MD5} {
		if x != "" {
			a.verdicts[x] = v
		}
	}
}

// Know makes Lookup find the file with hashes h, with verdict v, as if it had been analysed before.
func (a *Analyzer) Know(h connector.Hashes, v connector.Verdict) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v.SampleHashes.IsZero() {
		v.SampleHashes = h
	}
	a.know(h, v)
}

func (a *Analyzer) know(h connector.Hashes, v connector.Verdict) {
	for _, x := range []string{h.SHA256, h.SHA1, h.MD5} {
		if x != "" {
			a.known[x] = v
		}
	}
}

// Submissions returns the accepted submissions, in order.
func (a *Analyzer) Submissions() []Submission {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Submission(nil), a.subs...)
}

// Lookups returns the number of Lookup calls so far.
func (a *Analyzer) Lookups() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lookups
}

// Lookup finds files registered with Know and files analysed earlier.
func (a *Analyzer) Lookup(ctx context.Context, ev connector.Evidence) (connector.Verdict, bool, error) {
	if err := a.Faults.before(ctx, "lookup"); err != nil {
		return connector.Verdict{}, false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lookups++
	for _, x := range []string{ev.Hashes.SHA256, ev.Hashes.SHA1, ev.Hashes.MD5} {
		if v, ok := a.known[x]; ok && x != "" {
			return cloneVerdict(v), true, nil
		}
	}
	return connector.Verdict{}, false, nil
}

// Submit reads the sample to the end, hashes it and records the submission.
func (a *Analyzer) Submit(ctx context.Context, ev connector.Evidence, s connector.Sample) (connector.Ticket, error) {
	if err := a.Faults.before(ctx, "submit"); err != nil {
		return connector.Ticket{}, err
	}
	h256, h1, h5 := sha256.New(), sha1.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(h256, h1, h5), readerWithContext{ctx, s.Body})
	if err != nil {
		return connector.Ticket{}, fmt.Errorf("connectortest: reading sample: %w", err)
	}
	key, _ := ev.Key()
	a.mu.Lock()
	sub := Submission{
		Ticket:   connector.Ticket{Analyzer: a.name, ID: fmt.Sprintf("ticket-%d", len(a.subs)+1)},
		Evidence: key,
		Hashes: connector.Hashes{SHA256: hex.EncodeToString(h256.Sum(nil)), SHA1: hex.EncodeToString(h1.Sum(nil)),
			MD5: hex.EncodeToString(h5.Sum(nil))},
		Size:      n,
		Truncated: s.Truncated,
		At:        time.Now(),
	}
	a.subs = append(a.subs, sub)
	a.mu.Unlock()
	if err := a.Faults.after("submit"); err != nil {
		return connector.Ticket{}, err
	}
	return sub.Ticket, nil
}

// Await returns the verdict once the analysis's Latency has passed since submission.
func (a *Analyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	if err := a.Faults.before(ctx, "await"); err != nil {
		return connector.Verdict{}, err
	}
	a.mu.Lock()
	var sub *Submission
	for i := range a.subs {
		if a.subs[i].Ticket.ID == t.ID {
			sub = &a.subs[i]
		}
	}
	if sub == nil {
		a.mu.Unlock()
		return connector.Verdict{}, connector.Permanent(fmt.Errorf("connectortest: unknown ticket %q", t.ID))
	}
	ready, evKey, h := sub.At.Add(a.Latency), sub.Evidence, sub.Hashes
	a.mu.Unlock()
	if wait := time.Until(ready); wait > 0 {
		if a.Poll {
			return connector.Verdict{}, connector.RetryLater(nil, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return connector.Verdict{}, ctx.Err()
		case <-timer.C:
		}
	}
	a.mu.Lock()
	v, ok := a.verdicts[h.SHA256]
	if !ok {
		v, ok = a.verdicts[evKey.Hex]
	}
	if !ok {
		v = connector.Verdict{Kind: a.Default}
	}
	v.Analyzer, v.SampleHashes, v.AnalysisID = a.name, h, t.ID
	v.ReportURL = "https://analyzer.example/report/" + t.ID
	a.know(h, v)
	a.mu.Unlock()
	return cloneVerdict(v), nil
}

// FindTicket returns the latest submission for ev's file made at or after since.
func (a *Analyzer) FindTicket(ctx context.Context, ev connector.Evidence, since time.Time) (connector.Ticket, bool, error) {
	if err := a.Faults.before(ctx, "find ticket"); err != nil {
		return connector.Ticket{}, false, err
	}
	key, err := ev.Key()
	if err != nil {
		return connector.Ticket{}, false, connector.Permanent(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.subs) - 1; i >= 0; i-- {
		if s := a.subs[i]; s.Evidence == key && !s.At.Before(since) {
			return s.Ticket, true, nil
		}
	}
	return connector.Ticket{}, false, nil
}

func cloneVerdict(v connector.Verdict) connector.Verdict {
	v.Classifications = append([]string(nil), v.Classifications...)
	v.ThreatNames = append([]string(nil), v.ThreatNames...)
	v.VTIs = append([]connector.VTI(nil), v.VTIs...)
	v.IOCs = append([]connector.IOC(nil), v.IOCs...)
	return v
}

// readerWithContext stops reading once ctx ends.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
