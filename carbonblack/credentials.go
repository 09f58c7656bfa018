package carbonblack

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// Credentials are the settings of one profile of Carbon Black's credentials
// file (the format of the Python SDK and cbapi), or of the CBC_* environment
// variables.
type Credentials struct {
	// URL is the environment host, for example https://defense.conferdeploy.net.
	URL string
	// APISecret and APIID come from token = <secret>/<id>.
	APISecret string
	APIID     string
	OrgKey    string
	// SSLVerify is false only when the file says so explicitly.
	SSLVerify bool
	// SSLCertFile is a PEM file of extra trusted certificates.
	SSLCertFile string
	// Proxy is the proxy URL, if any.
	Proxy string
	// IgnoreSystemProxy disables the HTTPS_PROXY/NO_PROXY environment.
	IgnoreSystemProxy bool
	// Integration names the integration in the User-Agent (keys
	// "integration" or "integration_name").
	Integration string
}

// String describes the credentials without the secret.
func (c Credentials) String() string {
	return fmt.Sprintf("carbonblack credentials for org %s at %s (API ID %s)", c.OrgKey, c.URL, c.APIID)
}

// LoadCredentials reads one profile ("" means "default") of a credentials
// file: INI sections named after profiles, keys url, token (secret/id),
// org_key, ssl_verify, ssl_cert_file, proxy, ignore_system_proxy,
// integration or integration_name. UTF-8 and UTF-16 (with BOM) files are
// read; unknown keys are ignored; booleans accept true/false, yes/no,
// on/off, 1/0. The secret never appears in errors.
func LoadCredentials(path, profile string) (*Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("carbonblack: credentials file: %w", err)
	}
	return ParseCredentials(data, profile)
}

// ParseCredentials parses the content of a credentials file; see
// [LoadCredentials].
func ParseCredentials(data []byte, profile string) (*Credentials, error) {
	if profile == "" {
		profile = "default"
	}
	sections, err := parseINI(decodeText(data))
	if err != nil {
		return nil, err
	}
	sec, ok := sections[profile]
	if !ok {
		return nil, &ConfigError{Field: "credentials profile", Reason: fmt.Sprintf("no [%s] section", profile)}
	}
	return credentialsFrom(func(k string) string { return sec[k] }, "profile ["+profile+"]")
}

// Environment variables read by [CredentialsFromEnv]; each CBC_ name falls
// back to its CBAPI_ twin.
const (
	EnvURL       = "CBC_URL"
	EnvToken     = "CBC_TOKEN"
	EnvOrgKey    = "CBC_ORG_KEY"
	EnvSSLVerify = "CBC_SSL_VERIFY"
	EnvProxy     = "CBC_PROXY"
)

// CredentialsFromEnv reads CBC_URL, CBC_TOKEN (secret/id), CBC_ORG_KEY,
// CBC_SSL_VERIFY and CBC_PROXY (or their CBAPI_ equivalents).
func CredentialsFromEnv() (*Credentials, error) {
	get := func(k string) string {
		name := map[string]string{"url": EnvURL, "token": EnvToken, "org_key": EnvOrgKey, "ssl_verify": EnvSSLVerify, "proxy": EnvProxy}[k]
		if name == "" {
			return ""
		}
		if v := os.Getenv(name); v != "" {
			return v
		}
		return os.Getenv("CBAPI_" + strings.TrimPrefix(name, "CBC_"))
	}
	return credentialsFrom(get, "environment")
}

func credentialsFrom(get func(string) string, where string) (*Credentials, error) {
	c := &Credentials{URL: strings.TrimSpace(get("url")), OrgKey: strings.TrimSpace(get("org_key")), SSLVerify: true,
		SSLCertFile: get("ssl_cert_file"), Proxy: strings.TrimSpace(get("proxy"))}
	if c.URL == "" {
		return nil, &ConfigError{Field: "url", Reason: "missing in " + where}
	}
	if c.OrgKey == "" {
		return nil, &ConfigError{Field: "org_key", Reason: "missing in " + where}
	}
	token := strings.TrimSpace(get("token"))
	secret, id, ok := strings.Cut(token, "/")
	if !ok || strings.TrimSpace(secret) == "" || strings.TrimSpace(id) == "" {
		return nil, &ConfigError{Field: "token", Reason: "must be <API secret key>/<API ID> in " + where}
	}
	c.APISecret, c.APIID = strings.TrimSpace(secret), strings.TrimSpace(id)
	var err error
	if c.SSLVerify, err = parseBool(get("ssl_verify"), true); err != nil {
		return nil, &ConfigError{Field: "ssl_verify", Reason: err.Error()}
	}
	if c.IgnoreSystemProxy, err = parseBool(get("ignore_system_proxy"), false); err != nil {
		return nil, &ConfigError{Field: "ignore_system_proxy", Reason: err.Error()}
	}
	c.Integration = get("integration")
	if c.Integration == "" {
		c.Integration = get("integration_name")
	}
	return c, nil
}

