package nsxconn_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/connector/nsxconn/nsxtest"
)

// Tag the VM of a host that ran a malicious file.
func ExampleTagger() {
	fake, err := nsxtest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	fake.AddVM(nsxconn.VirtualMachine{ExternalID: "5010-8d2e", DisplayName: "FINANCE-PC7"})

	client, err := nsxconn.New(fake.URL(), nsxtest.DefaultUsername, nsxtest.DefaultPassword)
	if err != nil {
		panic(err)
	}
	tagger, err := nsxconn.NewTagger(client, nsxconn.Tag{Scope: "soarkit", Tag: "infected"})
	if err != nil {
		panic(err)
	}
	// In a pipeline, wrap it: connector.Gate(tagger, ...) acts only on chosen verdicts.
	res, err := tagger.Respond(context.Background(), connector.Finding{
		Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("ab", 32)}},
		Verdict:  connector.Verdict{Kind: connector.Malicious},
		Sighting: &connector.Sighting{DeviceID: "77", DeviceName: "FINANCE-PC7"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.Detail)
	vm, _ := fake.VM("5010-8d2e")
	fmt.Println(vm.Tags)
	// Output:
	// acted tagged VM "FINANCE-PC7" (5010-8d2e) with "infected"
	// [{soarkit infected}]
}
