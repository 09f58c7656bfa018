package carbonblackconn

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultReputationFilters are the process reputations the original
// connector excluded (its REPUTATION_FILTERS): files Carbon Black already
// trusts are not worth a sandbox run.
var DefaultReputationFilters = []string{
	"TRUSTED_WHITE_LIST", "LOCAL_WHITE", "COMPANY_WHITE_LIST", "COMMON_WHITE_LIST", "ADAPTIVE_WHITE_LIST",
}

// DefaultDeviceOSFilters are the device operating systems the original
// connector collected from (its DEVICE_OS_FILTERS): Carbon Black's binary
// store keeps Windows executables.
var DefaultDeviceOSFilters = []string{"WINDOWS"}

// Reputations are the process reputation values Carbon Black knows.
var Reputations = []string{
	"ADAPTIVE_WHITE_LIST", "ADWARE", "COMMON_WHITE_LIST", "COMPANY_BLACK_LIST", "COMPANY_WHITE_LIST", "HEURISTIC",
	"IGNORE", "KNOWN_MALWARE", "LOCAL_WHITE", "NOT_LISTED", "PUP", "RESOLVING", "SUSPECT_MALWARE",
	"TRUSTED_WHITE_LIST",
}

// DeviceOSes are the device operating systems a filter can name.
var DeviceOSes = []string{"WINDOWS", "MAC", "LINUX"}

// Filters select the evidence a source collects, as the original
// connector's REPUTATION_FILTERS and DEVICE_OS_FILTERS did.
type Filters struct {
	// ExcludeReputations drops processes whose effective reputation is one of
	// these (nil: DefaultReputationFilters; an empty non-nil slice: none).
	ExcludeReputations []string
	// DeviceOS keeps only devices running one of these (nil:
	// DefaultDeviceOSFilters; an empty non-nil slice: every OS).
	DeviceOS []string
}

// withDefaults fills nil lists and normalises the values to upper case.
func (f Filters) withDefaults() (Filters, error) {
	if f.ExcludeReputations == nil {
		f.ExcludeReputations = DefaultReputationFilters
	}
	if f.DeviceOS == nil {
		f.DeviceOS = DefaultDeviceOSFilters
	}
	var err error
	if f.ExcludeReputations, err = upperIn(f.ExcludeReputations, Reputations, "reputation"); err != nil {
		return f, err
	}
	if f.DeviceOS, err = upperIn(f.DeviceOS, DeviceOSes, "device OS"); err != nil {
		return f, err
	}
	return f, nil
}

func upperIn(values, allowed []string, what string) ([]string, error) {
	out := make([]string, 0, len(values))
	for _, v := range values {
		u := strings.ToUpper(strings.TrimSpace(v))
		if !slices.Contains(allowed, u) {
			return nil, fmt.Errorf("carbonblackconn: unknown %s %q (one of %s)", what, v, strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Query renders the filters in Carbon Black's search syntax:
// "!process_effective_reputation:R" for each excluded reputation, and the
// device OSes as one alternative. (The original joined the OS terms with
// AND, so two OSes matched nothing.)
func (f Filters) Query() string {
	var parts []string
	for _, r := range f.ExcludeReputations {
		parts = append(parts, "!process_effective_reputation:"+r)
	}
	switch len(f.DeviceOS) {
	case 0:
	case 1:
		parts = append(parts, "device_os:"+f.DeviceOS[0])
	default:
		alts := make([]string, len(f.DeviceOS))
		for i, os := range f.DeviceOS {
			alts[i] = "device_os:" + os
		}
		parts = append(parts, "("+strings.Join(alts, " OR ")+")")
	}
	return strings.Join(parts, " AND ")
}

// and joins non-empty query clauses with AND.
func and(clauses ...string) string {
	var out []string
	for _, c := range clauses {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, " AND ")
}
