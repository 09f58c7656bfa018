package carbonblacktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// record is a stored object in its wire form, decoded with json.Number.
type record map[string]any

// doc is a stored object as searches read it: a record, or a record in its
// compact form (crec).
type doc interface {
	// field returns the value of a field and whether the object has it.
	field(key string) (any, bool)
	// values calls fn with the value of every field, in no order.
	values(fn func(v any))
}

func (r record) field(key string) (any, bool) {
	v, ok := r[key]
	return v, ok
}

func (r record) values(fn func(v any)) {
	for _, v := range r {
		fn(v)
	}
}

// get returns a field's value, nil when the object does not have it.
func get(d doc, key string) any {
	v, _ := d.field(key)
	return v
}

// toRecord turns a typed value (or raw JSON) into a record.
func toRecord(v any) record {
	var b []byte
	switch x := v.(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return record{}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var r record
	if dec.Decode(&r) != nil || r == nil {
		return record{}
	}
	return r
}

// strs renders a field value as strings (lists element-wise).
func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, strs(e)...)
		}
		return out
	case []string:
		return x
	case string:
		return []string{x}
	case hashVal:
		return []string{x.String()}
	case tsVal:
		return []string{x.String()}
	case numVal:
		return []string{x.String()}
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case int, int64:
		return []string{fmt.Sprint(x)}
	}
	return []string{fmt.Sprint(v)}
}

// timeOf parses a record's time field (ISO string or epoch milliseconds).
func timeOf(v any) (time.Time, bool) {
	if t, ok := v.(tsVal); ok {
		return t.time(), true
	}
	for _, s := range strs(v) {
		if t, err := carbonblack.ParseTime(s); err == nil && !t.IsZero() {
			return t, true
		}
	}
	return time.Time{}, false
}

// relative parses "-3d", "-2w", "-1h" and friends into a duration back.
func relative(s string) (time.Duration, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	if len(s) < 2 {
		return 0, fmt.Errorf("bad relative range %q", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad relative range %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour,
		'w': 7 * 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("bad relative range unit in %q", s)
	}
	return time.Duration(n) * unit, nil
}

// timeBounds reads {start,end}, {range} or {window} relative to now.
func timeBounds(v any, now time.Time) (from, to time.Time, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		// A list of one timestamp (seen in an observation criteria sample)
		// means "from then on".
		if t, ok := timeOf(v); ok {
			return t, time.Time{}, nil
		}
		return from, to, fmt.Errorf("time filter must be an object")
	}
	for _, k := range []string{"range", "window"} {
		if r, ok := m[k].(string); ok && r != "" {
			d, err := relative(r)
			if err != nil {
				return from, to, err
			}
			return now.Add(-d), now, nil
		}
	}
	if v, ok := m["start"]; ok {
		if from, ok = timeOf(v); !ok {
			return from, to, fmt.Errorf("bad start time %v", v)
		}
	}
	if v, ok := m["end"]; ok {
		if to, ok = timeOf(v); !ok {
			return from, to, fmt.Errorf("bad end time %v", v)
		}
	}
	return from, to, nil
}

func inBounds(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

// matchCriteria applies criteria (and, negated, exclusions): OR within a
// key, AND across keys. Time-range values are matched as times, and
// minimum_severity as a lower bound.
func matchCriteria(r doc, criteria map[string]any, exclude bool, now time.Time) (bool, error) {
	for key, want := range criteria {
		ok, err := matchKey(r, key, want, now)
		if err != nil {
			return false, err
		}
		if ok == exclude {
			return false, nil
		}
	}
	return true, nil
}

func matchKey(r doc, key string, want any, now time.Time) (bool, error) {
	if key == "minimum_severity" {
		min, _ := strconv.ParseFloat(strs(want)[0], 64)
		sev, _ := strconv.ParseFloat(append(strs(get(r, "severity")), "0")[0], 64)
		return sev >= min, nil
	}
	if _, isMap := want.(map[string]any); isMap || strings.HasSuffix(key, "_timestamp") || strings.HasSuffix(key, "_time") {
		from, to, err := timeBounds(want, now)
		if err != nil {
			return false, fmt.Errorf("criteria %s: %w", key, err)
		}
		t, ok := timeOf(get(r, key))
		return ok && inBounds(t, from, to), nil
	}
	have := strs(lookup(r, key))
	for _, w := range strs(want) {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return true, nil
			}
		}
	}
	return false, nil
}

// lookup reads a field; "a.b" reaches into objects and lists of objects
// (watchlists.id).
func lookup(r doc, key string) any {
	if v, ok := r.field(key); ok {
		return v
	}
	head, rest, ok := strings.Cut(key, ".")
	if !ok {
		return nil
	}
	switch x := get(r, head).(type) {
	case map[string]any:
		return lookup(record(x), rest)
	case []any:
		var out []any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, lookup(record(m), rest))
			}
		}
		return out
	}
	return nil
}

// query is a parsed search query: alternatives (OR) of conjunctions.
type query [][]term

type term struct {
	neg    bool
	field  string
	value  string
	lo, hi string
	ranged bool
	glob   *regexp.Regexp
}

