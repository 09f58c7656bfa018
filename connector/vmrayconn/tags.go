package vmrayconn

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/soarkit/soarkit/connector"
)

// sightingFields are the well-known sighting fields a TagAttribute may name,
// by their JSON names.
var sightingFields = map[string]func(connector.Sighting) string{
	"source":       func(s connector.Sighting) string { return s.Source },
	"device_id":    func(s connector.Sighting) string { return s.DeviceID },
	"device_name":  func(s connector.Sighting) string { return s.DeviceName },
	"agent_id":     func(s connector.Sighting) string { return s.AgentID },
	"os":           func(s connector.Sighting) string { return s.OS },
	"account_id":   func(s connector.Sighting) string { return s.AccountID },
	"account_name": func(s connector.Sighting) string { return s.AccountName },
	"site_id":      func(s connector.Sighting) string { return s.SiteID },
	"site_name":    func(s connector.Sighting) string { return s.SiteName },
}

// AttributeTags returns a SightingTags function reading one sighting field,
// named as in its JSON form ("site_name", "site_id", "account_name",
// "device_name", "os", ...), or else the sighting attribute of that name. The
// SentinelOne connector's SUBMISSION_CUSTOM_TAG_PROPERTY "siteName" is
// AttributeTags("site_name").
func AttributeTags(name string) func(connector.Sighting) []string {
	get, ok := sightingFields[name]
	if !ok {
		get = func(s connector.Sighting) string { return s.Attributes[name] }
	}
	return func(s connector.Sighting) []string {
		if v := get(s); v != "" {
			return []string{v}
		}
		return nil
	}
}

// SanitizeTag makes a value usable as a VMRay tag the way the original
// SentinelOne connector did: every run of characters other than ASCII letters
// and digits becomes one "_" ("EMEA Site-2" gives "EMEA_Site_2").
func SanitizeTag(v string) string {
	var b strings.Builder
	under := false
	for _, r := range v {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return b.String()
}

// checkTags refuses static tags VMRay would reject: empty, or with white space
// or commas (tags travel comma-joined).
func checkTags(tags []string) error {
	for _, t := range tags {
		if t == "" || strings.ContainsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
			return fmt.Errorf("vmrayconn: tag %q is empty or contains white space or a comma", t)
		}
	}
	return nil
}

// tagsFor returns the static tags followed by the sanitised tags derived from
// the evidence's sightings, without duplicates.
func (a *Analyzer) tagsFor(ev connector.Evidence) []string {
	tags := slices.Clone(a.opts.Tags)
	if a.opts.SightingTags == nil {
		return tags
	}
	var derived []string
	for _, s := range ev.Sightings {
		for _, v := range a.opts.SightingTags(s) {
			if t := SanitizeTag(strings.TrimSpace(v)); t != "" && t != "_" {
				derived = append(derived, t)
			}
		}
	}
	slices.Sort(derived)
	for _, t := range slices.Compact(derived) {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}
