package vmray_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// Do sends through the same engine as the wrapped calls: authentication,
// retries, error decoding, and the response metadata.
func TestDoEscapeHatch(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	want, err := c.System.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(vmraytest.Fault{Method: http.MethodGet, Path: "/rest/system_info", Status: http.StatusServiceUnavailable, Times: 1})
	var md vmray.ResponseMetadata
	var got struct {
		Result string `json:"result"`
		Data   struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := c.Do(vmray.WithResponseMetadata(ctx, &md), vmray.Request{Path: "/system_info"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Result != "ok" || got.Data.Version == "" || got.Data.Version != want.Version {
		t.Errorf("decoded %+v, want version %q", got, want.Version)
	}
	if md.StatusCode != http.StatusOK || md.Attempts != 2 || md.Header.Get("Content-Type") == "" {
		t.Errorf("metadata %+v, want 200 after 2 attempts with headers", md)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Header.Get("Authorization") != "api_key "+vmraytest.DefaultAPIKey {
		t.Errorf("Authorization %q", last.Header.Get("Authorization"))
	}

	err = c.Do(ctx, vmray.Request{Method: http.MethodGet, Path: "/no_such_endpoint"}, nil)
	var ve *vmray.Error
	if !errors.As(err, &ve) || !errors.Is(err, vmray.ErrNotFound) || ve.Op != "Client.Do" || ve.Path != "/rest/no_such_endpoint" {
		t.Errorf("unknown endpoint: %#v", err)
	}
	before := len(srv.Requests())
	for _, p := range []string{"/../admin", "/sample/%2e%2e/x", "/system_info?x=1", "https://evil.example/rest"} {
		if err := c.Do(ctx, vmray.Request{Path: p}, nil); !errors.Is(err, vmray.ErrInvalidRequest) || !errors.As(err, &ve) {
			t.Errorf("path %q: %v", p, err)
		}
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("refused paths sent %d requests", n-before)
	}
}

// A wrapped call fills the metadata too; a failed one leaves it alone.
func TestResponseMetadataOnWrappedCall(t *testing.T) {
	srv := vmraytest.NewServer(t)
	c := srv.Client()
	md := vmray.ResponseMetadata{StatusCode: -1}
	ctx := vmray.WithResponseMetadata(context.Background(), &md)
	if _, err := c.Samples.Get(ctx, 999999); !errors.Is(err, vmray.ErrNotFound) {
		t.Fatalf("Get of a missing sample: %v", err)
	}
	if md.StatusCode != -1 {
		t.Errorf("failed call wrote metadata %+v", md)
	}
	if _, err := c.System.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if md.StatusCode != http.StatusOK || md.Attempts != 1 {
		t.Errorf("metadata %+v", md)
	}
}
