package carbonblack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// Error is the failure of one Carbon Black API call: HTTP status, Carbon
// Black's error_code and message (or reason), request id, Retry-After and a
// redacted body excerpt. Match it with errors.Is against the sentinels below
// and read it with errors.As.
type Error = rest.Error

// ConfigError reports an invalid client configuration.
type ConfigError = rest.ConfigError

// Sentinels shared with every soarkit client.
var (
	// ErrBadRequest matches HTTP 400.
	ErrBadRequest = rest.ErrBadRequest
	// ErrUnauthorized matches HTTP 401 (wrong or missing API key).
	ErrUnauthorized = rest.ErrUnauthorized
	// ErrForbidden matches HTTP 403 (the key's access level lacks a
	// permission).
	ErrForbidden = rest.ErrForbidden
	// ErrNotFound matches HTTP 404 (unknown object, or a wrong org key).
	ErrNotFound = rest.ErrNotFound
	// ErrConflict matches HTTP 409.
	ErrConflict = rest.ErrConflict
	// ErrRateLimited matches HTTP 429.
	ErrRateLimited = rest.ErrRateLimited
	// ErrServer matches HTTP 5xx.
	ErrServer = rest.ErrServer
	// ErrMalformedResponse matches an undecodable response.
	ErrMalformedResponse = rest.ErrMalformedResponse
	// ErrTimeout matches a vendor that stopped answering: no response
	// headers, or no body data, within the client's timeouts.
	ErrTimeout = rest.ErrTimeout
	// ErrResponseTooLarge matches a response over the configured cap.
	ErrResponseTooLarge = rest.ErrResponseTooLarge
	// ErrInvalidRequest matches a request refused before it was sent.
	ErrInvalidRequest = rest.ErrInvalidRequest
	// ErrWaitTimeout matches a job, session or command that did not finish
	// within its polling bound.
	ErrWaitTimeout = rest.ErrWaitTimeout
)

// Carbon Black specific sentinels.
var (
	// ErrRetired matches HTTP 410 Gone: the API was deactivated by Carbon
	// Black (Alerts v6, enriched events, GET search validation v1, Policy v3,
	// Devices v3, Live Response v3). It is never retried.
	ErrRetired = errors.New("carbonblack: API retired")
	// ErrQuerySyntax matches a 400 whose reason is query_malformed_syntax,
	// and a validation answer with valid=false.
	ErrQuerySyntax = errors.New("carbonblack: malformed search query")
	// ErrResultWindow reports that more results share one timestamp than a
	// search can page through, so narrowing the time range cannot help.
	ErrResultWindow = errors.New("carbonblack: result window exceeded")
	// ErrTruncatedSample matches a [*TruncatedSampleError].
	ErrTruncatedSample = errors.New("carbonblack: truncated sample")
	// ErrSampleFormat reports a UBS archive without a filedata entry, or a
	// body that is not a zip archive (for example an expired link's error
	// page).
	ErrSampleFormat = errors.New("carbonblack: malformed sample archive")
	// ErrLiveResponseUnavailable matches a [*LiveResponseUnavailableError].
	ErrLiveResponseUnavailable = errors.New("carbonblack: live response unavailable")
	// ErrSessionFailed reports a Live Response session that ended in ERROR or
	// CLOSED instead of becoming ACTIVE.
	ErrSessionFailed = errors.New("carbonblack: live response session failed")
	// ErrCommandFailed matches a [*CommandError].
	ErrCommandFailed = errors.New("carbonblack: live response command failed")
	// ErrInvalidReport reports a report or IOC that Carbon Black would
	// reject (severity outside 1-10, no IOC, a query IOC with several values).
	ErrInvalidReport = errors.New("carbonblack: invalid report")
)

// errorBody is the union of Carbon Black's error shapes.
type errorBody struct {
	ErrorCode    string          `json:"error_code"`
	Message      string          `json:"message"`
	Reason       string          `json:"reason"`
	ErrorMessage string          `json:"errorMessage"`
	Field        string          `json:"field"`
	InvalidValue json.RawMessage `json:"invalid_value"`
	Failed       []struct {
		ID        json.RawMessage `json:"id"`
		ErrorCode string          `json:"error_code"`
		Message   string          `json:"message"`
	} `json:"failed"`
}

