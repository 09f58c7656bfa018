package carbonblacktest

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// crec is a stored process or observation in its compact form: the values
// of its fields, in the order of its shape's field names, which every
// record with the same fields shares. The values are those of the decoded
// record, with a lower-case SHA-256 held as 32 bytes (hashVal); record
// builds the wire form when a request reads it.
type crec struct {
	sh   *shape
	vals []any
}

// shape is the sorted field names of the records stored with those fields.
type shape struct {
	keys  []string
	index map[string]int
}

func (c *crec) field(key string) (any, bool) {
	if i, ok := c.sh.index[key]; ok {
		return c.vals[i], true
	}
	return nil, false
}

func (c *crec) values(fn func(v any)) {
	for _, v := range c.vals {
		fn(v)
	}
}

// record returns the record's wire form, a map of its own sharing the
// stored values (which are never modified).
func (c *crec) record() record {
	r := make(record, len(c.vals))
	for i, k := range c.sh.keys {
		r[k] = c.vals[i]
	}
	return r
}

// MarshalJSON writes the record as the decoded record it was stored from.
func (c *crec) MarshalJSON() ([]byte, error) { return json.Marshal(c.record()) }

// hashVal is a lower-case hex SHA-256 value, held as its bytes; it reads
// ([strs]) and encodes as the string.
type hashVal [32]byte

func (h hashVal) String() string { return hex.EncodeToString(h[:]) }

// MarshalJSON writes the hash as a JSON string.
func (h hashVal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 66)
	b[0], b[65] = '"', '"'
	hex.Encode(b[1:65], h[:])
	return b, nil
}

// parseHash reads a lower-case hex SHA-256 (an upper-case one is kept as a
// string, to read back as it came).
func parseHash(s string) (hashVal, bool) {
	var h hashVal
	if len(s) != 64 {
		return h, false
	}
	for i := 0; i < 64; i++ {
		if _, ok := lowerHex(s[i]); !ok {
			return h, false
		}
	}
	_, _ = hex.Decode(h[:], []byte(s))
	return h, true
}

// shape returns the shared shape of these sorted field names, or one of the
// record's own once the table is full.
func (in *interner) shape(keys []string) *shape {
	key := strings.Join(keys, "\x00")
	if sh, ok := in.shapes[key]; ok && len(sh.keys) == len(keys) {
		return sh
	}
	sh := &shape{keys: make([]string, len(keys)), index: make(map[string]int, len(keys))}
	for i, k := range keys {
		sh.keys[i] = in.key(k)
		sh.index[sh.keys[i]] = i
	}
	if len(in.shapes) < maxInterned {
		if in.shapes == nil {
			in.shapes = map[string]*shape{}
		}
		in.shapes[key] = sh
	}
	return sh
}

// key returns the shared copy of a field name.
func (in *interner) key(k string) string {
	if shared, ok := in.keys[k]; ok {
		return shared
	}
	if in.keys == nil {
		in.keys = map[string]string{}
	}
	if len(in.keys) < maxInterned {
		in.keys[k] = k
	}
	return k
}

// compact returns the compact form of r: its shape shared with the records
// stored before it with the same fields, its string and number values
// shared with them (device names, OS, reputations), the values it repeats
// (a process's hash in process_hash and process_sha256, its timestamps)
// stored once, and its lower-case SHA-256 values as 32 bytes. It reads
// back as the same JSON. The lists of r are reused.
func (in *interner) compact(r record) *crec {
	if in.values == nil {
		in.values = map[any]any{}
	}
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	c := &crec{sh: in.shape(keys), vals: make([]any, len(keys))}
	local := map[any]any{}
	share := func(v any) any {
		var k any
		switch x := v.(type) {
		case string:
			if h, ok := parseHash(x); ok {
				if shared, ok := local[h]; ok {
					return shared
				}
				local[h] = h
				return local[h]
			}
			k = x
		case json.Number:
			k = x
		default:
			return v
		}
		if shared, ok := in.values[k]; ok {
			return shared
		}
		if shared, ok := local[k]; ok {
			return shared
		}
		if len(in.values) < maxInterned {
			in.values[k] = v
		} else {
			local[k] = v
		}
		return v
	}
	for i, k := range keys {
		v := r[k]
		if list, ok := v.([]any); ok {
			for j := range list {
				list[j] = share(list[j])
			}
		} else {
			v = share(v)
		}
		c.vals[i] = v
	}
	return c
}
