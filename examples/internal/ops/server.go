package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health tracks readiness: ready once a cycle completed, and no longer ready
// when none completed within the staleness bound.
type Health struct {
	mu        sync.Mutex
	last      time.Time
	lastErr   error
	staleness time.Duration
	now       func() time.Time
}

// NewHealth returns a Health that goes unready when no cycle completed for
// staleness (zero: never stale once ready).
func NewHealth(staleness time.Duration) *Health {
	return &Health{staleness: staleness, now: time.Now}
}

// CycleDone records a completed cycle.
func (h *Health) CycleDone(at time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last, h.lastErr = at, err
}

// Ready reports readiness and, when not ready, why.
func (h *Health) Ready() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.last.IsZero():
		return false, "no cycle completed yet"
	case h.staleness > 0 && h.now().Sub(h.last) > h.staleness:
		return false, fmt.Sprintf("last cycle completed %s ago", h.now().Sub(h.last).Round(time.Second))
	}
	return true, "ok"
}

// Handler serves /metrics from g, /healthz and /readyz.
func Handler(g prometheus.Gatherer, h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, why := h.Ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write([]byte(why + "\n"))
	})
	return mux
}

// Serve listens on addr and serves handler until ctx ends, then shuts down
// within five seconds. It returns the bound address at once (useful with
// ":0") and reports serve errors to log.
func Serve(ctx context.Context, addr string, handler http.Handler, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ops listener: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops server stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}
