package connectortest

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/memstore"
)

// recorder is a testing.TB that records failures instead of reporting them, so the suites' checks can be run
// against broken components to show that they catch them.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// expectFailure runs check against a recorder and requires a failure whose message contains want.
func expectFailure(t *testing.T, want string, check func(tb testing.TB)) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	for _, m := range r.msgs {
		if strings.Contains(m, want) {
			return
		}
	}
	t.Errorf("the check did not fail with %q; it reported %q", want, r.msgs)
}

// stuckSource asks for more without moving its checkpoint.
type stuckSource struct{ *Source }

func (s stuckSource) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	return connector.Batch{Next: connector.Checkpoint("same"), More: true}, nil
}

// liar delivers other bytes than the evidence names, and a retryable error for files it does not hold.
type liar struct{ *Source }

func (l liar) Fetch(ctx context.Context, ev connector.Evidence) (connector.Sample, error) {
	if ev.Hashes.SHA256 != l.evidence[0].Hashes.SHA256 {
		return connector.Sample{}, fmt.Errorf("HTTP 404")
	}
	return connector.Sample{Body: io.NopCloser(strings.NewReader("something else"))}, nil
}

func seededSource() *Source {
	s := NewSource("cbc")
	h := s.AddFile([]byte("content"))
	s.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256}, Sightings: []connector.Sighting{{DeviceID: "1"}}})
	return s
}

func TestSourceChecksCatchBrokenSources(t *testing.T) {
	h := SourceHarness{MaxBatches: 50, Timeout: time.Second}
	expectFailure(t, "without a new checkpoint", func(tb testing.TB) { checkSourceDrain(tb, stuckSource{seededSource()}, h) })
	hashless := NewSource("cbc")
	hashless.Add(connector.Evidence{FileName: "x", Sightings: []connector.Sighting{{DeviceID: "1"}}})
	expectFailure(t, "carries no hash", func(tb testing.TB) { checkSourceDrain(tb, hashless, h) })
	faceless := NewSource("cbc")
	faceless.Add(connector.Evidence{Hashes: HashesOf([]byte("a")), Sightings: []connector.Sighting{{OS: "windows"}}})
	expectFailure(t, "no identifying field", func(tb testing.TB) { checkSourceDrain(tb, faceless, h) })
	expectFailure(t, "no evidence", func(tb testing.TB) { checkSourceDrain(tb, NewSource("empty"), h) })
	expectFailure(t, "must verify what it delivers", func(tb testing.TB) { checkSourceFetch(tb, liar{seededSource()}, h) })
	expectFailure(t, "want a Permanent error", func(tb testing.TB) { checkSourceFetchUnknown(tb, liar{seededSource()}, h) })
	expectFailure(t, "stable, non-empty name", func(tb testing.TB) { checkSourceName(tb, NewSource("")) })
}

// careless ignores its context and panics on a sighting without a device.
type careless struct{ *Responder }

func (c careless) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if f.Sighting != nil && f.Sighting.DeviceID == "" {
		panic("index out of range [0] with length 0") // as a careless adapter reading Sightings[0] would
	}
	return c.Responder.Respond(context.Background(), f)
}

func TestResponderChecksCatchBrokenResponders(t *testing.T) {
	var r *Responder
	h := ResponderHarness{
		Finding: func(testing.TB) connector.Finding { return ExampleFinding(connector.ScopeSighting) },
		Effects: func(testing.TB) int { return len(r.Findings()) },
		Timeout: time.Second,
	}
	r = NewResponder("note", connector.ScopeSighting) // not CheckExisting: acts twice
	expectFailure(t, "want unchanged", func(tb testing.TB) { checkResponderActs(tb, r, h) })
	r = NewResponder("note", connector.ScopeSighting)
	expectFailure(t, "ended context succeeded", func(tb testing.TB) { checkResponderEndedContext(tb, careless{r}, h) })
	r = NewResponder("note", connector.ScopeSighting)
	expectFailure(t, "panicked", func(tb testing.TB) { checkResponderMissingFields(tb, careless{r}, h) })
	expectFailure(t, "valid, constant scope", func(tb testing.TB) {
		checkResponderName(tb, NewResponder("x", connector.Scope(7)))
	})
}

// nonAtomic applies a transaction's writes even when its function fails.
type nonAtomic struct{ *memstore.Store }

func (n nonAtomic) Update(ctx context.Context, fn func(connector.Tx) error) error {
	var ferr error
	n.Store.Update(ctx, func(tx connector.Tx) error { ferr = fn(tx); return nil })
	return ferr
}

// leakyView lets View write.
type leakyView struct{ *memstore.Store }

func (l leakyView) View(ctx context.Context, fn func(connector.Tx) error) error {
	return l.Store.Update(ctx, fn)
}

func TestStoreChecksCatchBrokenStores(t *testing.T) {
	expectFailure(t, "item of a failed transaction was stored", func(tb testing.TB) { testAtomicity(tb, nonAtomic{memstore.New()}) })
	expectFailure(t, "want ErrReadOnly", func(tb testing.TB) { testReadOnly(tb, leakyView{memstore.New()}) })
	forgetful := StoreHarness{
		Open:   func(testing.TB) connector.Store { return memstore.New() },
		Reopen: func(testing.TB, connector.Store) connector.Store { return memstore.New() },
	}
	expectFailure(t, "after reopen", func(tb testing.TB) { testReopen(tb, forgetful) })
}
