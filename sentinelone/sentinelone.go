package sentinelone

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// APIPrefix is the path of the Management API v2.1 under the console host.
const APIPrefix = "/web/api/v2.1"

// Client talks to one SentinelOne management console. It is safe for
// concurrent use. Services hang off it as fields, named after the sections of
// the vendor's API documentation.
type Client struct {
	rest   *rest.Client
	fs     fetchSettings
	onSkip func(SkippedItem)

	// Accounts reads accounts (GET /accounts).
	Accounts *AccountsService
	// Activities lists the console's activity log (GET /activities).
	Activities *ActivitiesService
	// Agents lists endpoints, runs agent actions and fetches files from them.
	Agents *AgentsService
	// Blocklist manages hash restrictions (/restrictions).
	Blocklist *BlocklistService
	// DeepVisibility runs Deep Visibility and PowerQuery searches (/dv).
	DeepVisibility *DeepVisibilityService
	// Groups lists agent groups (GET /groups).
	Groups *GroupsService
	// Sites lists sites (GET /sites).
	Sites *SitesService
	// System reads console information (GET /system/info).
	System *SystemService
	// ThreatIntelligence manages IOCs (/threat-intelligence/iocs).
	ThreatIntelligence *ThreatIntelligenceService
	// Threats lists threats, manages notes, verdicts and mitigation, and
	// fetches threat files.
	Threats *ThreatsService
}

type service struct{ c *Client }

// New returns a client for the console at baseURL (for example
// "https://usea1.sentinelone.net"; the API prefix /web/api/v2.1 is added
// unless baseURL already ends with it) authenticating with an API token
// (console user or service user). The published per-route rate limits are
// applied unless replaced with options.
func New(baseURL, apiToken string, opts ...Option) (*Client, error) {
	apiToken = strings.TrimSpace(apiToken)
	if apiToken == "" {
		return nil, &rest.ConfigError{Field: "API token", Reason: "empty"}
	}
	base := strings.TrimRight(baseURL, "/")
	if !strings.HasSuffix(base, APIPrefix) {
		base += APIPrefix
	}
	cfg := rest.Config{
		Vendor:      "sentinelone",
		BaseURL:     base,
		Secrets:     []string{apiToken},
		RouteLimits: DefaultRouteLimits(),
		DecodeError: decodeError,
		Auth: func(r *http.Request) {
			r.Header.Set("Authorization", "ApiToken "+apiToken)
		},
	}
	s, err := rest.Apply(cfg, settings{}, opts)
	if err != nil {
		return nil, err
	}
	rc, err := rest.New(s.Config)
	if err != nil {
		return nil, err
	}
	c := &Client{rest: rc, fs: s.Vendor.fetch, onSkip: s.Vendor.onSkip}
	sv := service{c}
	c.Accounts = (*AccountsService)(&sv)
	c.Activities = (*ActivitiesService)(&sv)
	c.Agents = (*AgentsService)(&sv)
	c.Blocklist = (*BlocklistService)(&sv)
	c.DeepVisibility = &DeepVisibilityService{c: c, poll: s.Vendor.dvPoll}
	c.Groups = (*GroupsService)(&sv)
	c.Sites = (*SitesService)(&sv)
	c.System = (*SystemService)(&sv)
	c.ThreatIntelligence = (*ThreatIntelligenceService)(&sv)
	c.Threats = (*ThreatsService)(&sv)
	return c, nil
}

// BaseURL returns the API base URL, including /web/api/v2.1.
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// Pagination is the paging block of a list response.
type Pagination struct {
	// NextCursor resumes the listing; empty on the last page (the API's
	// null and the literal string "null" both read as empty).
	NextCursor string `json:"nextCursor"`
	// TotalItems counts all matches (0 when the request asked skipCount).
	TotalItems int `json:"totalItems"`
}

// Page is one page of a list endpoint.
type Page[T any] struct {
	Items []T
	// NextCursor is the cursor of the next page, empty on the last one. Store
	// it to resume a listing later with the same filters.
	NextCursor string
	// TotalItems is the number of matches the console reports.
	TotalItems int
	// SkippedItems lists the items of this page that did not decode and are
	// not in Items; each was also logged and passed to the skip handler.
	SkippedItems []SkippedItem
}

type envelope struct {
	// Data holds the caller's pointer, so the data member is decoded once,
	// straight into its final type.
	Data       any `json:"data"`
	Pagination *struct {
		NextCursor *string `json:"nextCursor"`
		TotalItems int     `json:"totalItems"`
	} `json:"pagination"`
	Errors json.RawMessage `json:"errors"`
}

