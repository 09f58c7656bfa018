package carbonblacktest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// A search that names several hashes answers from the fake's index what a scan of every override would: the
// overrides of those hashes, oldest first; a create of an existing ban conflicts; a deleted override is gone from
// the index.
func TestOverrideSearchByHashes(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	c := fake.Client()
	ctx := context.Background()
	var hashes, ids []string
	for i := range 300 {
		h := fmt.Sprintf("%064x", i+1)
		hashes = append(hashes, h)
		o, err := c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: carbonblack.OverrideBlackList,
			OverrideType: carbonblack.OverrideSHA256, SHA256Hash: h, Filename: "f.exe"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if _, err := c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: carbonblack.OverrideBlackList,
		OverrideType: carbonblack.OverrideSHA256, SHA256Hash: strings.ToUpper(hashes[7])}); !errors.Is(err, carbonblack.ErrConflict) {
		t.Errorf("second ban of a hash: %v, want a conflict", err)
	}
	if err := c.Reputations.Delete(ctx, ids[250]); err != nil {
		t.Fatal(err)
	}
	want := []string{hashes[3], hashes[250], hashes[299], hashes[17]}
	q := carbonblack.OverrideSearch{Criteria: carbonblack.Criteria{"override_list": carbonblack.OverrideBlackList},
		Query: "(" + strings.Join(want, " OR ") + " OR " + strings.Repeat("e", 64) + ")", Rows: 100}
	page, err := c.Reputations.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range page.Results {
		got = append(got, o.SHA256Hash)
	}
	if page.NumFound != 3 || strings.Join(got, ",") != strings.Join([]string{hashes[3], hashes[17], hashes[299]}, ",") {
		t.Errorf("found %d: %v; want hashes 3, 17 and 299 in creation order (250 was deleted)", page.NumFound, got)
	}
	if all, err := c.Reputations.Search(ctx, carbonblack.OverrideSearch{Query: "f.exe", Rows: 1}); err != nil || all.NumFound != 299 {
		t.Errorf("a free-text search that is not hashes scans every override: %+v %v", all, err)
	}
}
