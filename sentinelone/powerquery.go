package sentinelone

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// PowerQuery starts a PowerQuery search. The console ignores SiteIDs unless
// the parent account id is in AccountIDs too.
type PowerQuery struct {
	AccountIDs []string `json:"accountIds,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	// Query is PowerQuery text, for example
	// `event.type = 'Process Creation' | columns agent.uuid, src.process.name`.
	Query string `json:"query"`
	// FromDate is sent as RFC 3339 in UTC with microseconds.
	FromDate Time `json:"fromDate"`
	// ToDate is sent as RFC 3339 in UTC with microseconds.
	ToDate Time `json:"toDate"`
	// Limit caps the rows (1..100000; 1000 by default).
	Limit int `json:"limit,omitempty"`
}

// PowerQueryColumn names one column of the results.
type PowerQueryColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// PowerQueryResult is the state and, once finished, the rows of a PowerQuery.
// Rows are positional and match Columns.
type PowerQueryResult struct {
	QueryID         string              `json:"queryId"`
	Status          string              `json:"status"`
	Progress        float64             `json:"progress"`
	Columns         []PowerQueryColumn  `json:"columns"`
	Data            [][]json.RawMessage `json:"data"`
	Recommendations []string            `json:"recommendations"`
	ExternalID      string              `json:"externalId"`
}

// Running reports whether the query is still working.
func (r *PowerQueryResult) Running() bool {
	return strings.Contains(r.Status, "RUNNING") || r.Status == "PLANNING"
}

// Rows returns the results as maps from column name to raw value.
func (r *PowerQueryResult) Rows() []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, 0, len(r.Data))
	for _, row := range r.Data {
		m := make(map[string]json.RawMessage, len(r.Columns))
		for i, col := range r.Columns {
			if i < len(row) {
				m[col.Name] = row[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// StartPowerQuery starts a PowerQuery; a query that finishes at once comes
// back with its rows.
//
// API: POST /dv/events/pq
func (s *DeepVisibilityService) StartPowerQuery(ctx context.Context, q PowerQuery) (*PowerQueryResult, error) {
	if strings.TrimSpace(q.Query) == "" || q.FromDate.IsZero() || q.ToDate.IsZero() {
		return nil, invalidf("DeepVisibility.StartPowerQuery", "query, fromDate and toDate are required")
	}
	var out PowerQueryResult
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "DeepVisibility.StartPowerQuery", Method: http.MethodPost, Path: "/dv/events/pq", Body: rest.JSONBody(q)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PingPowerQuery returns the state (and rows, when finished) of a PowerQuery.
//
// API: GET /dv/events/pq-ping
func (s *DeepVisibilityService) PingPowerQuery(ctx context.Context, queryID string) (*PowerQueryResult, error) {
	var out PowerQueryResult
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "DeepVisibility.PingPowerQuery", Path: "/dv/events/pq-ping", Query: queryIDParam{queryID}}, &out); err != nil {
		return nil, err
	}
	if out.QueryID == "" {
		out.QueryID = queryID
	}
	return &out, nil
}

// RunPowerQuery starts a PowerQuery and polls it within the client's query
// poll policy until it finishes; a final state other than FINISHED is a
// *QueryError.
//
// API: POST /dv/events/pq, GET /dv/events/pq-ping
func (s *DeepVisibilityService) RunPowerQuery(ctx context.Context, q PowerQuery) (*PowerQueryResult, error) {
	res, err := s.StartPowerQuery(ctx, q)
	if err != nil {
		return nil, err
	}
	id := res.QueryID
	if res.Running() {
		err = rest.Poll(ctx, s.dvPoll(), func(ctx context.Context) (bool, error) {
			r, err := s.PingPowerQuery(ctx, id)
			if err != nil {
				return false, err
			}
			res = r
			return !r.Running(), nil
		})
		if err != nil {
			return res, err
		}
	}
	if res.Status != DVStateFinished {
		return res, &QueryError{QueryID: id, State: res.Status}
	}
	return res, nil
}
