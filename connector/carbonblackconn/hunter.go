package carbonblackconn

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// DefaultHuntWindow is how far back a hunt searches: the original Proofpoint
// connector's window (2w, the most process search allows).
const DefaultHuntWindow = 14 * 24 * time.Hour

// HunterOptions configure NewHunter.
type HunterOptions struct {
	// Window is how far back the process search looks (default
	// DefaultHuntWindow).
	Window time.Duration
	// Source names the sightings the hunter adds ("" leaves them to the
	// evidence's source).
	Source string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Hunter finds the processes that ran a file, by SHA-256, over a window:
// the Proofpoint flow's way from an e-mail attachment to the devices that
// opened it.
type Hunter struct {
	c    *carbonblack.Client
	opts HunterOptions
}

// NewHunter returns a hunter.
func NewHunter(c *carbonblack.Client, opts HunterOptions) (*Hunter, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if opts.Window <= 0 {
		opts.Window = DefaultHuntWindow
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Hunter{c: c, opts: opts}, nil
}

// Hunt returns one sighting per process that ran the file, with device id,
// name and OS, process GUID, pid and path, every result of the search.
func (h *Hunter) Hunt(ctx context.Context, sha256 string) ([]connector.Sighting, error) {
	sha256 = strings.ToLower(sha256)
	if !isHex(sha256, 64) {
		return nil, connector.Permanent(ErrNoSHA256)
	}
	end := h.opts.Now().UTC()
	acc := newAccumulator(h.opts.Source)
	build := func(w window) carbonblack.JobRequest {
		return carbonblack.JobRequest{Query: "process_hash:" + sha256, Fields: processFields, Rows: 10_000,
			TimeRange: &carbonblack.TimeRange{Start: w.start, End: w.end}}
	}
	start := end.Add(-h.opts.Window)
	pos := position{Start: start, End: end, From: start, To: end}
	rd := paging{name: "hunt", jobRows: 10_000, partRows: 10_000, log: slog.New(slog.DiscardHandler)}
	for done := false; !done; {
		var err error
		done, err = readJob(ctx, rd, h.c.Processes.JobSearch, "process hunt", build, &pos, func(p carbonblack.Process) {
			t := p.ProcessStartTime.Time
			if t.IsZero() {
				t = p.DeviceTimestamp.Time
			}
			acc.add(sha256, "", connector.Sighting{Time: t.UTC(), DeviceID: deviceID(p.DeviceID), DeviceName: p.DeviceName,
				OS: osFamily(p.DeviceOS), ProcessGUID: p.ProcessGUID, PID: p.PID(), FilePath: p.ProcessName,
				Attributes: attrs("reputation", p.ProcessEffectiveReputation)})
		})
		if err != nil {
			return nil, err
		}
	}
	evs := acc.evidence()
	if len(evs) == 0 {
		return nil, nil
	}
	out := evs[0].Sightings
	if h.opts.Source == "" {
		for i := range out {
			out[i].Source = ""
		}
	}
	return out, nil
}

// Enrich adds the processes that ran the evidence's file to its sightings
// (those it already has are not repeated), and the file name when it had
// none.
func (h *Hunter) Enrich(ctx context.Context, ev *connector.Evidence) error {
	found, err := h.Hunt(ctx, ev.Hashes.SHA256)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, s := range ev.Sightings {
		if s.ProcessGUID != "" {
			have[s.ProcessGUID] = true
		}
	}
	for _, s := range found {
		if s.ProcessGUID != "" && have[s.ProcessGUID] {
			continue
		}
		if s.ProcessGUID != "" {
			have[s.ProcessGUID] = true
		}
		ev.Sightings = append(ev.Sightings, s)
		if ev.FileName == "" {
			ev.FileName = baseName(s.FilePath)
		}
	}
	return nil
}
