package sentinelonetest

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
)

// limiter enforces per-route token buckets on the fake's clock.
type limiter struct {
	mu      sync.Mutex
	routes  []sentinelone.RouteLimit
	buckets map[int]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(routes []sentinelone.RouteLimit) *limiter {
	return &limiter{routes: routes, buckets: map[int]*bucket{}}
}

// match returns the index of the longest route prefix matching path.
func (l *limiter) match(method, path string) int {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestLen := -1, -1
	for i, r := range l.routes {
		if r.Method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		pre := strings.Split(strings.Trim(r.Prefix, "/"), "/")
		if len(pre) > len(segs) || len(pre) <= bestLen {
			continue
		}
		ok := true
		for j, p := range pre {
			if p != "*" && p != segs[j] {
				ok = false
				break
			}
		}
		if ok {
			best, bestLen = i, len(pre)
		}
	}
	return best
}

// take spends a token and returns how long to wait when there is none.
func (l *limiter) take(method, path string, now time.Time) (time.Duration, bool) {
	i := l.match(method, path)
	if i < 0 {
		return 0, true
	}
	r := l.routes[i]
	rate := float64(r.Limit)
	burst := float64(max(r.Burst, 1))
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[i]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[i] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// rateLimit answers 429 with Retry-After for requests over the published
// limits (only with WithRateLimits).
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.lim != nil {
			wait, ok := s.lim.take(r.Method, strings.TrimPrefix(r.URL.Path, apiPrefix), s.cfg.clock.Now())
			if !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				fail(w, http.StatusTooManyRequests, apiError{Code: 4290010, Title: "Too Many Requests",
					Detail: strPtr("Rate limit exceeded for " + r.URL.Path)})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
