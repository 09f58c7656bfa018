package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Control errors. Components return them (wrapped or through the helpers below) to tell the engine how to treat a
// failure; any other error is transient (see Classify): the engine retries the step with backoff until the stage's
// horizon runs out.
var (
	// ErrPermanent marks a failure that retrying cannot fix (the vendor rejected the input, the file is gone). The
	// engine stops working on the item and records it as a dead letter with the reason. Use Permanent to wrap.
	ErrPermanent = errors.New("permanent failure")

	// ErrRetryLater asks the engine to try the step again later without counting it as a failure: an analysis that
	// has not finished, a vendor quota. Use RetryLater to give a delay.
	ErrRetryLater = errors.New("retry later")

	// ErrEndOfInput is returned by Source.Collect when the source will never deliver anything again (a finite list,
	// a replay that is done). The engine stops calling it; Run returns once every source has ended and all work is
	// finished.
	ErrEndOfInput = errors.New("end of input")

	// ErrUnauthorized marks an authorization failure: the component's credentials were refused (HTTP 401 or 403).
	// It is not a failure of the item: the engine marks the component unhealthy, leaves its items waiting without
	// using up their attempts, and reports it in the Summary. Use Unauthorized to wrap.
	ErrUnauthorized = errors.New("unauthorized")
)

// Unauthorized marks err as an authorization failure of the component that returned it: errors.Is(result,
// ErrUnauthorized) and errors.Is(result, err) both hold. Adapters use it for refusals that carry no HTTP status;
// errors that carry one (see Classify) need no wrapping. It returns nil for a nil err.
func Unauthorized(err error) error {
	if err == nil {
		return nil
	}
	return &controlError{kind: ErrUnauthorized, cause: err}
}

// Class is how the engine treats a failed component call.
type Class int

// The failure classes.
const (
	// Transient failures are retried with capped, jittered exponential backoff until the stage's horizon
	// (StageLimits.Horizon) runs out; the next attempt time is stored with the item, so the horizon runs across
	// restarts.
	Transient Class = iota
	// PermanentFailure makes the item a dead letter at once, with the reason.
	PermanentFailure
	// Authorization marks the component unhealthy; the item waits without using up attempts.
	Authorization
)

// MarshalText encodes the class as its String.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a class written by MarshalText.
func (c *Class) UnmarshalText(b []byte) error {
	switch string(b) {
	case "transient", "":
		*c = Transient
	case "permanent":
		*c = PermanentFailure
	case "unauthorized":
		*c = Authorization
	default:
		return fmt.Errorf("connector: unknown failure class %q", b)
	}
	return nil
}

// String returns "transient", "permanent" or "unauthorized".
func (c Class) String() string {
	switch c {
	case PermanentFailure:
		return "permanent"
	case Authorization:
		return "unauthorized"
	}
	return "transient"
}

// httpStatus is implemented by errors that carry an HTTP status (the vendor clients' error type does), so the engine
// can classify them without importing any client.
type httpStatus interface{ HTTPStatus() int }

// Classify returns the failure class of err:
//
//   - Authorization: err matches ErrUnauthorized, or an error in its chain carries HTTP status 401 or 403 (whether
//     or not an adapter also marked it permanent).
//   - Transient: an error in its chain carries HTTP status 408, 429 or 5xx, err asks for RetryLater, a network
//     error or timeout (net.Error, context.DeadlineExceeded), or any error not marked permanent.
//   - PermanentFailure: err is marked permanent (Permanent, a contained panic) and carries none of the statuses
//     above: other 4xx, a hash mismatch, an unsupported file, a limit breached.
func Classify(err error) Class {
	if err == nil {
		return Transient
	}
	if errors.Is(err, ErrUnauthorized) {
		return Authorization
	}
	var hs httpStatus
	if errors.As(err, &hs) {
		switch st := hs.HTTPStatus(); {
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return Authorization
		case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500 && st <= 599:
			return Transient
		}
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return PermanentFailure
	}
	if _, later := RetryAfter(err); later {
		return Transient
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return Transient
	}
	if IsPermanent(err) {
		return PermanentFailure
	}
	return Transient
}

// controlError wraps a cause with a control error and, for RetryLater, a delay.
type controlError struct {
	kind  error
	cause error
	after time.Duration
}

func (e *controlError) Error() string {
	if e.cause == nil {
		return e.kind.Error()
	}
	return e.cause.Error()
}

func (e *controlError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// Permanent marks err as permanent: errors.Is(result, ErrPermanent) and errors.Is(result, err) both hold. It returns
// nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &controlError{kind: ErrPermanent, cause: err}
}

// RetryLater asks the engine to retry after the given delay (0: the engine's default). err may be nil.
func RetryLater(err error, after time.Duration) error {
	return &controlError{kind: ErrRetryLater, cause: err, after: after}
}

// RetryAfter returns the delay requested by the first RetryLater in err's chain, and whether err asks for a retry
// later at all.
func RetryAfter(err error) (time.Duration, bool) {
	var ce *controlError
	for e := err; e != nil; {
		if !errors.As(e, &ce) {
			break
		}
		if ce.kind == ErrRetryLater {
			return ce.after, true
		}
		e = ce.cause
	}
	return 0, errors.Is(err, ErrRetryLater)
}

// IsPermanent reports whether err is marked permanent (including a contained panic).
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// PanicError is the error the engine reports when a component panicked. The panic is contained: the item becomes a
// dead letter with this error as the reason and the run goes on. It matches ErrPermanent.
type PanicError struct {
	Component string // name of the source, analyzer or responder
	Stage     Stage  // the stage that called it
	Value     any    // the value passed to panic
	Stack     []byte // the goroutine's stack when it panicked
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic in %s %s: %v", e.Stage, e.Component, e.Value)
}

// Is makes a PanicError match ErrPermanent.
func (e *PanicError) Is(target error) bool { return target == ErrPermanent }
