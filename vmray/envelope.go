package vmray

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-querystring/query"
	"github.com/soarkit/soarkit/internal/rest"
)

// envelope is VMRay's response wrapper.
type envelope[T any] struct {
	Result         string          `json:"result"`
	Data           T               `json:"data"`
	ContinuationID json.RawMessage `json:"continuation_id"`
	Truncated      *bool           `json:"truncated"`
	ErrorMsg       string          `json:"error_msg"`
}

// continuation returns the continuation id as a string ("" when absent or
// null); VMRay sends an integer, a string is tolerated.
func (e *envelope[T]) continuation() (string, error) {
	raw := bytes.TrimSpace(e.ContinuationID)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: continuation_id %s", ErrMalformedResponse, raw)
	}
	if s == "null" {
		return "", nil
	}
	return s, nil
}

// call sends req, decodes the envelope and turns "result": "error" inside a
// 200 into an *Error. The result is checked before "data" is decoded, so an
// error envelope whose data has an unexpected shape still reports VMRay's
// message.
func call[T any](ctx context.Context, c *Client, req *rest.Request) (*envelope[T], error) {
	var raw envelope[json.RawMessage]
	resp, err := c.rest.Do(ctx, req, &raw)
	if err != nil {
		return nil, err
	}
	if raw.Result != "" && !strings.EqualFold(raw.Result, "ok") {
		msg := raw.ErrorMsg
		if msg == "" {
			msg = fmt.Sprintf("result %q", raw.Result)
		}
		return nil, c.in200Error(req, c.pathOf(req), msg, nil, ErrResultError)
	}
	env := &envelope[T]{Result: raw.Result, ContinuationID: raw.ContinuationID, Truncated: raw.Truncated, ErrorMsg: raw.ErrorMsg}
	if len(raw.Data) > 0 {
		if err := json.Unmarshal(raw.Data, &env.Data); err != nil {
			e := c.in200Error(req, c.pathOf(req), "decoding response", fmt.Errorf("%w: %v", ErrMalformedResponse, err))
			e.StatusCode = resp.StatusCode
			e.Body = c.excerpt(resp.Body)
			return nil, e
		}
	}
	return env, nil
}

// excerpt is at most 1 KiB of a body, secrets redacted.
func (c *Client) excerpt(body []byte) string {
	s := c.rest.Redact(strings.ToValidUTF8(string(body[:min(len(body), 4096)]), "\uFFFD"))
	if len(s) > 1024 {
		s = strings.ToValidUTF8(s[:1024], "")
	}
	return s
}

// get returns the "data" member of a successful call.
func get[T any](ctx context.Context, c *Client, req *rest.Request) (T, error) {
	env, err := call[T](ctx, c, req)
	if err != nil {
		var zero T
		return zero, err
	}
	return env.Data, nil
}

// getObject returns the "data" object of a call, which must be present.
func getObject[T any](ctx context.Context, c *Client, req *rest.Request) (*T, error) {
	v, err := get[*T](ctx, c, req)
	if err == nil && v == nil {
		return nil, c.in200Error(req, c.pathOf(req), "response has no data", ErrMalformedResponse)
	}
	return v, err
}

// pathOf is the request path (base path included) for errors built by this
// package.
func (c *Client) pathOf(req *rest.Request) string {
	p := req.Path
	for _, a := range req.PathArgs {
		p = strings.Replace(p, "{}", url.PathEscape(a), 1)
	}
	return c.pathPrefix() + p
}

// pathPrefix is the base URL's path, for example "/rest".
func (c *Client) pathPrefix() string {
	base, err := url.Parse(c.rest.BaseURL())
	if err != nil {
		return ""
	}
	return strings.TrimRight(base.Path, "/")
}

