package carbonblack

import (
	"context"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// ReportsService manages watchlist reports (watchlist manager v3). A report
// alerts only once its id is in a watchlist ([WatchlistsService.AddReports]).
type ReportsService service

// Create validates and creates a watchlist report and returns it with its
// server-assigned id. A zero Timestamp becomes now.
//
// API: POST /threathunter/watchlistmgr/v3/orgs/{org_key}/reports
func (s *ReportsService) Create(ctx context.Context, r Report) (*Report, error) {
	r, err := r.prepare(false)
	if err != nil {
		return nil, err
	}
	return call[Report](ctx, s.c, &rest.Request{
		Op: "Reports.Create", Method: http.MethodPost, Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports",
		PathArgs: s.c.org(), Body: rest.JSONBody(r),
	})
}

// Get returns one report.
//
// API: GET /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}
func (s *ReportsService) Get(ctx context.Context, id string) (*Report, error) {
	return call[Report](ctx, s.c, &rest.Request{Op: "Reports.Get", Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}", PathArgs: s.c.org(id)})
}

// Update replaces a report. Its timestamp is set to now, as Carbon Black
// requires a fresh one.
//
// API: PUT /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}
func (s *ReportsService) Update(ctx context.Context, r Report) (*Report, error) {
	r.Timestamp = 0
	r, err := r.prepare(false)
	if err != nil {
		return nil, err
	}
	return call[Report](ctx, s.c, &rest.Request{
		Op: "Reports.Update", Method: http.MethodPut, Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}",
		PathArgs: s.c.org(r.ID), Body: rest.JSONBody(r),
	})
}

// Delete removes a report.
//
// API: DELETE /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}
func (s *ReportsService) Delete(ctx context.Context, id string) error {
	_, err := s.c.do(ctx, &rest.Request{Op: "Reports.Delete", Method: http.MethodDelete, Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}", PathArgs: s.c.org(id)}, nil)
	return err
}

// Ignore stops a report from producing hits. For a report inside a feed, id
// is "<feed id>-<report id>".
//
// API: PUT /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}/ignore
func (s *ReportsService) Ignore(ctx context.Context, id string) error {
	return s.ignore(ctx, "Reports.Ignore", http.MethodPut, id)
}

// Unignore makes an ignored report produce hits again.
//
// API: DELETE /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}/ignore
func (s *ReportsService) Unignore(ctx context.Context, id string) error {
	return s.ignore(ctx, "Reports.Unignore", http.MethodDelete, id)
}

func (s *ReportsService) ignore(ctx context.Context, op, method, id string) error {
	_, err := s.c.do(ctx, &rest.Request{Op: op, Method: method, Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}/ignore", PathArgs: s.c.org(id)}, nil)
	return err
}

// Ignored reports whether a report is ignored.
//
// API: GET /threathunter/watchlistmgr/v3/orgs/{org_key}/reports/{id}/ignore
func (s *ReportsService) Ignored(ctx context.Context, id string) (bool, error) {
	var out struct {
		Ignored bool `json:"ignored"`
	}
	_, err := s.c.do(ctx, &rest.Request{Op: "Reports.Ignored", Path: "/threathunter/watchlistmgr/v3/orgs/{}/reports/{}/ignore", PathArgs: s.c.org(id)}, &out)
	return out.Ignored, err
}
