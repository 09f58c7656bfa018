package carbonblacktest

import (
	"slices"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// recordIndex maps a key to the positions of the records that have it, in
// the order they were stored: the one position of a key in one, or, for a
// key of several records, -(i+1) in one and its positions in more[i]. The
// record lists only grow (a reset starts a new state), so positions stay
// valid.
type recordIndex[K comparable] struct {
	one  map[K]int32
	more [][]int32
}

func newRecordIndex[K comparable]() *recordIndex[K] { return &recordIndex[K]{one: map[K]int32{}} }

// add records that the record at pos has key; the caller leaves out empty
// keys.
func (ix *recordIndex[K]) add(key K, pos int) {
	p := int32(pos)
	cur, ok := ix.one[key]
	switch {
	case !ok:
		ix.one[key] = p
	case cur >= 0 && cur != p:
		ix.one[key] = -int32(len(ix.more)) - 1
		ix.more = append(ix.more, []int32{cur, p})
	case cur < 0:
		if l := ix.more[-cur-1]; l[len(l)-1] != p {
			ix.more[-cur-1] = append(l, p)
		}
	}
}

// positions returns the positions of the keys' records, in no order.
func (ix *recordIndex[K]) positions(keys ...K) []int {
	var pos []int
	for _, k := range keys {
		switch cur, ok := ix.one[k]; {
		case !ok:
		case cur >= 0:
			pos = append(pos, int(cur))
		default:
			for _, p := range ix.more[-cur-1] {
				pos = append(pos, int(p))
			}
		}
	}
	return pos
}

// indexes hold the lookups by id and hash, so that a request naming ids or
// hashes examines only the records that have them, however many are stored.
type indexes struct {
	processByGUID   *recordIndex[string]  // process_guid
	processByParent *recordIndex[string]  // parent_guid
	processBySHA    *recordIndex[hashVal] // the SHA-256 of the process
	alertByID       map[string]int
	obsByID         *recordIndex[string] // observation_id
	obsByAlert      *recordIndex[string] // each alert_id
	obsByHash       *recordIndex[string] // each process_hash and process_sha256 (lower case)

	// examined counts the records a lookup looked at, for tests that hold
	// each lookup to the records it answers with.
	examined int
}

func newIndexes() indexes {
	return indexes{processByGUID: newRecordIndex[string](), processByParent: newRecordIndex[string](),
		processBySHA: newRecordIndex[hashVal](), alertByID: map[string]int{}, obsByID: newRecordIndex[string](),
		obsByAlert: newRecordIndex[string](), obsByHash: newRecordIndex[string]()}
}

// processSHA is the SHA-256 of a process, lower case: the key of processBySHA.
func processSHA(r doc) string {
	return strings.ToLower(carbonblack.PickSHA256(append(strs(get(r, "process_sha256")), strs(get(r, "process_hash"))...)))
}

// joined is a field as one string, as the lookups compare it.
func joined(r doc, field string) string { return strings.Join(strs(get(r, field)), "") }

// indexProcessLocked indexes st.processes[pos].
func (st *state) indexProcessLocked(pos int) {
	r := st.processes[pos]
	addKey(st.ix.processByGUID, joined(r, "process_guid"), pos)
	addKey(st.ix.processByParent, joined(r, "parent_guid"), pos)
	if h, ok := parseHash(processSHA(r)); ok {
		st.ix.processBySHA.add(h, pos)
	}
}

// indexObservationLocked indexes st.observations[pos].
func (st *state) indexObservationLocked(pos int) {
	r := st.observations[pos]
	addKey(st.ix.obsByID, joined(r, "observation_id"), pos)
	for _, id := range strs(get(r, "alert_id")) {
		addKey(st.ix.obsByAlert, id, pos)
	}
	for _, h := range append(strs(get(r, "process_hash")), strs(get(r, "process_sha256"))...) {
		addKey(st.ix.obsByHash, strings.ToLower(h), pos)
	}
}

// indexAlertLocked indexes st.alerts[pos]; a lookup by id finds the first
// alert stored with it.
func (st *state) indexAlertLocked(pos int) {
	id, ok := get(st.alerts[pos], "id").(string)
	if !ok {
		return
	}
	if _, dup := st.ix.alertByID[id]; !dup {
		st.ix.alertByID[id] = pos
	}
}

// lookupLocked returns the records of rs at the positions the keys have in
// ix, each once and in stored order, and counts them as examined.
func lookupLocked[K comparable](st *state, rs []*crec, ix *recordIndex[K], keys ...K) []*crec {
	return st.recordsAtLocked(rs, ix.positions(keys...))
}

// addKey indexes a non-empty string key.
func addKey(ix *recordIndex[string], key string, pos int) {
	if key != "" {
		ix.add(key, pos)
	}
}

// recordsAtLocked returns the records of rs at pos, each once and in stored
// order, and counts them as examined.
func (st *state) recordsAtLocked(rs []*crec, pos []int) []*crec {
	slices.Sort(pos)
	pos = slices.Compact(pos)
	out := make([]*crec, len(pos))
	for i, p := range pos {
		out[i] = rs[p]
	}
	st.ix.examined += len(out)
	return out
}

// maxInterned bounds each table of an interner: the field names and the
// common values (device names, OS, reputations) are among the first seen.
const maxInterned = 4096

// interner shares the field names and repeated string values of stored
// records: a decoded record otherwise holds its own copy of every field
// name and of every string, which for a world of 100,000 processes is most
// of its size.
type interner struct {
	keys     map[string]string
	shapes   map[string]*names
	variants map[string]*shape
	namesSeq uint64
	values   map[any]any // by string or json.Number
	seen     map[any]struct{}
	strs     map[string]string
}

// str returns the shared copy of a common string (IOC fields, match types,
// tags), once the table has room for it.
func (in *interner) str(s string) string {
	if in.strs == nil {
		in.strs = map[string]string{}
	}
	if shared, ok := in.strs[s]; ok {
		return shared
	}
	if len(in.strs) < maxInterned {
		in.strs[s] = s
	}
	return s
}

// report shares the strings a stored report repeats: its IOCs' fields and
// match types and its tags with every report, and within the report the
// values and links its IOCs repeat (a file's hash and sandbox link are in
// each of its IOCs). The report reads back the same.
func (in *interner) report(rep *reportWire) {
	local := map[string]string{}
	share := func(s string) string {
		if shared, ok := local[s]; ok {
			return shared
		}
		local[s] = s
		return s
	}
	rep.Description = share(rep.Description)
	if rep.Link != nil {
		rep.Link = new(share(*rep.Link))
	}
	for i := range rep.Tags {
		rep.Tags[i] = in.str(rep.Tags[i])
	}
	for i := range rep.IOCsV2 {
		ioc := &rep.IOCsV2[i]
		ioc.MatchType = carbonblack.MatchType(in.str(string(ioc.MatchType)))
		ioc.Field, ioc.Link = in.str(ioc.Field), share(ioc.Link)
		for j := range ioc.Values {
			ioc.Values[j] = share(ioc.Values[j])
		}
	}
}