var errSyntax = errors.New("query syntax error")

// parseQuery understands the subset of Carbon Black's Lucene-like syntax the
// connectors use: field:value terms (with * wildcards and \ escapes),
// field:[a TO b] ranges, bare words (free text), AND, OR, NOT, - and !
// negation, and parentheses (which only group; precedence is OR over AND).
func parseQuery(q string) (query, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	var out query
	var cur []term
	neg := false
	for _, t := range toks {
		switch t {
		case "AND", "&&":
			continue
		case "OR", "||":
			if len(cur) == 0 {
				return nil, fmt.Errorf("%w: OR without a left operand", errSyntax)
			}
			out = append(out, cur)
			cur = nil
			continue
		case "NOT":
			neg = !neg
			continue
		}
		tm, err := parseTerm(t)
		if err != nil {
			return nil, err
		}
		tm.neg = tm.neg != neg
		neg = false
		cur = append(cur, tm)
	}
	if neg {
		return nil, fmt.Errorf("%w: NOT at the end", errSyntax)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	} else if len(out) > 0 {
		return nil, fmt.Errorf("%w: OR at the end", errSyntax)
	}
	return out, nil
}

func tokenize(q string) ([]string, error) {
	var toks []string
	var b strings.Builder
	depth, bracket, quoted := 0, false, false
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\\' && i+1 < len(q):
			b.WriteByte('\\')
			b.WriteByte(q[i+1])
			i++
		case c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case quoted:
			b.WriteByte(c)
		case c == '[':
			bracket = true
			b.WriteByte(c)
		case c == ']':
			if !bracket {
				return nil, fmt.Errorf("%w: unbalanced ]", errSyntax)
			}
			bracket = false
			b.WriteByte(c)
		case bracket:
			b.WriteByte(c)
		case c == '(':
			flush()
			depth++
		case c == ')':
			flush()
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("%w: unbalanced )", errSyntax)
			}
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		default:
			b.WriteByte(c)
		}
	}
	if depth != 0 || bracket || quoted {
		return nil, fmt.Errorf("%w: unbalanced parenthesis, bracket or quote", errSyntax)
	}
	flush()
	return toks, nil
}

