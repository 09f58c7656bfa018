package vendors_test

import (
	"fmt"

	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/examples/internal/vendors"
)

func Example() {
	// An example connector embeds the shared VMRay settings in its own
	// section and fills in its defaults.
	type VMRay struct {
		vendors.VMRay `yaml:",inline"`
		MaxJobs       int `yaml:"max_jobs"`
	}
	vm := VMRay{VMRay: vendors.VMRay{URL: "https://eu.cloud.vmray.com", Transport: vendors.Transport{SSLVerify: true},
		SubmissionComment: "Sample from the connector", SubmissionTags: []string{"Demo"}}}

	var p config.Problems
	vm.Validate(&p, "DEMO")
	fmt.Println(p.Err())

	opts := vm.AnalyzerOptions(nil, true)
	fmt.Printf("comment %q, tags %v, caching %q\n", opts.Comment, opts.Tags, opts.AnalysisCaching)
	// Output:
	// invalid configuration:
	//   vmray.api_key: is required (set DEMO_VMRAY_API_KEY or DEMO_VMRAY_API_KEY_FILE)
	// comment "Sample from the connector", tags [Demo], caching "disabled"
}
