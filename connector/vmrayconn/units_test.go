package vmrayconn_test

import (
	"encoding/json"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/vmray"
)

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		raw  string // sample_vti_score as VMRay sent it
		want int
	}{
		{"null", 1}, {"0", 1}, {"9", 1}, {"10", 1}, {"19", 1}, {"20", 2}, {"55", 5}, {"87", 8}, {"100", 10},
		{"87.9", 8}, {`"64"`, 6}, {`"suspicious"`, 5}, {`"malicious"`, 10}, {`"clean"`, 1},
	} {
		var s *vmray.Score
		if err := json.Unmarshal([]byte(tc.raw), &s); err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if got := vmrayconn.Severity(s); got != tc.want {
			t.Errorf("Severity(%s) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}

func TestKind(t *testing.T) {
	for v, want := range map[vmray.Verdict]connector.Kind{
		vmray.VerdictClean: connector.Clean, vmray.VerdictSuspicious: connector.Suspicious,
		vmray.VerdictMalicious: connector.Malicious, vmray.VerdictNotAvailable: connector.Unknown, "": connector.Unknown,
	} {
		if got := vmrayconn.Kind(v); got != want {
			t.Errorf("Kind(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestTicketIDRoundTrip(t *testing.T) {
	id := vmrayconn.TicketID{Submission: 4711, Sample: 42}
	got, err := vmrayconn.ParseTicketID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseTicketID(%q) = %+v, %v", id.String(), got, err)
	}
	if got, err := vmrayconn.ParseTicketID("17"); err != nil || got.Submission != 17 || got.Sample != 0 {
		t.Errorf("bare id: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "submission:x", "submission:0/sample:1", "submission:1/sample:-2", "sample:1"} {
		if _, err := vmrayconn.ParseTicketID(bad); err == nil {
			t.Errorf("ParseTicketID(%q) accepted", bad)
		}
	}
}

func TestSanitizeTag(t *testing.T) {
	for in, want := range map[string]string{
		"EMEA Site-2": "EMEA_Site_2", "Default site": "Default_site", "a  --  b": "a_b", "Zürich": "Z_rich",
		"plain": "plain", " lead": "_lead",
	} {
		if got := vmrayconn.SanitizeTag(in); got != want {
			t.Errorf("SanitizeTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttributeTags(t *testing.T) {
	s := connector.Sighting{SiteID: "225494730938493804", SiteName: "Default site", Attributes: map[string]string{"group": "Finance"}}
	for name, want := range map[string]string{"site_id": "225494730938493804", "site_name": "Default site", "group": "Finance"} {
		if got := vmrayconn.AttributeTags(name)(s); len(got) != 1 || got[0] != want {
			t.Errorf("AttributeTags(%q) = %v, want %q", name, got, want)
		}
	}
	if got := vmrayconn.AttributeTags("missing")(s); got != nil {
		t.Errorf("AttributeTags(missing) = %v", got)
	}
}
