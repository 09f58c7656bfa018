package fakehttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// FaultSeedEnv names the environment variable that seeds [Fault.Rate] draws,
// so a run with rate faults can be repeated exactly.
const FaultSeedEnv = "SOARKIT_FAULT_SEED"

func seedFromEnv() uint64 {
	if v, err := strconv.ParseUint(os.Getenv(FaultSeedEnv), 10, 64); err == nil {
		return v
	}
	return rand.Uint64()
}

// faultChance draws whether a rate fault applies; the middleware's mutex
// guards it.
type faultChance struct {
	value uint64
	rng   *rand.Rand
}

func (c *faultChance) seed(s uint64) {
	c.value = s
	c.rng = rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

func (c *faultChance) draw(rate float64) bool { return c.rng.Float64() < rate }

// FaultSeed returns the seed of the generator behind [Fault.Rate]; log it so a
// failing run can be repeated with [FaultSeedEnv] or [Middleware.SetFaultSeed].
func (m *Middleware) FaultSeed() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chance.value
}

// SetFaultSeed restarts the generator behind [Fault.Rate] from seed.
func (m *Middleware) SetFaultSeed(seed uint64) {
	m.mu.Lock()
	m.chance.seed(seed)
	m.mu.Unlock()
}

// PendingEffects returns how many requests accepted under
// [Fault.DelayedEffect] have not reached the handler yet.
func (m *Middleware) PendingEffects() int {
	m.effects.mu.Lock()
	defer m.effects.mu.Unlock()
	return len(m.effects.pending)
}

// ApplyDelayedEffects hands every pending delayed request to the handler now,
// without waiting out its delay, and returns once all of them were applied.
// Tests use it to choose exactly when a delayed effect lands.
func (m *Middleware) ApplyDelayedEffects() {
	for _, e := range m.effects.snapshot() {
		e.releaseOnce.Do(func() { close(e.release) })
		<-e.done
	}
}

// WaitDelayedEffects waits until every delayed request pending now has been
// applied after its delay, or ctx ends.
func (m *Middleware) WaitDelayedEffects(ctx context.Context) error {
	for _, e := range m.effects.snapshot() {
		select {
		case <-e.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type delayedEffects struct {
	mu      sync.Mutex
	pending map[*effect]struct{}
}

type effect struct {
	release     chan struct{}
	releaseOnce sync.Once
	done        chan struct{}
	// answer is the handler's answer, nil when the handler aborted; it is
	// set before done is closed.
	answer *bufferedWriter
}

func (d *delayedEffects) snapshot() []*effect {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*effect, 0, len(d.pending))
	for e := range d.pending {
		out = append(out, e)
	}
	return out
}

// schedule runs apply after delay (or an earlier release) on its own
// goroutine, independent of the client's connection.
func (d *delayedEffects) schedule(delay time.Duration, apply func() *bufferedWriter) *effect {
	e := &effect{release: make(chan struct{}), done: make(chan struct{})}
	d.mu.Lock()
	if d.pending == nil {
		d.pending = make(map[*effect]struct{})
	}
	d.pending[e] = struct{}{}
	d.mu.Unlock()
	go func() {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-e.release:
			t.Stop()
		}
		e.answer = runHandler(apply)
		d.mu.Lock()
		delete(d.pending, e)
		d.mu.Unlock()
		close(e.done)
	}()
	return e
}

// runHandler turns a handler that aborts (panics) into a nil answer: there is
// no connection left to abort.
func runHandler(apply func() *bufferedWriter) (answer *bufferedWriter) {
	defer func() {
		if recover() != nil {
			answer = nil
		}
	}()
	return apply()
}

// serveDelayed reads the whole request, detaches it from the connection and
// schedules it; the client gets the answer if it is still there when the
// effect lands (and nothing at all under LostAnswer).
func (m *Middleware) serveDelayed(w http.ResponseWriter, r *http.Request, f *Fault) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	detached := r.Clone(context.WithoutCancel(r.Context()))
	detached.Body = io.NopCloser(bytes.NewReader(body))
	detached.ContentLength = int64(len(body))
	e := m.effects.schedule(f.DelayedEffect, func() *bufferedWriter {
		rec := &bufferedWriter{header: make(http.Header), status: http.StatusOK}
		m.next.ServeHTTP(rec, detached)
		return rec
	})
	if f.LostAnswer {
		reset(w)
		return
	}
	select {
	case <-e.done:
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	}
	if e.answer == nil {
		panic(http.ErrAbortHandler)
	}
	for k, v := range e.answer.header {
		w.Header()[k] = v
	}
	w.WriteHeader(e.answer.status)
	_, _ = w.Write(e.answer.body.Bytes())
}

// reset closes the client's connection with a TCP reset (no close_notify, no
// FIN), as a lost answer looks to the client.
func reset(w http.ResponseWriter) {
	conn := hijack(w)
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	raw.Close()
}
