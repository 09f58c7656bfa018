package sentinelonetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/sentinelone"
)

type rawJSON = json.RawMessage

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// apiError is one entry of the console's errors array.
type apiError struct {
	Code   int     `json:"code"`
	Detail *string `json:"detail"`
	Title  string  `json:"title"`
}

func strPtr(s string) *string { return &s }

// fail answers with the console's error envelope.
func fail(w http.ResponseWriter, status int, errs ...apiError) {
	fakehttp.WriteJSON(w, status, map[string]any{"errors": errs})
}

func validation(w http.ResponseWriter, details ...string) {
	errs := make([]apiError, len(details))
	for i, d := range details {
		errs[i] = apiError{Code: sentinelone.CodeValidation, Title: "Validation Error", Detail: strPtr(d)}
	}
	fail(w, http.StatusBadRequest, errs...)
}

func notFound(w http.ResponseWriter, what string) {
	fail(w, http.StatusNotFound, apiError{Code: 4040010, Title: "Resource not found", Detail: strPtr(what + " not found")})
}

// wire turns a client type into the console's JSON: marshalled, then empty
// strings replaced by null (the console's way of saying "unknown").
func wire(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return nil
	}
	return nullEmpty(out)
}

func nullEmpty(v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
	case map[string]any:
		for k, e := range x {
			x[k] = nullEmpty(e)
		}
	case []any:
		for i, e := range x {
			x[i] = nullEmpty(e)
		}
	}
	return v
}

// writeData answers {"data": data}.
func writeData(w http.ResponseWriter, data any) {
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}

// pageParams are the paging parameters of a list request.
type pageParams struct {
	limit     int
	offset    int
	countOnly bool
	skipCount bool
	sortBy    string
	desc      bool
}

// maxLimit is the console's largest page.
const maxLimit = 1000

// parsePage reads limit, skip, cursor, countOnly and sort parameters,
// answering 400 4000010 for values the console refuses.
func parsePage(w http.ResponseWriter, q url.Values) (pageParams, bool) {
	p := pageParams{limit: 10, sortBy: q.Get("sortBy"), desc: q.Get("sortOrder") == "desc"}
	var errs []string
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			errs = append(errs, "limit: Must be between 1 and 1000.")
		}
		p.limit = n
	}
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxLimit {
			errs = append(errs, "skip: Must be between 0 and 1000.")
		}
		p.offset = n
	}
	if v := q.Get("cursor"); v != "" {
		n, ok := decodeCursor(v)
		if !ok {
			errs = append(errs, "cursor: Invalid cursor.")
		}
		p.offset = n
	}
	if so := q.Get("sortOrder"); so != "" && so != "asc" && so != "desc" {
		errs = append(errs, "sortOrder: Must be one of: asc, desc.")
	}
	p.countOnly = q.Get("countOnly") == "true"
	p.skipCount = q.Get("skipCount") == "true"
	if len(errs) > 0 {
		validation(w, errs...)
		return p, false
	}
	return p, true
}

// Cursors are opaque to clients; the fake encodes an offset.
func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	if u, err := url.QueryUnescape(c); err == nil {
		c = u
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil || !bytes.HasPrefix(b, []byte("offset:")) {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[len("offset:"):]))
	return n, err == nil && n >= 0
}

// writePage answers one page of items (already filtered and sorted) with the
// list envelope; nextCursor is null on the last page.
func writePage[T any](w http.ResponseWriter, items []T, p pageParams) {
	total := len(items)
	pag := map[string]any{"totalItems": total, "nextCursor": nil}
	if p.skipCount {
		pag["totalItems"] = 0
	}
	if p.countOnly {
		fakehttp.WriteJSON(w, http.StatusOK, map[string]any{"data": []any{}, "pagination": pag})
		return
	}
	start := min(p.offset, total)
	end := min(start+p.limit, total)
	out := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, wire(it))
	}
	if end < total {
		pag["nextCursor"] = encodeCursor(end)
	}
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{"data": out, "pagination": pag})
}

// csv reads a comma-separated list parameter (also accepting repeats).
func csv(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// csvAny reads a list parameter under its wire name or a snake_case alias.
func csvAny(q url.Values, names ...string) []string {
	for _, n := range names {
		if v := csv(q, n); len(v) > 0 {
			return v
		}
	}
	return nil
}

// in reports whether list is empty or holds v (case-insensitive).
func in(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// notIn reports whether v is absent from list.
func notIn(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return false
		}
	}
	return true
}

// timeBounds reads field__gt/gte/lt/lte (and snake_case aliases) and
// reports whether t passes them. Bad timestamps are collected in errs.
type timeBounds struct{ gt, gte, lt, lte time.Time }

func parseBounds(q url.Values, field, alias string, errs *[]string) timeBounds {
	var b timeBounds
	read := func(op string, dst *time.Time) {
		v := q.Get(field + "__" + op)
		if v == "" && alias != "" {
			v = q.Get(alias + "__" + op)
		}
		if v == "" {
			return
		}
		t, err := sentinelone.ParseTime(v)
		if err != nil {
			*errs = append(*errs, field+"__"+op+": Not a valid datetime.")
			return
		}
		*dst = t
	}
	read("gt", &b.gt)
	read("gte", &b.gte)
	read("lt", &b.lt)
	read("lte", &b.lte)
	return b
}

func (b timeBounds) ok(t time.Time) bool {
	switch {
	case !b.gt.IsZero() && !t.After(b.gt):
	case !b.gte.IsZero() && t.Before(b.gte):
	case !b.lt.IsZero() && !t.Before(b.lt):
	case !b.lte.IsZero() && t.After(b.lte):
	default:
		return true
	}
	return false
}

// flexList decodes a JSON array of strings, a comma-separated string or a
// scalar, as clients send all three in filters.
type flexList []string

// UnmarshalJSON accepts array, string, number or bool.
func (f *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = nil
	case b[0] == '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(flexList, 0, len(raw))
		for _, r := range raw {
			var one flexList
			if err := one.UnmarshalJSON(r); err != nil {
				return err
			}
			out = append(out, one...)
		}
		*f = out
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = nil
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				*f = append(*f, p)
			}
		}
	default:
		*f = flexList{string(b)}
	}
	return nil
}

// readBody decodes a JSON request body into v, answering 400 when it is not
// valid.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		validation(w, fmt.Sprintf("Invalid JSON body: %v", err))
		return false
	}
	return true
}

// auth checks the API token in the Authorization header (scheme ApiToken or
// APIToken, any case) or the APIToken query parameter.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("APIToken")
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, value, ok := strings.Cut(h, " ")
			if ok && strings.EqualFold(scheme, "ApiToken") {
				token = strings.TrimSpace(value)
			} else {
				token = ""
			}
		}
		if token == "" || token != s.cfg.token {
			fail(w, http.StatusUnauthorized, apiError{Code: sentinelone.CodeAuthenticationFailed, Title: "Authentication Failed"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) { fakehttp.WriteJSON(w, http.StatusOK, v) }

func itoa(n int) string { return strconv.Itoa(n) }
