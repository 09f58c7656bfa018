package rest

import (
	"context"
	"net/http"
	"strings"
)

// ResponseMetadata describes the successful response of one call: what a
// caller wants to see of it without the engine handing out the response
// itself. Vendor packages declare a defined type with the same fields and
// convert a pointer to it.
type ResponseMetadata struct {
	// StatusCode is the HTTP status of the successful response.
	StatusCode int
	// RequestID is the vendor's request id header ("" when it sent none).
	RequestID string
	// RateLimit holds the rate-limit headers of the response (X-RateLimit-*,
	// RateLimit-*, X-Rate-Limit-*, Retry-After), keyed by their canonical
	// names; empty when the vendor sent none.
	RateLimit http.Header
	// Header is every header of the response.
	Header http.Header
	// Attempts is how many attempts the call took (1 without a retry).
	Attempts int
}

type metadataKey struct{}

// WithResponseMetadata returns a context whose calls fill m when they
// succeed. For a call that sends several requests (an iterator, a wait) m
// describes the last one. m is written by the goroutine running the call; do
// not read it until the call returns.
func WithResponseMetadata(ctx context.Context, m *ResponseMetadata) context.Context {
	return context.WithValue(ctx, metadataKey{}, m)
}

// fillMetadata records a successful response in the context's
// ResponseMetadata, if any.
func (c *Client) fillMetadata(ctx context.Context, resp *http.Response, attempts int) {
	m, _ := ctx.Value(metadataKey{}).(*ResponseMetadata)
	if m == nil {
		return
	}
	*m = ResponseMetadata{
		StatusCode: resp.StatusCode,
		RequestID:  c.requestID(resp.Header),
		RateLimit:  rateLimitHeaders(resp.Header),
		Header:     resp.Header.Clone(),
		Attempts:   attempts,
	}
}

// rateLimitHeaders picks the rate-limit headers out of h.
func rateLimitHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-ratelimit-") || strings.HasPrefix(lk, "ratelimit") ||
			strings.HasPrefix(lk, "x-rate-limit-") || lk == "retry-after" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}
