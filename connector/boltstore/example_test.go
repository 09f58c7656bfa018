package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
	"github.com/soarkit/soarkit/connector/connectortest"
)

// The pipeline's state survives a restart: the second process finds the file done and does not analyse it again.
func Example() {
	dir, _ := os.MkdirTemp("", "boltstore-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "state.db")

	src := connectortest.NewSource("edr")
	h := src.AddFile([]byte("payload"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
		Sightings: []connector.Sighting{{DeviceID: "7"}}})
	sandbox := connectortest.NewAnalyzer("sandbox")

	for process := 1; process <= 2; process++ {
		store, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			fmt.Println(err)
			return
		}
		p, _ := connector.New(connector.Config{Store: store, Sources: []connector.Source{src}, Analyzer: sandbox})
		sum, _ := p.RunOnce(context.Background())
		fmt.Printf("process %d: collected %d, submitted %d\n", process, sum.Collected, sum.Submitted)
		store.Close()
	}
	fmt.Println("submissions in total:", len(sandbox.Submissions()))
	// Output:
	// process 1: collected 1, submitted 1
	// process 2: collected 0, submitted 0
	// submissions in total: 1
}
