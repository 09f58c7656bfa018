package carbonblackconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
)

// ErrNotInUBS reports a file the Unified Binary Store does not hold; Fetch
// returns it as a permanent error so the engine tries another source.
var ErrNotInUBS = errors.New("carbonblackconn: the Unified Binary Store does not hold the file")

// ErrCorruptSample reports a download from the Unified Binary Store that is
// not the requested file: an archive that stayed damaged over several
// downloads, or content whose hash differs from the requested one without UBS
// saying it holds a truncated copy of exactly that size. Fetch returns it as a
// permanent error so the engine tries another source; the content is never
// handed on.
var ErrCorruptSample = errors.New("carbonblackconn: the Unified Binary Store delivered corrupt content")

// ErrNoSHA256 reports evidence without a SHA-256, which every Carbon Black
// call of this package needs.
var ErrNoSHA256 = errors.New("carbonblackconn: evidence has no SHA-256")

// ErrActionPending matches the connector.RetryLater a device responder
// returns when its earlier request for a device failed without an answer and
// may still take effect: the responder waits for the vendor to apply it (up
// to ten minutes) before it asks again.
var ErrActionPending = pending.ErrUnknownOutcome

// classify wraps a client error with the operation and tells the engine how to
// treat it: requests Carbon Black refused for good (bad request, wrong key,
// missing permission, retired API, malformed query or report) are permanent;
// throttling asks for a retry after the server's delay; anything else
// (5xx, connection failures) is transient.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("carbonblackconn: %s: %w", op, err)
	switch {
	case errors.Is(err, carbonblack.ErrBadRequest), errors.Is(err, carbonblack.ErrUnauthorized),
		errors.Is(err, carbonblack.ErrForbidden), errors.Is(err, carbonblack.ErrRetired),
		errors.Is(err, carbonblack.ErrQuerySyntax), errors.Is(err, carbonblack.ErrInvalidReport),
		errors.Is(err, carbonblack.ErrInvalidRequest):
		return connector.Permanent(err)
	case errors.Is(err, carbonblack.ErrRateLimited):
		var after time.Duration
		var re *carbonblack.Error
		if errors.As(err, &re) {
			after = re.RetryAfter
		}
		return connector.RetryLater(err, after)
	}
	return err
}

// skipped is the result of a responder that has nothing to act on.
func skipped(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Skipped, Detail: fmt.Sprintf(format, args...)}, nil
}

func acted(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Acted, Detail: fmt.Sprintf(format, args...)}, nil
}

func unchanged(format string, args ...any) (connector.Result, error) {
	return connector.Result{Status: connector.Unchanged, Detail: fmt.Sprintf(format, args...)}, nil
}
