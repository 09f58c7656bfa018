package vmrayconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// ErrNoHash reports evidence without a hash VMRay can look up.
var ErrNoHash = errors.New("vmrayconn: evidence has no SHA-256, SHA-1 or MD5")

// ErrAnalysisFailed matches the permanent error of a finished submission whose
// analyses all failed (or that ended without a verdict); the message carries
// VMRay's reasons.
var ErrAnalysisFailed = errors.New("vmrayconn: analysis failed")

// classify wraps a client error with the operation and tells the engine how to
// treat it: requests VMRay refused for good (bad request, wrong key, missing
// privilege, a rejected submission, a request the client would not send) are
// permanent; throttling asks for a retry after the server's delay; anything
// else (5xx, connection failures, malformed answers) is transient.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("vmrayconn: %s: %w", op, err)
	switch {
	case errors.Is(err, vmray.ErrBadRequest), errors.Is(err, vmray.ErrUnauthorized),
		errors.Is(err, vmray.ErrForbidden), errors.Is(err, vmray.ErrInvalidRequest),
		errors.Is(err, vmray.ErrSubmissionRejected):
		return connector.Permanent(err)
	case errors.Is(err, vmray.ErrRateLimited):
		var after time.Duration
		var re *vmray.Error
		if errors.As(err, &re) {
			after = re.RetryAfter
		}
		return connector.RetryLater(err, after)
	}
	return err
}
