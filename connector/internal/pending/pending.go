package pending

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// DefaultHold is how long a requested action is remembered: long enough for
// an endpoint to check in and apply it.
const DefaultHold = 10 * time.Minute

// maxTargets bounds the memory; when it is full, entries past their hold are
// dropped, and if none are, it starts over (an action may then be asked for
// again, which the vendors accept).
const maxTargets = 1 << 14

// ErrUnknownOutcome is the cause of the connector.RetryLater Actions returns
// while an earlier request for the target may still take effect.
var ErrUnknownOutcome = errors.New("an earlier request for this target failed without an answer and may still take effect")

// Request says what this process requested for a target within the hold
// time.
type Request struct {
	// At is when the last request was sent; zero when none was.
	At time.Time
	// Accepted is true when the vendor accepted it, false when its outcome is
	// unknown (the call failed).
	Accepted bool
}

// Actions is the per-target memory of one responder. The zero value is not
// usable; create it with New. It is safe for concurrent use.
type Actions struct {
	hold time.Duration
	now  func() time.Time

	mu      sync.Mutex
	targets map[string]*target
}

type target struct {
	mu   sync.Mutex
	refs int
	last Request
}

// New returns an empty memory holding requests for hold (DefaultHold when 0)
// on the clock now (time.Now when nil).
func New(hold time.Duration, now func() time.Time) *Actions {
	if hold <= 0 {
		hold = DefaultHold
	}
	if now == nil {
		now = time.Now
	}
	return &Actions{hold: hold, now: now, targets: map[string]*target{}}
}

// SetHold changes the hold time (DefaultHold when d <= 0); call it before the
// first Do.
func (a *Actions) SetHold(d time.Duration) {
	if d <= 0 {
		d = DefaultHold
	}
	a.hold = d
}

// Do runs fn with the target to itself and with what was requested for it
// within the hold time: by this process or, when this process requested
// nothing, by the engine's earlier attempt of the action (earlier, the
// finding's connector.Finding.EarlierAttempt, which survives a restart; its
// outcome is unknown). fn reads the target's state, answers through Pending
// when the state does not show the action yet, and reports sent when it asked
// the vendor for the action. A sent call that succeeded with Acted is
// remembered as accepted; one that failed with an error that is not
// permanent is remembered as of unknown outcome.
func (a *Actions) Do(key string, earlier time.Time, fn func(r Request) (res connector.Result, sent bool, err error)) (connector.Result, error) {
	t := a.acquire(key)
	defer a.release(key, t)
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.last
	if !r.At.IsZero() && a.now().Sub(r.At) >= a.hold {
		r = Request{}
	}
	r = a.orEarlier(r, earlier, a.now())
	res, sent, err := fn(r)
	switch {
	case !sent:
	case err == nil && res.Status == connector.Acted:
		t.last = Request{At: a.now(), Accepted: true}
	case err != nil && !connector.IsPermanent(err):
		t.last = Request{At: a.now()}
	}
	return res, err
}

// Pending answers for a target whose state does not show the action yet:
// Unchanged when this process's request was accepted within the hold time,
// a connector.RetryLater for the rest of the hold when its outcome is
// unknown, and ok false when nothing was requested (fn should ask now).
func (a *Actions) Pending(r Request, what string) (res connector.Result, ok bool, err error) {
	switch {
	case r.At.IsZero():
		return connector.Result{}, false, nil
	case r.Accepted:
		return connector.Result{Status: connector.Unchanged,
			Detail: fmt.Sprintf("%s requested at %s, not in effect yet", what, r.At.UTC().Format(time.RFC3339))}, true, nil
	}
	left := r.At.Add(a.hold).Sub(a.now())
	return connector.Result{}, true, connector.RetryLater(fmt.Errorf("%s: %w (%w)", what, ErrUnknownOutcome, connector.ErrActionSettling), left)
}

func (a *Actions) acquire(key string) *target {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.targets[key]
	if !ok {
		if len(a.targets) >= maxTargets {
			a.prune()
		}
		t = &target{}
		a.targets[key] = t
	}
	t.refs++
	return t
}

// release drops the entry of an idle target that has nothing to remember.
func (a *Actions) release(key string, t *target) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t.refs--
	if t.refs == 0 && t.mu.TryLock() {
		if t.last.At.IsZero() {
			delete(a.targets, key)
		}
		t.mu.Unlock()
	}
}

// prune drops idle entries past their hold, or all idle ones when none is.
func (a *Actions) prune() {
	now := a.now()
	for k, t := range a.targets {
		if t.refs == 0 && t.mu.TryLock() {
			if now.Sub(t.last.At) >= a.hold {
				delete(a.targets, k)
			}
			t.mu.Unlock()
		}
	}
	if len(a.targets) >= maxTargets {
		for k, t := range a.targets {
			if t.refs == 0 {
				delete(a.targets, k)
			}
		}
	}
}

// orEarlier returns r, or when this process requested nothing within the hold time, a request of unknown outcome
// at earlier (the engine's earlier attempt) if that is within the hold time.
func (a *Actions) orEarlier(r Request, earlier, now time.Time) Request {
	if r.At.IsZero() && !earlier.IsZero() && now.Sub(earlier) < a.hold {
		return Request{At: earlier}
	}
	return r
}

// DoAll is Do for several targets at once, for a responder that acts on many targets with one vendor call: fn runs
// with every target to itself (locked in key order, so two DoAll calls cannot deadlock) and gets what was requested
// for each key within the hold time, by this process or by the engine's earlier attempt (earlier[i], as in Do; nil
// when none is known); it returns, per key, the result, whether the action was sent for it, and the error.
// Duplicate keys are the caller's to avoid.
func (a *Actions) DoAll(keys []string, earlier []time.Time, fn func(rs []Request) ([]connector.Result, []bool, []error)) ([]connector.Result, []error) {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(keys[x], keys[y]) })
	ts := make([]*target, len(keys))
	for _, i := range order {
		ts[i] = a.acquire(keys[i])
		ts[i].mu.Lock()
	}
	defer func() {
		for i, t := range ts {
			t.mu.Unlock()
			a.release(keys[i], t)
		}
	}()
	rs := make([]Request, len(keys))
	now := a.now()
	for i, t := range ts {
		if r := t.last; !r.At.IsZero() && now.Sub(r.At) < a.hold {
			rs[i] = r
		}
		if i < len(earlier) {
			rs[i] = a.orEarlier(rs[i], earlier[i], now)
		}
	}
	res, sent, errs := fn(rs)
	now = a.now()
	for i, t := range ts {
		switch {
		case !sent[i]:
		case errs[i] == nil && res[i].Status == connector.Acted:
			t.last = Request{At: now, Accepted: true}
		case errs[i] != nil && !connector.IsPermanent(errs[i]):
			t.last = Request{At: now}
		}
	}
	return res, errs
}
