package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/boltstore"
)

// BenchmarkItemsSearch measures a search of the items page over a bbolt state file of 5,000 items (what a busy
// connector holds within its retention): the page reads every item and filters in memory.
func BenchmarkItemsSearch(b *testing.B) {
	store, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	w := &world{store: store, activity: NewActivity(nil)}
	err = store.Update(context.Background(), func(tx connector.Tx) error {
		for i := range 5000 {
			h := hashesOf(fmt.Sprintf("file-%d", i))
			it := connector.Item{Key: mustKey(b, h), State: connector.States()[i%6], Created: testNow, Updated: testNow,
				Evidence: connector.Evidence{Hashes: h, FileName: fmt.Sprintf("file-%d.exe", i), Source: "carbonblack",
					Sightings: []connector.Sighting{cbcSighting(fmt.Sprintf("WS-%04d", i%700), fmt.Sprint(i%700), testNow, `C:\x.exe`)}}}
			if err := tx.PutItem(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	c := newTestConsole(b, w, Auth{})
	for _, query := range []string{"", "device=WS-0042", "q=file-12"} {
		b.Run(query, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/console/items?"+query, nil)
				req.Host = "127.0.0.1"
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
