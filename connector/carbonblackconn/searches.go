package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// minSplit is the narrowest window a search job is split into when it
// matches more than one job can return.
const minSplit = time.Second

// NewAlertSource returns a source of Alerts v7 (the successor of the
// original's retired v6 alert search): the alerts whose backend_timestamp
// falls in the window and that pass the filters, every page (the client
// narrows the time range instead of stopping at the 10,000-result window).
// Each alert's process_sha256 is the evidence; the sighting carries the
// device, process and alert id.
func NewAlertSource(c *carbonblack.Client, opts SourceOptions) (*Source, error) {
	return newSource(c, opts, "cbc-alerts", searchAlerts)
}

func searchAlerts(ctx context.Context, s *Source, p *position, acc *accumulator) (bool, error) {
	// One more row than a part: the row after a full part usually shows the part ends at a change of time.
	q := carbonblack.AlertSearch{Query: s.query, TimeRange: &carbonblack.TimeRange{Start: p.From, End: p.End},
		Rows: s.partRows + 1}
	if len(s.types) > 0 {
		q.Criteria = carbonblack.Criteria{"type": s.types}
	}
	n := 0
	var last time.Time
	for a, err := range s.c.Alerts.All(ctx, q) {
		if err != nil {
			return false, classify("alert search", err)
		}
		// Alerts come oldest first. A part ends where the time changes, so the next part, the alerts from
		// this one's time on, holds every alert of that time and none handed over already.
		at := a.BackendTimestamp.UTC()
		if n >= s.partRows && at.After(last) {
			p.From, p.To = at, p.End
			return false, nil
		}
		n++
		last = at
		acc.add(a.ProcessSHA256, a.ProcessMD5, connector.Sighting{
			Time: at, DeviceID: deviceID(a.DeviceID), DeviceName: a.DeviceName,
			OS: osFamily(a.DeviceOS), ProcessGUID: a.ProcessGUID, PID: int64(a.ProcessPID), FilePath: a.ProcessName,
			Attributes: attrs("alert_id", a.ID, "alert_type", a.Type, "alert_severity", strconv.Itoa(a.Severity),
				"reputation", a.ProcessEffectiveReputation, "device_policy", a.DevicePolicy, "username", a.DeviceUsername),
		})
	}
	return true, nil
}

// processFields are the fields a process search asks for (process_sha256 is
// not returned unless asked).
var processFields = []string{
	"process_sha256", "process_hash", "process_guid", "process_pid", "process_name", "process_start_time",
	"process_effective_reputation", "device_id", "device_name", "device_os", "device_timestamp", "alert_id",
}

// NewProcessSource returns a source of process searches: the processes that
// started in the window (process_start_time) and pass the filters, every
// result (a window that matches more than one search job can return is split
// in halves until each part fits, never cut silently).
func NewProcessSource(c *carbonblack.Client, opts SourceOptions) (*Source, error) {
	return newSource(c, opts, "cbc-processes", searchProcesses)
}

func searchProcesses(ctx context.Context, s *Source, p *position, acc *accumulator) (bool, error) {
	build := func(w window) carbonblack.JobRequest {
		clause := fmt.Sprintf("process_start_time:[%s TO %s]", carbonblack.FormatTime(w.start), carbonblack.FormatTime(w.end))
		return carbonblack.JobRequest{Query: and(s.query, clause), Fields: processFields, Rows: s.jobRows}
	}
	return readJob(ctx, s.paging(), s.c.Processes.JobSearch, "process search", build, p, func(p carbonblack.Process) {
		t := p.ProcessStartTime.Time
		if t.IsZero() {
			t = p.DeviceTimestamp.Time
		}
		acc.add(p.SHA256(), pickMD5(p.ProcessHash), connector.Sighting{
			Time: t.UTC(), DeviceID: deviceID(p.DeviceID), DeviceName: p.DeviceName, OS: osFamily(p.DeviceOS),
			ProcessGUID: p.ProcessGUID, PID: p.PID(), FilePath: p.ProcessName,
			Attributes: attrs("reputation", p.ProcessEffectiveReputation, "alert_id", first(p.AlertID)),
		})
	})
}

// NewObservationSource returns a source of observation searches (the
// successor of the original's retired enriched events): the observations
// whose device_timestamp falls in the window and that pass the filters, every
// result (windows are split like the process source's).
func NewObservationSource(c *carbonblack.Client, opts SourceOptions) (*Source, error) {
	return newSource(c, opts, "cbc-observations", searchObservations)
}

