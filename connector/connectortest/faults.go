package connectortest

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// ErrInjected is the transient error the fakes return when Faults decides a call fails.
var ErrInjected = errors.New("connectortest: injected transient failure")

// Faults injects failures into the fake components that share it. The zero value injects nothing; a nil *Faults is
// valid and injects nothing. Decisions come from a random source seeded with Seed, so a run is repeatable as far as
// goroutine scheduling allows. Safe for concurrent use.
type Faults struct {
	// ErrorRate is the probability that a call fails with ErrInjected before it does anything.
	ErrorRate float64
	// LateErrorRate is the probability that a call that had an effect (a responder acted, an analyzer accepted a
	// submission) still returns ErrInjected, as when a response is lost on the way back.
	LateErrorRate float64
	// PanicRate is the probability that a call panics.
	PanicRate float64
	// Delay is added to every call (the call still honours its context).
	Delay time.Duration
	// Seed seeds the random decisions.
	Seed uint64

	mu       sync.Mutex
	rng      *rand.Rand
	errors   int
	late     int
	panics   int
	disabled bool
}

// FaultCounts counts the faults injected so far.
type FaultCounts struct {
	Errors, LateErrors, Panics int
}

// Counts returns the faults injected so far.
func (f *Faults) Counts() FaultCounts {
	if f == nil {
		return FaultCounts{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return FaultCounts{f.errors, f.late, f.panics}
}

// Disable stops (or, with false, resumes) all injection, for example to let a test settle.
func (f *Faults) Disable(off bool) {
	if f == nil {
		return
	}
	f.mu.Lock()
	f.disabled = off
	f.mu.Unlock()
}

func (f *Faults) roll(rate float64) bool {
	if rate <= 0 {
		return false
	}
	if f.rng == nil {
		f.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
	return f.rng.Float64() < rate
}

// before runs at the start of a fake call: it waits Delay, then may panic or return ErrInjected.
func (f *Faults) before(ctx context.Context, op string) error {
	if f == nil {
		return ctx.Err()
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	if f.disabled {
		f.mu.Unlock()
		return nil
	}
	doPanic := f.roll(f.PanicRate)
	doErr := !doPanic && f.roll(f.ErrorRate)
	if doPanic {
		f.panics++
	}
	if doErr {
		f.errors++
	}
	f.mu.Unlock()
	if doPanic {
		panic(fmt.Sprintf("connectortest: injected panic in %s", op))
	}
	if doErr {
		return fmt.Errorf("%s: %w", op, ErrInjected)
	}
	return nil
}

// after runs once a fake call has had its effect: it may return ErrInjected anyway.
func (f *Faults) after(op string) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disabled || !f.roll(f.LateErrorRate) {
		return nil
	}
	f.late++
	return fmt.Errorf("%s (after its effect): %w", op, ErrInjected)
}

// HashesOf returns the SHA256, SHA1 and MD5 of b.
func HashesOf(b []byte) connector.Hashes {
	s256 := sha256.Sum256(b)
	s1 := sha1.Sum(b)
	m5 := md5.Sum(b)
	return connector.Hashes{
		SHA256: hex.EncodeToString(s256[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		MD5:    hex.EncodeToString(m5[:]),
	}
}
