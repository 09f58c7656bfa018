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
	same := s.st.overrides
	if in.OverrideType == carbonblack.OverrideSHA256 {
		same = s.st.overridesBySHA[in.SHA256Hash]
	}
	for _, o := range same {
		if o.OverrideList == in.OverrideList && o.OverrideType == in.OverrideType && o.SHA256Hash == in.SHA256Hash && o.SignedBy == in.SignedBy && o.Path == in.Path {
			writeError(w, http.StatusConflict, "CONFLICT", "An override for this value already exists: "+o.ID)
			return
		}
	}
	in.ID = randomHex(16)
	in.CreatedBy = s.opts.apiID
	in.CreateTime.Time = s.now()
	s.st.overrides = append(s.st.overrides, &in)
	s.st.overrideNext++
	s.st.overrideSeq[&in] = s.st.overrideNext
	if in.OverrideType == carbonblack.OverrideSHA256 {
		s.st.overridesBySHA[in.SHA256Hash] = append(s.st.overridesBySHA[in.SHA256Hash], &in)
	}
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
	for _, o := range s.overrideCandidates(body.Query) {
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

// overrideCandidates returns, oldest first, the overrides a search with this free-text query can match: when the
// query names only SHA-256 hashes ("h1 OR h2 ..."), the overrides of those hashes from the index; otherwise all.
// (The fake's index does not see a hash that only appears in another override's description or file name.)
func (s *Server) overrideCandidates(query string) []carbonblack.ReputationOverride {
	var hashes []string
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(query)) {
		switch {
		case tok == "OR":
		case len(tok) == 64 && carbonblack.PickSHA256([]string{tok}) != "":
			hashes = append(hashes, strings.ToLower(tok))
		default:
			return s.Overrides()
		}
	}
	if len(hashes) == 0 {
		return s.Overrides()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[*carbonblack.ReputationOverride]bool{}
	var out []*carbonblack.ReputationOverride
	for _, h := range hashes {
		for _, o := range s.st.overridesBySHA[h] {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	// Oldest first, as the full list (ids are random and creation times may tie).
	slices.SortFunc(out, func(a, b *carbonblack.ReputationOverride) int { return s.st.overrideSeq[a] - s.st.overrideSeq[b] })
	res := make([]carbonblack.ReputationOverride, len(out))
	for i, o := range out {
		res[i] = *o
	}
	return res
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
	s.st.overrides = slices.DeleteFunc(s.st.overrides, func(o *carbonblack.ReputationOverride) bool {
		if o.ID == id {
			delete(s.st.overrideSeq, o)
			return true
		}
		return false
	})
	if len(s.st.overrides) == n {
		notFound(w, "Override %s not found", id)
		return
	}
	for sha, os := range s.st.overridesBySHA {
		if kept := slices.DeleteFunc(os, func(o *carbonblack.ReputationOverride) bool { return o.ID == id }); len(kept) == 0 {
			delete(s.st.overridesBySHA, sha)
		} else {
			s.st.overridesBySHA[sha] = kept
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
