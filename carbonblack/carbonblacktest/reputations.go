package carbonblacktest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// Overrides returns the reputation overrides (bans and allows), oldest
// first.
func (s *Server) Overrides() []carbonblack.ReputationOverride {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]carbonblack.ReputationOverride, len(s.st.overrides))
	for i, o := range s.st.overrides {
		out[i] = *o
	}
	return out
}

// Banned reports whether a SHA-256 is on the ban list.
func (s *Server) Banned(sha256 string) bool {
	for _, o := range s.Overrides() {
		if o.OverrideList == carbonblack.OverrideBlackList && strings.EqualFold(o.SHA256Hash, sha256) {
			return true
		}
	}
	return false
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request) {
	var in carbonblack.ReputationOverride
	if !decodeBody(w, r, &in) {
		return
	}
	switch {
	case in.OverrideList != carbonblack.OverrideBlackList && in.OverrideList != carbonblack.OverrideWhiteList:
		badRequest(w, "override_list must be BLACK_LIST or WHITE_LIST")
		return
	case in.OverrideType == carbonblack.OverrideSHA256:
		if carbonblack.PickSHA256([]string{in.SHA256Hash}) == "" {
			badRequest(w, "sha256_hash must be 64 hex characters")
			return
		}
		in.SHA256Hash = strings.ToLower(in.SHA256Hash)
	case in.OverrideList == carbonblack.OverrideBlackList:
		badRequest(w, "BLACK_LIST is only valid for SHA256 overrides")
		return
	case in.OverrideType == carbonblack.OverrideCert && in.SignedBy == "",
		in.OverrideType == carbonblack.OverrideITTool && in.Path == "":
		badRequest(w, "%s overrides need signed_by (CERT) or path (IT_TOOL)", in.OverrideType)
		return
	case in.OverrideType != carbonblack.OverrideCert && in.OverrideType != carbonblack.OverrideITTool:
		badRequest(w, "unknown override_type %q", in.OverrideType)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.st.overrides {
		if o.OverrideList == in.OverrideList && o.OverrideType == in.OverrideType && o.SHA256Hash == in.SHA256Hash && o.SignedBy == in.SignedBy && o.Path == in.Path {
			writeError(w, http.StatusConflict, "CONFLICT", "An override for this value already exists: "+o.ID)
			return
		}
	}
	in.ID = randomHex(16)
	in.CreatedBy = s.opts.apiID
	in.CreateTime.Time = s.now()
	s.st.overrides = append(s.st.overrides, &in)
	writeJSON(w, http.StatusOK, in)
}

func (s *Server) searchOverrides(w http.ResponseWriter, r *http.Request) {
	var body struct {
		searchBody
		SortField string `json:"sort_field"`
		SortOrder string `json:"sort_order"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	start, rows, ok := pageParams(w, &body.searchBody, 100, 0)
	if !ok {
		return
	}
	var all []record
	for _, o := range s.Overrides() {
		all = append(all, toRecord(o))
	}
	matched, ok := body.filterOrFail(w, all, "", s.now())
	if !ok {
		return
	}
	if body.SortField != "" {
		sortRecords(matched, []carbonblack.SortField{{Field: body.SortField, Order: body.SortOrder}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": pageOf(matched, start, rows), "num_found": len(matched)})
}

func (s *Server) getOverride(w http.ResponseWriter, r *http.Request) {
	for _, o := range s.Overrides() {
		if o.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, o)
			return
		}
	}
	notFound(w, "Override %s not found", r.PathValue("id"))
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.overrides)
	s.st.overrides = slices.DeleteFunc(s.st.overrides, func(o *carbonblack.ReputationOverride) bool { return o.ID == id })
	if len(s.st.overrides) == n {
		notFound(w, "Override %s not found", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
