package sentineloneconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
	"github.com/soarkit/soarkit/sentinelone"
)

// ErrNoSHA1 reports evidence without a SHA1, which the SentinelOne calls of
// this package need.
var ErrNoSHA1 = errors.New("sentineloneconn: evidence has no SHA1")

// ErrNotHeld reports a file no sighting of this source can deliver; Fetch
// returns it as a permanent error so the engine tries another source.
var ErrNotHeld = errors.New("sentineloneconn: no sighting of this source can deliver the file")

// ErrActionPending matches the connector.RetryLater a device responder
// returns when its earlier request for an agent failed without an answer and
// may still take effect: the responder waits for the vendor to apply it (up
// to ten minutes) before it asks again.
var ErrActionPending = pending.ErrUnknownOutcome

// classify wraps a client error with the operation and tells the engine how to
// treat it: requests the console refused for good (400, 401, 403, 404, a
// request the client refused, a filter selecting everything), files that
// cannot be used (another hash, an unusable archive) and downloads over the
// size limit are permanent;
// throttling asks for a retry after the console's delay; an offline agent
// asks for a retry later; anything else (5xx, connection failures) is
// transient.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("sentineloneconn: %s: %w", op, err)
	switch {
	case errors.Is(err, sentinelone.ErrAgentOffline):
		return connector.RetryLater(err, DefaultOfflineRetry)
	case errors.Is(err, sentinelone.ErrRateLimited):
		var after time.Duration
		var re *sentinelone.Error
		if errors.As(err, &re) {
			after = re.RetryAfter
		}
		return connector.RetryLater(err, after)
	case errors.Is(err, sentinelone.ErrBadRequest), errors.Is(err, sentinelone.ErrUnauthorized),
		errors.Is(err, sentinelone.ErrForbidden), errors.Is(err, sentinelone.ErrNotFound),
		errors.Is(err, sentinelone.ErrInvalidRequest), errors.Is(err, sentinelone.ErrEmptyFilter),
		errors.Is(err, sentinelone.ErrValidation), errors.Is(err, sentinelone.ErrInvalidPassword),
		errors.Is(err, sentinelone.ErrNotCollected), errors.Is(err, sentinelone.ErrHashMismatch),
		errors.Is(err, sentinelone.ErrBadArchive), errors.Is(err, sentinelone.ErrResponseTooLarge):
		return connector.Permanent(err)
	}
	return err
}

func skipped(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Skipped, Detail: fmt.Sprintf(format, args...)}, nil
}

func acted(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Acted, Detail: fmt.Sprintf(format, args...)}, nil
}

func unchanged(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Unchanged, Detail: fmt.Sprintf(format, args...)}, nil
}
