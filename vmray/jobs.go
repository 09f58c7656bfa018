package vmray

import (
	"context"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// JobsService reads queued and running jobs. A job disappears (404) once it
// finished and became an [Analysis].
type JobsService service

// Get returns one job; an error matching [ErrNotFound] means it finished or
// never existed.
//
// API: GET /rest/job/{job_id}
func (s *JobsService) Get(ctx context.Context, id int64) (*Job, error) {
	const op = "Jobs.Get"
	args, err := idArg("job", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	return getObject[Job](ctx, s.c, &rest.Request{Op: op, Path: "/job/{}", PathArgs: args})
}

// ListBySubmission returns the first chunk of a submission's open jobs.
//
// API: GET /rest/job/submission/{submission_id}
func (s *JobsService) ListBySubmission(ctx context.Context, submissionID int64, opts *ListOptions) (*Page[Job], error) {
	req, err := byIDRequest("Jobs.ListBySubmission", "/job/submission/{}", "submission", submissionID, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[Job](ctx, s.c, req)
}

// AllBySubmission iterates over a submission's open jobs.
//
// API: GET /rest/job/submission/{submission_id}, GET /rest/continuation/{id}
func (s *JobsService) AllBySubmission(ctx context.Context, submissionID int64, opts *ListOptions) iter.Seq2[Job, error] {
	req, err := byIDRequest("Jobs.ListBySubmission", "/job/submission/{}", "submission", submissionID, opts, nil)
	return iterate[Job](ctx, s.c, req, err)
}

// ListBySample returns the first chunk of a sample's open jobs.
//
// API: GET /rest/job/sample/{sample_id}
func (s *JobsService) ListBySample(ctx context.Context, sampleID int64, opts *ListOptions) (*Page[Job], error) {
	req, err := byIDRequest("Jobs.ListBySample", "/job/sample/{}", "sample", sampleID, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[Job](ctx, s.c, req)
}

// AllBySample iterates over a sample's open jobs.
//
// API: GET /rest/job/sample/{sample_id}, GET /rest/continuation/{id}
func (s *JobsService) AllBySample(ctx context.Context, sampleID int64, opts *ListOptions) iter.Seq2[Job, error] {
	req, err := byIDRequest("Jobs.ListBySample", "/job/sample/{}", "sample", sampleID, opts, nil)
	return iterate[Job](ctx, s.c, req, err)
}
