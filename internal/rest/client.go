package rest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Client sends Requests to one vendor API. It is safe for concurrent use.
type Client struct {
	cfg       Config
	base      *url.URL
	http      *http.Client
	log       *slog.Logger
	retry     RetryPolicy
	limiter   *rate.Limiter
	routes    []routeLimiter
	redactor  *redactor
	userAgent string
	reqIDs    []string
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Vendor == "" {
		cfg.Vendor = "api"
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, &ConfigError{Field: "base URL", Reason: fmt.Sprintf("%q is not an absolute http(s) URL", cfg.BaseURL)}
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, &ConfigError{Field: "base URL", Reason: "must not carry a query or fragment"}
	}
	if base.User != nil {
		return nil, &ConfigError{Field: "base URL", Reason: "must not carry credentials"}
	}
	c := &Client{cfg: cfg, base: base, retry: cfg.Retry.withDefaults(), redactor: &redactor{}}
	for _, s := range cfg.Secrets {
		c.redactor.add(s)
	}
	if c.cfg.MaxResponseBytes <= 0 {
		c.cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.cfg.MaxDownloadBytes <= 0 {
		c.cfg.MaxDownloadBytes = DefaultMaxDownloadBytes
	}
	c.cfg.ResponseHeaderTimeout = timeoutOrDefault(cfg.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	c.cfg.IdleReadTimeout = timeoutOrDefault(cfg.IdleReadTimeout, DefaultIdleReadTimeout)
	c.log = cfg.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimit > 0 {
		c.limiter = rate.NewLimiter(cfg.RateLimit, max(cfg.RateBurst, 1))
	}
	c.routes = newRouteLimiters(cfg.RouteLimits)
	c.userAgent = "soarkit/" + Version
	if ua := strings.TrimSpace(cfg.UserAgent); ua != "" {
		c.userAgent += " " + ua
	}
	c.reqIDs = cfg.RequestIDHeaders
	if c.reqIDs == nil {
		c.reqIDs = []string{"X-Request-Id", "X-Request-ID", "X-Correlation-Id", "X-Amzn-Requestid", "Request-Id"}
	}
	c.http, err = buildHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.InsecureSkipVerify || (cfg.TLSConfig != nil && cfg.TLSConfig.InsecureSkipVerify) {
		// Said once, when the client is made: an operator must see that
		// the connection can be intercepted.
		c.log.Warn("TLS certificate verification is off: anyone on the network path can read and change this vendor's traffic",
			"vendor", c.cfg.Vendor, "host", base.Host)
	}
	return c, nil
}

func buildHTTPClient(cfg Config) (*http.Client, error) {
	var hc http.Client
	if cfg.HTTPClient != nil {
		if cfg.TLSConfig != nil || cfg.CACertPEM != nil || cfg.InsecureSkipVerify || cfg.Proxy != nil {
			return nil, &ConfigError{Field: "HTTP client", Reason: "TLS and proxy options configure the default transport and cannot be combined with a custom HTTP client"}
		}
		hc = *cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep as many idle connections per vendor host as a connector runs calls at once: the default of 2
		// closes the others after every call, so concurrent stages paid a new TCP and TLS handshake per request.
		tr.MaxIdleConnsPerHost = tr.MaxIdleConns
		tr.Proxy = http.ProxyFromEnvironment
		if cfg.Proxy != nil {
			tr.Proxy = http.ProxyURL(cfg.Proxy)
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSConfig != nil {
			tc = cfg.TLSConfig.Clone()
		}
		if len(cfg.CACertPEM) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
				return nil, &ConfigError{Field: "CA certificate", Reason: "no PEM certificate found"}
			}
			tc.RootCAs = pool
		}
		if cfg.InsecureSkipVerify {
			tc.InsecureSkipVerify = true
		}
		tr.TLSClientConfig = tc
		hc.Transport = tr
	}
	hc.CheckRedirect = checkRedirect(hc.CheckRedirect)
	return &hc, nil
}

// BaseURL returns the base URL requests are sent to.
func (c *Client) BaseURL() string { return c.base.String() }

// Vendor returns the vendor name used in errors and logs.
func (c *Client) Vendor() string { return c.cfg.Vendor }

// Logger returns the client's logger (never nil).
func (c *Client) Logger() *slog.Logger { return c.log }

// HTTPClient returns the underlying HTTP client.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Redact removes the client's known secrets from s, for vendor packages that
// build messages of their own.
func (c *Client) Redact(s string) string { return c.redactor.redact(s) }

// Response is a completed call with its buffered body.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is the raw response body (at most the configured cap).
	Body []byte
}

