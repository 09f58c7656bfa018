package sentinelone

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// DeepVisibilityService covers Deep Visibility (/dv) and PowerQuery
// (/dv/events/pq). Deep Visibility allows one new query per minute per token
// and one status call per second; the client's route limits enforce both.
type DeepVisibilityService struct {
	c    *Client
	poll PollPolicy
}

// DVQuery starts a Deep Visibility query.
type DVQuery struct {
	Scope
	// Query is S1QL, for example `ObjectType = "Process"`.
	Query string `json:"query"`
	// FromDate is sent as RFC 3339 in UTC with microseconds.
	FromDate Time `json:"fromDate"`
	// ToDate is sent as RFC 3339 in UTC with microseconds.
	ToDate Time `json:"toDate"`
	// Limit caps the results (1..100000; the console's default is 1000 and
	// 20000 is the usual practical cap).
	Limit int `json:"limit,omitempty"`
	// QueryType is events or processState.
	QueryType []string `json:"queryType,omitempty"`
	IsVerbose *bool    `json:"isVerbose,omitempty"`
	// TimeFrame is a relative window the console names ("Last24Hours"),
	// an alternative to FromDate and ToDate.
	TimeFrame string `json:"timeFrame,omitempty"`
}

// DV query states.
const (
	DVStateRunning      = "RUNNING"
	DVStateFinished     = "FINISHED"
	DVStateEmptyResults = "EMPTY_RESULTS"
	DVStateFailed       = "FAILED"
	DVStateCancelled    = "QUERY_CANCELLED"
	DVStateTimedOut     = "TIMED_OUT"
)

// QueryModeInfo describes the backend that runs a query.
type QueryModeInfo struct {
	Mode string `json:"mode"`
	// LastActivatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	LastActivatedAt Time `json:"lastActivatedAt"`
}

// DVQueryStatus is the state of a Deep Visibility query.
type DVQueryStatus struct {
	// QueryID is set from the request (the console does not always echo it).
	QueryID        string        `json:"queryId"`
	ResponseState  string        `json:"responseState"`
	ProgressStatus float64       `json:"progressStatus"`
	QueryModeInfo  QueryModeInfo `json:"queryModeInfo"`
	ResponseError  String        `json:"responseError"`
	// Warnings is kept raw: consoles send null, strings or objects.
	Warnings json.RawMessage `json:"warnings,omitempty"`
}

// Running reports a state in which the console is still working.
func (s *DVQueryStatus) Running() bool {
	return strings.Contains(s.ResponseState, "RUNNING") || s.ResponseState == "PLANNING"
}

// InitQuery starts a Deep Visibility query and returns its id.
//
// API: POST /dv/init-query
func (s *DeepVisibilityService) InitQuery(ctx context.Context, q DVQuery) (string, error) {
	const op = "DeepVisibility.InitQuery"
	if strings.TrimSpace(q.Query) == "" || q.FromDate.IsZero() || q.ToDate.IsZero() || !q.FromDate.Before(q.ToDate.Time) {
		return "", invalidf(op, "query, fromDate and toDate (after fromDate) are required")
	}
	var out struct {
		QueryID string `json:"queryId"`
	}
	req := &rest.Request{Op: op, Method: http.MethodPost, Path: "/dv/init-query", Body: rest.JSONBody(q)}
	if _, _, err := s.c.do(ctx, req, &out); err != nil {
		return "", err
	}
	if out.QueryID == "" {
		return "", s.c.answerError(req, http.StatusOK, "answer has no queryId", ErrMalformedResponse)
	}
	return out.QueryID, nil
}

type queryIDParam struct {
	QueryID string `url:"queryId"`
}

// QueryStatus returns the state of a query.
//
// API: GET /dv/query-status
func (s *DeepVisibilityService) QueryStatus(ctx context.Context, queryID string) (*DVQueryStatus, error) {
	var out DVQueryStatus
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "DeepVisibility.QueryStatus", Path: "/dv/query-status", Query: queryIDParam{queryID}}, &out); err != nil {
		return nil, err
	}
	out.QueryID = queryID
	return &out, nil
}

