package proofpointtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// errNotURLDefense is returned for URLs that are not URL Defense rewrites.
var errNotURLDefense = errors.New("proofpointtest: not a URL Defense URL")

// DecodeURLDefense decodes a URL rewritten by Proofpoint URL Defense, the
// way url/decode does: v1 (urldefense.proofpoint.com/v1/url?u=...), v2
// (/v2/url?u=... with "-" for "%" and "_" for "/") and v3
// (urldefense.com/v3/__URL__;BASE64!!...), where each "*" in URL takes the
// next character of the decoded BASE64 and "**X" a run of them.
func DecodeURLDefense(rewritten string) (string, error) {
	switch {
	case strings.Contains(rewritten, "/v3/__"):
		return decodeV3(rewritten)
	case strings.Contains(rewritten, "/v1/url?"), strings.Contains(rewritten, "/v2/url?"):
		u, err := url.Parse(strings.ReplaceAll(rewritten, "&amp;", "&"))
		if err != nil {
			return "", err
		}
		enc := u.Query().Get("u")
		if enc == "" {
			return "", errNotURLDefense
		}
		if strings.Contains(rewritten, "/v2/url?") {
			enc = strings.NewReplacer("-", "%", "_", "/").Replace(enc)
			return url.PathUnescape(enc)
		}
		return enc, nil
	}
	return "", errNotURLDefense
}

// runLengths maps the character after "**" to the length of the run.
const runLengths = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func decodeV3(rewritten string) (string, error) {
	_, rest, _ := strings.Cut(rewritten, "/v3/__")
	body, tail, ok := strings.Cut(rest, "__;")
	if !ok {
		// No replaced characters: "__URL__!!...".
		body, _, ok = strings.Cut(rest, "__!!")
		if !ok {
			return "", errNotURLDefense
		}
		return body, nil
	}
	enc, _, _ := strings.Cut(tail, "!!")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil || !utf8.Valid(raw) {
		return "", errNotURLDefense
	}
	chars := []rune(string(raw))
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] != '*' {
			b.WriteByte(body[i])
			continue
		}
		n := 1
		if i+2 < len(body) && body[i+1] == '*' {
			k := strings.IndexByte(runLengths, body[i+2])
			if k < 0 {
				return "", errNotURLDefense
			}
			n = k + 2
			i += 2
		}
		if n > len(chars) {
			return "", errNotURLDefense
		}
		b.WriteString(string(chars[:n]))
		chars = chars[n:]
	}
	return b.String(), nil
}

// decodeJSON reads at most 1 MiB of JSON from r's body.
func decodeJSON(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v)
}
