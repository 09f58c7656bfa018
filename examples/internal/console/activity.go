package console

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/internal/rest"
)

// Window is how far back the overview's charts reach.
const Window = 6 * time.Hour

// minutes is the number of per-minute buckets Activity keeps.
const minutes = int(Window / time.Minute)

// Activity keeps what the console shows that the store does not hold: per-minute counts of the engine's work over
// the last Window (a ring of buckets), the health of every component, when each source last collected, and every
// vendor's HTTP health. Feed it the engine's observer calls (it implements connector.Observer and
// connector.HealthObserver) and the vendor clients' HTTP events (it implements rest.Observer). It is safe for
// concurrent use and never blocks for long: every method takes one mutex for a few field updates.
type Activity struct {
	mu         sync.Mutex
	now        func() time.Time
	ring       [minutes]bucket
	components map[string]connector.ComponentStatus
	collected  map[string]time.Time
	vendors    map[string]*VendorHealth
}

// bucket counts one minute of work.
type bucket struct {
	minute    int64 // Unix minute the counts belong to; a stale bucket is reset before use
	collected int
	verdicts  [4]int // by connector.Kind
	actions   int
	failures  int
}

// VendorHealth is what the console shows of one vendor's API, from the HTTP attempts its clients made.
type VendorHealth struct {
	Vendor   string
	Requests int
	// Errors counts attempts that failed: no answer, 401, 403, 429 or 5xx (see failed).
	Errors int
	// RateLimited counts 429 answers.
	RateLimited int
	// Retries counts attempts that repeated an earlier one.
	Retries int
	// LastSuccess is when an attempt last got an answer that is not a failure (2xx, 3xx, or a 4xx such as 404
	// that answers the request itself).
	LastSuccess time.Time
	// LastError is when an attempt last failed, and LastErrorText what failed: the status (or "no response"), the
	// method and the route template, never a URL, query or body.
	LastError     time.Time
	LastErrorText string
}

var (
	_ connector.Observer       = (*Activity)(nil)
	_ connector.HealthObserver = (*Activity)(nil)
	_ rest.Observer            = (*Activity)(nil)
)

// NewActivity returns an empty Activity reading the clock now (nil: time.Now).
func NewActivity(now func() time.Time) *Activity {
	if now == nil {
		now = time.Now
	}
	return &Activity{now: now, components: map[string]connector.ComponentStatus{},
		collected: map[string]time.Time{}, vendors: map[string]*VendorHealth{}}
}

// current returns the bucket of the present minute, reset if it held an older minute. The caller holds mu.
func (a *Activity) current() *bucket {
	m := a.now().Unix() / 60
	b := &a.ring[m%int64(minutes)]
	if b.minute != m {
		*b = bucket{minute: m}
	}
	return b
}

// Add implements connector.Observer: it counts collected evidence, verdicts by kind, responder actions that acted
// or failed, and dead letters.
func (a *Activity) Add(c connector.Counter, n int, labels ...string) {
	if n <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch c {
	case connector.CounterCollected:
		a.current().collected += n
	case connector.CounterVerdicts:
		if len(labels) == 1 {
			if k, err := connector.ParseKind(labels[0]); err == nil {
				a.current().verdicts[k] += n
			}
		}
	case connector.CounterActions:
		if len(labels) == 2 && (labels[1] == string(connector.Acted) || labels[1] == "failed") {
			a.current().actions += n
		}
	case connector.CounterFailures:
		a.current().failures += n
	}
}

// Latency implements connector.Observer (the console does not chart latencies: /metrics has them).
func (a *Activity) Latency(connector.Stage, string, string, time.Duration) {}

// ComponentHealth implements connector.HealthObserver.
func (a *Activity) ComponentHealth(kind connector.ComponentKind, name string, healthy bool, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.components[name] = connector.ComponentStatus{Kind: kind, Healthy: healthy, Reason: reason, Since: a.now()}
}

// SourceCollected implements connector.HealthObserver.
func (a *Activity) SourceCollected(name string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.collected[name] = at
}

// ObserveRequest implements rest.Observer.
func (a *Activity) ObserveRequest(e rest.RequestEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := a.vendors[e.Vendor]
	if v == nil {
		v = &VendorHealth{Vendor: e.Vendor}
		a.vendors[e.Vendor] = v
	}
	now := a.now()
	v.Requests++
	if e.Retry() {
		v.Retries++
	}
	if e.StatusCode == http.StatusTooManyRequests {
		v.RateLimited++
	}
	if !failed(e.StatusCode) {
		v.LastSuccess = now
		return
	}
	v.Errors++
	v.LastError = now
	status := "no response"
	if e.StatusCode > 0 {
		status = strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	}
	v.LastErrorText = strings.TrimSpace(status) + ": " + e.Method + " " + e.Route
}

// failed reports whether an attempt failed in a way an operator should see: no answer (0), refused credentials
// (401, 403), throttled (429) or a server error (5xx). Other 4xx answers (404, 409, 422) are the vendor's verdict
// on the request, often one the engine expects (an existence check before a create), so they count as answered.
func failed(status int) bool {
	switch {
	case status == 0, status >= 500:
		return true
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusTooManyRequests:
		return true
	}
	return false
}

// Snapshot is a consistent copy of an Activity.
type Snapshot struct {
	// At is when it was taken.
	At time.Time
	// Minutes are the per-minute counts of the last Window, oldest first, one per minute (minutes without work are
	// zero).
	Minutes []MinuteCounts
	// Components is the health of every component the engine reported on, by name.
	Components map[string]connector.ComponentStatus
	// LastCollected is when each source last collected successfully.
	LastCollected map[string]time.Time
	// Vendors is the HTTP health of every vendor, by vendor name.
	Vendors []VendorHealth
}

// MinuteCounts is the work of one minute.
type MinuteCounts struct {
	Start     time.Time
	Collected int
	// Verdicts counts verdicts by kind (index: connector.Kind).
	Verdicts [4]int
	// Actions counts responder actions that acted or failed.
	Actions  int
	Failures int
}

// Snapshot returns a copy of the activity.
func (a *Activity) Snapshot() Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	s := Snapshot{At: now, Minutes: make([]MinuteCounts, minutes), Components: maps.Clone(a.components),
		LastCollected: maps.Clone(a.collected)}
	last := now.Unix() / 60
	for i := range minutes {
		m := last - int64(minutes-1-i)
		mc := MinuteCounts{Start: time.Unix(m*60, 0).UTC()}
		if b := a.ring[m%int64(minutes)]; b.minute == m {
			mc.Collected, mc.Verdicts, mc.Actions, mc.Failures = b.collected, b.verdicts, b.actions, b.failures
		}
		s.Minutes[i] = mc
	}
	for _, name := range slices.Sorted(maps.Keys(a.vendors)) {
		s.Vendors = append(s.Vendors, *a.vendors[name])
	}
	return s
}