// Page is one chunk of a VMRay list. VMRay returns at most its "items per
// request" setting at once; when more remain, ContinuationID names the next
// chunk, which [Continue] fetches. A continuation id is single-use: after it
// was fetched (or the fetch failed) it cannot be fetched again, so resume a
// failed listing by repeating the original query.
type Page[T any] struct {
	Items []T
	// ContinuationID is the id of the next chunk, "" on the last one.
	ContinuationID string
	// Truncated reports that the result exceeded the server's "maximum items
	// per request" and was cut: narrow the query (for example with MinID or
	// LastID) to see the rest.
	Truncated bool
	// SkippedItems lists the items of this chunk that did not decode and
	// are not in Items; each was also logged and passed to the skip
	// handler (see "Malformed items" in the package documentation).
	SkippedItems []SkippedItem
}

// ListOptions are VMRay's generic list parameters. Zero values are omitted.
type ListOptions struct {
	// Limit caps the number of items ("_limit").
	Limit int `url:"_limit,omitempty"`
	// MinID and MaxID bound the ids, inclusive ("_min_id", "_max_id").
	MinID int64 `url:"_min_id,omitempty"`
	MaxID int64 `url:"_max_id,omitempty"`
	// LastID selects feed mode: items with an id greater than LastID
	// ("_last_id"; for submissions, finished ones in order of completion).
	LastID int64 `url:"_last_id,omitempty"`
	// Order is "asc" or "desc" ("_order").
	Order string `url:"_order,omitempty"`
}

// values encodes o (through its url tags) plus extra filters.
func (o *ListOptions) values(extra url.Values) url.Values {
	v := url.Values{}
	if o != nil {
		// Encoding a struct of ints and strings cannot fail.
		v, _ = query.Values(o)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// listPage fetches the first chunk of a list.
// Items are decoded one by one: one that does not decode is skipped and
// reported, never failing the chunk.
func listPage[T any](ctx context.Context, c *Client, req *rest.Request) (*Page[T], error) {
	env, err := call[json.RawMessage](ctx, c, req)
	if err != nil {
		return nil, err
	}
	next, err := env.continuation()
	if err != nil {
		return nil, c.in200Error(req, c.pathOf(req), "decoding continuation id", err)
	}
	items, skipped, err := rest.DecodeItems[T](env.Data, "analysis_id", "job_id", "submission_id", "sample_id", "id")
	if err != nil {
		return nil, c.in200Error(req, c.pathOf(req), "decoding response", err)
	}
	return &Page[T]{Items: items, ContinuationID: next, Truncated: env.Truncated != nil && *env.Truncated,
		SkippedItems: c.rest.ReportSkipped(ctx, req.Op, skipped, c.onSkip)}, nil
}

// Continue fetches the chunk a previous [Page] pointed to. It is never
// retried, because VMRay discards a continuation id once it was served.
//
// API: GET /rest/continuation/{continuation_id}
func Continue[T any](ctx context.Context, c *Client, continuationID string) (*Page[T], error) {
	return listPage[T](ctx, c, &rest.Request{
		Op:       "Continuation.Get",
		Path:     "/continuation/{}",
		PathArgs: []string{continuationID},
		NoRetry:  true,
	})
}

// listAll iterates over every item of a list, following continuation ids.
func listAll[T any](ctx context.Context, c *Client, req *rest.Request) iter.Seq2[T, error] {
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]T, string, error) {
		var p *Page[T]
		var err error
		if cursor == "" {
			p, err = listPage[T](ctx, c, req)
		} else {
			p, err = Continue[T](ctx, c, cursor)
		}
		if err != nil {
			return nil, "", err
		}
		return p.Items, p.ContinuationID, nil
	})
}

// Collect drains an iterator from this package into a slice, stopping at the
// first error (the items read before it are returned with it).
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) { return rest.Collect(seq) }

// idArg formats an id path argument, refusing ids VMRay never issues.
func idArg(what string, id int64) ([]string, error) {
	if id <= 0 {
		return nil, fmt.Errorf("%w: %s id %d", ErrInvalidRequest, what, id)
	}
	return []string{strconv.FormatInt(id, 10)}, nil
}
