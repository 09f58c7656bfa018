package resttest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// maxSeed bounds a seed: the fuzzer minimises every input that finds new
// coverage one exec per step, for up to a minute, so kilobyte seeds leave it
// minimising instead of fuzzing.
const maxSeed = 384

// AddSeeds reads the named recordings from the package's testdata directory,
// cuts each into small seeds that keep its field names and value types, and
// adds them as f.Add(kind, seed), kind being the recording's index in names
// (the kind [FuzzCalls] serves it to). Every array keeps only its first
// element, empty values (null, "", 0, false, [], {}) are dropped, long
// strings are shortened, and a record still over 384 bytes is split into
// several seeds, each with a share of its fields. A recording that holds only
// a JSON array is passed to wrap (when not nil), which returns the whole
// document.
func AddSeeds(f *testing.F, wrap func([]byte) []byte, names ...string) {
	f.Helper()
	for kind, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		if b = bytes.TrimSpace(b); wrap != nil && len(b) > 0 && b[0] == '[' {
			b = wrap(b)
		}
		seeds, err := shrink(b)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		for _, s := range seeds {
			f.Add(uint8(kind), s)
		}
	}
}

// shrink cuts a JSON document into seeds as [AddSeeds] describes.
func shrink(doc []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = truncateStrings(dropEmpty(firstElements(v)), 48)
	whole, err := json.Marshal(v)
	if err != nil || len(whole) <= maxSeed {
		return [][]byte{whole}, err
	}
	rec := largestObject(v)
	if rec == nil {
		return [][]byte{whole}, nil
	}
	// Split the record's fields into groups that fit, each group a seed with
	// the rest of the document around it.
	all := make(map[string]any, len(rec))
	for k, e := range rec {
		all[k] = e
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	})
	var seeds [][]byte
	var group []string
	emit := func() error {
		b, err := withFields(v, rec, all, group)
		seeds = append(seeds, b)
		group = nil
		return err
	}
	for _, k := range keys {
		group = append(group, k)
		b, err := withFields(v, rec, all, group)
		if err != nil {
			return nil, err
		}
		if len(b) > maxSeed && len(group) > 1 {
			group = group[:len(group)-1]
			if err := emit(); err != nil {
				return nil, err
			}
			group = []string{k}
		}
	}
	if err := emit(); err != nil {
		return nil, err
	}
	for k, e := range all {
		rec[k] = e
	}
	return seeds, nil
}

// withFields marshals doc with rec holding only the keys of all in keys.
func withFields(doc any, rec, all map[string]any, keys []string) ([]byte, error) {
	clear(rec)
	for _, k := range keys {
		rec[k] = all[k]
	}
	return json.Marshal(doc)
}

func firstElements(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return t
		}
		return []any{firstElements(t[0])}
	case map[string]any:
		for k, e := range t {
			t[k] = firstElements(e)
		}
	}
	return v
}

func dropEmpty(v any) any {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			t[i] = dropEmpty(e)
		}
	case map[string]any:
		for k, e := range t {
			if e = dropEmpty(e); isEmpty(e) {
				delete(t, k)
				continue
			}
			t[k] = e
		}
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case json.Number:
		return t == "0"
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func truncateStrings(v any, limit int) any {
	switch t := v.(type) {
	case string:
		if len(t) > limit {
			return t[:limit]
		}
	case []any:
		for i, e := range t {
			t[i] = truncateStrings(e, limit)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = truncateStrings(e, limit)
		}
	}
	return v
}

// largestObject returns the object with the most keys in v.
func largestObject(v any) map[string]any {
	var best map[string]any
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			if len(t) > len(best) {
				best = t
			}
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return best
}