func searchObservations(ctx context.Context, s *Source, p *position, acc *accumulator) (bool, error) {
	query := s.query
	if query == "" {
		query = "process_sha256:*"
	}
	build := func(w window) carbonblack.JobRequest {
		return carbonblack.JobRequest{Query: query, TimeRange: &carbonblack.TimeRange{Start: w.start, End: w.end}, Rows: s.jobRows}
	}
	return readJob(ctx, s.paging(), s.c.Observations.JobSearch, "observation search", build, p, func(o carbonblack.Observation) {
		sha := o.ProcessSHA256
		if sha == "" {
			sha = carbonblack.PickSHA256(o.ProcessHash)
		}
		acc.add(sha, pickMD5(o.ProcessHash), connector.Sighting{
			Time: o.DeviceTimestamp.UTC(), DeviceID: deviceID(o.DeviceID), DeviceName: o.DeviceName,
			OS: osFamily(o.DeviceOS), ProcessGUID: o.ProcessGUID, PID: o.ProcessPID.First(), FilePath: o.ProcessName,
			Attributes: attrs("observation_id", o.ObservationID, "observation_type", o.ObservationType,
				"reputation", o.ProcessEffectiveReputation, "alert_id", o.AlertID.First()),
		})
	})
}

// readJob hands the next part of a window read by search jobs to yield: at
// most PartRows results of the job that covers p's span, from p's offset
// on. Without a job it starts one, narrowing the span until the job can
// return every match (never cutting a window silently; see startJob); when the
// span is read it moves on to the next, as wide as this one's density says
// three quarters of a job's results take (at most 8 times as wide; after an
// empty span, half of the rest), and starts its job in the same call only
// when nothing was handed over yet. A job Carbon Black no longer
// keeps (results expire) is started again for its span, from its start.
func readJob[T any](ctx context.Context, s paging, js *carbonblack.JobSearch[T], op string,
	build func(window) carbonblack.JobRequest, p *position, yield func(T)) (bool, error) {
	handed, restarted := 0, false
	for {
		if p.Job == "" {
			if err := startJob(ctx, js, op, build, p); err != nil {
				return false, err
			}
		}
		page, err := js.ListResults(ctx, p.Job, p.Offset, s.partRows)
		if errors.Is(err, carbonblack.ErrNotFound) && !restarted {
			s.log.Info("search job expired; searching its span again", "source", s.name, "job", p.Job,
				"from", p.From, "to", p.To, "offset", p.Offset)
			restarted = true
			p.Job, p.Offset = "", 0
			continue
		}
		if err != nil {
			return false, classify(op, err)
		}
		for _, r := range page.Results {
			yield(r)
		}
		held := len(page.Results) + len(page.SkippedItems)
		handed += held
		p.Offset += held
		if held > 0 && p.Offset < page.NumAvailable {
			return false, nil
		}
		if !p.To.Before(p.End) {
			return true, nil
		}
		// The next span's width follows the density of this one (up to 8 times as wide), aiming at three
		// quarters of what a job can return. After an empty span (the matches lie further on) it is half of the
		// rest, so the start of the matches is found in a few halvings.
		width := (p.End.Sub(p.To) + 1) / 2
		if page.NumAvailable > 0 {
			grow := min(8, max(1, float64(jobTarget(s.jobRows))/float64(page.NumAvailable)))
			width = time.Duration(float64(p.To.Sub(p.From)) * grow)
		}
		width = max(width, minSplit)
		p.From, p.To, p.Job, p.Offset = p.To, minTime(p.To.Add(width), p.End), "", 0
		if handed > 0 {
			return false, nil
		}
	}
}

// paging is how readJob reads: the results a job keeps and a part holds, and where it logs.
type paging struct {
	name              string
	jobRows, partRows int
	log               *slog.Logger
}

// startJob starts the search job of p's span, narrowing the span until the
// job can return every match (to the width that holds three quarters of what
// a job can return, were the matches spread evenly), and records the job in
// p.
func startJob[T any](ctx context.Context, js *carbonblack.JobSearch[T], op string, build func(window) carbonblack.JobRequest,
	p *position) error {
	for {
		id, err := js.Start(ctx, build(p.window()))
		if err != nil {
			return classify(op, err)
		}
		prog, err := js.Wait(ctx, id)
		if err != nil {
			return classify(op, err)
		}
		if prog.NumFound <= prog.NumAvailable {
			p.Job, p.Offset = id, 0
			return nil
		}
		if p.To.Sub(p.From) < 2*minSplit {
			return fmt.Errorf("carbonblackconn: %s: %d results between %s and %s, more than one search can return (%d)",
				op, prog.NumFound, carbonblack.FormatTime(p.From), carbonblack.FormatTime(p.To), prog.NumAvailable)
		}
		width := time.Duration(float64(p.To.Sub(p.From)) * float64(jobTarget(prog.NumAvailable)) / float64(prog.NumFound))
		p.To = p.From.Add(max(width, minSplit)).Truncate(time.Millisecond)
	}
}

// jobTarget is how many results a span is sized for: three quarters of what a job keeps.
func jobTarget(jobRows int) int { return max(1, jobRows*3/4) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// pickMD5 returns the 32-hex entry of a process_hash list, which mixes MD5
// and SHA-256.
func pickMD5(hashes []string) string {
	for _, h := range hashes {
		if len(h) == 32 {
			return h
		}
	}
	return ""
}
