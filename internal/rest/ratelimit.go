package rest

import (
	"context"
	"strings"

	"golang.org/x/time/rate"
)

// RouteLimit bounds the rate of requests whose path starts with Prefix.
// Prefix is matched segment by segment; a "*" segment matches any one
// segment, so "/agents/*/uploads" covers every agent. When several limits
// match, the one with the longest prefix applies (and the client-wide limit
// as well).
type RouteLimit struct {
	// Method restricts the limit to one HTTP method; empty matches all.
	Method string
	// Prefix is the path prefix (below the base URL) the limit applies to,
	// segment by segment; "*" matches any one segment.
	Prefix string
	// Limit is the sustained rate in requests per second.
	Limit rate.Limit
	// Burst is how many requests may go at once.
	Burst int
}

type routeLimiter struct {
	method   string
	segments []string
	limiter  *rate.Limiter
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func newRouteLimiters(limits []RouteLimit) []routeLimiter {
	out := make([]routeLimiter, 0, len(limits))
	for _, l := range limits {
		burst := max(l.Burst, 1)
		out = append(out, routeLimiter{method: l.Method, segments: splitPath(l.Prefix), limiter: rate.NewLimiter(l.Limit, burst)})
	}
	return out
}

// match returns the limiter with the longest prefix matching path, or nil.
func matchRoute(limiters []routeLimiter, method, path string) *rate.Limiter {
	segs := splitPath(path)
	var best *routeLimiter
	for i := range limiters {
		l := &limiters[i]
		if l.method != "" && !strings.EqualFold(l.method, method) {
			continue
		}
		if len(l.segments) > len(segs) {
			continue
		}
		ok := true
		for j, s := range l.segments {
			if s != "*" && s != segs[j] {
				ok = false
				break
			}
		}
		if ok && (best == nil || len(l.segments) > len(best.segments) || (len(l.segments) == len(best.segments) && best.method == "" && l.method != "")) {
			best = l
		}
	}
	if best == nil {
		return nil
	}
	return best.limiter
}

func waitLimiter(ctx context.Context, l *rate.Limiter) error {
	if l == nil {
		return nil
	}
	return l.Wait(ctx)
}
