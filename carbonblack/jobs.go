package carbonblack

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/soarkit/soarkit/internal/rest"
)

// JobRequest is the body that starts an asynchronous search job (processes,
// observations).
type JobRequest struct {
	// Query is a search-syntax query, for example "process_hash:<sha256>".
	Query      string   `json:"query,omitempty"`
	Criteria   Criteria `json:"criteria,omitempty"`
	Exclusions Criteria `json:"exclusions,omitempty"`
	// Fields selects the returned fields (default ["*"]); process_sha256
	// is not among the defaults.
	Fields []string `json:"fields,omitempty"`
	// TimeRange filters device_timestamp; use Start/End or Window ("-2w").
	TimeRange *TimeRange  `json:"time_range,omitempty"`
	Sort      []SortField `json:"sort,omitempty"`
	// Rows caps the number of results the job keeps (at most 10,000;
	// Carbon Black uses 500 when it is absent, so [JobSearch.Start] sends
	// 10,000 when Rows is 0).
	Rows int `json:"rows"`
	// Start is the 0-based offset of the first kept result.
	Start int `json:"start,omitempty"`
}

// JobResults is one page of a search job's results, with its progress.
type JobResults[T any] struct {
	Results []T `json:"results"`
	// NumFound counts all matches (may exceed 10,000); NumAvailable the
	// matches that can be paged through.
	NumFound     int `json:"num_found"`
	NumAvailable int `json:"num_available"`
	// Contacted and Completed count the search shards; the job is done when
	// Completed >= Contacted > 0.
	Contacted int `json:"contacted"`
	Completed int `json:"completed"`
	// Message explains an empty job ("No data available, ...").
	Message string `json:"message,omitempty"`
	// ApproximateUnaggregated and NumAggregated are sent for observations.
	ApproximateUnaggregated int `json:"approximate_unaggregated,omitempty"`
	NumAggregated           int `json:"num_aggregated,omitempty"`
	// SkippedItems lists the results of this page that did not decode and
	// are not in Results; each was also logged and passed to the skip
	// handler.
	SkippedItems []SkippedItem `json:"-"`
}

// Done reports whether the job finished: every contacted shard completed,
// or none was contacted and Carbon Black says there is no data (a case the
// Python SDK once waited on forever).
func (r *JobResults[T]) Done() bool {
	if r.Contacted > 0 {
		return r.Completed >= r.Contacted
	}
	return r.Message != ""
}

// Validation is the answer of a query validation.
type Validation struct {
	Valid                bool   `json:"valid"`
	ValueSearchQuery     bool   `json:"value_search_query"`
	InvalidMessage       string `json:"invalid_message,omitempty"`
	InvalidTriggerOffset int    `json:"invalid_trigger_offset,omitempty"`
}

// validateFunc validates a query for one kind of search.
type validateFunc func(ctx context.Context, c *Client, kind, op, query string) (*Validation, error)

// validateByPOST is the v2 process validation.
func validateByPOST(ctx context.Context, c *Client, kind, op, query string) (*Validation, error) {
	return call[Validation](ctx, c, &rest.Request{
		Op: op, Method: http.MethodPost, Path: "/api/investigate/v2/orgs/{}/{}/search_validation",
		PathArgs: c.org(kind), Body: rest.JSONBody(map[string]string{"query": query}), Idempotent: true,
	})
}

// validateByGET is the v2 observation validation.
func validateByGET(ctx context.Context, c *Client, kind, op, query string) (*Validation, error) {
	return call[Validation](ctx, c, &rest.Request{
		Op: op, Path: "/api/investigate/v2/orgs/{}/{}/search_validation",
		PathArgs: c.org(kind), Query: url.Values{"q": {query}},
	})
}

// JobSearch runs Carbon Black's asynchronous search jobs for one kind of
// record (processes or observations): validate, start, poll until every
// shard completed (with backoff and a bound), then page the results. The
// steps are exposed for callers that persist job ids across restarts.
type JobSearch[T any] struct {
	c        *Client
	kind     string
	name     string
	validate validateFunc
}

func newJobSearch[T any](c *Client, kind, name string, v validateFunc) *JobSearch[T] {
	return &JobSearch[T]{c: c, kind: kind, name: name, validate: v}
}

