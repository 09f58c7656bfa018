package vmray

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// WaitOptions bound [SubmissionsService.Wait]. Zero values select the
// defaults.
type WaitOptions struct {
	// Interval is the first pause between polls (default 5s); it grows by
	// Multiplier (default 1.5) up to MaxInterval (default 30s).
	Interval    time.Duration
	MaxInterval time.Duration
	Multiplier  float64
	// QueueTimeout bounds the time before any job of the submission starts
	// working (default 1h). A busy appliance queues jobs for long; this
	// bound keeps that from counting against InWorkTimeout.
	QueueTimeout time.Duration
	// InWorkTimeout bounds the time from the moment a job is in work until
	// the submission finishes (default 15 min). It is the original
	// connectors' ANALYSIS_JOB_TIMEOUT.
	InWorkTimeout time.Duration
	// MaxPollErrors is the number of consecutive temporary polling errors
	// that ends the wait (default 5, as in VMRay's connectors).
	MaxPollErrors int
}

func (o WaitOptions) withDefaults() WaitOptions {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = max(30*time.Second, o.Interval)
	}
	if o.Multiplier < 1 {
		o.Multiplier = 1.5
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = time.Hour
	}
	if o.InWorkTimeout <= 0 {
		o.InWorkTimeout = 15 * time.Minute
	}
	if o.MaxPollErrors <= 0 {
		o.MaxPollErrors = 5
	}
	return o
}

// WaitResult is a finished submission with its analyses.
type WaitResult struct {
	Submission *Submission
	// Analyses are all analyses of the submission.
	Analyses []Analysis
	// FailedAnalyses are those whose result code is not 1 (see
	// [Analysis.Failed]); VMRay's connectors log their ResultStr.
	FailedAnalyses []Analysis
}

// Wait phases reported by [WaitTimeoutError].
const (
	PhaseQueued = "queued"
	PhaseInWork = "inwork"
)

// WaitTimeoutError reports that a submission did not finish within a bound of
// [WaitOptions]. It matches [ErrWaitTimeout].
type WaitTimeoutError struct {
	SubmissionID int64
	// Phase is PhaseQueued (no job started within QueueTimeout) or
	// PhaseInWork (jobs ran longer than InWorkTimeout).
	Phase string
	// Waited is how long the phase lasted.
	Waited time.Duration
	// Last is the submission as last polled.
	Last *Submission
}

// Error names the submission, the phase and the time waited.
func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("vmray: submission %d still %s after %v", e.SubmissionID, e.Phase, e.Waited.Round(time.Millisecond))
}

// Is matches [ErrWaitTimeout].
func (e *WaitTimeoutError) Is(target error) bool { return target == ErrWaitTimeout }

// Wait polls a submission until it is finished and returns it with its
// analyses. The time a submission spends queued is bounded by QueueTimeout;
// the in-work clock starts only once one of its jobs is "inwork" (or no job
// is left queued), as in VMRay's own connectors, and is bounded by
// InWorkTimeout. QueueTimeout counts from the call, so a caller resuming a
// wait after a restart passes what is left of its own budget. The bounds are
// checked at every poll (a wait may overrun one by at most an interval) and
// end the wait with a [*WaitTimeoutError]; ctx may end it earlier. Temporary
// polling errors (429, 5xx, connection failures, after the client's own
// retries) are skipped; the MaxPollErrors-th in a row ends the wait, as do
// other errors.
//
// API: GET /rest/submission/{id}, GET /rest/job/submission/{id}, GET /rest/analysis/submission/{id}
func (s *SubmissionsService) Wait(ctx context.Context, id int64, opts WaitOptions) (*WaitResult, error) {
	o := opts.withDefaults()
	begin := time.Now()
	var started time.Time
	pollErrors := 0
	var last *Submission
	policy := rest.PollPolicy{Interval: o.Interval, MaxInterval: o.MaxInterval, Multiplier: o.Multiplier,
		// The phase bounds below end the wait; this outer bound only backs them up.
		Timeout: o.QueueTimeout + o.InWorkTimeout + 2*o.MaxInterval}
	err := rest.Poll(ctx, policy, func(ctx context.Context) (bool, error) {
		sub, err := s.poll(ctx, id, &started)
		switch {
		case err == nil:
			pollErrors = 0
			last = sub
		case temporary(err) && pollErrors+1 < o.MaxPollErrors && ctx.Err() == nil:
			pollErrors++
		default:
			return false, err
		}
		if last != nil && last.Finished {
			return true, nil
		}
		now := time.Now()
		if started.IsZero() && now.Sub(begin) >= o.QueueTimeout {
			return false, &WaitTimeoutError{SubmissionID: id, Phase: PhaseQueued, Waited: now.Sub(begin), Last: last}
		}
		if !started.IsZero() && now.Sub(started) >= o.InWorkTimeout {
			return false, &WaitTimeoutError{SubmissionID: id, Phase: PhaseInWork, Waited: now.Sub(started), Last: last}
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, last)
}

// poll reads the submission and, until a job started, its jobs.
func (s *SubmissionsService) poll(ctx context.Context, id int64, started *time.Time) (*Submission, error) {
	sub, err := s.Get(ctx, id)
	if err != nil || sub.Finished || !started.IsZero() {
		return sub, err
	}
	waiting := false
	for job, err := range s.c.Jobs.AllBySubmission(ctx, id, nil) {
		if err != nil {
			return sub, err
		}
		switch job.Status {
		case JobInWork, JobUploading:
			*started = time.Now()
			return sub, nil
		default:
			waiting = true
		}
	}
	if !waiting {
		*started = time.Now()
	}
	return sub, nil
}

// finish collects the analyses of a finished submission.
func (s *SubmissionsService) finish(ctx context.Context, sub *Submission) (*WaitResult, error) {
	res := &WaitResult{Submission: sub}
	for a, err := range s.c.Analyses.AllBySubmission(ctx, sub.ID, nil) {
		if err != nil {
			return res, err
		}
		res.Analyses = append(res.Analyses, a)
		if a.Failed() {
			res.FailedAnalyses = append(res.FailedAnalyses, a)
		}
	}
	return res, nil
}

// SubmitFileAndWait submits a file and waits for its analysis: the helper for
// callers that need not persist progress between the steps. On a wait error
// the submit result is returned so the caller can resume with
// [SubmissionsService.Wait].
func (s *SubmissionsService) SubmitFileAndWait(ctx context.Context, name string, content io.Reader, opts *SubmitOptions, wait WaitOptions) (*SubmitResult, *WaitResult, error) {
	res, err := s.SubmitFile(ctx, name, content, opts)
	if err != nil {
		return res, nil, err
	}
	wr, err := s.Wait(ctx, res.Submission().ID, wait)
	return res, wr, err
}

// temporary reports errors worth another poll.
func temporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}
