package rest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Concurrent calls leave their connections idle for the next ones: a second round of as many calls at once opens no
// new connection (the transport's default kept two per host and closed the rest after every call).
func TestConcurrentCallsReuseConnections(t *testing.T) {
	const n = 10
	var opened atomic.Int32
	var inFlight sync.WaitGroup
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Done()
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New(Config{Vendor: "testvendor", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	round := func() {
		inFlight.Add(n)
		release = make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := c.Do(context.Background(), &Request{Op: "Ping", Path: "/ping"}, nil); err != nil {
					t.Error(err)
				}
			})
		}
		inFlight.Wait() // all n calls are on the server at once, each on a connection of its own
		close(release)
		wg.Wait()
	}
	round()
	first := opened.Load()
	round()
	if again := opened.Load() - first; again != 0 {
		t.Errorf("the second round of %d concurrent calls opened %d new connections (first round: %d)", n, again, first)
	}
}
