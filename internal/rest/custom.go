package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Custom is a call to an endpoint a vendor package does not wrap: the escape
// hatch every vendor client exposes as its Do method. It goes through the
// same engine as every wrapped call (authentication, retries, rate limits,
// redaction, error decoding).
type Custom struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to the client's base URL, for example "/system_info".
	// It must not carry a query (use Query) or ".." segments.
	Path string
	// Query is added to the URL.
	Query url.Values
	// Header holds extra headers.
	Header http.Header
	// Body, when not nil, is sent as JSON.
	Body any
}

// DoCustom sends r and decodes a JSON answer into out (nil discards it). Op
// names the call in errors and logs, for example "Client.Do". A non-2xx
// status is returned as an *Error (through [Config.WrapError]).
func (c *Client) DoCustom(ctx context.Context, op string, r Custom, out any) error {
	req := &Request{Op: op, Method: strings.ToUpper(r.Method), Path: r.Path, Header: r.Header}
	if err := checkCustomPath(r.Path); err != nil {
		return c.wrap(&Error{Vendor: c.cfg.Vendor, Op: op, Method: req.method(), Path: redactURL(r.Path), Err: err})
	}
	if len(r.Query) > 0 {
		req.Query = r.Query
	}
	if r.Body != nil {
		req.Body = JSONBody(r.Body)
	}
	// The placeholders of Request.Path are not part of the escape hatch:
	// escape literal braces so a path is sent as written.
	req.Path = strings.ReplaceAll(req.Path, "{}", "%7B%7D")
	_, err := c.Do(ctx, req, out)
	return err
}

// checkCustomPath refuses paths that would leave the base URL or hide a
// query.
func checkCustomPath(p string) error {
	if strings.ContainsAny(p, "?#") {
		return fmt.Errorf("%w: path %q carries a query or fragment; use Query", ErrInvalidRequest, redactURL(p))
	}
	if strings.Contains(p, "://") {
		return fmt.Errorf("%w: path %q is an absolute URL; give the path below the base URL", ErrInvalidRequest, p)
	}
	unescaped, err := url.PathUnescape(p)
	if err != nil {
		return fmt.Errorf("%w: path %q: %v", ErrInvalidRequest, p, err)
	}
	for seg := range strings.SplitSeq(unescaped, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%w: path %q has a %q segment", ErrInvalidRequest, p, seg)
		}
	}
	return nil
}