// Validate checks a query without running it. An invalid query gives the
// validation and an error matching ErrQuerySyntax.
//
// API: POST /api/investigate/v2/orgs/{org_key}/processes/search_validation
// API: GET /api/investigate/v2/orgs/{org_key}/observations/search_validation
func (j *JobSearch[T]) Validate(ctx context.Context, query string) (*Validation, error) {
	v, err := j.validate(ctx, j.c, j.kind, j.name+".Validate", query)
	if err != nil {
		return nil, err
	}
	if !v.Valid {
		return v, fmt.Errorf("%w: %s (offset %d)", ErrQuerySyntax, v.InvalidMessage, v.InvalidTriggerOffset)
	}
	return v, nil
}

// Start starts a search job and returns its id.
//
// API: POST /api/investigate/v2/orgs/{org_key}/{processes|observations}/search_jobs
func (j *JobSearch[T]) Start(ctx context.Context, req JobRequest) (string, error) {
	if req.Rows <= 0 {
		req.Rows = 10_000
	}
	return startJob(ctx, j.c, j.name+".Start", "/api/investigate/v2/orgs/{}/{}/search_jobs", j.kind, req)
}

// Results returns the page of a job's results that starts at the 0-based
// offset start. Always give rows: Carbon Black returns 10 rows when it is
// absent. rows 0 asks only for the progress counters.
//
// API: GET /api/investigate/v2/orgs/{org_key}/{processes|observations}/search_jobs/{job_id}/results
func (j *JobSearch[T]) Results(ctx context.Context, jobID string, start, rows int) (*JobResults[T], error) {
	return jobResults[T](ctx, j.c, j.name+".Results", "/api/investigate/v2/orgs/{}/{}/search_jobs/{}/results", j.kind, jobID, start, rows)
}

func jobResults[T any](ctx context.Context, c *Client, op, path, kind, jobID string, start, rows int) (*JobResults[T], error) {
	return call[JobResults[T]](ctx, c, &rest.Request{
		Op: op, Path: path, PathArgs: c.org(kind, jobID),
		Query: url.Values{"start": {strconv.Itoa(start)}, "rows": {strconv.Itoa(rows)}},
	})
}

// Wait polls the job until it is done, within the client's job polling
// bound (see [WithJobPolling]); past the bound it returns an error matching
// ErrWaitTimeout. It returns the final progress (results not included).
//
// API: GET /api/investigate/v2/orgs/{org_key}/{processes|observations}/search_jobs/{job_id}/results?start=0&rows=0
func (j *JobSearch[T]) Wait(ctx context.Context, jobID string) (*JobResults[T], error) {
	return waitJob(ctx, j.c, func(ctx context.Context) (*JobResults[T], error) { return j.Results(ctx, jobID, 0, 0) })
}

func waitJob[T any](ctx context.Context, c *Client, check func(context.Context) (*JobResults[T], error)) (*JobResults[T], error) {
	var last *JobResults[T]
	err := rest.Poll(ctx, c.cfg.jobPoll, func(ctx context.Context) (bool, error) {
		r, err := check(ctx)
		if err != nil {
			return false, err
		}
		last = r
		return r.Done(), nil
	})
	if err != nil {
		return last, err
	}
	return last, nil
}

// All iterates over every result of a finished job, paging with the
// client's page size until num_available.
//
// API: GET /api/investigate/v2/orgs/{org_key}/{processes|observations}/search_jobs/{job_id}/results
func (j *JobSearch[T]) All(ctx context.Context, jobID string) iter.Seq2[T, error] {
	return pageJob(ctx, j.c.cfg.jobPageRows, func(ctx context.Context, start, rows int) (*JobResults[T], error) {
		return j.Results(ctx, jobID, start, rows)
	})
}

func pageJob[T any](ctx context.Context, rows int, fetch func(ctx context.Context, start, rows int) (*JobResults[T], error)) iter.Seq2[T, error] {
	return offsetPages(ctx, 0, rows, 0, func(ctx context.Context, start int) ([]T, int, int, error) {
		page, err := fetch(ctx, start, rows)
		if err != nil {
			return nil, 0, 0, err
		}
		return page.Results, len(page.Results) + len(page.SkippedItems), page.NumAvailable, nil
	})
}

// Search validates the query (when there is one), starts the job, waits for
// it and iterates over all its results.
func (j *JobSearch[T]) Search(ctx context.Context, req JobRequest) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if req.Query != "" {
			if _, err := j.Validate(ctx, req.Query); err != nil {
				yield(zero, err)
				return
			}
		}
		id, err := j.Start(ctx, req)
		if err != nil {
			yield(zero, err)
			return
		}
		if _, err := j.Wait(ctx, id); err != nil {
			yield(zero, fmt.Errorf("carbonblack: %s search job %s: %w", j.kind, id, err))
			return
		}
		for v, err := range j.All(ctx, id) {
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}