// Do sends req, retrying as the policy allows, and decodes a successful JSON
// body into out (unless out is nil or the body is empty). A non-2xx status is
// returned as an *Error.
func (c *Client) Do(ctx context.Context, req *Request, out any) (*Response, error) {
	limit := c.cfg.MaxResponseBytes
	if req.MaxResponseBytes > 0 {
		limit = req.MaxResponseBytes
	}
	var result *Response
	err := c.send(ctx, req, false, func(ctx context.Context, resp *http.Response, e *Error) error {
		body, err := readCapped(resp.Body, limit)
		resp.Body.Close()
		if err != nil {
			return err
		}
		result = &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
		if out == nil || len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			e.StatusCode = resp.StatusCode
			e.Body = c.redactor.excerpt(body)
			e.Message = "decoding response"
			e.Err = fmt.Errorf("%w: %v", ErrMalformedResponse, err)
			return e
		}
		return nil
	})
	return result, c.wrap(err)
}

// wrap hands an engine error to the vendor's [Config.WrapError], so callers
// see the vendor package's own error type.
func (c *Client) wrap(err error) error {
	if e, ok := err.(*Error); ok && c.cfg.WrapError != nil {
		return c.cfg.WrapError(e)
	}
	return err
}

// Stream sends req and returns the successful response with its body still
// open, for file downloads. The caller must close the body. The body is capped
// at the client's download limit (reading past it fails with
// ErrResponseTooLarge); retries happen only before the response is returned.
func (c *Client) Stream(ctx context.Context, req *Request) (*http.Response, error) {
	var result *http.Response
	err := c.send(ctx, req, true, func(ctx context.Context, resp *http.Response, e *Error) error {
		resp.Body = &cappedBody{rc: resp.Body, left: c.cfg.MaxDownloadBytes, limit: c.cfg.MaxDownloadBytes}
		result = resp
		return nil
	})
	return result, c.wrap(err)
}

type cappedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: download exceeds %d bytes", ErrResponseTooLarge, b.limit)
		}
		return b.rc.Read(p[:0])
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

func readCapped(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrResponseTooLarge, limit)
	}
	return body, nil
}

// onSuccess consumes a 2xx response. It returns nil, an *Error it filled, or
// another error that becomes the cause of the call's *Error.
type onSuccess func(ctx context.Context, resp *http.Response, e *Error) error

// send runs the attempt loop shared by Do and Stream.
func (c *Client) send(ctx context.Context, req *Request, stream bool, handle onSuccess) error {
	method := req.method()
	e := &Error{Vendor: c.cfg.Vendor, Op: req.Op, Method: method}
	path, err := req.expandPath()
	if err != nil {
		e.Path = req.Path
		e.Err = err
		return e
	}
	target, err := c.resolve(req, path)
	if err != nil {
		e.Path = path
		e.Err = err
		return e
	}
	e.Path = target.Path
	rawQuery, err := req.encodeQuery()
	if err != nil {
		e.Err = err
		return e
	}
	if rawQuery != "" {
		if target.RawQuery != "" {
			target.RawQuery += "&" + rawQuery
		} else {
			target.RawQuery = rawQuery
		}
	}
	route := path
	if req.Route != "" {
		route = req.Route
	}
	routeLimiter := matchRoute(c.routes, method, route)

	maxAttempts := c.retry.MaxAttempts
	if req.NoRetry {
		maxAttempts = 1
	}
	bodyOpened := false
	for attempt := 1; ; attempt++ {
		e.Attempts = attempt
		if err := ctx.Err(); err != nil {
			e.Err = err
			return e
		}
		waitStart := time.Now()
		if err := c.waitLimits(ctx, routeLimiter); err != nil {
			e.Err = err
			return e
		}
		limiterWait, attemptStart := time.Since(waitStart), time.Now()
		if req.Body != nil && bodyOpened && !req.Body.Replayable() {
			// The single-shot body was handed to an earlier attempt.
			return e
		}
		res := c.attempt(ctx, req, method, target, stream, handle, e)
		c.observe(req, method, attempt, res.status, limiterWait, time.Since(attemptStart))
		bodyOpened = bodyOpened || res.bodyRead
		if res.err == nil {
			c.retry.Budget.success()
			return nil
		}
		if res.final || attempt >= maxAttempts || !c.mayRetry(req, res) {
			return res.err
		}
		if !c.retry.Budget.take() {
			c.log.DebugContext(ctx, "retry budget exhausted", "vendor", c.cfg.Vendor, "op", req.Op, "method", method, "path", e.Path)
			return res.err
		}
		wait := c.retry.wait(attempt, res.status, res.retryAfter, res.hasRetryAfter)
		c.log.DebugContext(ctx, "retrying", "vendor", c.cfg.Vendor, "op", req.Op, "method", method, "path", e.Path,
			"attempt", attempt, "status", res.status, "wait", wait)
		if err := sleep(ctx, wait); err != nil {
			e.Err = fmt.Errorf("waiting to retry: %w", err)
			return e
		}
	}
}

