package carbonblack

import (
	"context"
	"crypto/x509"
	"iter"

	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/soarkit/soarkit/internal/rest"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Criteria filters a search: each key is a field name and each value is
// usually a list of accepted values (OR within a key, AND across keys), for
// example Criteria{"type": {"WATCHLIST"}, "device_os": {"WINDOWS"}}. A few
// keys take a scalar (minimum_severity) or a time range ([TimeRange]); use a
// map literal with any values for those:
//
//	carbonblack.Criteria{"minimum_severity": 3, "backend_update_timestamp": carbonblack.TimeRange{Range: "-1d"}}
type Criteria map[string]any

// TimeRange is an absolute (Start and End) or relative time filter. Alerts
// use Range ("-3d"); search jobs use Window ("-2w"). Units: s m h d w M y.
type TimeRange struct {
	Start  time.Time
	End    time.Time
	Range  string
	Window string
}

// timeLayout is the timestamp form Carbon Black sends and accepts.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime renders t the way Carbon Black expects it in bodies and
// queries: UTC with milliseconds, for example "2024-05-01T00:00:00.000Z".
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// MarshalJSON writes {"start","end"}, {"range"} or {"window"}.
func (r TimeRange) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, 2)
	if !r.Start.IsZero() {
		m["start"] = FormatTime(r.Start)
	}
	if !r.End.IsZero() {
		m["end"] = FormatTime(r.End)
	}
	if r.Range != "" {
		m["range"] = r.Range
	}
	if r.Window != "" {
		m["window"] = r.Window
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads any of the forms MarshalJSON writes.
func (r *TimeRange) UnmarshalJSON(b []byte) error {
	var m struct {
		// Start is sent as RFC 3339 in UTC with milliseconds.
		Start Timestamp `json:"start"`
		// End is sent as RFC 3339 in UTC with milliseconds.
		End    Timestamp `json:"end"`
		Range  string    `json:"range"`
		Window string    `json:"window"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = TimeRange{Start: m.Start.Time, End: m.End.Time, Range: m.Range, Window: m.Window}
	return nil
}

// IsZero reports whether no bound is set.
func (r TimeRange) IsZero() bool {
	return r.Start.IsZero() && r.End.IsZero() && r.Range == "" && r.Window == ""
}

// SortField orders search results.
type SortField struct {
	Field string `json:"field"`
	// Order is "ASC" or "DESC".
	Order string `json:"order"`
}

// Timestamp decodes the time forms Carbon Black sends: ISO-8601 strings
// (with or without fraction or zone), epoch milliseconds as a number, and
// null, "" or "null" (the zero time). It encodes as an ISO-8601 string with
// milliseconds, or null when zero.
type Timestamp struct{ time.Time }

// MarshalJSON writes "2006-01-02T15:04:05.000Z" or null.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + FormatTime(t.Time) + `"`), nil
}

// UnmarshalJSON accepts a string, an epoch-milliseconds number or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if b[0] != '"' {
		ms, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("carbonblack: timestamp %s: %w", b, err)
		}
		t.Time = time.UnixMilli(int64(ms)).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// ParseTime reads a Carbon Black time string; "", "null" and "0" give the
// zero time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "null", "0":
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("carbonblack: unrecognised timestamp %q", s)
}

// StringList decodes a field Carbon Black sends either as a string or as a
// list of strings (process_cmdline, process_username, event_type, ...).
type StringList []string

// UnmarshalJSON accepts a string, a list or null.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*l = nil
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*l = nil
		} else {
			*l = StringList{s}
		}
		return nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*l = out
	return nil
}

// First returns the first element, or "".
func (l StringList) First() string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// IntList decodes a field Carbon Black sends either as a number or as a list
// of numbers (process_pid).
type IntList []int64

// UnmarshalJSON accepts a number, a numeric string, a list or null.
func (l *IntList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*l = nil
		return nil
	}
	if b[0] != '[' {
		var n FlexInt
		if err := n.UnmarshalJSON(b); err != nil {
			return err
		}
		*l = IntList{int64(n)}
		return nil
	}
	var raw []FlexInt
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(IntList, len(raw))
	for i, v := range raw {
		out[i] = int64(v)
	}
	*l = out
	return nil
}

// First returns the first element, or 0.
func (l IntList) First() int64 {
	if len(l) == 0 {
		return 0
	}
	return l[0]
}

