package carbonblack

import (
	"context"
	"net/http"
	"net/url"

	"github.com/soarkit/soarkit/internal/rest"
)

// Request is a call to a Carbon Black Cloud endpoint this package does not wrap; send
// it with [Client.Do].
type Request struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to the API host, for example
	// "/appservices/v6/orgs/" + c.OrgKey() + "/alerts/_search".
	// It must not carry a query (use Query) or "." and ".." segments.
	Path string
	// Query is added to the URL.
	Query url.Values
	// Header holds extra headers; the client sets authentication, Accept
	// and User-Agent itself.
	Header http.Header
	// Body, when not nil, is encoded as JSON.
	Body any
}

// Do is the escape hatch for endpoints this package does not wrap. It sends
// req through the client's engine, exactly like the wrapped calls
// (authentication, retries and backoff, rate limits, redaction of secrets,
// Carbon Black Cloud's error decoding into [*Error]), and decodes the whole JSON answer
// into out, which may be nil to discard it. A POST or PATCH is retried only
// when Carbon Black Cloud provably did not act on it.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	return c.rest.DoCustom(ctx, "Client.Do", rest.Custom{Method: req.Method, Path: req.Path, Query: req.Query, Header: req.Header, Body: req.Body}, out)
}

// ResponseMetadata describes the successful HTTP response of one call; see
// [WithResponseMetadata].
type ResponseMetadata struct {
	// StatusCode is the HTTP status of the successful response.
	StatusCode int
	// RequestID is Carbon Black Cloud's request id header ("" when it sent none).
	RequestID string
	// RateLimit holds the rate-limit headers of the response (X-RateLimit-*,
	// RateLimit-*, X-Rate-Limit-*, Retry-After) by canonical name; empty when
	// Carbon Black Cloud sent none.
	RateLimit http.Header
	// Header is every header of the response.
	Header http.Header
	// Attempts is how many attempts the call took (1 without a retry).
	Attempts int
}

// WithResponseMetadata returns a context that makes every call using it fill
// m when it succeeds, so no signature has to return the response: pass the
// context to one call, then read m. For a call that sends several requests
// (an iterator, a wait) m describes the last one. A failed call leaves m as
// it was; its [*Error] carries the status and request id instead.
func WithResponseMetadata(ctx context.Context, m *ResponseMetadata) context.Context {
	return rest.WithResponseMetadata(ctx, (*rest.ResponseMetadata)(m))
}
