package vmrayconn

import (
	"net/netip"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// iocList builds typed IOCs without duplicates (by type and case-folded
// value), keeping the first verdict and classifications seen for a value.
type iocList struct {
	out  []connector.IOC
	seen map[string]bool
}

func (l *iocList) add(t connector.IOCType, value string, c vmray.IOCCommon, classes []string) {
	value = strings.TrimSpace(value)
	if value == "" {
		return
	}
	switch t {
	case connector.IOCSHA256, connector.IOCSHA1, connector.IOCMD5, connector.IOCDomain, connector.IOCEmail:
		value = strings.ToLower(value)
	case connector.IOCIP:
		addr, err := netip.ParseAddr(value)
		if err != nil {
			return
		}
		value = addr.Unmap().String()
	}
	key := string(t) + "\x00" + strings.ToLower(value)
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.out = append(l.out, connector.IOC{Type: t, Value: value, Verdict: Kind(c.Verdict), Classifications: nonEmpty(classes)})
}

func (l *iocList) hashes(h []vmray.IOCHashes, c vmray.IOCCommon, classes []string) {
	for _, x := range h {
		l.add(connector.IOCSHA256, x.SHA256, c, classes)
		l.add(connector.IOCSHA1, x.SHA1, c, classes)
		l.add(connector.IOCMD5, x.MD5, c, classes)
	}
}

// IOCs maps VMRay's typed IOC lists onto connector IOCs: file hashes (SHA-256,
// SHA-1, MD5) and names, file names, mutexes, registry keys, IP addresses
// (of IP, URL and domain artifacts), domains (of domain and IP artifacts),
// URLs (with their original forms), e-mail addresses (and e-mail senders),
// process command lines and image names. Each IOC keeps its artifact's verdict
// and classifications, so consumers can drop files classified "Ransomware"
// (usually victims of the sample, not malware) or keep only malicious IOCs.
func IOCs(in *vmray.IOCs) []connector.IOC {
	if in == nil {
		return nil
	}
	var l iocList
	for _, f := range in.Files {
		l.hashes(f.Hashes, f.IOCCommon, f.Classifications)
		l.add(connector.IOCFileName, f.Filename, f.IOCCommon, f.Classifications)
		for _, n := range f.Filenames {
			l.add(connector.IOCFileName, n, f.IOCCommon, f.Classifications)
		}
	}
	for _, f := range in.Filenames {
		l.add(connector.IOCFileName, f.Filename, f.IOCCommon, f.Classifications)
	}
	for _, m := range in.Mutexes {
		l.add(connector.IOCMutex, m.MutexName, m.IOCCommon, m.Classifications)
	}
	for _, r := range in.Registry {
		l.add(connector.IOCRegistryKey, r.RegKeyName, r.IOCCommon, r.Classifications)
	}
	for _, ip := range in.IPs {
		l.add(connector.IOCIP, ip.IPAddress, ip.IOCCommon, nil)
		for _, d := range ip.Domains {
			l.add(connector.IOCDomain, d, ip.IOCCommon, nil)
		}
	}
	for _, u := range in.URLs {
		l.add(connector.IOCURL, u.URL, u.IOCCommon, nil)
		for _, o := range u.OriginalURLs {
			l.add(connector.IOCURL, o, u.IOCCommon, nil)
		}
		for _, ip := range u.IPAddresses {
			l.add(connector.IOCIP, ip, u.IOCCommon, nil)
		}
	}
	for _, d := range in.Domains {
		l.add(connector.IOCDomain, d.Domain, d.IOCCommon, nil)
		for _, o := range d.OriginalDomains {
			l.add(connector.IOCDomain, o, d.IOCCommon, nil)
		}
		for _, ip := range d.IPAddresses {
			l.add(connector.IOCIP, ip, d.IOCCommon, nil)
		}
	}
	for _, e := range in.EmailAddresses {
		l.add(connector.IOCEmail, e.EmailAddress, e.IOCCommon, e.Classifications)
	}
	for _, e := range in.Emails {
		l.add(connector.IOCEmail, e.Sender, e.IOCCommon, e.Classifications)
		l.hashes(e.Hashes, e.IOCCommon, e.Classifications)
	}
	for _, p := range in.Processes {
		l.add(connector.IOCCommandLine, p.CmdLine, p.IOCCommon, p.Classifications)
		for _, n := range p.ImageNames {
			l.add(connector.IOCProcessName, n, p.IOCCommon, p.Classifications)
		}
	}
	return l.out
}

func lower(s string) string { return strings.ToLower(s) }
