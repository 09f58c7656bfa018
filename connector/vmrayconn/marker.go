package vmrayconn

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// DefaultSettleDelay is Options.SettleDelay's default: the engine's default
// submit timeout (connector.Config.Submit), the longest a submission of ours
// can still be on its way to VMRay.
const DefaultSettleDelay = 10 * time.Minute

// markerPrefix opens the marker Submit appends to the submission comment.
const markerPrefix = "[soarkit-ref:"

// maxSettling bounds the memory of first misses; when full it starts over,
// which only makes FindTicket wait again.
const maxSettling = 1 << 14

// Marker returns the reference Submit appends to the comment of a submission
// of ev's file, "[soarkit-ref:<20 hex digits>]": a digest of the analyzer's
// name and the item's key, so it is the same across restarts and tells this
// connector's submissions of the file from anyone else's. FindTicket only
// takes submissions carrying it.
func (a *Analyzer) Marker(ev connector.Evidence) (string, error) {
	k, err := ev.Key()
	if err != nil {
		return "", connector.Permanent(err)
	}
	sum := sha256.Sum256([]byte(a.opts.Name + "\x00" + k.String()))
	return markerPrefix + hex.EncodeToString(sum[:10]) + "]", nil
}

// markedComment is the configured comment followed by ev's marker.
func (a *Analyzer) markedComment(ev connector.Evidence) (string, error) {
	m, err := a.Marker(ev)
	if err != nil {
		return "", err
	}
	return a.opts.Comment + " " + m, nil
}

// carries reports whether sub's comment holds marker.
func carries(sub vmray.Submission, marker string) bool {
	return sub.Comment != nil && strings.Contains(*sub.Comment, marker)
}

// errSettling is the cause of the RetryLater FindTicket returns while it waits
// for a submission that may still reach VMRay.
var errSettling = errors.New("vmrayconn: no submission found yet; waiting for one that may still be applied before submitting again")

// settling remembers, per item and submit attempt, when FindTicket first found
// nothing.
type settling struct {
	mu    sync.Mutex
	first map[settleKey]time.Time
}

type settleKey struct {
	marker string
	since  int64 // the submit attempt's start, in Unix nanoseconds
}

// miss records a miss of k at now and returns how much longer FindTicket must
// wait before it may report "not found" (0: it may; the entry is dropped).
// The second look is due delay after the first miss, or 2*delay after the
// submit attempt began (k.since), whichever comes first: either way every
// request of the attempt reached VMRay at least delay before it (it was
// received before the first miss, and before since+delay since the submit
// timeout is at most delay).
func (s *settling) miss(k settleKey, now time.Time, delay time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil {
		s.first = make(map[settleKey]time.Time)
	}
	first, ok := s.first[k]
	if !ok {
		first = now
	}
	due := first.Add(delay)
	if late := time.Unix(0, k.since).Add(2 * delay); late.Before(due) {
		due = late
	}
	left := due.Sub(now)
	switch {
	case left <= 0:
		delete(s.first, k)
		return 0
	case !ok:
		if len(s.first) >= maxSettling {
			clear(s.first)
		}
		s.first[k] = now
	}
	return left
}

// found forgets k.
func (s *settling) found(k settleKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.first, k)
}