func (c *Client) waitLimits(ctx context.Context, route *rate.Limiter) error {
	if err := waitLimiter(ctx, route); err != nil {
		return fmt.Errorf("waiting for route rate limit: %w", ctxErrOr(ctx, err))
	}
	if err := waitLimiter(ctx, c.limiter); err != nil {
		return fmt.Errorf("waiting for rate limit: %w", ctxErrOr(ctx, err))
	}
	return nil
}

// ctxErrOr prefers the context's own error so errors.Is(err,
// context.DeadlineExceeded) holds when a limiter refuses to wait past the
// deadline.
func ctxErrOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

func (c *Client) mayRetry(req *Request, res attemptResult) bool {
	if req.Body != nil && !req.Body.Replayable() && res.bodyRead {
		return false
	}
	if res.status == 0 {
		return req.idempotent() || res.dialErr
	}
	if !retryableStatus(res.status) {
		return false
	}
	return req.idempotent() || serverDidNotAct(res.status)
}

// resolve builds the absolute URL of the call.
func (c *Client) resolve(req *Request, path string) (*url.URL, error) {
	if req.URL != "" {
		u, err := url.Parse(req.URL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalidRequest, redactURL(req.URL))
		}
		return u, nil
	}
	u := *c.base
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u.RawPath = ""
	joined := strings.TrimRight(c.base.EscapedPath(), "/") + path
	unescaped, err := url.PathUnescape(joined)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	u.Path = unescaped
	u.RawPath = joined
	return &u, nil
}

// redactURL drops the query of a URL that is about to appear in an error,
// since pre-signed links carry their signature there.
func redactURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

type attemptResult struct {
	err           error
	status        int
	retryAfter    time.Duration
	hasRetryAfter bool
	dialErr       bool
	bodyRead      bool
	final         bool
}