// FlexInt decodes an integer sent as a number or a numeric string (device
// ids, policy ids).
type FlexInt int64

// UnmarshalJSON accepts 12, "12", null and "".
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("carbonblack: not an integer: %s", b)
		}
		v = int64(f)
	}
	*n = FlexInt(v)
	return nil
}

// FlexBool decodes a boolean sent as true/false or as the strings "true" and
// "false" (seen in alert payloads).
type FlexBool bool

// UnmarshalJSON accepts true, false, "true", "false", null.
func (v *FlexBool) UnmarshalJSON(b []byte) error {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(b)), `"`))
	switch s {
	case "true", "1", "yes":
		*v = true
	case "false", "0", "no", "", "null":
		*v = false
	default:
		return fmt.Errorf("carbonblack: not a boolean: %s", b)
	}
	return nil
}

// IPv4 decodes netconn_ipv4 and similar fields, which Carbon Black sends as
// packed integers (388818410 is 23.44.229.234; negative values are the
// signed form of addresses from 128.0.0.0) and sometimes as dotted strings.
// It encodes as the packed unsigned integer.
type IPv4 struct{ netip.Addr }

// MarshalJSON writes the packed integer, or null when unset.
func (a IPv4) MarshalJSON() ([]byte, error) {
	if !a.IsValid() {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatUint(uint64(PackIPv4(a.Addr)), 10)), nil
}

// UnmarshalJSON accepts a number, a numeric string, a dotted string or null.
func (a *IPv4) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		a.Addr = netip.Addr{}
		return nil
	}
	addr, err := ParseIPv4(s)
	if err != nil {
		return err
	}
	a.Addr = addr
	return nil
}

// ParseIPv4 converts a packed integer (signed or unsigned, as text) or a
// dotted quad to an address.
func ParseIPv4(s string) (netip.Addr, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -(1<<31) || n > 1<<32-1 {
			return netip.Addr{}, fmt.Errorf("carbonblack: %d is not a packed IPv4 address", n)
		}
		return UnpackIPv4(uint32(n)), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Unmap().Is4() {
		return netip.Addr{}, fmt.Errorf("carbonblack: %q is not an IPv4 address", s)
	}
	return addr.Unmap(), nil
}

// UnpackIPv4 converts Carbon Black's packed big-endian integer to an address.
func UnpackIPv4(n uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}

// PackIPv4 converts an IPv4 address to Carbon Black's packed integer.
func PackIPv4(a netip.Addr) uint32 {
	b := a.Unmap().As4()
	return binary.BigEndian.Uint32(b[:])
}

// isSHA256 reports whether s is 64 hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// PickSHA256 returns the first 64-hex value of hashes, lower-cased: Carbon
// Black's process_hash lists mix MD5 and SHA-256 in no fixed order.
func PickSHA256(hashes []string) string {
	for _, h := range hashes {
		if isSHA256(h) {
			return strings.ToLower(h)
		}
	}
	return ""
}

// systemPoolWith returns the system roots plus the PEM certificates.
func systemPoolWith(pem []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &rest.ConfigError{Field: "ssl_cert_file", Reason: "no PEM certificate found"}
	}
	return pool, nil
}

// offsetPages iterates over an offset-paged search. fetch returns the page
// at start, the number of results the page held (skipped ones included) and
// the total number of matches; paging stops at the total, on a short or
// empty page, or before start+rows-1 would pass window (0 for none).
func offsetPages[T any](ctx context.Context, first, rows, window int, fetch func(ctx context.Context, start int) ([]T, int, int, error)) iter.Seq2[T, error] {
	return rest.Pages(ctx, func(ctx context.Context, cursor string) ([]T, string, error) {
		start := first
		if cursor != "" {
			start, _ = strconv.Atoi(cursor)
		}
		items, held, total, err := fetch(ctx, start)
		if err != nil {
			return nil, "", err
		}
		next := start + held
		if held == 0 || held < rows || next-first >= total || (window > 0 && next+rows-1 > window) {
			return items, "", nil
		}
		return items, strconv.Itoa(next), nil
	})
}

// call sends req and decodes the answer into a new T.
func call[T any](ctx context.Context, c *Client, req *rest.Request) (*T, error) {
	var out T
	if _, err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	c.reportSkipped(ctx, req.Op, &out)
	return &out, nil
}
