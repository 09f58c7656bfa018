package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/examples/internal/console"
)

// The console over a store holding one dead letter, asked for its dead-letter page as a browser on the same host
// would.
func Example() {
	store := memstore.New()
	defer store.Close()
	now := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	hashes := connector.Hashes{SHA256: strings.Repeat("ab", 32)}
	store.Update(context.Background(), func(tx connector.Tx) error {
		return tx.PutItem(connector.Item{Key: connector.Key{Kind: connector.SHA256, Hex: hashes.SHA256},
			State:    connector.StateFailed,
			Evidence: connector.Evidence{Hashes: hashes, FileName: "invoice.exe"},
			Failure:  &connector.Failure{Stage: connector.StageFetch, Reason: "no source could deliver the file", At: now},
			Created:  now, Updated: now})
	})

	c, err := console.New(console.Options{Name: "cbc-vmray", Store: store, Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodGet, console.Path+"failed", nil)
	req.Host = "127.0.0.1:9464"
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	page := rec.Body.String()
	fmt.Println(rec.Code, strings.Contains(page, "invoice.exe"), strings.Contains(page, "no source could deliver the file"))
	fmt.Println(rec.Header().Get("X-Frame-Options"))
	// Output:
	// 200 true true
	// DENY
}
