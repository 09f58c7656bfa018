package carbonblackconn

import (
	"context"
	"fmt"
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

func searchAlerts(ctx context.Context, s *Source, w window, acc *accumulator) error {
	q := carbonblack.AlertSearch{Query: s.query, TimeRange: &carbonblack.TimeRange{Start: w.start, End: w.end}}
	if len(s.types) > 0 {
		q.Criteria = carbonblack.Criteria{"type": s.types}
	}
	for a, err := range s.c.Alerts.All(ctx, q) {
		if err != nil {
			return classify("alert search", err)
		}
		acc.add(a.ProcessSHA256, a.ProcessMD5, connector.Sighting{
			Time: a.BackendTimestamp.UTC(), DeviceID: deviceID(a.DeviceID), DeviceName: a.DeviceName,
			OS: osFamily(a.DeviceOS), ProcessGUID: a.ProcessGUID, PID: int64(a.ProcessPID), FilePath: a.ProcessName,
			Attributes: attrs("alert_id", a.ID, "alert_type", a.Type, "alert_severity", strconv.Itoa(a.Severity),
				"reputation", a.ProcessEffectiveReputation, "device_policy", a.DevicePolicy, "username", a.DeviceUsername),
		})
	}
	return nil
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

func searchProcesses(ctx context.Context, s *Source, w window, acc *accumulator) error {
	build := func(w window) carbonblack.JobRequest {
		clause := fmt.Sprintf("process_start_time:[%s TO %s]", carbonblack.FormatTime(w.start), carbonblack.FormatTime(w.end))
		return carbonblack.JobRequest{Query: and(s.query, clause), Fields: processFields, Rows: s.jobRows}
	}
	return searchJob(ctx, s.c.Processes.JobSearch, "process search", build, w, func(p carbonblack.Process) {
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

func searchObservations(ctx context.Context, s *Source, w window, acc *accumulator) error {
	query := s.query
	if query == "" {
		query = "process_sha256:*"
	}
	build := func(w window) carbonblack.JobRequest {
		return carbonblack.JobRequest{Query: query, TimeRange: &carbonblack.TimeRange{Start: w.start, End: w.end}, Rows: s.jobRows}
	}
	return searchJob(ctx, s.c.Observations.JobSearch, "observation search", build, w, func(o carbonblack.Observation) {
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

// searchJob runs one search job per window part, splitting a window whose job
// matched more results than it can return, and hands every result to yield.
func searchJob[T any](ctx context.Context, js *carbonblack.JobSearch[T], op string,
	build func(window) carbonblack.JobRequest, w window, yield func(T)) error {
	id, err := js.Start(ctx, build(w))
	if err != nil {
		return classify(op, err)
	}
	prog, err := js.Wait(ctx, id)
	if err != nil {
		return classify(op, err)
	}
	if prog.NumFound > prog.NumAvailable {
		if w.end.Sub(w.start) < 2*minSplit {
			return fmt.Errorf("carbonblackconn: %s: %d results between %s and %s, more than one search can return (%d)",
				op, prog.NumFound, carbonblack.FormatTime(w.start), carbonblack.FormatTime(w.end), prog.NumAvailable)
		}
		mid := w.start.Add(w.end.Sub(w.start) / 2).Truncate(time.Millisecond)
		if err := searchJob(ctx, js, op, build, window{w.start, mid}, yield); err != nil {
			return err
		}
		return searchJob(ctx, js, op, build, window{mid, w.end}, yield)
	}
	for r, err := range js.AllResults(ctx, id) {
		if err != nil {
			return classify(op, err)
		}
		yield(r)
	}
	return nil
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
