package sentinelone

import (
	"errors"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// Error is the failure of one API call: an HTTP error status with the
// console's error list, a 200 answer that carried errors, a transport failure
// after the last retry, or an undecodable answer. Code holds the first
// SentinelOne error code (for example "4000010"), Message its title and
// detail, and Details every error when the console sent several.
type Error struct {
	// Vendor and Op name the API and the operation, for example
	// "sentinelone" and "Threats.List".
	Vendor string
	Op     string
	// Method and Path describe the request; Path never carries the query.
	Method string
	Path   string
	// StatusCode is the HTTP status, or 0 when no response was received.
	StatusCode int
	// Code and Message are SentinelOne's error code and text, when it sent them.
	Code    string
	Message string
	// Details holds further errors when SentinelOne sent a list.
	Details []ErrorDetail
	// RequestID is SentinelOne's request id header, when present.
	RequestID string
	// RetryAfter is the server's Retry-After, when present.
	RetryAfter time.Duration
	// Body is an excerpt of at most 1 KiB of the response, secrets redacted.
	Body string
	// Attempts is how many attempts were made.
	Attempts int
	// Matches lists the package's further sentinels this error matches.
	Matches []error
	// Err is the underlying cause: a transport error, a context error, a
	// decoding error or a refusal before sending.
	Err error
}

// Error describes the failure without credentials or query strings.
func (e *Error) Error() string { return (*rest.Error)(e).Error() }

// Unwrap returns the underlying cause, Err.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns StatusCode (0 when no response was received), which
// the connector engine reads to classify failures.
func (e *Error) HTTPStatus() int { return e.StatusCode }

// Is reports whether target is the sentinel for e's HTTP status
// ([ErrNotFound], [ErrRateLimited], ...) or one of Matches.
func (e *Error) Is(target error) bool { return (*rest.Error)(e).Is(target) }

// Temporary reports whether the call may succeed if tried again later:
// rate limiting, server errors and transport failures.
func (e *Error) Temporary() bool { return (*rest.Error)(e).Temporary() }

// wrapError gives the engine's errors this package's type.
func wrapError(e *rest.Error) error { return (*Error)(e) }

// ErrorDetail is one entry of [Error].Details.
type ErrorDetail = struct {
	Code    string
	Message string
}

// ConfigError reports an invalid client configuration: which setting and
// what is wrong with it.
type ConfigError struct {
	// Field names the setting, for example "base URL".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the setting and the problem.
func (e *ConfigError) Error() string { return (*rest.ConfigError)(e).Error() }

// configError gives the engine's configuration errors this package's type.
func configError(err error) error {
	if ce, ok := err.(*rest.ConfigError); ok {
		return (*ConfigError)(ce)
	}
	return err
}

// The console's documented error codes (HTTP status times 10000 plus n).
const (
	CodeValidation              = 4000010 // 400 Validation Error
	CodeAlreadyExists           = 4000030 // 400 Already Exists Error
	CodeAuthenticationFailed    = 4010010 // 401 Authentication Failed
	CodeInsufficientPermissions = 4030010 // 403 Insufficient permissions
)

// Sentinel errors matched with errors.Is. The HTTP ones are shared by every
// soarkit client.
var (
	ErrBadRequest        = rest.ErrBadRequest
	ErrUnauthorized      = rest.ErrUnauthorized
	ErrForbidden         = rest.ErrForbidden
	ErrNotFound          = rest.ErrNotFound
	ErrConflict          = rest.ErrConflict
	ErrRateLimited       = rest.ErrRateLimited
	ErrServer            = rest.ErrServer
	ErrMalformedResponse = rest.ErrMalformedResponse
	ErrResponseTooLarge  = rest.ErrResponseTooLarge
	ErrInvalidRequest    = rest.ErrInvalidRequest
	ErrRepeatedCursor    = rest.ErrRepeatedCursor
	ErrWaitTimeout       = rest.ErrWaitTimeout
	ErrTimeout           = rest.ErrTimeout

	// ErrValidation matches the console's code 4000010 (Validation Error).
	ErrValidation = errors.New("sentinelone: validation error")
	// ErrAlreadyExists matches code 4000030 (Already Exists Error), for
	// example a hash that is already on the blocklist for that scope.
	ErrAlreadyExists = errors.New("sentinelone: already exists")

	// ErrEmptyFilter reports an action refused before sending because its
	// filter selects nothing but scope: the console would apply it to every
	// object in the scope.
	ErrEmptyFilter = errors.New("sentinelone: action filter selects everything in scope")
	// ErrInvalidPassword reports a fetch password the console would refuse
	// (see ValidatePassword).
	ErrInvalidPassword = errors.New("sentinelone: invalid fetch password")
	// ErrAgentOffline reports that the agent holding a file is not active,
	// so it cannot upload it.
	ErrAgentOffline = errors.New("sentinelone: agent offline")
	// ErrNotCollected matches a *FetchFailedError: the agent answered the
	// fetch but could not collect the file.
	ErrNotCollected = errors.New("sentinelone: file not collected")
	// ErrHashMismatch matches a *HashMismatchError: fetched bytes whose SHA1
	// differs from the expected one.
	ErrHashMismatch = errors.New("sentinelone: SHA1 mismatch")
	// ErrBadArchive reports a fetched zip that cannot be used: no manifest,
	// no file, a wrong password or corrupt data (the zipx cause is wrapped).
	ErrBadArchive = errors.New("sentinelone: unusable fetched archive")
	// ErrQueryFailed matches a *QueryError: a Deep Visibility or PowerQuery
	// search that ended in a state other than finished.
	ErrQueryFailed = errors.New("sentinelone: query failed")
)

// FetchFailedError reports a manifest entry with a non-empty reason: the
// agent could not collect the file (path not found, too large, ...).
type FetchFailedError struct {
	Path   string
	Reason string
}

// Error describes the failure.
func (e *FetchFailedError) Error() string {
	return fmt.Sprintf("sentinelone: agent did not collect %q: %s", e.Path, e.Reason)
}

// Is matches ErrNotCollected.
func (e *FetchFailedError) Is(target error) bool { return target == ErrNotCollected }

// HashMismatchError reports fetched content whose SHA1 is not the expected
// one. Source says what disagreed: "content" for the computed hash of the
// bytes, "manifest" for the hash the agent wrote into manifest.json.
type HashMismatchError struct {
	Source   string
	Expected string
	Actual   string
}

// Error describes the mismatch.
func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("sentinelone: %s SHA1 %s, expected %s", e.Source, e.Actual, e.Expected)
}

// Is matches ErrHashMismatch.
func (e *HashMismatchError) Is(target error) bool { return target == ErrHashMismatch }

// QueryError reports a Deep Visibility or PowerQuery search that ended
// unsuccessfully.
type QueryError struct {
	QueryID string
	State   string
	Message string
}

// Error describes the failed query.
func (e *QueryError) Error() string {
	s := fmt.Sprintf("sentinelone: query %s ended in state %s", e.QueryID, e.State)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches ErrQueryFailed.
func (e *QueryError) Is(target error) bool { return target == ErrQueryFailed }
