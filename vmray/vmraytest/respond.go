package vmraytest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/internal/fakehttp"
)

// handlerFunc serves one route with the state locked and the caller's key.
type handlerFunc func(w http.ResponseWriter, r *http.Request, key *keyRec)

// errorBody is VMRay's ErrorResponse.
type errorBody struct {
	ErrorMsg string `json:"error_msg"`
	Result   string `json:"result"`
}

// fail answers with VMRay's error body.
func fail(w http.ResponseWriter, status int, msg string) {
	fakehttp.WriteJSON(w, status, errorBody{ErrorMsg: msg, Result: "error"})
}

func notFound(w http.ResponseWriter) { fail(w, http.StatusNotFound, "No such element") }

// okBody is the success envelope; continuation_id is absent unless set.
type okBody struct {
	Data           any    `json:"data"`
	Result         string `json:"result"`
	ContinuationID *int64 `json:"continuation_id,omitempty"`
}

func ok(w http.ResponseWriter, data any) {
	fakehttp.WriteJSON(w, http.StatusOK, okBody{Data: data, Result: "ok"})
}

// handle wraps h with authentication, locking and state progression.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, found := strings.CutPrefix(auth, "api_key ")
		s.mu.Lock()
		defer s.mu.Unlock()
		key := s.st.keys[token]
		if !found || key == nil {
			fail(w, http.StatusUnauthorized, "Invalid authentication")
			return
		}
		s.advance()
		h(w, r, key)
	}
}

// pathID parses an id path value; ok is false (and a 404 sent) when it is
// not a positive integer.
func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		notFound(w)
		return 0, false
	}
	return id, true
}

// listFilter applies VMRay's generic list parameters to items sorted by id.
type listFilter struct {
	limit, minID, maxID, lastID int64
	desc                        bool
}

func parseListFilter(q url.Values) (listFilter, string) {
	var f listFilter
	for name, dst := range map[string]*int64{"_limit": &f.limit, "_min_id": &f.minID, "_max_id": &f.maxID, "_last_id": &f.lastID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, "Invalid value for parameter " + name
			}
			*dst = n
		}
	}
	switch q.Get("_order") {
	case "", "asc":
	case "desc":
		f.desc = true
	default:
		return f, "Invalid value for parameter _order"
	}
	return f, ""
}

// apply filters and orders items (ascending ids in).
func applyList[T any](items []T, id func(*T) int64, f listFilter) []T {
	out := make([]T, 0, len(items))
	for i := range items {
		n := id(&items[i])
		switch {
		case f.lastID > 0 && n <= f.lastID:
			continue
		case f.lastID == 0 && f.minID > 0 && n < f.minID:
			continue
		case f.lastID == 0 && f.maxID > 0 && n > f.maxID:
			continue
		}
		out = append(out, items[i])
	}
	if f.desc {
		slices.Reverse(out)
	}
	if f.limit > 0 && int64(len(out)) > f.limit {
		out = out[:f.limit]
	}
	return out
}

// list answers with items, filtered by the request's list parameters and cut
// into continuation chunks.
func list[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T, id func(*T) int64) {
	f, msg := parseListFilter(r.URL.Query())
	if msg != "" {
		fail(w, http.StatusBadRequest, msg)
		return
	}
	items = applyList(items, id, f)
	rest := make([]any, len(items))
	for i := range items {
		rest[i] = items[i]
	}
	s.writeChunk(w, rest)
}

// writeChunk sends the first page of items and parks the rest.
func (s *Server) writeChunk(w http.ResponseWriter, items []any) {
	body := okBody{Result: "ok"}
	if len(items) > s.cfg.pageSize {
		cid := s.st.id("continuation")
		s.st.continuations[cid] = items[s.cfg.pageSize:]
		items = items[:s.cfg.pageSize]
		body.ContinuationID = &cid
	}
	body.Data = items
	fakehttp.WriteJSON(w, http.StatusOK, body)
}

// continuation serves and forgets a parked chunk.
func (s *Server) continuation(w http.ResponseWriter, r *http.Request, _ *keyRec) {
	id, good := pathID(w, r, "id")
	if !good {
		return
	}
	items, found := s.st.continuations[id]
	if !found {
		notFound(w)
		return
	}
	delete(s.st.continuations, id)
	s.writeChunk(w, items)
}
