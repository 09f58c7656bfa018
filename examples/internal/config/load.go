package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Validator is implemented by configuration structs that check themselves
// after loading. Report problems through a [Problems] list.
type Validator interface {
	Validate() error
}

// Load fills dst (a pointer to a struct with `yaml` tags, already holding the
// defaults) from the YAML file at path (skipped when path is empty), then
// from environment variables named after prefix, then calls dst.Validate if
// it has one.
func Load(path string, dst any, prefix string) error {
	if err := Decode(path, dst, prefix); err != nil {
		return err
	}
	if v, ok := dst.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// Decode is Load without the validation, for commands that use only part of
// the configuration (the state command needs the run section, not the
// vendors' credentials). Unknown keys and badly typed values are still
// refused.
func Decode(path string, dst any, prefix string) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return errors.New("config: Load needs a pointer to a struct")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(data, dst, yaml.Strict()); err != nil {
			return fmt.Errorf("config: %s: %s", path, describeYAMLError(err))
		}
	}
	var probs Problems
	applyEnv(rv.Elem(), strings.ToUpper(prefix), "", &probs)
	return probs.Err()
}

// EnvName returns the environment variable that overrides key (a dotted
// YAML path) under prefix.
func EnvName(prefix, key string) string {
	name := strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
	if prefix == "" {
		return name
	}
	return strings.ToUpper(prefix) + "_" + name
}

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// KeyOf returns the YAML key of a struct field ("" for an unexported or
// "-" field) and whether the field is an inlined struct whose keys sit at
// its parent's level.
func KeyOf(f reflect.StructField) (key string, inline bool) {
	if !f.IsExported() {
		return "", false
	}
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return "", false
	}
	if f.Anonymous && f.Type.Kind() == reflect.Struct && strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// applyEnv walks the struct v and sets every field whose variable is set.
func applyEnv(v reflect.Value, prefix, path string, probs *Problems) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := KeyOf(f)
		switch {
		case inline:
			// Inlined fields sit at the parent's level in YAML, so their
			// variables do too.
			applyEnv(v.Field(i), prefix, path, probs)
			continue
		case name == "":
			continue
		}
		key := name
		if path != "" {
			key = path + "." + name
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != secretType && !reflect.PointerTo(f.Type).Implements(textType) {
			applyEnv(fv, prefix, key, probs)
			continue
		}
		env := EnvName(prefix, key)
		if f.Type == secretType {
			if file, ok := os.LookupEnv(env + "_FILE"); ok && file != "" {
				val, err := readSecretFile(file)
				if err != nil {
					probs.Add(key, "%s_FILE: %v", env, err)
					continue
				}
				fv.Set(reflect.ValueOf(Secret{value: val}))
				continue
			}
		}
		raw, ok := os.LookupEnv(env)
		if !ok {
			continue
		}
		if err := setFromString(fv, raw); err != nil {
			probs.Add(key, "%s: %v", env, err)
		}
	}
}

func setFromString(fv reflect.Value, raw string) error {
	if fv.CanAddr() {
		if u, ok := fv.Addr().Interface().(encoding.TextUnmarshaler); ok {
			return u.UnmarshalText([]byte(raw))
		}
	}
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("not a duration (use 90s, 5m, 1h)")
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("not true or false")
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || fv.OverflowInt(n) {
			return errors.New("not a whole number")
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || fv.OverflowUint(n) {
			return errors.New("not a non-negative whole number")
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return errors.New("not a number")
		}
		fv.SetFloat(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("lists of %s cannot be set from the environment", fv.Type().Elem())
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items).Convert(fv.Type()))
	default:
		return fmt.Errorf("a %s cannot be set from the environment", fv.Type())
	}
	return nil
}
