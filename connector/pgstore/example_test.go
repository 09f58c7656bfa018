package pgstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
)

// A pipeline on PostgreSQL: the store creates its schema on first use, and a second replica opening the same URL
// shares the state (it finds the file done and does not analyse it again). The example needs a database, so it is
// compiled but not run; `eval "$(.ci/postgres.sh start)"` starts one and prints SOARKIT_TEST_POSTGRES_URL.
func Example() {
	ctx := context.Background()
	src := connectortest.NewSource("edr")
	h := src.AddFile([]byte("payload"))
	src.Add(connector.Evidence{Hashes: connector.Hashes{SHA256: h.SHA256},
		Sightings: []connector.Sighting{{DeviceID: "7"}}})
	sandbox := connectortest.NewAnalyzer("sandbox")

	for replica := 1; replica <= 2; replica++ {
		store, err := pgstore.Open(ctx, os.Getenv("SOARKIT_TEST_POSTGRES_URL"), pgstore.Options{
			Schema:   "example",
			Password: os.Getenv("PGPASSWORD"),
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		p, _ := connector.New(connector.Config{Store: store, Sources: []connector.Source{src}, Analyzer: sandbox})
		sum, _ := p.RunOnce(ctx)
		fmt.Printf("replica %d: collected %d, submitted %d\n", replica, sum.Collected, sum.Submitted)
		store.Close()
	}
}
