package carbonblackconn

import (
	"crypto/sha256"
	"net/netip"
	"net/url"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// FieldValue is one (field, value) pair that becomes one equality IOC.
type FieldValue struct {
	Field string
	Value string
}

// MapIOCs maps a finding to Carbon Black equality IOCs, as the original
// connector's IOC_FIELD_MAPPINGS did, one pair per (field, value):
//
//   - SHA-256 indicators, the evidence's own SHA-256 and the analysed
//     sample's (a truncated copy's) become process_sha256, childproc_sha256,
//     fileless_scriptload_sha256, scriptload_sha256, filemod_sha256 and
//     modload_sha256;
//   - IPv4 addresses (also those of URL hosts) become netconn_ipv4; IPv6
//     addresses are not mapped (the original put them in netconn_ipv4);
//   - domains and the host names of URLs, without port, become
//     netconn_domain;
//   - registry keys become regmod_name, command lines process_cmdline,
//     process names process_name and file names filemod_name.
//
// Values are trimmed; a value wholly enclosed in one pair of matching quotes
// loses them, but a quoted command line followed by arguments is kept as it
// is. Indicators whose own verdict is known and not in keep are left out
// (keep is the original's SELECTED_VERDICTS applied to IOCs; indicators
// without a verdict are kept). The pairs come in the order of the
// indicators, without duplicates.
func MapIOCs(f connector.Finding, keep connector.KindSet) []FieldValue {
	m := newIOCSet()
	sha := func(v string) {
		v = strings.ToLower(cleanValue(v))
		if isHex(v, 64) {
			for _, field := range carbonblack.SHA256Fields {
				m.add(field, v)
			}
		}
	}
	sha(f.Evidence.Hashes.SHA256)
	sha(f.Verdict.SampleHashes.SHA256)
	for _, ioc := range f.Verdict.IOCs {
		if ioc.Verdict != connector.Unknown && !keep.Has(ioc.Verdict) {
			continue
		}
		v := cleanValue(ioc.Value)
		if v == "" {
			continue
		}
		switch ioc.Type {
		case connector.IOCSHA256:
			sha(v)
		case connector.IOCIP:
			if a, err := netip.ParseAddr(v); err == nil && a.Unmap().Is4() {
				m.add(carbonblack.FieldNetconnIPv4, a.Unmap().String())
			}
		case connector.IOCDomain:
			m.add(carbonblack.FieldNetconnDomain, strings.ToLower(strings.TrimSuffix(v, ".")))
		case connector.IOCURL:
			host := urlHost(v)
			if a, err := netip.ParseAddr(host); err == nil {
				if a.Unmap().Is4() {
					m.add(carbonblack.FieldNetconnIPv4, a.Unmap().String())
				}
			} else if host != "" {
				m.add(carbonblack.FieldNetconnDomain, host)
			}
		case connector.IOCRegistryKey:
			m.add(carbonblack.FieldRegmodName, v)
		case connector.IOCCommandLine:
			m.add(carbonblack.FieldProcessCmdline, v)
		case connector.IOCProcessName:
			m.add(carbonblack.FieldProcessName, v)
		case connector.IOCFileName:
			m.add(carbonblack.FieldFilemodName, v)
		}
	}
	return m.list
}

// cleanValue trims a value and removes one pair of quotes that encloses all
// of it ("C:\x.exe" becomes C:\x.exe; "C:\x.exe" -a stays as it is).
func cleanValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 {
		q := v[0]
		if (q == '"' || q == '\'') && v[len(v)-1] == q && !strings.ContainsRune(v[1:len(v)-1], rune(q)) {
			v = strings.TrimSpace(v[1 : len(v)-1])
		}
	}
	return v
}

// urlHost returns a URL's host name without port or brackets, lower-cased,
// or "" when the value has none.
func urlHost(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

// iocSet collects distinct (field, value) pairs, comparing values without
// regard to case as Carbon Black's equality match does.
type iocSet struct {
	seen map[iocID]bool
	list []FieldValue
}

func newIOCSet() *iocSet { return &iocSet{seen: map[iocID]bool{}} }

func (s *iocSet) add(field, value string) {
	k := iocKey(field, value)
	if value == "" || s.seen[k] {
		return
	}
	s.seen[k] = true
	s.list = append(s.list, FieldValue{Field: field, Value: value})
}

// iocID names an IOC value of a field as Carbon Black's equality match compares it (without regard to case): the
// first 16 bytes of the SHA-256 of the field and the lower-case value. The watchlist baseline holds one for every IOC
// of the organisation's watchlists, so it is kept to 16 bytes instead of the field and value themselves (a
// collision, one in 2^64 for four billion IOCs, would only leave an IOC out of a report).
type iocID [16]byte

func iocKey(field, value string) iocID {
	sum := sha256.Sum256([]byte(field + "\x00" + strings.ToLower(value)))
	return iocID(sum[:16])
}
