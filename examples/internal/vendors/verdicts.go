package vendors

import (
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/config"
)

// CheckGates adds a problem for every action whose verdicts do not parse or
// name a verdict outside selected (the VMRay connectors' selected_verdicts,
// the original SELECTED_VERDICTS): the action would never act on it. gated
// maps each action's verdicts key ("ban.verdicts") to its verdicts.
func CheckGates(p *config.Problems, selected connector.KindSet, gated map[string][]string) {
	for key, verdicts := range gated {
		kinds, err := connector.ParseKinds(verdicts...)
		if err != nil {
			p.Add(key, "%v", err)
			continue
		}
		for _, k := range []connector.Kind{connector.Unknown, connector.Clean, connector.Suspicious, connector.Malicious} {
			if kinds.Has(k) && !selected.Has(k) {
				p.Add(key, "%s is not in selected_verdicts (%s), so it would never act", k, selected)
			}
		}
	}
}