// dvPoll is the effective wait policy: never faster than one status call per
// second.
func (s *DeepVisibilityService) dvPoll() PollPolicy {
	p := s.poll
	if p.Interval <= 0 {
		p.Interval = time.Second
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 10 * time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Minute
	}
	return p
}

// WaitQuery polls a query until it leaves the running states, within the
// client's query poll policy. A query that ends in any state other than
// FINISHED or EMPTY_RESULTS is reported as a *QueryError; running out of time
// as ErrWaitTimeout.
//
// API: GET /dv/query-status
func (s *DeepVisibilityService) WaitQuery(ctx context.Context, queryID string) (*DVQueryStatus, error) {
	var last *DVQueryStatus
	err := rest.Poll(ctx, s.dvPoll(), func(ctx context.Context) (bool, error) {
		st, err := s.QueryStatus(ctx, queryID)
		if err != nil {
			return false, err
		}
		last = st
		return !st.Running(), nil
	})
	if err != nil {
		return last, err
	}
	if last.ResponseState != DVStateFinished && last.ResponseState != DVStateEmptyResults {
		return last, &QueryError{QueryID: queryID, State: last.ResponseState, Message: string(last.ResponseError)}
	}
	return last, nil
}

// RunQuery starts a query and waits until its results are ready, returning
// the query id for Events.
//
// API: POST /dv/init-query, GET /dv/query-status
func (s *DeepVisibilityService) RunQuery(ctx context.Context, q DVQuery) (string, error) {
	id, err := s.InitQuery(ctx, q)
	if err != nil {
		return "", err
	}
	if _, err := s.WaitQuery(ctx, id); err != nil {
		return id, err
	}
	return id, nil
}

// CancelQuery stops a running query.
//
// API: POST /dv/cancel-query
func (s *DeepVisibilityService) CancelQuery(ctx context.Context, queryID string) error {
	_, _, err := s.c.do(ctx, &rest.Request{Op: "DeepVisibility.CancelQuery", Method: http.MethodPost, Path: "/dv/cancel-query",
		Body: rest.JSONBody(map[string]string{"queryId": queryID})}, nil)
	return err
}

// DVEventListOptions are the parameters of GET /dv/events.
type DVEventListOptions struct {
	// SubQuery filters the fetched results further.
	SubQuery string `url:"subQuery,omitempty"`
	ListOptions
}

type dvEventsQuery struct {
	QueryID string `url:"queryId"`
	DVEventListOptions
}

// Events returns one page of a finished query's events.
//
// API: GET /dv/events
func (s *DeepVisibilityService) Events(ctx context.Context, queryID string, opts DVEventListOptions) (*Page[DVEvent], error) {
	return list[DVEvent](ctx, s.c, &rest.Request{Op: "DeepVisibility.Events", Path: "/dv/events", Query: dvEventsQuery{queryID, opts}})
}

// AllEvents iterates over every event of a finished query, following the
// cursor through all pages.
//
// API: GET /dv/events
func (s *DeepVisibilityService) AllEvents(ctx context.Context, queryID string, opts DVEventListOptions) iter.Seq2[DVEvent, error] {
	return all(ctx, opts, func(ctx context.Context, o DVEventListOptions) (*Page[DVEvent], error) {
		return s.Events(ctx, queryID, o)
	})
}

// Search runs q and iterates over all its events: start, bounded wait, then
// every page.
//
// API: POST /dv/init-query, GET /dv/query-status, GET /dv/events
func (s *DeepVisibilityService) Search(ctx context.Context, q DVQuery) iter.Seq2[DVEvent, error] {
	return func(yield func(DVEvent, error) bool) {
		id, err := s.RunQuery(ctx, q)
		if err != nil {
			yield(DVEvent{}, err)
			return
		}
		for ev, err := range s.AllEvents(ctx, id, DVEventListOptions{}) {
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}
