package carbonblacktest

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// crec is a stored process, observation or alert in its compact form: the
// values of its fields, in the order of its shape's field names, except the
// values its shape fixes (the repeated values, device name, OS,
// reputation, that records with the same fields share). The values are
// those of the decoded record, with a lower-case SHA-256 held as 32 bytes
// (hashVal), a timestamp in Carbon Black's form as milliseconds (tsVal) and
// an integer as an int64 (numVal);
// record builds the wire form when a request reads it.
type crec struct {
	sh   *shape
	vals []any
}

// shape is the sorted field names of the records stored with those fields
// and the values it fixes for them.
type shape struct {
	*names
	// slot is, for each name, the index of its value in the record's vals,
	// or -(i+1) for consts[i].
	slot   []int32
	consts []any
}

// names are the sorted field names of records, shared by their shapes.
type names struct {
	keys  []string
	index map[string]int
	id    uint64
	plain *shape // the shape that fixes no value
}

// at is the value of the shape's i-th field.
func (c *crec) at(i int) any {
	if s := c.sh.slot[i]; s >= 0 {
		return c.vals[s]
	} else {
		return c.sh.consts[-s-1]
	}
}

func (c *crec) field(key string) (any, bool) {
	if i, ok := c.sh.index[key]; ok {
		return c.at(i), true
	}
	return nil, false
}

func (c *crec) values(fn func(v any)) {
	for _, v := range c.vals {
		fn(v)
	}
	for _, v := range c.sh.consts {
		fn(v)
	}
}

// record returns the record's wire form, a map of its own sharing the
// stored values (which are never modified).
func (c *crec) record() record {
	r := make(record, len(c.sh.keys))
	for i, k := range c.sh.keys {
		r[k] = c.at(i)
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

// tsVal is a timestamp value in Carbon Black's form ("2024-05-01T00:00:00.000Z"),
// held as Unix milliseconds; it reads ([strs], [timeOf]) and encodes as the
// string.
type tsVal int64

const tsLayout = "2006-01-02T15:04:05.000Z"

func (t tsVal) time() time.Time { return time.UnixMilli(int64(t)).UTC() }

func (t tsVal) String() string { return t.time().Format(tsLayout) }

// MarshalJSON writes the timestamp as a JSON string.
func (t tsVal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = t.time().AppendFormat(b, tsLayout)
	return append(b, '"'), nil
}

// parseTS reads a timestamp that reads back the same from milliseconds.
func parseTS(s string) (tsVal, bool) {
	if len(s) != len(tsLayout) || s[10] != 'T' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	t, err := time.Parse(tsLayout, s)
	if err != nil {
		return 0, false
	}
	v := tsVal(t.UnixMilli())
	return v, v.String() == s
}

// numVal is an integer decoded as a json.Number that reads back the same
// from an int64, held as one; it reads ([strs]) and encodes as the number.
type numVal int64

func (n numVal) String() string { return strconv.FormatInt(int64(n), 10) }

// MarshalJSON writes the number.
func (n numVal) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(n), 10), nil }

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

// admit shares a value once it was seen in two records, while the table
// has room: most values of a process (its GUID, name, timestamps) are its
// own and would only fill the table.
func (in *interner) admit(k, v any) {
	if len(in.values) >= maxInterned {
		return
	}
	if _, ok := in.seen[k]; ok {
		in.values[k] = v
		return
	}
	if in.seen == nil || len(in.seen) >= maxInterned {
		in.seen = map[any]struct{}{}
	}
	in.seen[k] = struct{}{}
}

// names returns the shared names of these sorted field names, or names of
// the record's own once the table is full.
func (in *interner) names(keys []string) *names {
	key := strings.Join(keys, "\x00")
	if n, ok := in.shapes[key]; ok && len(n.keys) == len(keys) {
		return n
	}
	in.namesSeq++
	n := &names{keys: make([]string, len(keys)), index: make(map[string]int, len(keys)), id: in.namesSeq}
	n.plain = &shape{names: n, slot: make([]int32, len(keys))}
	for i := range n.plain.slot {
		n.plain.slot[i] = int32(i)
	}
	for i, k := range keys {
		n.keys[i] = in.key(k)
		n.index[n.keys[i]] = i
	}
	if len(in.shapes) < maxInterned {
		if in.shapes == nil {
			in.shapes = map[string]*names{}
		}
		in.shapes[key] = n
	}
	return n
}

// shape returns the shape of records with these names that fixes the
// values where fixed is set, shared while the table has room; vals are all
// the record's values, and the ones the shape does not fix are returned.
func (in *interner) shape(n *names, vals []any, fixed []bool) (*shape, []any) {
	var key strings.Builder
	key.WriteString(strconv.FormatUint(n.id, 16))
	count := 0
	for i, f := range fixed {
		if !f {
			continue
		}
		count++
		key.WriteString("\x00" + strconv.Itoa(i) + "\x00")
		switch v := vals[i].(type) {
		case string:
			key.WriteString("s" + v)
		case json.Number:
			key.WriteString("n" + string(v))
		case numVal:
			key.WriteString("i" + strconv.FormatInt(int64(v), 10))
		}
	}
	sh, ok := in.variants[key.String()]
	switch {
	case count == 0:
		return n.plain, vals
	case !ok && len(in.variants) >= maxInterned:
		return n.plain, vals // the table is full: the shape that fixes nothing
	case !ok:
		sh = &shape{names: n, slot: make([]int32, len(vals))}
		for i, f := range fixed {
			if f {
				sh.consts = append(sh.consts, vals[i])
				sh.slot[i] = -int32(len(sh.consts))
			} else {
				sh.slot[i] = int32(i - len(sh.consts))
			}
		}
		if in.variants == nil {
			in.variants = map[string]*shape{}
		}
		in.variants[key.String()] = sh
	}
	own := make([]any, 0, len(vals)-count)
	for i, f := range fixed {
		if !f {
			own = append(own, vals[i])
		}
	}
	return sh, own
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

// compact returns the compact form of r: its field names shared with the
// records stored before it with the same fields, its string and number
// values shared with them once seen in two records (device names, OS,
// reputations) and fixed by its shape, the values it repeats (a process's
// hash in process_hash and process_sha256, its timestamps) stored once, and
// its lower-case SHA-256s and timestamps as bytes and milliseconds. It reads
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
	n := in.names(keys)
	vals, fixed := make([]any, len(keys)), make([]bool, len(keys))
	local := map[any]any{}
	share := func(v any) (any, bool) {
		var k any
		switch x := v.(type) {
		case string:
			var compact any
			if h, ok := parseHash(x); ok {
				compact = h
			} else if t, ok := parseTS(x); ok {
				compact = t
			}
			if compact != nil {
				if shared, ok := local[compact]; ok {
					return shared, false
				}
				local[compact] = compact
				return compact, false
			}
			k = x
		case json.Number:
			k = x
			if n, err := strconv.ParseInt(string(x), 10, 64); err == nil && strconv.FormatInt(n, 10) == string(x) {
				k, v = numVal(n), numVal(n)
			}
		default:
			return v, false
		}
		if shared, ok := in.values[k]; ok {
			return shared, true
		}
		if shared, ok := local[k]; ok {
			return shared, false
		}
		local[k] = v
		in.admit(k, v)
		return v, false
	}
	for i, k := range keys {
		v := r[k]
		if list, ok := v.([]any); ok {
			for j := range list {
				list[j], _ = share(list[j])
			}
		} else {
			v, fixed[i] = share(v)
		}
		vals[i] = v
	}
	sh, own := in.shape(n, vals, fixed)
	return &crec{sh: sh, vals: own}
}
