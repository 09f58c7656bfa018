package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
)

// Auth says who may use the console. With neither a token nor a user, the console is open to anyone who reaches it,
// so serve it so only on a loopback address: it then also refuses requests whose Host is not a loopback name (a
// web page cannot reach it by DNS rebinding).
type Auth struct {
	// Token, when set, is accepted as "Authorization: Bearer <token>" (for a proxy or a script).
	Token string
	// User and Password, when User is set, are accepted as HTTP basic auth (for a browser: it asks for them).
	User     string
	Password string
}

func (a Auth) open() bool { return a.Token == "" && a.User == "" }

// allowed reports whether r carries the credentials a requires.
func (a Auth) allowed(r *http.Request) bool {
	if a.open() {
		return loopbackHost(r.Host)
	}
	if a.Token != "" {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(got, a.Token) {
			return true
		}
	}
	if a.User != "" {
		if u, p, ok := r.BasicAuth(); ok && equal(u, a.User) && equal(p, a.Password) {
			return true
		}
	}
	return false
}

// challenge asks the client for credentials.
func (a Auth) challenge(w http.ResponseWriter) {
	if a.User != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="soarkit console", charset="UTF-8"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="soarkit console"`)
	}
}

// equal compares in constant time (for equal lengths).
func equal(got, want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }

// loopbackHost reports whether a Host header names the loopback interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// csrfCookie is the cookie every form's token is tied to.
const csrfCookie = "soarkit_console_csrf"

// errCSRF is the answer to a POST without a valid token.
var errCSRF = errors.New("the form's CSRF token is missing or does not match this browser's cookie; reload the page and try again")

// csrf issues and checks the tokens of the console's forms: a random cookie per browser (HttpOnly, SameSite=Strict)
// and, in each form, an HMAC of that cookie under a key that lives as long as the process. A POST must carry both,
// matching, and pass the standard library's cross-origin check (Sec-Fetch-Site, Origin).
type csrf struct {
	key    []byte
	path   string
	origin *http.CrossOriginProtection
}

func newCSRF(path string) *csrf {
	return &csrf{key: []byte(rand.Text()), path: path, origin: http.NewCrossOriginProtection()}
}

// token returns the form token for r's browser, setting the cookie when r has none.
func (c *csrf) token(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 16 {
		return c.sign(ck.Value)
	}
	v := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: c.path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return c.sign(v)
}

func (c *csrf) sign(v string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check verifies a POST: same origin, and a form token that matches the cookie.
func (c *csrf) check(r *http.Request) error {
	if err := c.origin.Check(r); err != nil {
		return err
	}
	ck, err := r.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 16 {
		return errCSRF
	}
	if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.sign(ck.Value))) {
		return errCSRF
	}
	return nil
}

// contentSecurityPolicy allows the console's own stylesheet, script and icon and nothing else: no inline script or
// style, no frames, forms only to the console itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the headers every answer carries.
func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}
