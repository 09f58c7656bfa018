package carbonblacktest

import (
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// Overrides returns the reputation overrides (bans and allows), oldest
// first.
func (s *Server) Overrides() []carbonblack.ReputationOverride {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.overridesWireLocked(s.st.allOverridesLocked(), s.opts.apiID)
}

// overridesWireLocked builds the wire form of overrides.
func (st *state) overridesWireLocked(os []*storedOverride, apiID string) []carbonblack.ReputationOverride {
	out := make([]carbonblack.ReputationOverride, len(os))
	for i, o := range os {
		out[i] = st.overrideWire(o, apiID)
	}
	return out
}

// Banned reports whether a SHA-256 is on the ban list.
func (s *Server) Banned(sha256 string) bool {
	var sha [32]byte
	if len(sha256) != 64 {
		return false
	}
	if _, err := hex.Decode(sha[:], []byte(sha256)); err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for o := s.st.overridesBySHA[sha]; o != nil; o = o.next {
		if overrideLists[o.list] == carbonblack.OverrideBlackList {
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
	in.CreatedBy = s.opts.apiID
	s.mu.Lock()
	defer s.mu.Unlock()
	var same []*storedOverride
	if in.OverrideType == carbonblack.OverrideSHA256 {
		var sha [32]byte
		_, _ = hex.Decode(sha[:], []byte(in.SHA256Hash))
		for o := s.st.overridesBySHA[sha]; o != nil; o = o.next {
			same = append(same, o)
		}
	} else {
		same = s.st.allOverridesLocked()
	}
	for _, so := range same {
		if o := s.st.overrideWire(so, s.opts.apiID); o.OverrideList == in.OverrideList && o.OverrideType == in.OverrideType &&
			o.SHA256Hash == in.SHA256Hash && o.SignedBy == in.SignedBy && o.Path == in.Path {
			writeError(w, http.StatusConflict, "CONFLICT", "An override for this value already exists: "+o.ID)
			return
		}
	}
	in.CreateTime.Time = s.now()
	so := s.st.storeOverride(&in)
	in.ID = s.st.overrideID(so.seq)
	s.st.addOverrideLocked(so)
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
	matched, ok := filterOrFail(&body.searchBody, w, all, "", s.now())
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
	seen := map[[32]byte]bool{}
	var out []*storedOverride
	for _, h := range hashes {
		var sha [32]byte
		if _, err := hex.Decode(sha[:], []byte(h)); err != nil || seen[sha] {
			continue
		}
		seen[sha] = true
		for o := s.st.overridesBySHA[sha]; o != nil; o = o.next {
			out = append(out, o)
		}
	}
	// Oldest first, as the full list (ids are random and creation times may tie).
	sortBySeq(out)
	return s.st.overridesWireLocked(out, s.opts.apiID)
}

func (s *Server) getOverride(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	so, ok := s.st.overrideByID(r.PathValue("id"))
	var o carbonblack.ReputationOverride
	if ok {
		o = s.st.overrideWire(so, s.opts.apiID)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, "Override %s not found", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.st.overrideByID(id)
	if !ok {
		notFound(w, "Override %s not found", id)
		return
	}
	s.st.removeOverrideLocked(so)
	w.WriteHeader(http.StatusNoContent)
}
