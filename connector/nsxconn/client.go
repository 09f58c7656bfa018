package nsxconn

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"iter"
	"log/slog"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// Client calls the NSX Manager inventory API. It is safe for concurrent use.
type Client struct {
	rest *rest.Client
}

type settings struct{}

// Option configures a Client.
type Option = rest.Option[settings]

// RetryPolicy controls retries of failed calls.
type RetryPolicy = rest.RetryPolicy

// Error is the failure of one NSX call; use errors.Is with ErrNotFound,
// ErrUnauthorized and the other sentinels.
type Error = rest.Error

// Sentinel errors matched by *Error.
var (
	ErrUnauthorized = rest.ErrUnauthorized
	ErrForbidden    = rest.ErrForbidden
	ErrNotFound     = rest.ErrNotFound
	ErrRateLimited  = rest.ErrRateLimited
)

// WithHTTPClient sends requests through h.
func WithHTTPClient(h *http.Client) Option { return rest.WithHTTPClient[settings](h) }

// WithRetry replaces the retry policy.
func WithRetry(p RetryPolicy) Option { return rest.WithRetry[settings](p) }

// WithLogger sends debug records to l.
func WithLogger(l *slog.Logger) Option { return rest.WithLogger[settings](l) }

// WithUserAgent appends an integration name to the User-Agent.
func WithUserAgent(name string) Option { return rest.WithUserAgent[settings](name) }

// WithCACertPEM trusts a private CA (NSX Managers often use one).
func WithCACertPEM(pem []byte) Option { return rest.WithCACertPEM[settings](pem) }

// WithTLSConfig sets the base TLS configuration.
func WithTLSConfig(c *tls.Config) Option { return rest.WithTLSConfig[settings](c) }

// WithInsecureSkipVerify turns certificate verification off; never a default.
func WithInsecureSkipVerify() Option { return rest.WithInsecureSkipVerify[settings]() }

// WithProxy sends requests through the proxy at rawURL.
func WithProxy(rawURL string) Option { return rest.WithProxy[settings](rawURL) }

// New returns a client for the NSX Manager at baseURL (for example
// "https://nsx.example.com") using HTTP Basic authentication.
func New(baseURL, username, password string, opts ...Option) (*Client, error) {
	if username == "" || password == "" {
		return nil, &rest.ConfigError{Field: "credentials", Reason: "NSX username and password are required"}
	}
	cfg := rest.Config{
		Vendor:      "nsx",
		BaseURL:     baseURL,
		Auth:        func(r *http.Request) { r.SetBasicAuth(username, password) },
		Secrets:     []string{password},
		DecodeError: decodeError,
	}
	s, err := rest.Apply(cfg, settings{}, opts)
	if err != nil {
		return nil, err
	}
	c, err := rest.New(s.Config)
	if err != nil {
		return nil, err
	}
	return &Client{rest: c}, nil
}

// decodeError reads NSX's {"error_code":..., "error_message":...} body.
func decodeError(e *rest.Error, body []byte) {
	var v struct {
		Code    json.Number `json:"error_code"`
		Message string      `json:"error_message"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code, e.Message = v.Code.String(), v.Message
	}
}

// Tag is an NSX tag; Scope may be empty.
type Tag struct {
	Scope string `json:"scope,omitempty"`
	Tag   string `json:"tag"`
}

// VirtualMachine is an entry of the NSX inventory.
type VirtualMachine struct {
	ExternalID  string `json:"external_id"`
	DisplayName string `json:"display_name"`
	HostID      string `json:"host_id,omitempty"`
	PowerState  string `json:"power_state,omitempty"`
	Type        string `json:"type,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
}

// HasTag reports whether the VM carries t.
func (vm VirtualMachine) HasTag(t Tag) bool {
	for _, have := range vm.Tags {
		if have == t {
			return true
		}
	}
	return false
}

// ListOptions filter a virtual machine listing.
type ListOptions struct {
	DisplayName string `url:"display_name,omitempty"`
	ExternalID  string `url:"external_id,omitempty"`
	PageSize    int    `url:"page_size,omitempty"`
	Cursor      string `url:"cursor,omitempty"`
}

type vmPage struct {
	Results     []VirtualMachine `json:"results"`
	ResultCount int              `json:"result_count"`
	Cursor      string           `json:"cursor"`
}

// ListVirtualMachinesPage returns one page and the cursor of the next ("" at
// the end).
//
// API: GET /api/v1/fabric/virtual-machines
func (c *Client) ListVirtualMachinesPage(ctx context.Context, opts ListOptions) ([]VirtualMachine, string, error) {
	var page vmPage
	_, err := c.rest.Do(ctx, &rest.Request{Op: "VirtualMachines.List", Path: "/api/v1/fabric/virtual-machines", Query: opts}, &page)
	if err != nil {
		return nil, "", err
	}
	return page.Results, page.Cursor, nil
}

// ListVirtualMachines iterates over every matching VM, following cursors.
//
// API: GET /api/v1/fabric/virtual-machines
func (c *Client) ListVirtualMachines(ctx context.Context, opts ListOptions) iter.Seq2[VirtualMachine, error] {
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]VirtualMachine, string, error) {
		o := opts
		o.Cursor = cursor
		return c.ListVirtualMachinesPage(ctx, o)
	})
}

// AddTags adds tags to the VM with the given external id, keeping its other
// tags. Adding a tag the VM already has is harmless, so the call is retried
// like an idempotent one.
//
// API: POST /api/v1/fabric/virtual-machines?action=add_tags
func (c *Client) AddTags(ctx context.Context, externalID string, tags ...Tag) error {
	if externalID == "" || len(tags) == 0 {
		return &rest.Error{Vendor: "nsx", Op: "VirtualMachines.AddTags", Err: rest.ErrInvalidRequest, Message: "an external id and at least one tag are required"}
	}
	body := struct {
		ExternalID string `json:"external_id"`
		Tags       []Tag  `json:"tags"`
	}{externalID, tags}
	_, err := c.rest.Do(ctx, &rest.Request{Op: "VirtualMachines.AddTags", Method: http.MethodPost,
		Path: "/api/v1/fabric/virtual-machines", Query: actionQuery{"add_tags"}, Body: rest.JSONBody(body), Idempotent: true}, nil)
	return err
}

type actionQuery struct {
	Action string `url:"action"`
}
