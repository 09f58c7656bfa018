package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// SkippedItem is one item of a vendor's list that did not decode and was
// left out of the result, so that the other items of its page still arrive.
type SkippedItem struct {
	// Op is the vendor operation that listed the item, for example
	// "Threats.List".
	Op string
	// Index is the item's position in the vendor's list (0-based).
	Index int
	// ID is the item's id when the item is an object carrying one, else "".
	ID string
	// Excerpt is the start of the item's JSON with the client's secrets
	// redacted.
	Excerpt string
	// Err says why the item did not decode.
	Err error
}

// Error describes the skipped item.
func (s SkippedItem) Error() string {
	id := s.ID
	if id == "" {
		id = "without id"
	}
	return fmt.Sprintf("%s: item %d (%s) skipped: %v", s.Op, s.Index, id, s.Err)
}

// Unwrap returns the decoding error.
func (s SkippedItem) Unwrap() error { return s.Err }

// excerptLen bounds the JSON kept in a SkippedItem.
const excerptLen = 256

// DecodeItems decodes raw, a JSON array or null, item by item into a []T.
// An item that does not decode is left out and returned as a SkippedItem
// (with the first of idKeys the item carries as its ID, and an excerpt that
// is not yet redacted: pass the result through [Client.ReportSkipped]).
// Only a raw value that is not an array at all is an error, wrapping
// [ErrMalformedResponse].
func DecodeItems[T any](raw []byte, idKeys ...string) ([]T, []SkippedItem, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, nil, fmt.Errorf("%w: list: %w", ErrMalformedResponse, err)
	}
	items := make([]T, 0, len(elems))
	var skipped []SkippedItem
	for i, e := range elems {
		var v T
		if err := json.Unmarshal(e, &v); err != nil {
			skipped = append(skipped, SkippedItem{Index: i, ID: itemID(e, idKeys), Excerpt: excerpt(e), Err: err})
			continue
		}
		items = append(items, v)
	}
	return items, skipped, nil
}

// itemID reads the first of keys an object item carries, as text.
func itemID(item json.RawMessage, keys []string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(item, &obj) != nil {
		return ""
	}
	for _, k := range keys {
		v, ok := obj[k]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return excerpt(v)
	}
	return ""
}

// excerpt is the compacted start of a JSON value, cut on a rune boundary.
func excerpt(v []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		b.Reset()
		b.Write(v)
	}
	s := strings.ToValidUTF8(b.String(), "")
	if len(s) <= excerptLen {
		return s
	}
	cut := excerptLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// ReportSkipped finishes the SkippedItems of one list call: it sets their
// Op, redacts the client's secrets from their excerpts, ids and errors, logs
// each at warning level, passes each to h (when not nil), and returns them
// (nil when none).
func (c *Client) ReportSkipped(ctx context.Context, op string, skipped []SkippedItem, h SkipHandler) []SkippedItem {
	if len(skipped) == 0 {
		return nil
	}
	for i := range skipped {
		s := &skipped[i]
		s.Op = op
		s.ID = c.Redact(s.ID)
		s.Excerpt = c.Redact(s.Excerpt)
		s.Err = &redactedError{msg: c.Redact(s.Err.Error()), cause: s.Err}
		c.log.LogAttrs(ctx, slog.LevelWarn, "list item skipped: does not decode",
			slog.String("vendor", c.cfg.Vendor), slog.String("op", op), slog.Int("index", s.Index),
			slog.String("id", s.ID), slog.String("excerpt", s.Excerpt), slog.String("error", s.Err.Error()))
		if h != nil {
			h(*s)
		}
	}
	return skipped
}

// redactedError carries a decoding error whose text had secrets removed;
// errors.As still reaches the cause (a *json.UnmarshalTypeError, say).
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// SkipHandler receives every item a client leaves out of a list (see
// [SkippedItem]); vendor packages let callers install one.
type SkipHandler = func(SkippedItem)
