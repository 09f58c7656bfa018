package vmraytest

import (
	"reflect"

	"github.com/soarkit/soarkit/vmray"
)

// iocKind gives the "ioc_type" and "type" VMRay fills in the items of one
// IOC list.
func iocKind(typ vmray.IOCType) [2]string {
	return map[vmray.IOCType][2]string{
		vmray.IOCFiles:          {"file", "file_artifact"},
		vmray.IOCFilenames:      {"filename", "filename_artifact"},
		vmray.IOCMutexes:        {"mutex", "mutex_artifact"},
		vmray.IOCRegistry:       {"registry", "registry_artifact"},
		vmray.IOCURLs:           {"url", "url_artifact"},
		vmray.IOCDomains:        {"domain", "domain_artifact"},
		vmray.IOCIPs:            {"ip", "ip_artifact"},
		vmray.IOCEmails:         {"email", "email_artifact"},
		vmray.IOCEmailAddresses: {"email_address", "email_address_artifact"},
		vmray.IOCProcesses:      {"process", "process_artifact"},
	}[typ]
}

// fillIOC makes one seeded IOC look as VMRay sends it: every list is an
// array ([] when empty, never null) and "ioc_type", "type", "ioc",
// "severity" and "numeric_severity" are filled from the list and verdict
// when the seed left them out. Clients (VMRay's own among them) iterate
// these lists unguarded.
func fillIOC(typ vmray.IOCType, item any, c *vmray.IOCCommon) {
	kind := iocKind(typ)
	if c.IOCType == "" {
		c.IOCType = kind[0]
	}
	if c.Type == "" {
		c.Type = kind[1]
	}
	if c.IOC == nil {
		yes := true
		c.IOC = &yes
	}
	if c.Severity == "" {
		switch c.Verdict {
		case vmray.VerdictMalicious:
			c.Severity = vmray.SeverityMalicious
		case vmray.VerdictSuspicious:
			c.Severity = vmray.SeveritySuspicious
		default:
			c.Severity = vmray.SeverityNotSuspicious
		}
	}
	if c.NumericSeverity == nil {
		n := 0
		switch c.Severity {
		case vmray.SeverityMalicious:
			n = 4
		case vmray.SeveritySuspicious:
			n = 3
		}
		c.NumericSeverity = &n
	}
	emptySlices(reflect.ValueOf(item).Elem())
}

// emptySlices replaces every nil slice of a struct, embedded structs
// included, with an empty one. Slice elements are left alone: they share
// memory with the seed, and none of them holds a list.
func emptySlices(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				emptySlices(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.IsNil() && v.CanSet() {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
	}
}
