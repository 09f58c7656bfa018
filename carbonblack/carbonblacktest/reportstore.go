package carbonblacktest

import (
	"encoding/hex"
	"math"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// parseUUID reads a canonical lower-case UUID; false for any other string
// (upper case included), which must be kept as it was.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// storedReport is a watchlist report in its compact form; wire builds the
// report as the service answers it. Its IOCs keep a fixed-size id each and
// refer to the report's own table of distinct values and links (a file's
// hash is in each of its six SHA-256 IOCs, and its sandbox link in every
// IOC), whose strings are cut from the title and description when they
// appear there; the field and match type of an IOC are one entry of a table
// shared by every report, and so are a report's tags. A report that does
// not fit this form (an IOC id that is not a canonical UUID, more IOCs or
// strings than the indexes hold, a full shared table) is kept as it came, in
// raw. Its link is in extra unless it is its description, as a
// connector's link to the analysis usually is.
type storedReport struct {
	id          [16]byte // of a canonical UUID id; another id is in extra
	timestamp   int64
	title       string
	description string
	tags        *[]string // nil for null
	strs        []string
	iocs        []storedIOC
	extra       *reportExtra
	severity    int32
	flags       uint8
}

const (
	hasLink = 1 << iota
	hasVisibility
	linkIsDescription
)

// reportExtra is what few reports have.
type reportExtra struct {
	id         string      // an id that is not a canonical UUID
	raw        *reportWire // the report as it came, when it is not compact
	visibility string
	link       string // unless it is the description
}

// link is the report's link ("" for null).
func (sr *storedReport) link() string {
	switch {
	case sr.flags&linkIsDescription != 0:
		return sr.description
	case sr.extra != nil:
		return sr.extra.link
	}
	return ""
}

// reportID is the report's id as it was given.
func (sr *storedReport) reportID() string {
	if sr.extra != nil && sr.extra.id != "" {
		return sr.extra.id
	}
	return formatUUID(sr.id)
}

// storedIOC is one IOC of a storedReport, in 20 bytes.
type storedIOC struct {
	id [16]byte
	// kind is the index of the IOC's match type and field in the shared
	// table, with nilValues set when its values were null.
	kind uint8
	// link is 0 for none, reportLink for the report's link, else 1 + its
	// index in the report's strs.
	link uint8
	// The values are strs[start : start+n].
	start, n uint8
}

const (
	nilValues  = 1 << 7
	maxKinds   = nilValues      // kinds a shared table holds
	reportLink = math.MaxUint8  // an IOC's link that is the report's
	maxStrs    = reportLink - 1 // strings a report's table holds
)

// iocKind is a match type and field, shared by every report's IOCs.
type iocKind struct {
	match carbonblack.MatchType
	field string
}

// reportTables are the tables shared by every stored report, bounded like
// the interner's.
type reportTables struct {
	kinds   []iocKind
	kindIdx map[iocKind]uint8
	tags    map[string]*[]string
}

// kind returns the index of k in the table, adding it while there is room.
func (t *reportTables) kind(k iocKind) (uint8, bool) {
	if i, ok := t.kindIdx[k]; ok {
		return i, true
	}
	if len(t.kinds) >= maxKinds {
		return 0, false
	}
	if t.kindIdx == nil {
		t.kindIdx = map[iocKind]uint8{}
	}
	i := uint8(len(t.kinds))
	t.kinds = append(t.kinds, k)
	t.kindIdx[k] = i
	return i, true
}

// tagList returns the shared copy of a list of tags (nil for null), once
// the table has room for it.
func (t *reportTables) tagList(in *interner, tags []string) *[]string {
	if tags == nil {
		return nil
	}
	key := strings.Join(tags, "\x00")
	if shared, ok := t.tags[key]; ok && len(*shared) == len(tags) {
		return shared
	}
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = in.str(tag)
	}
	if len(t.tags) < maxInterned {
		if t.tags == nil {
			t.tags = map[string]*[]string{}
		}
		t.tags[key] = &out
	}
	return &out
}

// storeReport returns the compact form of rep, with its strings shared as
// the doc of storedReport says.
func (st *state) storeReport(rep *reportWire) *storedReport {
	sr := &storedReport{timestamp: rep.Timestamp, severity: int32(rep.Severity), title: rep.Title}
	var x reportExtra
	if u, ok := parseUUID(rep.ID); ok {
		sr.id = u
	} else {
		x.id = rep.ID
	}
	if rep.Link != nil {
		sr.flags |= hasLink
	}
	if rep.Visibility != nil {
		sr.flags |= hasVisibility
		x.visibility = st.intern.str(*rep.Visibility)
	}
	if int(sr.severity) != rep.Severity || !st.compactReport(sr, rep, &x) {
		st.intern.report(rep)
		sr = &storedReport{id: sr.id}
		x.raw = rep
	}
	if x != (reportExtra{}) {
		sr.extra = &x
	}
	return sr
}

