package vmray

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// Error is the failure of one VMRay API call. Its Message is VMRay's
// "error_msg"; StatusCode is the HTTP status (200 for errors VMRay reports
// inside a successful response). Match it with errors.Is against the
// sentinels below and read it with errors.As.
type Error = rest.Error

// ErrorDetail is one entry of [Error].Details; for a rejected submission Code
// is the rejected file name and Message the reason.
type ErrorDetail = rest.ErrorDetail

// Sentinel errors matched by [*Error] with errors.Is.
var (
	// ErrBadRequest matches HTTP 400.
	ErrBadRequest = rest.ErrBadRequest
	// ErrUnauthorized matches HTTP 401: a missing, wrong or expired API key.
	ErrUnauthorized = rest.ErrUnauthorized
	// ErrForbidden matches HTTP 403: the key lacks a privilege, for example
	// a Verdict key reading a locked report.
	ErrForbidden = rest.ErrForbidden
	// ErrNotFound matches HTTP 404: an unknown id, a finished (removed) job,
	// or a continuation id that was already used. Hash lookups never return
	// it; an unknown hash is an empty result.
	ErrNotFound = rest.ErrNotFound
	// ErrConflict matches HTTP 409.
	ErrConflict = rest.ErrConflict
	// ErrRateLimited matches HTTP 429; [Error].RetryAfter holds the server's
	// Retry-After.
	ErrRateLimited = rest.ErrRateLimited
	// ErrServer matches HTTP 5xx.
	ErrServer = rest.ErrServer
	// ErrMalformedResponse matches a body that is not the JSON VMRay sends.
	ErrMalformedResponse = rest.ErrMalformedResponse
	// ErrTimeout matches a vendor that stopped answering: no response
	// headers, or no body data, within the client's timeouts.
	ErrTimeout = rest.ErrTimeout
	// ErrResponseTooLarge matches a body over the configured cap.
	ErrResponseTooLarge = rest.ErrResponseTooLarge
	// ErrInvalidRequest matches a call refused before sending (invalid hash,
	// id, tag or option).
	ErrInvalidRequest = rest.ErrInvalidRequest
	// ErrWaitTimeout matches a [SubmissionsService.Wait] that reached one of
	// its bounds; errors.As gives a [*WaitTimeoutError].
	ErrWaitTimeout = rest.ErrWaitTimeout
	// ErrRepeatedCursor matches a list whose continuation id repeats.
	ErrRepeatedCursor = rest.ErrRepeatedCursor

	// ErrResultError matches an HTTP 200 response whose envelope says
	// "result": "error".
	ErrResultError = errors.New("vmray reported an error in a successful response")
	// ErrSubmissionRejected matches a submit call answered with HTTP 200 but
	// a non-empty "data.errors": the file or URL was not submitted. errors.As
	// gives a [*RejectedError] naming each file and reason.
	ErrSubmissionRejected = errors.New("submission rejected")
	// ErrNoJobsCreated matches a rejection because no analysis job was
	// created, typically a known sample submitted with "legacy" analysis
	// caching. It also matches [ErrSubmissionRejected].
	ErrNoJobsCreated = errors.New("no jobs were created")
)

// errorBody is VMRay's ErrorResponse.
type errorBody struct {
	Result   string `json:"result"`
	ErrorMsg string `json:"error_msg"`
}

// decodeError reads {"result":"error","error_msg":"..."} from a failed
// response; other bodies leave the message empty (the excerpt stays on Body).
func decodeError(e *rest.Error, body []byte) {
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Message = eb.ErrorMsg
	}
}

// Rejection is one file or URL VMRay refused to submit.
type Rejection struct {
	// Filename is the submitted file name ("submission_filename").
	Filename string `json:"submission_filename"`
	// Message is VMRay's reason ("error_msg").
	Message string `json:"error_msg"`
}

// UnmarshalJSON accepts the documented object and the plain string some
// server versions send.
func (r *Rejection) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = Rejection{Message: s}
		return nil
	}
	type plain Rejection
	return json.Unmarshal(b, (*plain)(r))
}

// RejectedError is the cause of an [*Error] matching [ErrSubmissionRejected].
type RejectedError struct {
	Rejections []Rejection
}

// Error lists the rejected files and reasons ("README.md: Submission not
// stored because no jobs were created").
func (e *RejectedError) Error() string {
	parts := make([]string, 0, len(e.Rejections))
	for _, r := range e.Rejections {
		if r.Filename != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", r.Filename, r.Message))
		} else {
			parts = append(parts, r.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// Is matches [ErrSubmissionRejected], and [ErrNoJobsCreated] when a reason
// says no jobs were created.
func (e *RejectedError) Is(target error) bool {
	switch target {
	case ErrSubmissionRejected:
		return true
	case ErrNoJobsCreated:
		for _, r := range e.Rejections {
			if strings.Contains(strings.ToLower(r.Message), "no jobs were created") {
				return true
			}
		}
	}
	return false
}

// in200Error builds the *Error for a failure VMRay reports inside an HTTP 200.
func (c *Client) in200Error(req *rest.Request, path, message string, cause error, matches ...error) *Error {
	return &Error{
		Vendor:     vendor,
		Op:         req.Op,
		Method:     methodOf(req),
		Path:       path,
		StatusCode: http.StatusOK,
		Message:    c.rest.Redact(message),
		Matches:    matches,
		Err:        cause,
	}
}

func methodOf(req *rest.Request) string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

// invalid wraps a refusal made before sending into an *Error naming op.
func invalid(op string, err error) error {
	return &Error{Vendor: vendor, Op: op, Err: err}
}
