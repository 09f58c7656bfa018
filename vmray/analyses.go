package vmray

import (
	"context"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// AnalysesService reads finished analyses: result codes for error checks,
// verdicts and report lock status.
type AnalysesService service

// Get returns one analysis.
//
// API: GET /rest/analysis/{analysis_id}
func (s *AnalysesService) Get(ctx context.Context, id int64) (*Analysis, error) {
	const op = "Analyses.Get"
	args, err := idArg("analysis", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	return getObject[Analysis](ctx, s.c, &rest.Request{Op: op, Path: "/analysis/{}", PathArgs: args})
}

// List returns the first chunk of all analyses visible to the key; with
// Limit 1 it is the connectivity check other VMRay integrations use.
//
// API: GET /rest/analysis
func (s *AnalysesService) List(ctx context.Context, opts *ListOptions) (*Page[Analysis], error) {
	return listPage[Analysis](ctx, s.c, &rest.Request{Op: "Analyses.List", Path: "/analysis", Query: opts.values(nil)})
}

// All iterates over all analyses visible to the key.
//
// API: GET /rest/analysis, GET /rest/continuation/{id}
func (s *AnalysesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Analysis, error] {
	return listAll[Analysis](ctx, s.c, &rest.Request{Op: "Analyses.List", Path: "/analysis", Query: opts.values(nil)})
}

// ListBySubmission returns the first chunk of a submission's analyses.
//
// API: GET /rest/analysis/submission/{submission_id}
func (s *AnalysesService) ListBySubmission(ctx context.Context, submissionID int64, opts *ListOptions) (*Page[Analysis], error) {
	req, err := byIDRequest("Analyses.ListBySubmission", "/analysis/submission/{}", "submission", submissionID, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[Analysis](ctx, s.c, req)
}

// AllBySubmission iterates over a submission's analyses.
//
// API: GET /rest/analysis/submission/{submission_id}, GET /rest/continuation/{id}
func (s *AnalysesService) AllBySubmission(ctx context.Context, submissionID int64, opts *ListOptions) iter.Seq2[Analysis, error] {
	req, err := byIDRequest("Analyses.ListBySubmission", "/analysis/submission/{}", "submission", submissionID, opts, nil)
	return iterate[Analysis](ctx, s.c, req, err)
}

// ListBySample returns the first chunk of a sample's analyses.
//
// API: GET /rest/analysis/sample/{sample_id}
func (s *AnalysesService) ListBySample(ctx context.Context, sampleID int64, opts *ListOptions) (*Page[Analysis], error) {
	req, err := byIDRequest("Analyses.ListBySample", "/analysis/sample/{}", "sample", sampleID, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[Analysis](ctx, s.c, req)
}

// AllBySample iterates over a sample's analyses.
//
// API: GET /rest/analysis/sample/{sample_id}, GET /rest/continuation/{id}
func (s *AnalysesService) AllBySample(ctx context.Context, sampleID int64, opts *ListOptions) iter.Seq2[Analysis, error] {
	req, err := byIDRequest("Analyses.ListBySample", "/analysis/sample/{}", "sample", sampleID, opts, nil)
	return iterate[Analysis](ctx, s.c, req, err)
}
