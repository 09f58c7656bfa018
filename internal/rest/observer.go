package rest

import "time"

// RequestEvent describes one HTTP attempt, for metrics. It carries no URL,
// query, header or body, so nothing secret or unbounded reaches a metrics
// backend.
type RequestEvent struct {
	// Vendor is the client's vendor name, for example "vmray".
	Vendor string
	// Op is the operation, for example "Samples.Get".
	Op string
	// Method is the HTTP method.
	Method string
	// Route is the path template: the request's Route when set, else its
	// Path with "{}" where the ids go ("/sample/{}/vtis"), so the set of
	// values stays small. Requests to an absolute URL (pre-signed download
	// links) report [ExternalRoute].
	Route string
	// Attempt counts the attempts of the call, from 1.
	Attempt int
	// StatusCode is the HTTP status, or 0 when no response arrived
	// (connection error, timeout, cancellation).
	StatusCode int
	// Latency is the attempt's duration: sending, waiting for the response
	// and, for buffered calls, reading and decoding the body. It excludes
	// the rate-limiter wait and the backoff before a retry.
	Latency time.Duration
	// LimiterWait is how long the attempt waited for the client's rate
	// limiters before it was sent.
	LimiterWait time.Duration
}

// Retry reports whether the attempt repeats an earlier one of the same call.
func (e RequestEvent) Retry() bool { return e.Attempt > 1 }

// ExternalRoute is the route of requests sent to an absolute URL.
const ExternalRoute = "(external)"

// Observer receives one [RequestEvent] per attempt. It is called on the
// request's goroutine, concurrently from several calls, so it must be safe
// for concurrent use and return quickly.
type Observer interface {
	ObserveRequest(RequestEvent)
}

// WithObserver sends one event per attempt to o (nil sends none).
func WithObserver[V any](o Observer) Option[V] {
	return func(s *Settings[V]) { s.Config.Observer = o }
}

// observe reports a finished attempt to the configured observer.
func (c *Client) observe(req *Request, method string, attempt, status int, limiterWait, latency time.Duration) {
	if c.cfg.Observer == nil {
		return
	}
	c.cfg.Observer.ObserveRequest(RequestEvent{Vendor: c.cfg.Vendor, Op: req.Op, Method: method, Route: routeTemplate(req),
		Attempt: attempt, StatusCode: status, Latency: latency, LimiterWait: limiterWait})
}

func routeTemplate(req *Request) string {
	switch {
	case req.Route != "":
		return req.Route
	case req.URL != "":
		return ExternalRoute
	case req.Path == "" || req.Path[0] != '/':
		return "/" + req.Path
	}
	return req.Path
}
