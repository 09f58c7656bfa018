package sentinelone_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// Do sends through the same engine as the wrapped calls: authentication,
// retries, error decoding, and the response metadata.
func TestDoEscapeHatch(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	want, err := c.System.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(sentinelonetest.Fault{Method: http.MethodGet, Path: "/web/api/v2.1/system/info", Status: http.StatusServiceUnavailable, Times: 1})
	var md sentinelone.ResponseMetadata
	var got struct {
		Data struct {
			Build   string `json:"build"`
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := c.Do(sentinelone.WithResponseMetadata(ctx, &md), sentinelone.Request{Path: "/system/info"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Data.Version == "" || got.Data.Version != string(want.Version) || got.Data.Build != string(want.Build) {
		t.Errorf("decoded %+v, want %+v", got.Data, want)
	}
	if md.StatusCode != http.StatusOK || md.Attempts != 2 || md.Header.Get("Content-Type") == "" {
		t.Errorf("metadata %+v, want 200 after 2 attempts with headers", md)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Header.Get("Authorization") != "ApiToken "+sentinelonetest.DefaultToken {
		t.Errorf("Authorization %q", last.Header.Get("Authorization"))
	}

	err = c.Do(ctx, sentinelone.Request{Method: http.MethodPost, Path: "/threats/no-such-action", Body: map[string]any{"filter": map[string]any{}}}, nil)
	var se *sentinelone.Error
	if !errors.As(err, &se) || !errors.Is(err, sentinelone.ErrNotFound) || se.Op != "Client.Do" || se.Method != http.MethodPost {
		t.Errorf("unknown endpoint: %#v", err)
	}
	before := len(srv.Requests())
	for _, p := range []string{"/threats/../users", "/threats?limit=1", "https://evil.example/x"} {
		if err := c.Do(ctx, sentinelone.Request{Path: p}, nil); !errors.Is(err, sentinelone.ErrInvalidRequest) || !errors.As(err, &se) {
			t.Errorf("path %q: %v", p, err)
		}
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("refused paths sent %d requests", n-before)
	}
}

// An iterator fills the metadata with its last page's response.
func TestResponseMetadataOfAnIterator(t *testing.T) {
	srv := sentinelonetest.NewServer(t)
	for range 3 {
		srv.AddThreat(sentinelone.Threat{})
	}
	c := srv.Client()
	var md sentinelone.ResponseMetadata
	ctx := sentinelone.WithResponseMetadata(context.Background(), &md)
	n := 0
	for _, err := range c.Threats.All(ctx, sentinelone.ThreatListOptions{ListOptions: sentinelone.ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.Path == "/web/api/v2.1/threats" {
			pages++
		}
	}
	if n != 3 || pages != 2 || md.StatusCode != http.StatusOK || md.Attempts != 1 {
		t.Errorf("%d threats over %d pages, metadata %+v", n, pages, md)
	}
}
