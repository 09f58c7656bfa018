package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// cursor is where the next page of a listing starts. Tools hand it to the
// model as an opaque string.
type cursor struct {
	// Vendor is the vendor's own resume token (a SentinelOne cursor, a
	// Carbon Black search job id, a TAP window), empty for offset paging.
	Vendor string `json:"v,omitempty"`
	// Offset is the number of items to skip: from the start of the listing,
	// or within the vendor page Vendor names.
	Offset int `json:"o,omitempty"`
}

// errBadCursor reports a cursor this server did not hand out.
var errBadCursor = errors.New("the cursor is not one this server returned; start again without a cursor")

// encode returns the cursor as an opaque string.
func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor from a tool input; "" is the start.
func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return c, errBadCursor
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Offset < 0 {
		return cursor{}, errBadCursor
	}
	return c, nil
}

// pageSize returns the caller's page size clamped to the limits, or the
// default when it asked for none.
func (l Limits) pageSize(asked int) int {
	if asked <= 0 {
		return l.PageSize
	}
	return min(asked, l.MaxPageSize)
}

// bound keeps the leading items whose JSON fits in maxBytes (at least one,
// so a listing always advances) and reports how many it kept.
func bound[T any](items []T, maxBytes int) (kept []T, n int) {
	size := 0
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return items[:i], i
		}
		size += len(b) + 1
		if size > maxBytes && i > 0 {
			return items[:i], i
		}
	}
	return items, len(items)
}

// maxField is the longest string field a tool returns (command lines,
// descriptions); longer values are cut with a marker.
const maxField = 512

// clip cuts s to maxField bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…[%d bytes cut]", len(s)-cut)
}

// clipAll clips every string and keeps at most n of them.
func clipAll(ss []string, n int) []string {
	if len(ss) > n {
		ss = ss[:n]
	}
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, clip(s))
	}
	return out
}
