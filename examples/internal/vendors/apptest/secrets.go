package apptest

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/soarkit/soarkit/examples/internal/config"
)

// SecretCases returns, for every [config.Secret] key of the configuration
// type C, bad configuration files that hold a recognisable credential (and
// recognisable values around it) and break right next to it: a misspelt
// neighbour key, the secret's own key misspelt, the secret given a list, a
// neighbouring key given a value of the wrong type, and a syntax error on
// the next line. Each case wants the offending key (or "invalid YAML") named
// and hides every planted value, so it fails if a YAML excerpt or a value
// reaches the error output. Pass them to [CheckRefused].
func SecretCases[C any]() []BadConfig {
	var out []BadConfig
	for _, s := range secretKeys(reflect.TypeFor[C](), nil) {
		out = append(out, s.cases()...)
	}
	return out
}

var (
	secretType   = reflect.TypeFor[config.Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// secretKey is a secret's key path with its neighbours in the same mapping.
type secretKey struct {
	path      []string
	neighbour *field
}

type field struct {
	name string
	typ  reflect.Type
}

// yamlFields lists the keys of struct t as YAML sees them: inlined structs'
// keys at t's level, "-" skipped.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		switch name, inline := config.KeyOf(f); {
		case inline:
			out = append(out, yamlFields(f.Type)...)
		case name != "":
			out = append(out, field{name: name, typ: f.Type})
		}
	}
	return out
}

func isMapping(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != secretType && !reflect.PointerTo(t).Implements(textType)
}

func secretKeys(t reflect.Type, parent []string) []secretKey {
	fields := yamlFields(t)
	var out []secretKey
	for _, f := range fields {
		path := append(append([]string(nil), parent...), f.name)
		switch {
		case f.typ == secretType:
			out = append(out, secretKey{path: path, neighbour: pickNeighbour(fields)})
		case isMapping(f.typ):
			out = append(out, secretKeys(f.typ, path)...)
		}
	}
	return out
}

// pickNeighbour prefers a key whose wrong-type message names it (durations
// are decoded without a position).
func pickNeighbour(fields []field) *field {
	var fallback *field
	for i, f := range fields {
		if f.typ == secretType || isMapping(f.typ) {
			continue
		}
		if f.typ != durationType {
			return &fields[i]
		}
		if fallback == nil {
			fallback = &fields[i]
		}
	}
	return fallback
}

// misspell swaps the key's last two letters ("api_key" becomes "api_kye").
func misspell(key string) string {
	b := []byte(key)
	if n := len(b); n >= 2 && b[n-1] != b[n-2] {
		b[n-1], b[n-2] = b[n-2], b[n-1]
		return string(b)
	}
	return key + "s"
}

// document nests lines under the secret's parent keys.
func (s secretKey) document(lines ...string) string {
	var b strings.Builder
	parents := s.path[:len(s.path)-1]
	for i, p := range parents {
		fmt.Fprintf(&b, "%s%s:\n", strings.Repeat("  ", i), p)
	}
	indent := strings.Repeat("  ", len(parents))
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}

func (s secretKey) cases() []BadConfig {
	key := s.path[len(s.path)-1]
	name := strings.Join(s.path, ".")
	plant := func(n int) string { return fmt.Sprintf("Pl4nted-%s-%d-x9Q", strings.ReplaceAll(name, ".", "-"), n) }
	hide := []string{plant(1), plant(2)}
	neighbourKey := misspell(key) + "s"
	if s.neighbour != nil {
		neighbourKey = misspell(s.neighbour.name)
	}
	out := []BadConfig{
		{Name: name + " with a misspelt neighbour", Hide: hide, Want: []string{neighbourKey},
			YAML: s.document(key+": "+plant(1), neighbourKey+": "+plant(2))},
		{Name: name + " misspelt", Hide: hide, Want: []string{misspell(key)},
			YAML: s.document(misspell(key) + ": " + plant(1))},
		{Name: name + " of the wrong type", Hide: hide, Want: []string{key + ": wrong type"},
			YAML: s.document(key + ": [" + plant(1) + ", " + plant(2) + "]")},
		{Name: name + " before a syntax error", Hide: hide, Want: []string{"invalid YAML"},
			YAML: s.document(key+": "+plant(1), ": : "+plant(2))},
	}
	if n := s.neighbour; n != nil {
		value, want := plant(2), []string{n.name + ": "}
		switch {
		case n.typ.Kind() == reflect.String:
			value = "{k: " + plant(2) + "}"
		case n.typ == durationType:
			want = []string{"duration"}
		}
		out = append(out, BadConfig{Name: name + " next to a wrongly typed " + n.name, Hide: hide, Want: want,
			YAML: s.document(key+": "+plant(1), n.name+": "+value)})
	}
	return out
}
