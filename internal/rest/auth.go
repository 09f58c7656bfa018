package rest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

type authKeysKey struct{}

// applyAuth runs the vendor's AuthFunc, records the headers it set on the
// request's context (so redirects can strip them) and adds their values to the
// redaction list.
func (c *Client) applyAuth(r *http.Request) {
	before := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		before[k] = strings.Join(v, "\x00")
	}
	query := r.URL.RawQuery
	c.cfg.Auth(r)
	var keys []string
	for k, v := range r.Header {
		if old, ok := before[k]; ok && old == strings.Join(v, "\x00") {
			continue
		}
		keys = append(keys, k)
		for _, val := range v {
			c.redactor.add(val)
		}
	}
	if r.URL.RawQuery != query {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			old, _ := url.ParseQuery(query)
			for k, vs := range q {
				if old.Get(k) != q.Get(k) {
					for _, v := range vs {
						c.redactor.add(v)
					}
				}
			}
		}
	}
	if len(keys) > 0 {
		*r = *r.WithContext(context.WithValue(r.Context(), authKeysKey{}, keys))
	}
}

// errRedirectLimit stops redirect loops.
var errRedirectLimit = errors.New("stopped after 10 redirects")

// checkRedirect wraps next (nil means the default policy) so that the
// credentials set by the AuthFunc never follow a redirect to another host or
// from https to http.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errRedirectLimit
		}
		first := via[0]
		if !sameHost(req.URL, first.URL) || (first.URL.Scheme == "https" && req.URL.Scheme != "https") {
			if keys, ok := first.Context().Value(authKeysKey{}).([]string); ok {
				for _, k := range keys {
					req.Header.Del(k)
				}
			}
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// sameHost compares scheme-normalised host and port.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return u.Hostname() + ":" + port
}
