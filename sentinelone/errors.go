package sentinelone

import (
	"errors"
	"fmt"

	"github.com/soarkit/soarkit/internal/rest"
)

// Error is the failure of one API call: an HTTP error status with the
// console's error list, a 200 answer that carried errors, a transport failure
// after the last retry, or an undecodable answer. Code holds the first
// SentinelOne error code (for example "4000010"), Message its title and
// detail, and Details every error when the console sent several.
type Error = rest.Error

// ErrorDetail is one entry of the console's error list.
type ErrorDetail = rest.ErrorDetail

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
