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

// checkpoint is what a source stores: the end of the last window read in
// full and, while a window is handed over in parts, where its next part
// starts. End then stays where a reader without parts (an older release)
// would start the window again: nothing is skipped by a downgrade.
type checkpoint struct {
	End  time.Time `json:"end"`
	Part *position `json:"part,omitempty"`
}

// position is a window being read and where its next part starts: the span
// [From, To] is what the current search covers (a search job, or the alert
// search from From on), Job the job's id and Offset the results of it
// handed over already.
type position struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// More is set when the window stops short of now (MaxWindow).
	More   bool      `json:"more,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Job    string    `json:"job,omitempty"`
	Offset int       `json:"offset,omitempty"`
}

// window is the span the position's current search covers.
func (p position) window() window { return window{p.From, p.To} }

// position returns where to read after cp: the part a checkpoint records, or
// a new window from the end of the last one (the look-back before now on
// the first run), which stops at MaxWindow.
func (o WindowOptions) position(cp connector.Checkpoint) (position, error) {
	now := o.Now().UTC()
	var p position
	if len(cp) == 0 {
		p.Start = now.Add(-o.LookBack)
	} else {
		var c checkpoint
		if err := json.Unmarshal(cp, &c); err != nil || (c.End.IsZero() && c.Part == nil) {
			return p, connector.Permanent(fmt.Errorf("carbonblackconn: unreadable checkpoint %q", cp))
		}
		if c.Part != nil {
			if err := c.Part.valid(); err != nil {
				return p, connector.Permanent(fmt.Errorf("carbonblackconn: unreadable checkpoint %q: %w", cp, err))
			}
			return *c.Part, nil
		}
		p.Start = c.End.UTC().Add(-o.Overlap)
	}
	if p.Start.After(now) {
		p.Start = now
	}
	p.End = now
	if p.End.Sub(p.Start) > o.MaxWindow {
		p.End, p.More = p.Start.Add(o.MaxWindow), true
	}
	p.From, p.To = p.Start, p.End
	return p, nil
}

// valid checks a stored position's order: Start ≤ From ≤ To ≤ End.
func (p position) valid() error {
	if p.Start.IsZero() || p.End.Before(p.Start) || p.From.Before(p.Start) || p.To.Before(p.From) || p.End.Before(p.To) ||
		p.Offset < 0 {
		return fmt.Errorf("a part outside its window")
	}
	return nil
}

// after returns the checkpoint that follows a part read up to p and whether
// the engine should collect again at once: the next part of the window, or,
// when done, the next window if this one stopped short of now.
func (o WindowOptions) after(p position, done bool) (connector.Checkpoint, bool, error) {
	c := checkpoint{End: p.End}
	if !done {
		c = checkpoint{End: p.Start.Add(o.Overlap), Part: &p}
	}
	next, err := json.Marshal(c)
	return next, !done || p.More, err
}
