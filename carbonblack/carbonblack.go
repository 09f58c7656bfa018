package carbonblack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/soarkit/soarkit/internal/rest"
)

// Client talks to one Carbon Black Cloud organisation on one environment
// host. It is safe for concurrent use. Services hang off it as fields, named
// after the sections of Carbon Black's API documentation.
type Client struct {
	rest   *rest.Client
	orgKey string
	cfg    vendorSettings

	// watchlistLocks serialises the read-modify-write of one watchlist's
	// report_ids (and one feed's report list) inside this client.
	locksMu sync.Mutex
	locks   map[string]*sync.Mutex

	// Alerts searches and reads Alerts v7.
	Alerts *AlertsService
	// Devices searches devices and runs device actions (quarantine, policy,
	// background scan, bypass, sensor update).
	Devices *DevicesService
	// Feeds manages threat intelligence feeds (feed manager v2).
	Feeds *FeedsService
	// LiveResponse opens Live Response v6 sessions and runs commands.
	LiveResponse *LiveResponseService
	// Observations runs observation search jobs (the successor of enriched
	// events).
	Observations *ObservationsService
	// Policies reads prevention policies through the Policy Service v1.
	Policies *PoliciesService
	// Processes runs process search jobs and process detail jobs.
	Processes *ProcessesService
	// Reports manages watchlist reports (watchlist manager v3).
	Reports *ReportsService
	// Reputations manages reputation overrides (ban and allow lists).
	Reputations *ReputationsService
	// UBS reads the Unified Binary Store: metadata and sample downloads.
	UBS *UBSService
	// Watchlists manages watchlists (watchlist manager v3).
	Watchlists *WatchlistsService
}

type service struct{ c *Client }

// New returns a client for the Carbon Black Cloud environment at baseURL (the
// console host, for example "https://defense.conferdeploy.net"), for the
// organisation orgKey, authenticating with a custom access level API key:
// its API ID and its API secret key. The header sent is
// "X-Auth-Token: <apiSecret>/<apiID>".
func New(baseURL, orgKey, apiID, apiSecret string, opts ...Option) (*Client, error) {
	orgKey = strings.TrimSpace(orgKey)
	apiID = strings.TrimSpace(apiID)
	apiSecret = strings.TrimSpace(apiSecret)
	switch {
	case orgKey == "":
		return nil, &ConfigError{Field: "org key", Reason: "empty"}
	case apiID == "":
		return nil, &ConfigError{Field: "API ID", Reason: "empty"}
	case apiSecret == "":
		return nil, &ConfigError{Field: "API secret key", Reason: "empty"}
	case strings.ContainsAny(orgKey, "/?#"):
		return nil, &ConfigError{Field: "org key", Reason: "contains a URL delimiter"}
	}
	token := apiSecret + "/" + apiID
	cfg := rest.Config{
		Vendor:      "carbonblack",
		BaseURL:     baseURL,
		Secrets:     []string{apiSecret, token},
		DecodeError: decodeError,
		WrapError:   wrapError,
		Auth: func(r *http.Request) {
			r.Header.Set("X-Auth-Token", token)
		},
	}
	s, err := rest.Apply(cfg, defaultVendorSettings(), opts)
	if err != nil {
		return nil, configError(err)
	}
	rc, err := rest.New(s.Config)
	if err != nil {
		return nil, configError(err)
	}
	c := &Client{rest: rc, orgKey: orgKey, cfg: s.Vendor, locks: make(map[string]*sync.Mutex)}
	sv := &service{c}
	c.Alerts = (*AlertsService)(sv)
	c.Devices = (*DevicesService)(sv)
	c.Feeds = (*FeedsService)(sv)
	c.LiveResponse = (*LiveResponseService)(sv)
	c.Observations = &ObservationsService{JobSearch: newJobSearch[Observation](c, "observations", "Observations", validateByGET)}
	c.Policies = (*PoliciesService)(sv)
	c.Processes = &ProcessesService{JobSearch: newJobSearch[Process](c, "processes", "Processes", validateByPOST)}
	c.Reports = (*ReportsService)(sv)
	c.Reputations = (*ReputationsService)(sv)
	c.UBS = (*UBSService)(sv)
	c.Watchlists = (*WatchlistsService)(sv)
	return c, nil
}

// BaseURL returns the environment host the client talks to.
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// OrgKey returns the organisation key used in request paths.
func (c *Client) OrgKey() string { return c.orgKey }

// do sends req and decodes the JSON answer into out, marking retired APIs.
func (c *Client) do(ctx context.Context, req *rest.Request, out any) (*rest.Response, error) {
	resp, err := c.rest.Do(ctx, req, out)
	return resp, markRetired(err)
}

// lock returns the mutex guarding the read-modify-write of key.
func (c *Client) lock(key string) *sync.Mutex {
	c.locksMu.Lock()
	defer c.locksMu.Unlock()
	m, ok := c.locks[key]
	if !ok {
		m = &sync.Mutex{}
		c.locks[key] = m
	}
	return m
}

// org prepends the org key to path arguments.
func (c *Client) org(args ...string) []string {
	return append([]string{c.orgKey}, args...)
}

// markRetired makes a 410 Gone match ErrRetired and say so.
func markRetired(err error) error {
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusGone {
		e.Matches = append(e.Matches, ErrRetired)
		if e.Message == "" {
			e.Message = "API retired by Carbon Black; use its current replacement"
		}
	}
	return err
}
