package rest

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

const redacted = "[REDACTED]"

// secretPatterns catch credentials a vendor might echo back in a body even
// when the exact value is not known to the client.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)("(?:password|passwd|api_?key|apitoken|api_token|token|secret|client_secret|authorization|x-auth-token)"\s*:\s*)"[^"]*"`),
	regexp.MustCompile(`(?i)\b((?:api_key|apitoken|bearer|basic)\s+)[A-Za-z0-9._~+/=:-]{6,}`),
	regexp.MustCompile(`(?i)([?&](?:apitoken|api_key|token|password|secret)=)[^&\s"]+`),
}

// redactor replaces known secrets and secret-looking values in text. It is
// safe for concurrent use.
type redactor struct {
	mu      sync.RWMutex
	secrets []string
}

const maxSecrets = 64

func (r *redactor) add(s string) {
	s = strings.TrimSpace(s)
	if len(s) < 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, old := range r.secrets {
		if old == s {
			return
		}
	}
	if len(r.secrets) >= maxSecrets {
		r.secrets = r.secrets[1:]
	}
	r.secrets = append(r.secrets, s)
	// Also redact the token part of "Scheme token" header values.
	if i := strings.IndexByte(s, ' '); i > 0 && len(s)-i > 4 {
		r.secrets = append(r.secrets, s[i+1:])
	}
}

func (r *redactor) redact(s string) string {
	r.mu.RLock()
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	r.mu.RUnlock()
	for _, p := range secretPatterns {
		s = p.ReplaceAllString(s, "${1}"+redacted)
	}
	return s
}

// excerpt returns at most maxExcerpt bytes of body, redacted before it is cut
// so that a secret straddling the cut cannot leak in part.
func (r *redactor) excerpt(body []byte) string {
	if len(body) > 8*maxExcerpt {
		body = body[:8*maxExcerpt]
	}
	s := r.redact(strings.ToValidUTF8(string(body), "\uFFFD"))
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