func (st *state) compactReport(sr *storedReport, rep *reportWire, x *reportExtra) bool {

	// cut returns the copy of s the report already holds, a substring of its title or description, if any.
	cut := func(s string) (string, bool) {
		if s == "" {
			return s, false
		}
		for _, o := range []string{sr.title, sr.description} {
			if i := strings.Index(o, s); i >= 0 {
				return o[i : i+len(s)], true
			}
		}
		return s, false
	}
	sr.description = rep.Description
	sr.description, _ = cut(rep.Description)
	// share returns the copy of s to keep: cut from the report's own strings, else the shared one of a string
	// that is not a hash.
	share := func(s string) string {
		if shared, ok := cut(s); ok || s == "" || isHexString(s) {
			return shared
		}
		return st.intern.str(s)
	}
	if rep.Link != nil && *rep.Link == rep.Description {
		sr.flags |= linkIsDescription
	} else if rep.Link != nil {
		x.link = share(*rep.Link)
	}
	sr.tags = st.reportTables.tagList(&st.intern, rep.Tags)
	index, runs := map[string]int{}, map[string]int{}
	// add returns the index of s in strs, adding it once.
	add := func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = len(sr.strs)
		sr.strs = append(sr.strs, share(s))
		return len(sr.strs) - 1
	}
	sr.iocs = make([]storedIOC, len(rep.IOCsV2))
	for i, ioc := range rep.IOCsV2 {
		u, ok := parseUUID(ioc.ID)
		if !ok {
			return false
		}
		kind, ok := st.reportTables.kind(iocKind{match: ioc.MatchType, field: ioc.Field})
		if !ok {
			return false
		}
		out := storedIOC{id: u, kind: kind}
		if ioc.Values == nil {
			out.kind |= nilValues
		}
		// The values are a run of strs: the run of an earlier IOC with the same values, or a new one.
		key := strings.Join(ioc.Values, "\x00")
		start, ok := runs[key]
		if !ok || !sameValues(sr.strs[start:start+len(ioc.Values)], ioc.Values) {
			start = len(sr.strs)
			runs[key] = start
			for _, v := range ioc.Values {
				index[v] = len(sr.strs) // any copy will do for a link
				sr.strs = append(sr.strs, share(v))
			}
		}
		switch {
		case ioc.Link == "":
		case rep.Link != nil && ioc.Link == *rep.Link:
			out.link = reportLink
		default:
			out.link = uint8(min(add(ioc.Link)+1, maxStrs+1))
		}
		if len(sr.strs) > maxStrs {
			return false
		}
		out.start, out.n = uint8(start), uint8(len(ioc.Values))
		sr.iocs[i] = out
	}
	if cap(sr.strs) > len(sr.strs) {
		sr.strs = append(make([]string, 0, len(sr.strs)), sr.strs...)
	}
	return true
}

func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isHexString reports whether s is a hash-like hex string, not worth a place in the shared table.
func isHexString(s string) bool {
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if _, ok := lowerHex(s[i] | 0x20); !ok {
			return false
		}
	}
	return true
}

// wire builds the report as the service answers it.
func (sr *storedReport) wire(t *reportTables) *reportWire {
	if sr.extra != nil && sr.extra.raw != nil {
		return sr.extra.raw
	}
	rep := &reportWire{ID: sr.reportID(), Timestamp: sr.timestamp, Title: sr.title, Description: sr.description,
		Severity: int(sr.severity), IOCsV2: make([]carbonblack.IOC, len(sr.iocs))}
	if sr.tags != nil {
		rep.Tags = *sr.tags
	}
	if sr.flags&hasLink != 0 {
		rep.Link = new(sr.link())
	}
	if sr.flags&hasVisibility != 0 {
		rep.Visibility = new(sr.extra.visibility)
	}
	for i, ioc := range sr.iocs {
		k := t.kinds[ioc.kind&^nilValues]
		out := carbonblack.IOC{ID: formatUUID(ioc.id), MatchType: k.match, Field: k.field}
		switch {
		case ioc.kind&nilValues != 0:
		case ioc.n == 0:
			out.Values = []string{}
		default:
			out.Values = sr.strs[ioc.start : ioc.start+ioc.n : ioc.start+ioc.n]
		}
		switch ioc.link {
		case 0:
		case reportLink:
			out.Link = sr.link()
		default:
			out.Link = sr.strs[ioc.link-1]
		}
		rep.IOCsV2[i] = out
	}
	return rep
}

// reportLocked returns the watchlist report with this id.
func (st *state) reportLocked(id string) (*storedReport, bool) {
	if u, ok := parseUUID(id); ok {
		sr, ok := st.reports[u]
		return sr, ok
	}
	sr, ok := st.oddReports[id]
	return sr, ok
}

// putReportLocked stores a watchlist report, replacing the one with its id
// in its place in the creation order.
func (st *state) putReportLocked(rep *reportWire) {
	sr := st.storeReport(rep)
	if old, ok := st.reportLocked(rep.ID); ok {
		*old = *sr
		return
	}
	if sr.extra != nil && sr.extra.id != "" {
		st.oddReports[sr.extra.id] = sr
	} else {
		st.reports[sr.id] = sr
	}
	st.reportOrder = append(st.reportOrder, sr)
}

// deleteReportLocked forgets a watchlist report.
func (st *state) deleteReportLocked(sr *storedReport) {
	if sr.extra != nil && sr.extra.id != "" {
		delete(st.oddReports, sr.extra.id)
	} else {
		delete(st.reports, sr.id)
	}
	st.reportOrder = slices.DeleteFunc(st.reportOrder, func(x *storedReport) bool { return x == sr })
}
