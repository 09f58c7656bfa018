package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors matched by [*Error] with errors.Is.
var (
	// ErrBadRequest matches HTTP 400 responses.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized matches HTTP 401 responses (missing or wrong credentials).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden matches HTTP 403 responses (credentials lack a permission).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound matches HTTP 404 responses.
	ErrNotFound = errors.New("not found")
	// ErrConflict matches HTTP 409 responses.
	ErrConflict = errors.New("conflict")
	// ErrRateLimited matches HTTP 429 responses and requests refused by a
	// client-side quota.
	ErrRateLimited = errors.New("rate limited")
	// ErrServer matches HTTP 5xx responses.
	ErrServer = errors.New("server error")
	// ErrMalformedResponse matches a response body that could not be decoded.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrResponseTooLarge matches a response body over the configured cap.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrInvalidRequest matches requests refused before sending (bad path
	// argument, unencodable query or body).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrRepeatedCursor is reported by [Pages] when a vendor hands back a
	// cursor it already returned, which would otherwise loop forever.
	ErrRepeatedCursor = errors.New("repeated page cursor")
	// ErrWaitTimeout matches a [Poll] that reached its bound.
	ErrWaitTimeout = errors.New("wait timed out")
)

// finalError marks a failure that must not be retried.
type finalError struct{ err error }

func (f finalError) Error() string { return f.err.Error() }
func (f finalError) Unwrap() error { return f.err }

// Final marks err, returned by a custom http.RoundTripper (for example a
// client-side quota that refuses a request), as not worth retrying: the
// engine returns it at once instead of backing off. Final(nil) is nil.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return finalError{err}
}

func isFinal(err error) bool {
	var f finalError
	return errors.As(err, &f)
}

// maxExcerpt bounds the body excerpt kept on an Error.
const maxExcerpt = 1024

// ErrorDetail is one entry of a vendor's list of errors.
type ErrorDetail struct {
	Code    string
	Message string
}

// Error is the failure of one vendor API call: an HTTP error status, a
// transport failure after the last retry, or an undecodable response.
// Use errors.Is with the sentinels of this package (and those the vendor
// decoder adds to Matches), and errors.As to read the fields.
type Error struct {
	// Vendor and Op name the API and operation, for example "sentinelone"
	// and "Threats.List".
	Vendor string
	Op     string
	// Method and Path describe the request; Path never carries the query.
	Method string
	Path   string
	// StatusCode is the HTTP status, or 0 when no response was received.
	StatusCode int
	// Code and Message are the vendor's error code and text, when it sent them.
	Code    string
	Message string
	// Details holds further vendor errors when the vendor sent a list.
	Details []ErrorDetail
	// RequestID is the vendor's request id header, when present.
	RequestID string
	// RetryAfter is the server's Retry-After, when present.
	RetryAfter time.Duration
	// Body is an excerpt of at most 1 KiB of the response, secrets redacted.
	Body string
	// Attempts is how many attempts were made.
	Attempts int
	// Matches lists extra sentinels this error matches, set by vendor
	// decoders (for example a vendor's "already exists" code).
	Matches []error
	// Err is the underlying cause: a transport error, a context error or a
	// decoding error.
	Err error
}

// Error describes the failure without credentials or query strings.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Vendor != "" {
		b.WriteString(e.Vendor)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	switch {
	case e.StatusCode != 0 && (e.Err == nil || e.StatusCode >= 300):
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Code != "" {
			fmt.Fprintf(&b, ": code %s", e.Code)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
		for _, d := range e.Details {
			fmt.Fprintf(&b, "; %s %s", d.Code, d.Message)
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	case e.Err != nil:
		if e.Message != "" {
			b.WriteString(e.Message)
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the HTTP status of the response, or 0 when none was received. Code that must not import the
// clients (the connector engine) classifies failures through it.
func (e *Error) HTTPStatus() int { return e.StatusCode }

// Is reports whether target is the sentinel for e's status or one of the
// vendor's extra matches.
func (e *Error) Is(target error) bool {
	for _, m := range e.Matches {
		if m == target {
			return true
		}
	}
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// Temporary reports whether the call may succeed if tried again later:
// rate limiting, server errors and transport failures.
func (e *Error) Temporary() bool {
	if e.StatusCode == 0 {
		return e.Err != nil && !errors.Is(e.Err, ErrInvalidRequest) && !errors.Is(e.Err, ErrMalformedResponse)
	}
	return retryableStatus(e.StatusCode)
}

// ConfigError reports an invalid client configuration.
type ConfigError struct {
	Field  string
	Reason string
}

// Error names the field and the problem.
func (e *ConfigError) Error() string { return "invalid " + e.Field + ": " + e.Reason }
