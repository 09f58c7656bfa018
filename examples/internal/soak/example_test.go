package soak_test

import (
	"os"

	"github.com/soarkit/soarkit/examples/internal/soak"
)

// A run's figures, as the soak command prints them.
func ExampleResult_WriteTable() {
	r := &soak.Result{Example: "cbc-vmray", Seed: 42, Items: 100, Actionable: 49, FaultRate: 0.2, Kills: 5, Starts: 6,
		FinalRuns: 1, Submissions: 100, DuplicateSubmissions: map[string]int{}, Requests: map[string]int{"carbonblack": 584, "vmray": 830},
		Responders: []soak.ResponderCount{{Name: "ban", Expected: 28, Done: 28}, {Name: "quarantine", Expected: 28, Done: 28}}}
	r.WriteTable(os.Stdout)
	// Output:
	// cbc-vmray: seed 42, 100 items (49 actionable), 20% faults (faults off at the last kill), 5 kills, 6 starts, 1 final runs
	//   lost files: 0; VMRay submissions: 100, files submitted more than once: 0; dead letters: 0, pending: 0
	//   responder   expected  done  duplicate  missing  unexpected
	//   ban         28        28    0          0        0
	//   quarantine  28        28    0          0        0
	//   requests: carbonblack 584, vmray 830
}
