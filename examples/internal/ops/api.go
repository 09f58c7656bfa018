package ops

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// StateOps are the operator's state operations as the `state` command and the state API use them, with keys and
// states as typed by an operator. StoreOps runs them on a Store; Client runs them on a daemon's ops server.
type StateOps interface {
	// List returns the items in a state, a state group ("open", "all") or every state ("").
	List(ctx context.Context, state string) ([]connector.Item, error)
	// Show returns one item with its action log; key is "kind:hex" or any hash of the file.
	Show(ctx context.Context, key string) (connector.ItemDetail, error)
	// Retry requeues the items named, keeping what was done.
	Retry(ctx context.Context, keys ...string) ([]connector.Key, error)
	// RetryFailed requeues every dead letter.
	RetryFailed(ctx context.Context) ([]connector.Key, error)
	// Forget removes the items named, with their aliases and action logs.
	Forget(ctx context.Context, keys ...string) ([]connector.Key, error)
}

// StoreOps runs the state operations on a Store (connector.ListItems and the rest).
type StoreOps struct {
	Store connector.Store
	// Now is the clock for requeue times (default time.Now).
	Now func() time.Time
}

var (
	_ StateOps = StoreOps{}
	_ StateOps = (*Client)(nil)
)

func (o StoreOps) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// List implements StateOps.
func (o StoreOps) List(ctx context.Context, state string) ([]connector.Item, error) {
	states, err := connector.ParseState(state)
	if err != nil {
		return nil, &badInput{err}
	}
	items, err := connector.ListItems(ctx, o.Store, states...)
	if items == nil && err == nil {
		items = []connector.Item{} // JSON [] rather than null
	}
	return items, err
}

// Show implements StateOps.
func (o StoreOps) Show(ctx context.Context, key string) (connector.ItemDetail, error) {
	k, err := connector.ParseItemKey(key)
	if err != nil {
		return connector.ItemDetail{}, &badInput{err}
	}
	return connector.ShowItem(ctx, o.Store, k)
}

// Retry implements StateOps.
func (o StoreOps) Retry(ctx context.Context, keys ...string) ([]connector.Key, error) {
	ks, err := parseKeys(keys)
	if err != nil {
		return nil, err
	}
	return connector.RetryItems(ctx, o.Store, o.now(), ks...)
}

// RetryFailed implements StateOps.
func (o StoreOps) RetryFailed(ctx context.Context) ([]connector.Key, error) {
	return connector.RetryFailed(ctx, o.Store, o.now())
}

// Forget implements StateOps.
func (o StoreOps) Forget(ctx context.Context, keys ...string) ([]connector.Key, error) {
	ks, err := parseKeys(keys)
	if err != nil {
		return nil, err
	}
	return connector.ForgetItems(ctx, o.Store, ks...)
}

func parseKeys(keys []string) ([]connector.Key, error) {
	if len(keys) == 0 {
		return nil, &badInput{errors.New("no item key given")}
	}
	out := make([]connector.Key, len(keys))
	for i, s := range keys {
		k, err := connector.ParseItemKey(s)
		if err != nil {
			return nil, &badInput{err}
		}
		out[i] = k
	}
	return out, nil
}

// API serves StateOps over HTTP under /api/:
//
//	GET    /api/items?state=S         the items in state S (a state, "open", "all"; default all)
//	GET    /api/items/{key}           one item with its action log
//	POST   /api/items/{key}/retry     requeue one item
//	POST   /api/failed/retry          requeue every dead letter
//	DELETE /api/items/{key}           forget one item
//
// Answers are JSON; errors are {"error": "..."} with 400 (bad key or state), 404 (no such item), 409 (nothing to
// retry) or 500. With a Token, every request must carry "Authorization: Bearer <token>".
type API struct {
	Ops StateOps
	// Token, when set, is the bearer token every request must present.
	Token string
}

func (a *API) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/items", a.guard(func(r *http.Request) (any, error) {
		return a.Ops.List(r.Context(), r.URL.Query().Get("state"))
	}))
	mux.HandleFunc("GET /api/items/{key}", a.guard(func(r *http.Request) (any, error) {
		return a.Ops.Show(r.Context(), r.PathValue("key"))
	}))
	mux.HandleFunc("POST /api/items/{key}/retry", a.guard(func(r *http.Request) (any, error) {
		return keysAnswer(a.Ops.Retry(r.Context(), r.PathValue("key")))
	}))
	mux.HandleFunc("POST /api/failed/retry", a.guard(func(r *http.Request) (any, error) {
		return keysAnswer(a.Ops.RetryFailed(r.Context()))
	}))
	mux.HandleFunc("DELETE /api/items/{key}", a.guard(func(r *http.Request) (any, error) {
		return keysAnswer(a.Ops.Forget(r.Context(), r.PathValue("key")))
	}))
}