// attempt performs one HTTP exchange.
func (c *Client) attempt(ctx context.Context, req *Request, method string, target *url.URL, stream bool, handle onSuccess, e *Error) (res attemptResult) {
	start := time.Now()
	actx, cancel, headersArrived := c.attemptContext(ctx, stream)
	wd, actx := newWatchdog(actx, c.cfg.ResponseHeaderTimeout, c.cfg.IdleReadTimeout)
	keepOpen := false
	defer func() {
		if !keepOpen {
			cancel()
		}
	}()

	var body io.ReadCloser
	var tracker *readTracker
	if req.Body != nil {
		rc, err := req.Body.Open()
		if err != nil {
			e.Err = err
			res.err, res.final = e, true
			return res
		}
		tracker = &readTracker{rc: &watchedRequestBody{rc: rc, w: wd}}
		body = tracker
	}
	hreq, err := http.NewRequestWithContext(actx, method, target.String(), body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		e.Err = fmt.Errorf("%w: %v", ErrInvalidRequest, err)
		res.err, res.final = e, true
		return res
	}
	if req.Body != nil {
		hreq.Header.Set("Content-Type", req.Body.ContentType())
		if n := req.Body.Len(); n >= 0 {
			hreq.ContentLength = n
		}
		if req.Body.Replayable() {
			b := req.Body
			hreq.GetBody = func() (io.ReadCloser, error) {
				rc, err := b.Open()
				if err != nil {
					return nil, err
				}
				return &watchedRequestBody{rc: rc, w: wd}, nil
			}
		}
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("User-Agent", c.userAgent)
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json")
	}
	if c.cfg.Auth != nil && !req.NoAuth && sameHost(target, c.base) {
		c.applyAuth(hreq)
	}

	wd.requestStarted(req.Body != nil)
	resp, err := c.http.Do(hreq)
	wd.disarm()
	headersArrived()
	if tracker != nil {
		res.bodyRead = tracker.touched()
	}
	elapsed := time.Since(start)
	if err != nil {
		cause := unwrapURLError(err)
		if ctx.Err() != nil {
			cause = ctx.Err()
			res.final = true
		} else if te := wd.expired(); te != nil {
			cause = te
		}
		if isFinal(cause) {
			res.final = true
		}
		c.log.DebugContext(ctx, "http request failed", "vendor", c.cfg.Vendor, "op", req.Op, "method", method,
			"path", target.Path, "attempt", e.Attempts, "duration", elapsed, "error", c.redactor.redact(cause.Error()))
		e.StatusCode = 0
		e.Err = cause
		res.err = e
		res.dialErr = isDialError(cause)
		return res
	}
	c.log.DebugContext(ctx, "http request", "vendor", c.cfg.Vendor, "op", req.Op, "method", method,
		"path", target.Path, "status", resp.StatusCode, "attempt", e.Attempts, "duration", elapsed)
	resp.Body = &watchedResponseBody{rc: resp.Body, w: wd}
	e.RequestID = c.requestID(resp.Header)
	res.status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.fillHTTPError(resp, e)
		res.err = e
		res.retryAfter = e.RetryAfter
		_, res.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return res
	}
	if stream {
		keepOpen = true
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	if err := handle(actx, resp, e); err != nil {
		var ee *Error
		if !errors.As(err, &ee) {
			e.StatusCode = resp.StatusCode
			e.Err = err
		}
		res.err, res.final = e, true
		if errors.Is(err, ErrTimeout) {
			// The body stalled: nothing complete was received, so the call
			// is retried like a connection failure.
			e.StatusCode, res.status, res.final = 0, 0, false
		}
		return res
	}
	c.fillMetadata(ctx, resp, e.Attempts)
	return res
}

// attemptContext bounds one attempt. For a stream the timeout covers only the
// wait for the headers (headersArrived stops it); the caller then reads the
// body for as long as its own context allows.
func (c *Client) attemptContext(ctx context.Context, stream bool) (actx context.Context, cancel context.CancelFunc, headersArrived func()) {
	if c.cfg.AttemptTimeout <= 0 {
		actx, cancel = context.WithCancel(ctx)
		return actx, cancel, func() {}
	}
	if !stream {
		actx, cancel = context.WithTimeout(ctx, c.cfg.AttemptTimeout)
		return actx, cancel, func() {}
	}
	streamCtx, streamCancel := context.WithCancel(ctx)
	timer := time.AfterFunc(c.cfg.AttemptTimeout, streamCancel)
	return streamCtx, func() { timer.Stop(); streamCancel() }, func() { timer.Stop() }
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (c *Client) fillHTTPError(resp *http.Response, e *Error) {
	body, err := readCapped(resp.Body, min(c.cfg.MaxResponseBytes, 1<<20))
	resp.Body.Close()
	e.StatusCode = resp.StatusCode
	e.Code, e.Message, e.Details, e.Matches, e.Err = "", "", nil, nil, nil
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = ra
	}
	if err != nil {
		e.Err = err
		return
	}
	e.Body = c.redactor.excerpt(body)
	if c.cfg.DecodeError != nil && len(body) > 0 {
		c.cfg.DecodeError(e, body)
		e.Message = c.redactor.redact(e.Message)
		for i := range e.Details {
			e.Details[i].Message = c.redactor.redact(e.Details[i].Message)
		}
	}
}

func (c *Client) requestID(h http.Header) string {
	for _, k := range c.reqIDs {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// unwrapURLError drops *url.Error's wrapper, whose message repeats the full
// URL including its query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() && !errors.Is(ue.Err, context.DeadlineExceeded) {
			return fmt.Errorf("timeout: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// readTracker records whether the transport started reading a body. The
// transport reads from its own goroutine, hence the atomic.
type readTracker struct {
	rc      io.ReadCloser
	started atomic.Bool
}

func (t *readTracker) Read(p []byte) (int, error) {
	t.started.Store(true)
	return t.rc.Read(p)
}

func (t *readTracker) Close() error { return t.rc.Close() }

func (t *readTracker) touched() bool { return t.started.Load() }
