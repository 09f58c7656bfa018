package runner

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/goccy/go-yaml"
)

// PrintConfig writes cfg (a loaded configuration) as YAML that the connector
// reads back. Secrets show as "[REDACTED]" (an empty secret stays empty, so
// a missing one shows), and every URL loses its password and the values of
// its query, where tokens travel.
func PrintConfig(w io.Writer, cfg any) error {
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding the configuration: %w", err)
	}
	var tree any
	if err := yaml.UnmarshalWithOptions(raw, &tree, yaml.UseOrderedMap()); err != nil {
		return fmt.Errorf("re-reading the configuration: %w", err)
	}
	out, err := yaml.Marshal(redactURLs(tree))
	if err != nil {
		return fmt.Errorf("encoding the configuration: %w", err)
	}
	_, err = w.Write(out)
	return err
}

// redactURLs walks a decoded YAML tree and redacts the credentials of every
// URL string in it.
func redactURLs(v any) any {
	switch v := v.(type) {
	case yaml.MapSlice:
		for i := range v {
			v[i].Value = redactURLs(v[i].Value)
		}
		return v
	case []any:
		for i := range v {
			v[i] = redactURLs(v[i])
		}
		return v
	case string:
		return redactURL(v)
	}
	return v
}

func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		// It might still hold a password the parser could not find.
		return "[REDACTED: not a valid URL]"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