func parseBool(s string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "1", "yes", "on", "true":
		return true, nil
	case "0", "no", "off", "false":
		return false, nil
	}
	return def, fmt.Errorf("%q is not a boolean", s)
}

// Options turns the credentials' transport settings into client options.
func (c *Credentials) Options() ([]Option, error) {
	var opts []Option
	if c.Integration != "" {
		opts = append(opts, WithUserAgent(c.Integration))
	}
	var caPEM []byte
	if c.SSLCertFile != "" {
		pem, err := os.ReadFile(filepath.Clean(c.SSLCertFile))
		if err != nil {
			return nil, fmt.Errorf("carbonblack: ssl_cert_file: %w", err)
		}
		caPEM = pem
	}
	if c.IgnoreSystemProxy {
		// The engine's default transport always consults the environment,
		// so build the transport here.
		hc, err := credentialsHTTPClient(c, caPEM)
		if err != nil {
			return nil, err
		}
		return append(opts, WithHTTPClient(hc)), nil
	}
	if caPEM != nil {
		opts = append(opts, WithCACertPEM(caPEM))
	}
	if !c.SSLVerify {
		opts = append(opts, WithInsecureSkipVerify())
	}
	if c.Proxy != "" {
		opts = append(opts, WithProxy(c.Proxy))
	}
	return opts, nil
}

func credentialsHTTPClient(c *Credentials, caPEM []byte) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if c.Proxy != "" {
		u, err := url.Parse(c.Proxy)
		if err != nil || u.Host == "" {
			return nil, &ConfigError{Field: "proxy", Reason: "not an absolute URL"}
		}
		tr.Proxy = http.ProxyURL(u)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !c.SSLVerify}
	if caPEM != nil {
		pool, err := systemPoolWith(caPEM)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr}, nil
}

// NewFromCredentials returns a client for the credentials; opts are applied
// after the credentials' own transport settings. With ignore_system_proxy
// the transport is built here and passed as WithHTTPClient, so opts must not
// add TLS or proxy options (they would be refused as conflicting).
func NewFromCredentials(c *Credentials, opts ...Option) (*Client, error) {
	base, err := c.Options()
	if err != nil {
		return nil, err
	}
	return New(c.URL, c.OrgKey, c.APIID, c.APISecret, append(base, opts...)...)
}

// NewFromCredentialsFile returns a client for one profile ("" means
// "default") of a credentials file.
func NewFromCredentialsFile(path, profile string, opts ...Option) (*Client, error) {
	c, err := LoadCredentials(path, profile)
	if err != nil {
		return nil, err
	}
	return NewFromCredentials(c, opts...)
}

// NewFromEnv returns a client for the CBC_* environment variables.
func NewFromEnv(opts ...Option) (*Client, error) {
	c, err := CredentialsFromEnv()
	if err != nil {
		return nil, err
	}
	return NewFromCredentials(c, opts...)
}

// decodeText turns UTF-16 (with BOM) or UTF-8 (with or without BOM) into a
// string.
func decodeText(b []byte) string {
	switch {
	case len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF):
		le := b[0] == 0xFF
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if le {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		return string(utf16.Decode(u))
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return string(b[3:])
	}
	return string(b)
}

// parseINI reads the subset of INI the credentials file uses: [section]
// headers, key = value or key: value pairs, # and ; comment lines, blank
// lines. Keys are lower-cased; later duplicates win. Values are not
// unquoted (a token may contain any character but a newline).
func parseINI(text string) (map[string]map[string]string, error) {
	sections := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, &ConfigError{Field: "credentials file", Reason: fmt.Sprintf("line %d: unterminated section header", n)}
			}
			name := strings.TrimSpace(line[1:end])
			if sections[name] == nil {
				sections[name] = map[string]string{}
			}
			cur = sections[name]
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			// Never echo the line: it may hold a secret.
			return nil, &ConfigError{Field: "credentials file", Reason: fmt.Sprintf("line %d: expected key = value", n)}
		}
		if cur == nil {
			return nil, &ConfigError{Field: "credentials file", Reason: fmt.Sprintf("line %d: key outside a [profile] section", n)}
		}
		cur[strings.ToLower(strings.TrimSpace(line[:i]))] = strings.TrimSpace(line[i+1:])
	}
	if err := sc.Err(); err != nil {
		return nil, &ConfigError{Field: "credentials file", Reason: err.Error()}
	}
	return sections, nil
}
