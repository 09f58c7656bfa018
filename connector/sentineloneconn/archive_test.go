package sentineloneconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

func downloads(w *world, prefix string) int {
	n := 0
	for _, r := range w.fake.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// A fetched archive that arrives cut is fetched again a few times before the
// fetch is given up; one over the download limit, or whose file is over the
// sample cap, is given up at once.
func TestFetchArchiveFaults(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	uploads := sentinelone.APIPrefix + "/agents/" + w.ws1.ID + "/uploads/"
	fetch := func(c *sentinelone.Client) (connector.Sample, error) {
		t.Helper()
		src, err := sentineloneconn.NewThreatSource(c, sentineloneconn.SourceOptions{Scope: w.scope(t)})
		if err != nil {
			t.Fatal(err)
		}
		w.fake.ResetRequests()
		return src.Fetch(ctx, finding(w.t1, connector.Unknown).Evidence)
	}

	w.fake.InjectFault(sentinelonetest.Fault{Method: "GET", Path: uploads, Malformed: true, Times: 2})
	s, err := fetch(w.c)
	if err != nil {
		t.Fatalf("two cut archives: %v, want the file on the third fetch", err)
	}
	if got := readSample(t, s); string(got) != string(w.dropper) {
		t.Errorf("sample %q", got)
	}
	if n := downloads(w, uploads); n != 3 {
		t.Errorf("downloads = %d, want 3", n)
	}

	w.fake.InjectFault(sentinelonetest.Fault{Method: "GET", Path: uploads, Malformed: true})
	if _, err := fetch(w.c); !connector.IsPermanent(err) || !errors.Is(err, sentinelone.ErrBadArchive) {
		t.Errorf("always cut: %v, want a permanent ErrBadArchive", err)
	}
	if n := downloads(w, uploads); n != 3 {
		t.Errorf("downloads of an always cut archive = %d, want 3", n)
	}
	w.fake.ClearFaults()

	if _, err := fetch(w.fake.Client(sentinelone.WithMaxDownloadBytes(64))); !connector.IsPermanent(err) {
		t.Errorf("over the download limit: %v, want permanent", err)
	}
	if n := downloads(w, uploads); n != 1 {
		t.Errorf("downloads over the limit = %d, want 1", n)
	}

	// The sample cap applies to the file, not the zip: a cap of the file's size lets it through, one byte less
	// refuses it at once.
	size := int64(len(w.dropper))
	if s, err := fetch(w.fake.Client(sentinelone.WithMaxSampleBytes(size))); err != nil {
		t.Errorf("a sample at the cap: %v", err)
	} else {
		readSample(t, s)
	}
	if _, err := fetch(w.fake.Client(sentinelone.WithMaxSampleBytes(size - 1))); !connector.IsPermanent(err) {
		t.Errorf("a sample one byte over the cap: %v, want permanent", err)
	}
	if n := downloads(w, uploads); n != 1 {
		t.Errorf("downloads of a sample over the cap = %d, want 1 (no retry)", n)
	}
}
