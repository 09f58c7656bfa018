package sentinelonetest

import (
	"net/http"
	"slices"

	"github.com/soarkit/soarkit/sentinelone"
)

// noteCreator is the user the fake writes notes as.
const (
	noteCreator   = "sentinelonetest"
	noteCreatorID = "1790000000000000001"
)

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := parsePage(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	var out []sentinelone.Note
	if t := s.st.threat(r.PathValue("id")); t != nil {
		out = slices.Clone(t.notes)
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b sentinelone.Note) int { return cmpTimes(a.CreatedAt, b.CreatedAt, p.desc) })
	writePage(w, out, p)
}

func (s *Server) addNotes(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Text string `json:"text"`
	}
	threats, ok := s.threatAction(w, r, &data)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if data.Text == "" {
		validation(w, "data.text: Missing data for required field.")
		return
	}
	now := s.nowTime()
	for _, t := range threats {
		t.notes = append(t.notes, sentinelone.Note{ID: s.st.nextID(), Text: data.Text, Creator: noteCreator, CreatorID: noteCreatorID,
			CreatedAt: now, UpdatedAt: now})
		t.actions = append(t.actions, "notes")
	}
	writeAffected(w, len(threats), nil)
}

// noteLocked finds a note of a threat.
func (s *Server) noteLocked(w http.ResponseWriter, r *http.Request) (*threatRec, int) {
	t := s.st.threat(r.PathValue("id"))
	if t == nil {
		notFound(w, "Threat")
		return nil, -1
	}
	i := slices.IndexFunc(t.notes, func(n sentinelone.Note) bool { return n.ID == r.PathValue("note") })
	if i < 0 {
		notFound(w, "Note")
	}
	return t, i
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			Text string `json:"text"`
		} `json:"data"`
	}
	if !readBody(w, r, &req) {
		return
	}
	if req.Data.Text == "" {
		validation(w, "data.text: Missing data for required field.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, i := s.noteLocked(w, r)
	if i < 0 {
		return
	}
	n := &t.notes[i]
	n.Text, n.Edited, n.UpdatedAt = req.Data.Text, true, s.nowTime()
	writeData(w, wire(*n))
}

func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, i := s.noteLocked(w, r)
	if i < 0 {
		return
	}
	t.notes = slices.Delete(t.notes, i, i+1)
	writeData(w, map[string]bool{"success": true})
}