// do sends req and decodes the envelope's data into out (if non-nil). A
// 200 answer that carries errors is reported as an *Error.
func (c *Client) do(ctx context.Context, req *rest.Request, out any) (Pagination, *rest.Response, error) {
	var env envelope
	if out != nil {
		env.Data = out
	} else {
		env.Data = &json.RawMessage{}
	}
	resp, err := c.rest.Do(ctx, req, &env)
	if err != nil {
		return Pagination{}, resp, err
	}
	if errs := parseErrors(env.Errors); len(errs) > 0 {
		e := &rest.Error{Vendor: c.rest.Vendor(), Op: req.Op, Method: methodOf(req), Path: c.pathOf(req), StatusCode: resp.StatusCode}
		fillFromErrors(e, errs)
		e.Message = c.rest.Redact(e.Message)
		for i := range e.Details {
			e.Details[i].Message = c.rest.Redact(e.Details[i].Message)
		}
		return Pagination{}, resp, e
	}
	var p Pagination
	if env.Pagination != nil {
		p.TotalItems = env.Pagination.TotalItems
		if nc := env.Pagination.NextCursor; nc != nil && *nc != "null" {
			p.NextCursor = *nc
		}
	}
	return p, resp, nil
}

// pathOf is the request's full path with its arguments, for errors built
// outside the engine.
func (c *Client) pathOf(req *rest.Request) string {
	p := req.Path
	for _, a := range req.PathArgs {
		p = strings.Replace(p, "{}", url.PathEscape(a), 1)
	}
	base, err := url.Parse(c.rest.BaseURL())
	if err != nil {
		return p
	}
	return base.Path + p
}

// answerError reports a 2xx answer that does not do what the call needs
// (nothing affected, a missing field). cause, when not nil, is wrapped.
func (c *Client) answerError(req *rest.Request, status int, msg string, cause error, matches ...error) *Error {
	return &Error{Vendor: c.rest.Vendor(), Op: req.Op, Method: methodOf(req), Path: c.pathOf(req), StatusCode: status,
		Message: c.rest.Redact(msg), Err: cause, Matches: matches}
}

func methodOf(req *rest.Request) string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

// list fetches one page of a list endpoint.
// The items are decoded one by one: one that does not decode is skipped
// and reported, never failing the page.
func list[T any](ctx context.Context, c *Client, req *rest.Request) (*Page[T], error) {
	var raw json.RawMessage
	p, _, err := c.do(ctx, req, &raw)
	if err != nil {
		return nil, err
	}
	items, skipped, err := decodeItems[T](ctx, c, req.Op, raw)
	if err != nil {
		return nil, c.answerError(req, http.StatusOK, "data is not a list", err, ErrMalformedResponse)
	}
	return &Page[T]{Items: items, NextCursor: p.NextCursor, TotalItems: p.TotalItems, SkippedItems: skipped}, nil
}

// affectedResult is the {"data":{"affected":N}} answer of action endpoints.
type affectedResult struct {
	Affected int `json:"affected"`
}

// action posts an action body and returns data.affected.
func (c *Client) action(ctx context.Context, op, path string, pathArgs []string, body any) (int, error) {
	var out affectedResult
	_, _, err := c.do(ctx, &rest.Request{Op: op, Method: http.MethodPost, Path: path, PathArgs: pathArgs, Body: rest.JSONBody(body)}, &out)
	if err != nil {
		return 0, err
	}
	return out.Affected, nil
}

func decodeError(e *rest.Error, body []byte) {
	var env struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil {
		return
	}
	if errs := parseErrors(env.Errors); len(errs) > 0 {
		fillFromErrors(e, errs)
	}
}

// fillFromErrors puts the vendor's errors on e: the first as Code and
// Message, all of them as Details, and the vendor sentinels as Matches.
func fillFromErrors(e *rest.Error, errs []apiError) {
	first := errs[0]
	e.Code = string(first.Code)
	e.Message = joinTitle(first.Title, first.Detail)
	if e.Code == "" && e.Message == "" {
		e.Message = "error without code or title"
	}
	if len(errs) > 1 {
		for _, ae := range errs {
			e.Details = append(e.Details, rest.ErrorDetail{Code: string(ae.Code), Message: joinTitle(ae.Title, ae.Detail)})
		}
	}
	for _, ae := range errs {
		code, _ := strconv.Atoi(string(ae.Code))
		switch code {
		case CodeValidation:
			e.Matches = appendOnce(e.Matches, ErrValidation)
		case CodeAlreadyExists:
			e.Matches = appendOnce(e.Matches, ErrAlreadyExists)
		case CodeAuthenticationFailed:
			e.Matches = appendOnce(e.Matches, rest.ErrUnauthorized)
		case CodeInsufficientPermissions:
			e.Matches = appendOnce(e.Matches, rest.ErrForbidden)
		}
	}
}

func appendOnce(list []error, err error) []error {
	for _, e := range list {
		if e == err {
			return list
		}
	}
	return append(list, err)
}

func joinTitle(title, detail string) string {
	switch {
	case detail == "":
		return title
	case title == "":
		return detail
	}
	return title + ": " + detail
}

// VendorCode returns the SentinelOne error code (for example 4000030) of
// err, or 0 when err carries none.
func VendorCode(err error) int {
	var e *Error
	if !errors.As(err, &e) {
		return 0
	}
	n, _ := strconv.Atoi(e.Code)
	return n
}
