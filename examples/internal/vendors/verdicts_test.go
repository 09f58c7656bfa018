package vendors

import (
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/config"
)

func TestCheckGates(t *testing.T) {
	selected := connector.Kinds(connector.Malicious, connector.Suspicious)
	var p config.Problems
	CheckGates(&p, selected, map[string][]string{
		"ban.verdicts":        {"malicious"},
		"watchlist.verdicts":  {"malicious", "suspicious"},
		"quarantine.verdicts": {"clean", "malicious"},
		"kill.verdicts":       {"evil"},
	})
	keys := problemKeys(p)
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"kill.verdicts", "quarantine.verdicts"}) {
		t.Fatalf("problems %v", p)
	}
	for _, q := range p {
		if q.Key == "quarantine.verdicts" && !strings.HasPrefix(q.Reason, "clean is not in selected_verdicts") {
			t.Errorf("quarantine reason %q", q.Reason)
		}
	}
	p = nil
	CheckGates(&p, selected, map[string][]string{"ban.verdicts": {"suspicious"}, "note.verdicts": nil})
	if len(p) != 0 {
		t.Errorf("verdicts within the selection: %v", p)
	}
}
