package fakehttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startCounting serves a handler that counts the requests it acted on, so a
// test can tell "the fake applied it" from "the client got an answer".
func startCounting(t *testing.T, tlsOn bool) (*Server, *Middleware, *atomic.Int32) {
	t.Helper()
	var acted atomic.Int32
	mw := NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := acted.Add(1)
		WriteJSON(w, http.StatusCreated, map[string]any{"n": n, "echo": string(body)})
	}))
	t.Logf("fault seed %d (set %s to repeat)", mw.FaultSeed(), FaultSeedEnv)
	srv, err := Start(mw, Options{TLS: tlsOn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mw.ApplyDelayedEffects()
		srv.Close()
	})
	return srv, mw, &acted
}

func post(ctx context.Context, c *http.Client, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestLostAnswerActsThenResets(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		srv, mw, acted := startCounting(t, tlsOn)
		mw.InjectFault(Fault{Method: http.MethodPost, Path: "/submit", LostAnswer: true, Times: 1})
		if _, _, err := post(t.Context(), srv.HTTPClient(), srv.URL()+"/submit", "a"); err == nil {
			t.Fatalf("tls=%v: a lost answer reached the client", tlsOn)
		}
		if got := acted.Load(); got != 1 {
			t.Fatalf("tls=%v: handler acted %d times, want 1 (the effect must hold)", tlsOn, got)
		}
		code, body, err := post(t.Context(), srv.HTTPClient(), srv.URL()+"/submit", "b")
		if err != nil || code != http.StatusCreated || !strings.Contains(body, `"n":2`) {
			t.Fatalf("tls=%v: after Times ran out: %d %q %v", tlsOn, code, body, err)
		}
	}
}

func TestDelayedEffectWithLostAnswerLandsAfterTheClientGaveUp(t *testing.T) {
	srv, mw, acted := startCounting(t, false)
	mw.InjectFault(Fault{Path: "/submit", DelayedEffect: time.Hour, LostAnswer: true, Times: 1})
	if _, _, err := post(t.Context(), srv.HTTPClient(), srv.URL()+"/submit", "file"); err == nil {
		t.Fatal("client got an answer")
	}
	if got, pending := acted.Load(), mw.PendingEffects(); got != 0 || pending != 1 {
		t.Fatalf("before the delay: acted %d, pending %d; want 0 and 1", got, pending)
	}
	mw.ApplyDelayedEffects()
	if got, pending := acted.Load(), mw.PendingEffects(); got != 1 || pending != 0 {
		t.Fatalf("after the delay: acted %d, pending %d; want 1 and 0", got, pending)
	}
	if reqs := mw.Requests(); len(reqs) != 1 || string(reqs[0].Body) != "file" {
		t.Fatalf("recorded %+v", reqs)
	}
}

func TestDelayedEffectAnswersAWaitingClient(t *testing.T) {
	srv, mw, acted := startCounting(t, true)
	mw.InjectFault(Fault{Path: "/submit", DelayedEffect: time.Hour})
	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, body, err := post(t.Context(), srv.HTTPClient(), srv.URL()+"/submit", "payload")
		done <- result{code, body, err}
	}()
	waitPending(t, mw, 1)
	if got := acted.Load(); got != 0 {
		t.Fatalf("acted %d before the delay", got)
	}
	mw.ApplyDelayedEffects()
	r := <-done
	if r.err != nil || r.code != http.StatusCreated || !strings.Contains(r.body, `"echo":"payload"`) {
		t.Fatalf("waiting client got %d %q %v", r.code, r.body, r.err)
	}
}

func TestDelayedEffectAppliesAfterTheClientLeft(t *testing.T) {
	srv, mw, acted := startCounting(t, false)
	mw.InjectFault(Fault{Path: "/submit", DelayedEffect: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := post(ctx, srv.HTTPClient(), srv.URL()+"/submit", "x")
		done <- err
	}()
	waitPending(t, mw, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client err = %v, want context.Canceled", err)
	}
	// Nothing releases it: the delay runs out on its own.
	if err := mw.WaitDelayedEffects(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := acted.Load(); got != 1 {
		t.Fatalf("acted %d, want 1: the effect must land without the client", got)
	}
}

func TestRateFaultsAreSeededAndCounted(t *testing.T) {
	srv, mw, _ := startCounting(t, false)
	run := func(seed uint64) []bool {
		mw.ClearFaults()
		mw.SetFaultSeed(seed)
		mw.InjectFault(Fault{Path: "/r", Status: http.StatusServiceUnavailable, Rate: 0.3})
		hits := make([]bool, 200)
		for i := range hits {
			code, _, err := post(t.Context(), srv.HTTPClient(), srv.URL()+"/r", "")
			if err != nil {
				t.Fatal(err)
			}
			hits[i] = code == http.StatusServiceUnavailable
		}
		return hits
	}
	count := func(h []bool) (n int) {
		for _, b := range h {
			if b {
				n++
			}
		}
		return n
	}
	first, again, other := run(7), run(7), run(8)
	if n := count(first); n == 0 || n == len(first) {
		t.Fatalf("rate 0.3 applied to %d of %d requests", n, len(first))
	}
	if !slices.Equal(first, again) {
		t.Fatal("the same seed gave a different fault sequence")
	}
	if slices.Equal(first, other) {
		t.Fatal("another seed gave the same fault sequence")
	}

	// Rate and Times combine: only applications count.
	mw.ClearFaults()
	mw.InjectFault(Fault{Path: "/r", Status: http.StatusServiceUnavailable, Rate: 0.5, Times: 3})
	faulted := 0
	for range 100 {
		if code, _, _ := post(t.Context(), srv.HTTPClient(), srv.URL()+"/r", ""); code == http.StatusServiceUnavailable {
			faulted++
		}
	}
	if faulted != 3 {
		t.Fatalf("%d faults, want Times=3", faulted)
	}
}

func TestFaultSeedFromEnvironment(t *testing.T) {
	t.Setenv(FaultSeedEnv, "4242")
	if got := NewMiddleware(http.NotFoundHandler()).FaultSeed(); got != 4242 {
		t.Fatalf("FaultSeed = %d, want 4242 from %s", got, FaultSeedEnv)
	}
}

// waitPending waits until the middleware holds n delayed requests; it counts
// state, never time.
func waitPending(t *testing.T, mw *Middleware, n int) {
	t.Helper()
	for mw.PendingEffects() != n {
		select {
		case <-t.Context().Done():
			t.Fatal("test ended before the request was accepted")
		case <-time.After(time.Millisecond):
		}
	}
}