// keysResult is the answer of the operations that change items.
type keysResult struct {
	Keys []connector.Key `json:"keys"`
}

func keysAnswer(keys []connector.Key, err error) (any, error) {
	if keys == nil {
		keys = []connector.Key{}
	}
	return keysResult{keys}, err
}

// guard checks the bearer token, runs fn and writes its answer or error.
func (a *API) guard(fn func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="soarkit"`)
				writeJSON(w, http.StatusUnauthorized, apiError{"missing or wrong bearer token"})
				return
			}
		}
		v, err := fn(r)
		if err != nil {
			writeJSON(w, errorStatus(err), apiError{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

type apiError struct {
	Error string `json:"error"`
}

func errorStatus(err error) int {
	switch {
	case errors.Is(err, connector.ErrItemNotFound):
		return http.StatusNotFound
	case errors.Is(err, connector.ErrNothingToRetry):
		return http.StatusConflict
	case errors.Is(err, connector.ErrClosed), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	var bad *badInput
	if errors.As(err, &bad) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// badInput marks an operator's input that could not be parsed (a key, a state).
type badInput struct{ err error }

func (e *badInput) Error() string { return e.err.Error() }
func (e *badInput) Unwrap() error { return e.err }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// IsLoopback reports whether a listen address binds only the loopback interface ("127.0.0.1:9464", "[::1]:9464",
// "localhost:9464"). An empty host (":9464") binds every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client runs StateOps on a daemon's ops server.
type Client struct {
	// BaseURL is the ops server, for example "http://127.0.0.1:9464".
	BaseURL string
	// Token is the bearer token, if the server requires one.
	Token string
	// HTTP is the client to use (default: one with a 30 s timeout).
	HTTP *http.Client
}

// List implements StateOps.
func (c *Client) List(ctx context.Context, state string) ([]connector.Item, error) {
	var items []connector.Item
	q := ""
	if state != "" {
		q = "?state=" + url.QueryEscape(state)
	}
	return items, c.do(ctx, http.MethodGet, "/api/items"+q, &items)
}

// Show implements StateOps.
func (c *Client) Show(ctx context.Context, key string) (connector.ItemDetail, error) {
	var d connector.ItemDetail
	return d, c.do(ctx, http.MethodGet, "/api/items/"+url.PathEscape(key), &d)
}

// Retry implements StateOps.
func (c *Client) Retry(ctx context.Context, keys ...string) ([]connector.Key, error) {
	return c.each(ctx, http.MethodPost, keys, "/retry")
}

// RetryFailed implements StateOps.
func (c *Client) RetryFailed(ctx context.Context) ([]connector.Key, error) {
	var res keysResult
	return res.Keys, c.do(ctx, http.MethodPost, "/api/failed/retry", &res)
}

// Forget implements StateOps.
func (c *Client) Forget(ctx context.Context, keys ...string) ([]connector.Key, error) {
	return c.each(ctx, http.MethodDelete, keys, "")
}

// each applies one item operation to every key, stopping at the first error.
func (c *Client) each(ctx context.Context, method string, keys []string, suffix string) ([]connector.Key, error) {
	if len(keys) == 0 {
		return nil, errors.New("no item key given")
	}
	var done []connector.Key
	for _, k := range keys {
		var res keysResult
		if err := c.do(ctx, method, "/api/items/"+url.PathEscape(k)+suffix, &res); err != nil {
			return done, err
		}
		done = append(done, res.Keys...)
	}
	return done, nil
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, nil)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("ops server: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("ops server: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var ae apiError
		if json.Unmarshal(body, &ae) != nil || ae.Error == "" {
			ae.Error = strings.TrimSpace(string(bytes.TrimSpace(body[:min(len(body), 200)])))
		}
		err := fmt.Errorf("ops server: %s %s: %d: %s", method, path, resp.StatusCode, ae.Error)
		if resp.StatusCode == http.StatusNotFound && strings.Contains(ae.Error, "no such item") {
			err = fmt.Errorf("%w (%v)", connector.ErrItemNotFound, err)
		}
		return err
	}
	return json.Unmarshal(body, out)
}