// decodeError fills Code and Message from Carbon Black's error body:
// {"error_code","message"} (most services), {"reason","message"} (search),
// {"errorMessage"} (older services) or {"failed":[...]} (multi-status).
func decodeError(e *rest.Error, body []byte) {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 && !strings.HasPrefix(s, "<") {
			e.Message = s
		}
		return
	}
	e.Code = b.ErrorCode
	if e.Code == "" {
		e.Code = b.Reason
	}
	e.Message = b.Message
	if e.Message == "" {
		e.Message = b.ErrorMessage
	}
	if e.Message == "" && b.Reason != "" && b.ErrorCode == "" {
		e.Message = b.Reason
	}
	if b.Field != "" {
		e.Message = strings.TrimSpace(e.Message + " (field " + b.Field + ")")
	}
	for _, f := range b.Failed {
		e.Details = append(e.Details, rest.ErrorDetail{Code: f.ErrorCode, Message: strings.Trim(string(f.ID), `"`) + ": " + f.Message})
	}
	if b.Reason == "query_malformed_syntax" || b.ErrorCode == "QUERY_MALFORMED_SYNTAX" {
		e.Matches = append(e.Matches, ErrQuerySyntax)
	}
}

// TruncatedSampleError reports a UBS sample whose SHA-256 differs from the
// requested one: UBS keeps only the first part of large files, so the
// archive held a truncated copy. The bytes were delivered; Requested and
// Actual let a caller analyse the partial file under its own hash.
type TruncatedSampleError struct {
	// Requested is the SHA-256 asked for.
	Requested string
	// Actual is the SHA-256 of the bytes UBS delivered.
	Actual string
	// Size is the number of bytes delivered.
	Size int64
}

// Error names both hashes.
func (e *TruncatedSampleError) Error() string {
	return fmt.Sprintf("carbonblack: truncated sample: requested sha256 %s, got %d bytes with sha256 %s", e.Requested, e.Size, e.Actual)
}

// Is matches ErrTruncatedSample.
func (e *TruncatedSampleError) Is(target error) bool { return target == ErrTruncatedSample }

// LiveResponseUnavailableError reports a device on which Live Response cannot
// run: the sensor does not report LIVE_RESPONSE_ENABLED (Live Response is off
// in its policy, or the sensor is too old).
type LiveResponseUnavailableError struct {
	DeviceID     int64
	SensorStates []string
}

// Error names the device and its sensor states.
func (e *LiveResponseUnavailableError) Error() string {
	return fmt.Sprintf("carbonblack: live response not enabled on device %d (sensor states %s)", e.DeviceID, strings.Join(e.SensorStates, ","))
}

// Is matches ErrLiveResponseUnavailable.
func (e *LiveResponseUnavailableError) Is(target error) bool {
	return target == ErrLiveResponseUnavailable
}

// CommandError reports a Live Response command that ended in error, with
// the device's result code (a Windows HRESULT such as -2147024894, "file not
// found").
type CommandError struct {
	SessionID  string
	CommandID  int64
	Name       string
	Status     string
	ResultCode int64
	ResultType string
	ResultDesc string
}

// Error names the command and the device's answer.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("carbonblack: live response command %d (%s) in session %s ended %s", e.CommandID, e.Name, e.SessionID, strings.ToLower(e.Status))
	if e.ResultCode != 0 || e.ResultDesc != "" {
		msg += fmt.Sprintf(": %s %d (0x%08X) %s", e.ResultType, e.ResultCode, uint32(e.ResultCode), e.ResultDesc)
	}
	return strings.TrimSpace(msg)
}

// Is matches ErrCommandFailed.
func (e *CommandError) Is(target error) bool { return target == ErrCommandFailed }

var errNoDevices = fmt.Errorf("%w: no device id given", rest.ErrInvalidRequest)
