package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// describeYAMLError turns a go-yaml decoding error into a message that names
// the line, the key and the problem but never repeats a value: go-yaml's own
// messages quote the surrounding source lines (credentials included) and some
// of them the offending value itself.
func describeYAMLError(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		// An error without a position (for example from a field's own
		// decoder): keep its first line, quoted parts removed.
		first, _, _ := strings.Cut(err.Error(), "\n")
		return "invalid value: " + redactQuoted(first)
	}
	tk := ye.GetToken()
	where := position(tk)
	var (
		unknown   *yaml.UnknownFieldError
		duplicate *yaml.DuplicateKeyError
		typeErr   *yaml.TypeError
		overflow  *yaml.OverflowError
		nodeType  *yaml.UnexpectedNodeTypeError
	)
	switch {
	case errors.As(err, &unknown) && isKey(tk):
		return fmt.Sprintf("%sunknown key %q (misspelt? unknown keys are refused)", where, tk.Value)
	case (errors.As(err, &duplicate) || strings.Contains(ye.GetMessage(), "already defined")) && isKey(tk):
		return fmt.Sprintf("%skey %q is set twice", where, tk.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s%swrong type: a %s where a %s is expected", where, keyPrefix(tk), kindName(typeErr.SrcType.String()), kindName(typeErr.DstType.String()))
	case errors.As(err, &overflow):
		return fmt.Sprintf("%s%snumber out of range for a %s", where, keyPrefix(tk), kindName(overflow.DstType.String()))
	case errors.As(err, &nodeType):
		return where + keyPrefix(tk) + redactQuoted(ye.GetMessage())
	}
	return where + "invalid YAML: " + redactQuoted(ye.GetMessage())
}

// fieldError is a decoding error of one field, raised by this package's own
// decoders (see [Secret.UnmarshalYAML]); it carries the position go-yaml
// does not add to errors returned by unmarshalers.
type fieldError struct {
	tk  *token.Token
	msg string
}

func (e *fieldError) Error() string { return position(e.tk) + keyPrefix(e.tk) + e.msg }

func position(tk *token.Token) string {
	if tk == nil || tk.Position == nil {
		return ""
	}
	return fmt.Sprintf("line %d, column %d: ", tk.Position.Line, tk.Position.Column)
}

// isKey reports whether tk is a mapping key (followed by ':'), so its text is
// a key name and not a value.
func isKey(tk *token.Token) bool {
	return tk != nil && tk.Next != nil && tk.Next.Type == token.MappingValueType
}

// keyPrefix names the key whose value tk belongs to, as "key: ", or "" when
// there is none: the nearest key before the value (for a list item, the
// list's key).
func keyPrefix(tk *token.Token) string {
	for i := 0; tk != nil && i < 256; i++ {
		if tk.Type == token.MappingValueType && tk.Prev != nil && isKey(tk.Prev) {
			return tk.Prev.Value + ": "
		}
		tk = tk.Prev
	}
	return ""
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'`)

// redactQuoted replaces every quoted part of a message, where go-yaml puts
// source text.
func redactQuoted(s string) string { return quoted.ReplaceAllString(s, `"…"`) }

// kindName turns a Go type name into words a configuration author knows.
func kindName(goType string) string {
	switch goType {
	case "string", "config.Secret":
		return "text"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "whole number"
	case "float32", "float64":
		return "number"
	case "bool":
		return "true or false"
	case "time.Duration":
		return "duration (90s, 5m)"
	}
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "list"
	case strings.HasPrefix(goType, "map["):
		return "mapping"
	}
	return "value of type " + goType
}
