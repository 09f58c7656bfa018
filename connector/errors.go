package connector

import (
	"errors"
	"fmt"
	"time"
)

// Control errors. Components return them (wrapped or through the helpers below) to tell the engine how to treat a
// failure; any other error is transient: the engine retries the step with backoff and records the item as a dead
// letter when the attempts run out.
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
)

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
