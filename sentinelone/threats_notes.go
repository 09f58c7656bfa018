package sentinelone

import (
	"context"
	"iter"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// Note is a threat note.
type Note struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Creator   string `json:"creator"`
	CreatorID string `json:"creatorId"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt Time `json:"updatedAt"`
	Edited    bool `json:"edited"`
}

// NoteListOptions are the parameters of GET /threats/{id}/notes.
type NoteListOptions struct {
	CreatorLike string `url:"creator__like,omitempty"`
	CreatorID   string `url:"creatorId,omitempty"`
	ListOptions
}

// ListNotes returns one page of a threat's notes.
//
// API: GET /threats/{threat_id}/notes
func (s *ThreatsService) ListNotes(ctx context.Context, threatID string, opts NoteListOptions) (*Page[Note], error) {
	return list[Note](ctx, s.c, &rest.Request{Op: "Threats.ListNotes", Path: "/threats/{}/notes", PathArgs: []string{threatID}, Query: opts})
}

// AllNotes iterates over all notes of a threat.
//
// API: GET /threats/{threat_id}/notes
func (s *ThreatsService) AllNotes(ctx context.Context, threatID string, opts NoteListOptions) iter.Seq2[Note, error] {
	return all(ctx, opts, func(ctx context.Context, o NoteListOptions) (*Page[Note], error) {
		return s.ListNotes(ctx, threatID, o)
	})
}

// AddNote writes the same note on every selected threat and returns how
// many threats got it. Text may hold any Unicode.
//
// API: POST /threats/notes
func (s *ThreatsService) AddNote(ctx context.Context, filter ThreatFilter, text string) (int, error) {
	if text == "" {
		return 0, invalidf("Threats.AddNote", "empty text")
	}
	res, err := s.threatAction(ctx, "Threats.AddNote", "/threats/notes", nil, filter, map[string]string{"text": text})
	if err != nil {
		return 0, err
	}
	return res.Affected, nil
}

// UpdateNote replaces the text of a note.
//
// API: PUT /threats/{threat_id}/notes/{note_id}
func (s *ThreatsService) UpdateNote(ctx context.Context, threatID, noteID, text string) (*Note, error) {
	if text == "" {
		return nil, invalidf("Threats.UpdateNote", "empty text")
	}
	var out Note
	_, _, err := s.c.do(ctx, &rest.Request{Op: "Threats.UpdateNote", Method: http.MethodPut, Path: "/threats/{}/notes/{}",
		PathArgs: []string{threatID, noteID}, Body: rest.JSONBody(map[string]any{"data": map[string]string{"text": text}})}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteNote deletes a note.
//
// API: DELETE /threats/{threat_id}/notes/{note_id}
func (s *ThreatsService) DeleteNote(ctx context.Context, threatID, noteID string) error {
	_, _, err := s.c.do(ctx, &rest.Request{Op: "Threats.DeleteNote", Method: http.MethodDelete, Path: "/threats/{}/notes/{}",
		PathArgs: []string{threatID, noteID}}, nil)
	return err
}
