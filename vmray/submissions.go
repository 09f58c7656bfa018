package vmray

import (
	"context"
	"iter"
	"net/url"
	"strconv"

	"github.com/soarkit/soarkit/internal/rest"
)

// SubmissionsService submits files and URLs for analysis and follows the
// submissions until they finish.
type SubmissionsService service

// Get returns one submission; poll its Finished field (or use
// [SubmissionsService.Wait]).
//
// API: GET /rest/submission/{submission_id}
func (s *SubmissionsService) Get(ctx context.Context, id int64) (*Submission, error) {
	const op = "Submissions.Get"
	args, err := idArg("submission", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	return getObject[Submission](ctx, s.c, &rest.Request{Op: op, Path: "/submission/{}", PathArgs: args})
}

// ListBySample returns the first chunk of a sample's submissions.
//
// API: GET /rest/submission/sample/{sample_id}
func (s *SubmissionsService) ListBySample(ctx context.Context, sampleID int64, opts *ListOptions) (*Page[Submission], error) {
	req, err := byIDRequest("Submissions.ListBySample", "/submission/sample/{}", "sample", sampleID, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[Submission](ctx, s.c, req)
}

// AllBySample iterates over a sample's submissions.
//
// API: GET /rest/submission/sample/{sample_id}, GET /rest/continuation/{id}
func (s *SubmissionsService) AllBySample(ctx context.Context, sampleID int64, opts *ListOptions) iter.Seq2[Submission, error] {
	req, err := byIDRequest("Submissions.ListBySample", "/submission/sample/{}", "sample", sampleID, opts, nil)
	return iterate[Submission](ctx, s.c, req, err)
}

// childrenRequest lists the submissions whose parent is id.
func childrenRequest(id int64, opts *ListOptions) (*rest.Request, error) {
	const op = "Submissions.Children"
	if _, err := idArg("submission", id); err != nil {
		return nil, invalid(op, err)
	}
	q := opts.values(url.Values{"submission_parent_submission_id": {strconv.FormatInt(id, 10)}})
	return &rest.Request{Op: op, Path: "/submission", Query: q}, nil
}

// ListChildren returns the first chunk of the recursive child submissions
// of a submission (VMRay 4.2 and later).
//
// API: GET /rest/submission?submission_parent_submission_id={submission_id}
func (s *SubmissionsService) ListChildren(ctx context.Context, id int64, opts *ListOptions) (*Page[Submission], error) {
	req, err := childrenRequest(id, opts)
	if err != nil {
		return nil, err
	}
	return listPage[Submission](ctx, s.c, req)
}

// AllChildren iterates over the recursive child submissions of a submission.
//
// API: GET /rest/submission?submission_parent_submission_id={submission_id}, GET /rest/continuation/{id}
func (s *SubmissionsService) AllChildren(ctx context.Context, id int64, opts *ListOptions) iter.Seq2[Submission, error] {
	req, err := childrenRequest(id, opts)
	return iterate[Submission](ctx, s.c, req, err)
}

// List returns the first chunk of the submissions visible to the key.
// With [ListOptions].LastID it is VMRay's feed of finished submissions in
// order of completion.
//
// API: GET /rest/submission
func (s *SubmissionsService) List(ctx context.Context, opts *ListOptions) (*Page[Submission], error) {
	return listPage[Submission](ctx, s.c, &rest.Request{Op: "Submissions.List", Path: "/submission", Query: opts.values(nil)})
}

// All iterates over the submissions visible to the key.
//
// API: GET /rest/submission, GET /rest/continuation/{id}
func (s *SubmissionsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Submission, error] {
	return listAll[Submission](ctx, s.c, &rest.Request{Op: "Submissions.List", Path: "/submission", Query: opts.values(nil)})
}
