package proofpoint

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// Error is the failure of one TAP call: an HTTP error status, a transport
// failure after the last retry, a request refused before it was sent (an
// invalid window, an exhausted pool) or an undecodable response. Use
// errors.Is with the sentinels below and errors.As to read the fields.
type Error = rest.Error

// Sentinels shared with the other soarkit clients.
var (
	// ErrBadRequest matches HTTP 400 (TAP sends a plain-text reason).
	ErrBadRequest = rest.ErrBadRequest
	// ErrUnauthorized matches HTTP 401: wrong service principal or secret.
	ErrUnauthorized = rest.ErrUnauthorized
	// ErrForbidden matches HTTP 403: the credential is not entitled to the
	// customer's data.
	ErrForbidden = rest.ErrForbidden
	// ErrNotFound matches HTTP 404: unknown threat or campaign id.
	ErrNotFound = rest.ErrNotFound
	// ErrRateLimited matches HTTP 429 and calls refused by the client's pool
	// tracker ([ErrPoolExhausted]).
	ErrRateLimited = rest.ErrRateLimited
	// ErrServer matches HTTP 5xx.
	ErrServer = rest.ErrServer
	// ErrMalformedResponse matches a body that is not the expected JSON.
	ErrMalformedResponse = rest.ErrMalformedResponse
	// ErrTimeout matches a vendor that stopped answering: no response
	// headers, or no body data, within the client's timeouts.
	ErrTimeout = rest.ErrTimeout
	// ErrResponseTooLarge matches a body over the configured cap.
	ErrResponseTooLarge = rest.ErrResponseTooLarge
	// ErrInvalidRequest matches calls refused before sending, among them
	// every [ErrInvalidWindow].
	ErrInvalidRequest = rest.ErrInvalidRequest
	// ErrRepeatedCursor matches a page iteration that would loop.
	ErrRepeatedCursor = rest.ErrRepeatedCursor
)

// TAP-specific sentinels.
var (
	// ErrPoolExhausted matches a call the client refused because its rolling
	// 24-hour pool is down to the reserve (see [PoolTracker]). It also
	// matches [ErrRateLimited].
	ErrPoolExhausted = errors.New("request pool exhausted")
	// ErrInvalidWindow matches every time-window problem, whether the client
	// caught it before sending or TAP answered 400.
	ErrInvalidWindow = errors.New("invalid time window")
	// ErrWindowTooShort: the window is under 30 seconds.
	ErrWindowTooShort = errors.New("window too short")
	// ErrWindowTooLong: the window is over the endpoint's maximum (one hour
	// for SIEM, one day for campaign ids).
	ErrWindowTooLong = errors.New("window too long")
	// ErrStartTooOld: the window starts before the look-back limit.
	ErrStartTooOld = errors.New("window starts too far in the past")
	// ErrWindowStillCurrent: the window ends too close to now.
	ErrWindowStillCurrent = errors.New("window still current")
	// ErrWindowReversed: the window ends before it starts.
	ErrWindowReversed = errors.New("window ends before it starts")
)

// WindowError explains why the client refused a time window before sending
// it. It matches [ErrInvalidWindow], [ErrInvalidRequest] and the specific
// sentinel in Reason.
type WindowError struct {
	// Window is the offending window (zero for sinceSeconds).
	Window Interval
	// Reason is one of the window sentinels, or nil for a malformed query
	// (for example two time parameters at once).
	Reason error
	// Detail says what was wrong in words.
	Detail string
}

// Error returns the detail.
func (e *WindowError) Error() string { return "invalid time window: " + e.Detail }

// Is matches the window sentinels and ErrInvalidRequest.
func (e *WindowError) Is(target error) bool {
	return target == ErrInvalidWindow || target == rest.ErrInvalidRequest || (e.Reason != nil && target == e.Reason)
}

// decodeError reads TAP's error body: usually a plain sentence, sometimes
// JSON with a message. Known 400 texts about time windows add the window
// sentinels to the error.
func decodeError(e *rest.Error, body []byte) {
	text := strings.TrimSpace(string(body))
	var obj map[string]any
	if strings.HasPrefix(text, "{") && json.Unmarshal(body, &obj) == nil {
		text = ""
		for _, k := range []string{"message", "error", "errorMessage", "detail"} {
			if s, ok := obj[k].(string); ok && s != "" {
				text = s
				break
			}
		}
		if c, ok := obj["code"].(string); ok {
			e.Code = c
		}
	}
	if len(text) > 512 {
		text = text[:512]
	}
	e.Message = text
	if sentinel := windowSentinel(text); sentinel != nil {
		e.Matches = append(e.Matches, ErrInvalidWindow, sentinel)
	}
}

// windowSentinel maps TAP's 400 texts about windows to sentinels.
func windowSentinel(text string) error {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "interval is too short"):
		return ErrWindowTooShort
	case strings.Contains(t, "interval is too long"):
		return ErrWindowTooLong
	case strings.Contains(t, "too far into the past"):
		return ErrStartTooOld
	case strings.Contains(t, "still current"):
		return ErrWindowStillCurrent
	}
	return nil
}