func parseTerm(t string) (term, error) {
	var tm term
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "!") {
		tm.neg = true
		t = t[1:]
	}
	// Split at the first unescaped colon.
	idx := -1
	for i := 0; i < len(t); i++ {
		if t[i] == '\\' {
			i++
			continue
		}
		if t[i] == ':' {
			idx = i
			break
		}
	}
	if idx < 0 {
		if t == "" {
			return tm, fmt.Errorf("%w: empty term", errSyntax)
		}
		tm.value = unescape(t)
		return tm, nil
	}
	tm.field, t = t[:idx], t[idx+1:]
	if tm.field == "" || t == "" {
		return tm, fmt.Errorf("%w: term %q needs a field and a value", errSyntax, tm.field+":"+t)
	}
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		lo, hi, ok := strings.Cut(t[1:len(t)-1], " TO ")
		if !ok {
			return tm, fmt.Errorf("%w: range %q needs TO", errSyntax, t)
		}
		tm.ranged, tm.lo, tm.hi = true, strings.TrimSpace(lo), strings.TrimSpace(hi)
		return tm, nil
	}
	tm.value = unescape(strings.Trim(t, `"`))
	if strings.ContainsAny(tm.value, "*?") {
		// Wildcards match across path separators, unlike path.Match.
		pat := regexp.QuoteMeta(tm.value)
		pat = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(pat)
		tm.glob = regexp.MustCompile("(?is)^" + pat + "$")
	}
	return tm, nil
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// match reports whether the record satisfies the query (empty matches all).
func (q query) match(r doc) bool {
	if len(q) == 0 {
		return true
	}
	for _, conj := range q {
		ok := true
		for _, t := range conj {
			if t.match(r) == t.neg {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (t term) match(r doc) bool {
	var values []string
	if t.field == "" {
		r.values(func(v any) { values = append(values, strs(v)...) })
		for _, v := range values {
			if strings.Contains(strings.ToLower(v), strings.ToLower(t.value)) {
				return true
			}
		}
		return false
	}
	values = strs(lookup(r, t.field))
	if t.field == "process_hash" {
		values = append(values, strs(get(r, "process_sha256"))...)
	}
	for _, v := range values {
		if t.ranged {
			if inRange(v, t.lo, t.hi) {
				return true
			}
			continue
		}
		if t.glob != nil {
			if t.glob.MatchString(v) {
				return true
			}
			continue
		}
		if strings.EqualFold(v, t.value) {
			return true
		}
		// Paths are tokenised: a bare name matches the file name of a path.
		if i := strings.LastIndexAny(v, `\/`); i >= 0 && strings.EqualFold(v[i+1:], t.value) {
			return true
		}
	}
	return false
}

func inRange(v, lo, hi string) bool {
	if vt, err := carbonblack.ParseTime(v); err == nil && !vt.IsZero() {
		lt, _ := carbonblack.ParseTime(strings.Trim(lo, "*"))
		ht, _ := carbonblack.ParseTime(strings.Trim(hi, "*"))
		return inBounds(vt, lt, ht)
	}
	if vf, err := strconv.ParseFloat(v, 64); err == nil {
		lf, lerr := strconv.ParseFloat(lo, 64)
		hf, herr := strconv.ParseFloat(hi, 64)
		return (lo == "*" || lerr == nil && vf >= lf) && (hi == "*" || herr == nil && vf <= hf)
	}
	return (lo == "*" || v >= lo) && (hi == "*" || v <= hi)
}

// sortRecords orders records by the sort fields (default applied by the
// caller). Each record's sort values are parsed once.
func sortRecords[R doc](rs []R, sorts []carbonblack.SortField) {
	if len(sorts) == 0 {
		return
	}
	type keyed struct {
		r    R
		keys []sortValue
	}
	ks := make([]keyed, len(rs))
	for i, r := range rs {
		ks[i].r = r
		for _, s := range sorts {
			v := ""
			if vs := strs(lookup(r, s.Field)); len(vs) > 0 {
				v = vs[0]
			}
			ks[i].keys = append(ks[i].keys, parseSortValue(v))
		}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		for n, s := range sorts {
			c := ks[i].keys[n].compare(ks[j].keys[n])
			if c == 0 {
				continue
			}
			if strings.EqualFold(s.Order, "DESC") {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	for i := range ks {
		rs[i] = ks[i].r
	}
}

// sortValue is a field value parsed for comparison.
type sortValue struct {
	s     string
	num   float64
	t     time.Time
	isNum bool
	isT   bool
}

func parseSortValue(v string) sortValue {
	sv := sortValue{s: v}
	if numeric.MatchString(v) {
		sv.num, _ = strconv.ParseFloat(v, 64)
		sv.isNum = true
	} else if t, err := carbonblack.ParseTime(v); err == nil && !t.IsZero() {
		sv.t, sv.isT = t, true
	}
	return sv
}

func (a sortValue) compare(b sortValue) int {
	switch {
	case a.isNum && b.isNum:
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	case a.isT && b.isT:
		return a.t.Compare(b.t)
	}
	return strings.Compare(a.s, b.s)
}

var numeric = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// searchBody is the common shape of search request bodies.
type searchBody struct {
	Criteria   map[string]any          `json:"criteria"`
	Exclusions map[string]any          `json:"exclusions"`
	Query      string                  `json:"query"`
	TimeRange  map[string]any          `json:"time_range"`
	Sort       []carbonblack.SortField `json:"sort"`
	Rows       *json.Number            `json:"rows"`
	Start      *json.Number            `json:"start"`
	Fields     []string                `json:"fields"`
}

func numberOr(n *json.Number, def int) (int, error) {
	if n == nil {
		return def, nil
	}
	v, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", n.String())
	}
	return v, nil
}

// filter returns the records matching the body's criteria, exclusions and
// query; timeField, when set, is filtered by time_range.
func filter[R doc](b *searchBody, rs []R, timeField string, now time.Time) ([]R, error) {
	q, err := parseQuery(b.Query)
	if err != nil {
		return nil, err
	}
	var from, to time.Time
	if timeField != "" && b.TimeRange != nil {
		if from, to, err = timeBounds(map[string]any(b.TimeRange), now); err != nil {
			return nil, fmt.Errorf("time_range: %w", err)
		}
	}
	var out []R
	for _, r := range rs {
		if timeField != "" && b.TimeRange != nil {
			t, ok := timeOf(get(r, timeField))
			if !ok || !inBounds(t, from, to) {
				continue
			}
		}
		ok, err := matchCriteria(r, b.Criteria, false, now)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if ok, err = matchCriteria(r, b.Exclusions, true, now); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		if q.match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func isSyntax(err error) bool { return errors.Is(err, errSyntax) }

// decodeAll converts records back to typed values.
func decodeAll[T any, R any](rs []R) []T {
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		b, _ := json.Marshal(r)
		var v T
		if json.Unmarshal(b, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

// pageParams reads rows and start from a search body (defaults when
// absent), answering 400 when they are out of range. minStart is 1 for the
// 1-based searches (start 0 then reads as 1) and 0 for the 0-based ones.
func pageParams(w http.ResponseWriter, b *searchBody, defRows, minStart int) (start, rows int, ok bool) {
	rows, err := numberOr(b.Rows, defRows)
	if err != nil || rows < 0 || rows > 10_000 {
		badRequest(w, "rows must be between 0 and 10000")
		return 0, 0, false
	}
	start, err = numberOr(b.Start, minStart)
	if err != nil || start < 0 {
		badRequest(w, "start must not be negative")
		return 0, 0, false
	}
	return max(start, minStart), rows, true
}

// filterOrFail filters records by the body, answering 400 (with the query
// syntax reason when it applies) on a bad body.
func filterOrFail[R doc](b *searchBody, w http.ResponseWriter, rs []R, timeField string, now time.Time) ([]R, bool) {
	out, err := filter(b, rs, timeField, now)
	if err != nil {
		if isSyntax(err) {
			querySyntax(w, err)
		} else {
			badRequest(w, "%v", err)
		}
		return nil, false
	}
	return out, true
}
