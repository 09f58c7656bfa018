package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultResponseHeaderTimeout bounds the wait for a response's headers once
// the request has been sent, unless configured otherwise.
const DefaultResponseHeaderTimeout = 90 * time.Second

// DefaultIdleReadTimeout bounds the wait for the next chunk of a body, unless
// configured otherwise.
const DefaultIdleReadTimeout = 60 * time.Second

// ErrTimeout matches a vendor that stopped answering: no response headers
// within the response-header timeout, or no body data within the idle-read
// timeout. The concrete error is a [*TimeoutError].
var ErrTimeout = errors.New("vendor stopped answering")

// TimeoutError reports which wait ran out. Like a net.Error it reports
// Timeout() and Temporary() true: the vendor may answer a later attempt.
type TimeoutError struct {
	// Wait names what did not arrive: "response headers", "response body
	// data" or "request body progress".
	Wait string
	// After is the configured timeout that elapsed.
	After time.Duration
}

// Error names the wait and the timeout.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timeout: no %s for %v", e.Wait, e.After)
}

// Is matches [ErrTimeout].
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true: a later attempt may succeed.
func (e *TimeoutError) Temporary() bool { return true }

// Timeout reports whether the call failed because the vendor, or the attempt
// bound, ran out of time (the cause is a [*TimeoutError] or another error
// whose Timeout method reports true), in the manner of net.Error.
func (e *Error) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// WithResponseHeaderTimeout bounds the wait for response headers after the
// request was sent (default [DefaultResponseHeaderTimeout]; negative turns
// the bound off).
func WithResponseHeaderTimeout[V any](d time.Duration) Option[V] {
	return func(s *Settings[V]) { s.Config.ResponseHeaderTimeout = d }
}

// WithIdleReadTimeout bounds the wait for the next chunk of a request or
// response body (default [DefaultIdleReadTimeout]; negative turns the bound
// off). A slow but steady download never hits it; a stalled one does.
func WithIdleReadTimeout[V any](d time.Duration) Option[V] {
	return func(s *Settings[V]) { s.Config.IdleReadTimeout = d }
}

// timeoutOrDefault maps the configured value to the effective one: zero
// selects def, negative disables (0).
func timeoutOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// watchdog cancels one attempt when the vendor makes no progress: while the
// transport consumes the request body, each chunk must be taken within the
// idle timeout; once the body is sent, the headers must arrive within the
// header timeout; while the response body is read, each Read must return
// within the idle timeout. Time the caller spends between Reads never counts.
type watchdog struct {
	header, idle time.Duration
	cancel       context.CancelCauseFunc

	mu       sync.Mutex
	timer    *time.Timer
	armed    bool
	deadline time.Time
	pending  *TimeoutError
	err      *TimeoutError
}

// newWatchdog derives the attempt's context from ctx.
func newWatchdog(ctx context.Context, header, idle time.Duration) (*watchdog, context.Context) {
	wctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{header: header, idle: idle, cancel: cancel}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w, wctx
}

func (w *watchdog) arm(d time.Duration, wait string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if d <= 0 {
		w.armed = false
		w.timer.Stop()
		return
	}
	w.armed = true
	w.deadline = time.Now().Add(d)
	w.pending = &TimeoutError{Wait: wait, After: d}
	w.timer.Reset(d)
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	w.armed = false
	w.timer.Stop()
	w.mu.Unlock()
}

// fire runs on the timer. A run left over from before a re-arm finds the
// deadline in the future and does nothing; the re-armed timer fires later.
func (w *watchdog) fire() {
	w.mu.Lock()
	if !w.armed || w.err != nil || time.Now().Before(w.deadline) {
		w.mu.Unlock()
		return
	}
	w.armed = false
	w.err = w.pending
	err := w.err
	w.mu.Unlock()
	w.cancel(err)
}

// expired returns the timeout that ended the attempt, or nil.
func (w *watchdog) expired() *TimeoutError {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// requestStarted arms the first wait of an attempt.
func (w *watchdog) requestStarted(hasBody bool) {
	if hasBody {
		w.arm(w.idle, "request body progress")
		return
	}
	w.requestSent()
}

// requestProgress is called when the transport took a chunk of the body.
func (w *watchdog) requestProgress() { w.arm(w.idle, "request body progress") }

// requestSent starts the wait for the response headers.
func (w *watchdog) requestSent() { w.arm(w.header, "response headers") }

// watchedRequestBody reports the transport's progress through a request body
// to the watchdog.
type watchedRequestBody struct {
	rc   io.ReadCloser
	w    *watchdog
	once sync.Once
}

func (b *watchedRequestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err != nil:
		b.once.Do(b.w.requestSent)
	case n > 0:
		b.w.requestProgress()
	}
	return n, err
}

func (b *watchedRequestBody) Close() error {
	b.once.Do(b.w.requestSent)
	return b.rc.Close()
}

// watchedResponseBody fails a Read that waits longer than the idle timeout
// for data with the watchdog's *TimeoutError.
type watchedResponseBody struct {
	rc io.ReadCloser
	w  *watchdog
}

func (b *watchedResponseBody) Read(p []byte) (int, error) {
	b.w.arm(b.w.idle, "response body data")
	n, err := b.rc.Read(p)
	b.w.disarm()
	if err != nil && err != io.EOF {
		if te := b.w.expired(); te != nil {
			return n, te
		}
	}
	return n, err
}

func (b *watchedResponseBody) Close() error {
	b.w.disarm()
	return b.rc.Close()
}
