package runner

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/connector"
)

// WriteSummary prints a run summary for people.
func WriteSummary(w io.Writer, s connector.Summary) {
	fmt.Fprintf(w, "\nRun summary (%s)\n", s.Finished.Sub(s.Started).Round(1e6))
	fmt.Fprintf(w, "  collected %d evidence records: %d distinct new files, %d merged into known files, %d rejected\n",
		s.Collected, s.New, s.Deduped, s.Rejected)
	fmt.Fprintf(w, "  analysis: %d lookups (%d known), %d cache hits, %d fetched, %d submitted, %d awaited\n",
		s.LookedUp, s.Known, s.CacheHits, s.Fetched, s.Submitted, s.Analysed)
	var verdicts []string
	for _, k := range []connector.Kind{connector.Malicious, connector.Suspicious, connector.Clean, connector.Unknown} {
		if n := s.Verdicts[k]; n > 0 {
			verdicts = append(verdicts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(verdicts) == 0 {
		verdicts = []string{"none"}
	}
	fmt.Fprintf(w, "  verdicts: %s\n", strings.Join(verdicts, ", "))
	names := make([]string, 0, len(s.Actions))
	for n := range s.Actions {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		fmt.Fprintln(w, "  actions: none")
	}
	for _, n := range names {
		a := s.Actions[n]
		fmt.Fprintf(w, "  action %-28s acted %d, unchanged %d, skipped %d, done before %d, failed %d\n",
			n, a.Acted, a.Unchanged, a.Skipped, a.DoneBefore, a.Failed)
	}
	if f := s.FailureCount(); f > 0 || s.SourceErrors > 0 {
		var stages []string
		for stage, n := range s.Failures {
			stages = append(stages, fmt.Sprintf("%s %d", stage, n))
		}
		slices.Sort(stages)
		fmt.Fprintf(w, "  failures: %d dead letters (%s), %d source errors; see them with \"state list -state failed\"\n",
			f, strings.Join(stages, ", "), s.SourceErrors)
	}
	if s.Pending > 0 {
		fmt.Fprintf(w, "  pending: %d items resume on the next run (%d waiting on a backoff or a refused component)\n",
			s.Pending, s.Waiting)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		if c := s.Components[name]; !c.Healthy {
			fmt.Fprintf(w, "  UNHEALTHY: %s %s: %s\n", c.Kind, name, c.Reason)
		}
	}
}
