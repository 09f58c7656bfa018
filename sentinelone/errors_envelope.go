package sentinelone

import (
	"bytes"
	"encoding/json"
	"strings"
)

// apiError is one entry of the API's errors array.
type apiError struct {
	Code   String // a number or a numeric string ("4000010")
	Title  string
	Detail string
}

// parseErrors reads the "errors" member of an answer in every shape consoles
// send: a list of {code, title, detail} objects (members may be missing,
// null or of another type, the object may be empty), a list of strings, one
// object or one string. It returns nil for an absent, null or empty list, so
// only a present error ever fails a call; an error list that is not JSON at
// all still counts as one error, with its text as the title.
func parseErrors(raw json.RawMessage) []apiError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		if json.Unmarshal(raw, &items) != nil {
			return []apiError{{Title: excerpt(raw)}}
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]apiError, 0, len(items))
	for _, it := range items {
		out = append(out, parseError(it))
	}
	return out
}

// parseError reads one member of the errors list.
func parseError(raw json.RawMessage) apiError {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return apiError{Title: text(raw)}
	}
	var ae apiError
	if c, ok := obj["code"]; ok && ae.Code.UnmarshalJSON(c) != nil {
		ae.Code = ""
	}
	ae.Title = text(obj["title"])
	ae.Detail = text(obj["detail"])
	return ae
}

// text is a JSON string's value, "" for null or absent, and the compact
// JSON of anything else.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return excerpt(raw)
}

// excerpt is raw compacted and cut to a length fit for an error message.
func excerpt(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.Write(raw)
	}
	s := strings.ToValidUTF8(b.String(), "")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
