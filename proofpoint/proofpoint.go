package proofpoint

import (
	"context"
	"net/http"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// DefaultBaseURL is TAP's API host; every path lives under /v2.
const DefaultBaseURL = "https://tap-api-v2.proofpoint.com"

// Client talks to the Proofpoint Targeted Attack Protection API v2. It is
// safe for concurrent use.
type Client struct {
	rc        *rest.Client
	now       func() time.Time
	lookBack  time.Duration
	endMargin time.Duration
	pools     *PoolTracker
	onSkip    func(SkippedItem)

	// Campaigns: campaign ids in an interval and campaign details.
	Campaigns *CampaignsService
	// Forensics: evidence per threat or campaign.
	Forensics *ForensicsService
	// People: very attacked people and top clickers.
	People *PeopleService
	// SIEM: message and click events per time window.
	SIEM *SIEMService
	// Threats: threat summaries.
	Threats *ThreatsService
	// URLs: URL Defense decoding.
	URLs *URLsService
}

type service struct{ c *Client }

// New returns a client for the TAP API at baseURL (normally
// [DefaultBaseURL]) that authenticates with HTTP Basic using the service
// principal and secret of a TAP "Connected Applications" credential.
func New(baseURL, principal, secret string, opts ...Option) (*Client, error) {
	if principal == "" || secret == "" {
		return nil, &rest.ConfigError{Field: "credentials", Reason: "service principal and secret are required"}
	}
	cfg := rest.Config{
		Vendor:      "proofpoint",
		BaseURL:     baseURL,
		Auth:        func(r *http.Request) { r.SetBasicAuth(principal, secret) },
		Secrets:     []string{secret},
		DecodeError: decodeError,
		Retry:       DefaultRetryPolicy(),
	}
	s, err := rest.Apply(cfg, defaultSettings(), opts)
	if err != nil {
		return nil, err
	}
	if s.Config.Retry.RateLimitedDelay == 0 {
		s.Config.Retry.RateLimitedDelay = DefaultRateLimitedDelay
	}
	rc, err := rest.New(s.Config)
	if err != nil {
		return nil, err
	}
	c := &Client{rc: rc, now: s.Vendor.now, lookBack: s.Vendor.lookBack, endMargin: s.Vendor.endMargin, pools: s.Vendor.tracker,
		onSkip: s.Vendor.onSkip}
	if c.now == nil {
		c.now = time.Now
	}
	if c.pools == nil {
		c.pools = NewPoolTracker(c.now)
		for p, l := range s.Vendor.limits {
			c.pools.SetLimit(p, l.limit, l.reserve)
		}
	}
	hc := rc.HTTPClient()
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &poolTransport{next: next, tracker: c.pools}

	base := service{c}
	c.Campaigns = (*CampaignsService)(&base)
	c.Forensics = (*ForensicsService)(&base)
	c.People = (*PeopleService)(&base)
	c.SIEM = (*SIEMService)(&base)
	c.Threats = (*ThreatsService)(&base)
	c.URLs = (*URLsService)(&base)
	return c, nil
}

// BaseURL returns the base URL requests are sent to.
func (c *Client) BaseURL() string { return c.rc.BaseURL() }

// Pools returns the tracker counting this client's requests per pool, to
// read the remaining budget ([PoolTracker.Status]) or persist it.
func (c *Client) Pools() *PoolTracker { return c.pools }

// LookBack is how far into the past a SIEM window may start.
func (c *Client) LookBack() time.Duration { return c.lookBack }

// do sends req after checking its pool, so a spent pool costs no request.
func (c *Client) do(ctx context.Context, pool Pool, req *rest.Request, out any) error {
	if pool != "" {
		if err := c.pools.Check(pool, usesReserve(ctx)); err != nil {
			return c.refused(req, err)
		}
		ctx = context.WithValue(ctx, poolKey{}, pool)
	}
	_, err := c.rc.Do(ctx, req, out)
	return err
}

// refused wraps an error found before sending into the engine's error type,
// so every failure names the vendor and the operation.
func (c *Client) refused(req *rest.Request, err error) error {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return &rest.Error{Vendor: c.rc.Vendor(), Op: req.Op, Method: method, Path: req.Path, Err: err}
}
