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
// strings are shortened, and a document still over 384 bytes is split into
// several seeds, each with a share of its fields in their full nesting. A recording that holds only
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
	// Split the document's leaves into groups that fit, each group a seed
	// that keeps the leaves' full nesting.
	// Top-level scalars (an envelope's "result", a "num_found") go into
	// every seed.
	var leaves, common []leaf
	flatten(v, nil, &leaves)
	leaves = slices.DeleteFunc(leaves, func(l leaf) bool {
		if len(l.path) == 1 {
			common = append(common, l)
			return true
		}
		return false
	})
	var seeds [][]byte
	group := slices.Clone(common)
	for _, l := range leaves {
		b, err := json.Marshal(build(append(group, l)))
		if err != nil {
			return nil, err
		}
		if len(b) > maxSeed && len(group) > len(common) {
			prev, err := json.Marshal(build(group))
			if err != nil {
				return nil, err
			}
			seeds = append(seeds, prev)
			group = slices.Clone(common)
		}
		group = append(group, l)
	}
	last, err := json.Marshal(build(group))
	return append(seeds, last), err
}

// step is one level of a leaf's path: an object key, or the single element
// of an array.
type step struct {
	key   string
	array bool
}

type leaf struct {
	path  []step
	value any
}

// flatten lists v's scalar leaves in key order.
func flatten(v any, path []step, out *[]leaf) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			break
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(t[k], append(slices.Clip(path), step{key: k}), out)
		}
		return
	case []any:
		if len(t) == 0 {
			break
		}
		flatten(t[0], append(slices.Clip(path), step{array: true}), out)
		return
	}
	*out = append(*out, leaf{path: path, value: v})
}

// build puts leaves back into a document.
func build(leaves []leaf) any {
	var root any
	for _, l := range leaves {
		root = insert(root, l.path, l.value)
	}
	return root
}

func insert(node any, path []step, value any) any {
	if len(path) == 0 {
		return value
	}
	if path[0].array {
		var elem any
		if arr, ok := node.([]any); ok && len(arr) > 0 {
			elem = arr[0]
		}
		return []any{insert(elem, path[1:], value)}
	}
	m, ok := node.(map[string]any)
	if !ok {
		m = make(map[string]any)
	}
	m[path[0].key] = insert(m[path[0].key], path[1:], value)
	return m
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
