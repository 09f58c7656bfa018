package carbonblackconn

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// DefaultLookBack is how far the first collection looks back: the original
// connector's CarbonBlackConfig.TIME_SPAN (36,000 s).
const DefaultLookBack = 10 * time.Hour

// Defaults of WindowOptions.
const (
	DefaultOverlap   = 5 * time.Minute
	DefaultMaxWindow = 24 * time.Hour
)

// WindowOptions control the time windows a source searches.
type WindowOptions struct {
	// LookBack is how far the first collection (no checkpoint) looks back
	// (default DefaultLookBack).
	LookBack time.Duration
	// Overlap re-reads the end of the previous window, so records Carbon
	// Black indexes late are still seen; the engine merges what is read twice
	// (default DefaultOverlap; negative: none).
	Overlap time.Duration
	// MaxWindow bounds one Collect call's window; a longer backlog (after a
	// long stop) is read in several windows (default DefaultMaxWindow).
	MaxWindow time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o WindowOptions) withDefaults() (WindowOptions, error) {
	if o.LookBack == 0 {
		o.LookBack = DefaultLookBack
	}
	if o.Overlap == 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Overlap < 0 {
		o.Overlap = 0
	}
	if o.MaxWindow == 0 {
		o.MaxWindow = DefaultMaxWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LookBack < 0 {
		return o, fmt.Errorf("carbonblackconn: negative look-back %v", o.LookBack)
	}
	if o.MaxWindow <= o.Overlap {
		return o, fmt.Errorf("carbonblackconn: the maximum window (%v) must exceed the overlap (%v)", o.MaxWindow, o.Overlap)
	}
	return o, nil
}

// window is a closed time range, in UTC.
type window struct{ start, end time.Time }

// checkpoint is what a source stores: the end of the last window read.
type checkpoint struct {
	End time.Time `json:"end"`
}

// next returns the window to read after cp and the checkpoint that follows
// it; more is set when the window stops short of now.
func (o WindowOptions) next(cp connector.Checkpoint) (w window, next connector.Checkpoint, more bool, err error) {
	now := o.Now().UTC()
	if len(cp) == 0 {
		w.start = now.Add(-o.LookBack)
	} else {
		var c checkpoint
		if err := json.Unmarshal(cp, &c); err != nil || c.End.IsZero() {
			return w, nil, false, connector.Permanent(fmt.Errorf("carbonblackconn: unreadable checkpoint %q", cp))
		}
		w.start = c.End.UTC().Add(-o.Overlap)
	}
	if w.start.After(now) {
		w.start = now
	}
	w.end = now
	if w.end.Sub(w.start) > o.MaxWindow {
		w.end, more = w.start.Add(o.MaxWindow), true
	}
	next, err = json.Marshal(checkpoint{End: w.end})
	return w, next, more, err
}
