package carbonblack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/soarkit/soarkit/internal/rest"
)

// WatchlistsService manages watchlists (watchlist manager v3). A watchlist
// either lists report ids (reports created with [ReportsService.Create]) or
// subscribes to a feed through a classifier; only watchlists raise alerts,
// and only when AlertsEnabled is set.
type WatchlistsService service

// Watchlist is a watchlist. Timestamps are epoch seconds.
type Watchlist struct {
	ID            string `json:"id,omitempty"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	TagsEnabled   bool   `json:"tags_enabled"`
	AlertsEnabled bool   `json:"alerts_enabled"`
	// CreateTimestamp and LastUpdateTimestamp are epoch seconds.
	CreateTimestamp     int64 `json:"create_timestamp,omitempty"`
	LastUpdateTimestamp int64 `json:"last_update_timestamp,omitempty"`
	// ReportIDs lists the reports of a report watchlist (nil for a feed
	// subscription).
	ReportIDs []string `json:"report_ids"`
	// Classifier subscribes the watchlist to a feed (nil for a report
	// watchlist).
	Classifier *Classifier `json:"classifier"`
}

// Classifier ties a watchlist to a feed: Key "feed_id", Value the feed id.
type Classifier struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MarshalJSON sends either report_ids or classifier, never both: Carbon
// Black rejects a watchlist that names both, and a report watchlist without
// reports still sends an empty list.
func (w Watchlist) MarshalJSON() ([]byte, error) {
	type plain struct {
		ID                  string      `json:"id,omitempty"`
		Name                string      `json:"name"`
		Description         string      `json:"description"`
		TagsEnabled         bool        `json:"tags_enabled"`
		AlertsEnabled       bool        `json:"alerts_enabled"`
		CreateTimestamp     int64       `json:"create_timestamp,omitempty"`
		LastUpdateTimestamp int64       `json:"last_update_timestamp,omitempty"`
		ReportIDs           *[]string   `json:"report_ids,omitempty"`
		Classifier          *Classifier `json:"classifier,omitempty"`
	}
	p := plain{ID: w.ID, Name: w.Name, Description: w.Description, TagsEnabled: w.TagsEnabled, AlertsEnabled: w.AlertsEnabled,
		CreateTimestamp: w.CreateTimestamp, LastUpdateTimestamp: w.LastUpdateTimestamp, Classifier: w.Classifier}
	if w.Classifier == nil {
		ids := w.ReportIDs
		if ids == nil {
			ids = []string{}
		}
		p.ReportIDs = &ids
	}
	return json.Marshal(p)
}

// List returns every watchlist of the organisation.
//
// API: GET /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists
func (s *WatchlistsService) List(ctx context.Context) ([]Watchlist, error) {
	var out struct {
		Results []Watchlist `json:"results"`
	}
	_, err := s.c.do(ctx, &rest.Request{Op: "Watchlists.List", Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists", PathArgs: s.c.org()}, &out)
	if err != nil {
		return nil, err
	}
	return out.Results, nil
}

// FindByName returns the first watchlist named name, or an error matching
// ErrNotFound.
//
// API: GET /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists
func (s *WatchlistsService) FindByName(ctx context.Context, name string) (*Watchlist, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("carbonblack: Watchlists.FindByName: no watchlist named %q: %w", name, ErrNotFound)
}

// Get returns one watchlist.
//
// API: GET /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}
func (s *WatchlistsService) Get(ctx context.Context, id string) (*Watchlist, error) {
	return call[Watchlist](ctx, s.c, &rest.Request{Op: "Watchlists.Get", Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}", PathArgs: s.c.org(id)})
}

// Create creates a watchlist. Set AlertsEnabled for hits to raise alerts
// (the original connector left it off, so its hits only tagged events).
//
// API: POST /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists
func (s *WatchlistsService) Create(ctx context.Context, w Watchlist) (*Watchlist, error) {
	w.ID, w.CreateTimestamp, w.LastUpdateTimestamp = "", 0, 0
	return call[Watchlist](ctx, s.c, &rest.Request{
		Op: "Watchlists.Create", Method: http.MethodPost, Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists",
		PathArgs: s.c.org(), Body: rest.JSONBody(w),
	})
}

// Subscribe creates a watchlist subscribed to a feed, so the feed's reports
// produce hits (and alerts when alertsEnabled).
//
// API: POST /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists
func (s *WatchlistsService) Subscribe(ctx context.Context, feedID, name, description string, alertsEnabled bool) (*Watchlist, error) {
	return s.Create(ctx, Watchlist{Name: name, Description: description, TagsEnabled: true, AlertsEnabled: alertsEnabled,
		Classifier: &Classifier{Key: "feed_id", Value: feedID}})
}

// Update replaces a watchlist with w (w.ID names it).
//
// API: PUT /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}
func (s *WatchlistsService) Update(ctx context.Context, w Watchlist) (*Watchlist, error) {
	return call[Watchlist](ctx, s.c, &rest.Request{
		Op: "Watchlists.Update", Method: http.MethodPut, Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}",
		PathArgs: s.c.org(w.ID), Body: rest.JSONBody(w),
	})
}

// Delete removes a watchlist.
//
// API: DELETE /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}
func (s *WatchlistsService) Delete(ctx context.Context, id string) error {
	_, err := s.c.do(ctx, &rest.Request{Op: "Watchlists.Delete", Method: http.MethodDelete, Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}", PathArgs: s.c.org(id)}, nil)
	return err
}

// SetAlerts turns alerting for a watchlist's hits on or off.
//
// API: PUT|DELETE /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}/alert
func (s *WatchlistsService) SetAlerts(ctx context.Context, id string, on bool) error {
	method := http.MethodDelete
	if on {
		method = http.MethodPut
	}
	_, err := s.c.do(ctx, &rest.Request{Op: "Watchlists.SetAlerts", Method: method, Path: "/threathunter/watchlistmgr/v3/orgs/{}/watchlists/{}/alert", PathArgs: s.c.org(id)}, nil)
	return err
}

// maxMergeAttempts bounds the read-modify-write retries of AddReports.
const maxMergeAttempts = 5

// AddReports adds report ids to a report watchlist. Carbon Black has no
// append call, only a PUT of the whole watchlist, so this reads the
// watchlist, appends the ids it lacks and writes it back. Calls through one
// Client are serialised per watchlist, so concurrent adds from the goroutines
// of a process lose nothing; after each write the watchlist is read again and
// the merge repeated (at most five times) if another writer's PUT dropped one
// of these ids. Writers in other processes can still overwrite each other's
// additions (the API offers no version check): give one process the
// ownership of a watchlist, or use one report per watchlist. It returns the
// watchlist as last read.
//
// API: GET + PUT /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}
func (s *WatchlistsService) AddReports(ctx context.Context, id string, reportIDs ...string) (*Watchlist, error) {
	mu := s.c.lock("watchlist/" + id)
	mu.Lock()
	defer mu.Unlock()
	var last *Watchlist
	for range maxMergeAttempts {
		w, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if w.Classifier != nil {
			return nil, fmt.Errorf("%w: watchlist %s subscribes to feed %s and cannot hold reports", ErrInvalidRequest, id, w.Classifier.Value)
		}
		missing := missingIDs(w.ReportIDs, reportIDs)
		if len(missing) == 0 {
			return w, nil
		}
		w.ReportIDs = append(w.ReportIDs, missing...)
		if _, err := s.Update(ctx, *w); err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
		last = w
	}
	return last, fmt.Errorf("carbonblack: Watchlists.AddReports: watchlist %s kept changing under %d merges: %w", id, maxMergeAttempts, ErrConflict)
}

// RemoveReports takes report ids out of a report watchlist, with the same
// locking and verification as AddReports. Carbon Black rejects a report
// watchlist left empty.
//
// API: GET + PUT /threathunter/watchlistmgr/v3/orgs/{org_key}/watchlists/{id}
func (s *WatchlistsService) RemoveReports(ctx context.Context, id string, reportIDs ...string) (*Watchlist, error) {
	mu := s.c.lock("watchlist/" + id)
	mu.Lock()
	defer mu.Unlock()
	for range maxMergeAttempts {
		w, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		kept := slices.DeleteFunc(slices.Clone(w.ReportIDs), func(r string) bool { return slices.Contains(reportIDs, r) })
		if len(kept) == len(w.ReportIDs) {
			return w, nil
		}
		w.ReportIDs = kept
		if _, err := s.Update(ctx, *w); err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("carbonblack: Watchlists.RemoveReports: watchlist %s kept changing: %w", id, ErrConflict)
}

// missingIDs returns the ids of want not in have, in order, without
// duplicates.
func missingIDs(have, want []string) []string {
	seen := make(map[string]bool, len(have))
	for _, h := range have {
		seen[h] = true
	}
	var out []string
	for _, w := range want {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
