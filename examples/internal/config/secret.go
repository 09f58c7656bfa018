package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Secret is a credential. Its String, GoString, LogValue and text encodings
// never reveal the value; call Value to use it.
type Secret struct {
	value string
}

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Value returns the credential.
func (s Secret) Value() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String hides the value.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[REDACTED]"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return "config.Secret(" + s.String() + ")" }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a literal value or a reference: "env:NAME" reads the
// environment variable NAME, "file:PATH" reads the file at PATH (one trailing
// newline removed).
func (s *Secret) UnmarshalText(b []byte) error {
	v, err := resolveSecret(string(b))
	if err != nil {
		return err
	}
	s.value = v
	return nil
}

// UnmarshalYAML reads a scalar as UnmarshalText does. Anything else (a list,
// a mapping) is refused with the key and position but without the value,
// which is likely a misplaced credential.
func (s *Secret) UnmarshalYAML(node ast.Node) error {
	if tag, ok := node.(*ast.TagNode); ok {
		node = tag.Value
	}
	switch n := node.(type) {
	case *ast.NullNode:
		s.value = ""
		return nil
	case *ast.StringNode:
		return s.unmarshalScalar(n.GetToken(), n.Value)
	case *ast.LiteralNode:
		return s.unmarshalScalar(n.GetToken(), n.Value.Value)
	case ast.ScalarNode:
		return s.unmarshalScalar(n.GetToken(), n.GetToken().Value)
	}
	return &fieldError{tk: node.GetToken(), msg: "wrong type: a credential must be text, not a " + strings.ToLower(node.Type().String())}
}

func (s *Secret) unmarshalScalar(tk *token.Token, raw string) error {
	if err := s.UnmarshalText([]byte(raw)); err != nil {
		return &fieldError{tk: tk, msg: err.Error()}
	}
	return nil
}

func resolveSecret(raw string) (string, error) {
	switch {
	case strings.HasPrefix(raw, "env:"):
		name := strings.TrimPrefix(raw, "env:")
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		return v, nil
	case strings.HasPrefix(raw, "file:"):
		return readSecretFile(strings.TrimPrefix(raw, "file:"))
	}
	return raw, nil
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// The path is not secret; the content never reaches the message.
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return v, nil
}
