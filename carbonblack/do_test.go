package carbonblack_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

// Do sends through the same engine as the wrapped calls: authentication,
// retries, error decoding, and the response metadata.
func TestDoEscapeHatch(t *testing.T) {
	srv := carbonblacktest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	srv.AddPolicy(carbonblack.Policy{Name: "Servers - Prevention", PriorityLevel: "HIGH"})
	want, err := c.Policies.List(ctx)
	if err != nil || len(want) == 0 {
		t.Fatalf("Policies.List: %d policies, %v", len(want), err)
	}
	path := "/policyservice/v1/orgs/" + c.OrgKey() + "/policies/summary"
	srv.InjectFault(carbonblacktest.Fault{Method: http.MethodGet, Path: path, Status: http.StatusBadGateway, Times: 1})
	var md carbonblack.ResponseMetadata
	var got struct {
		Policies []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"policies"`
	}
	if err := c.Do(carbonblack.WithResponseMetadata(ctx, &md), carbonblack.Request{Path: path}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Policies) != len(want) || got.Policies[0].ID != want[0].ID || got.Policies[0].Name != want[0].Name {
		t.Errorf("decoded %+v, want %+v", got.Policies, want)
	}
	if md.StatusCode != http.StatusOK || md.Attempts != 2 || md.Header.Get("Content-Type") == "" {
		t.Errorf("metadata %+v, want 200 after 2 attempts with headers", md)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Header.Get("X-Auth-Token") == "" {
		t.Error("Do sent no X-Auth-Token")
	}

	err = c.Do(ctx, carbonblack.Request{Path: "/appservices/v6/orgs/" + c.OrgKey() + "/policies/999999999"}, nil)
	var ce *carbonblack.Error
	if !errors.As(err, &ce) || !errors.Is(err, carbonblack.ErrNotFound) || ce.Op != "Client.Do" {
		t.Errorf("unknown endpoint: %#v", err)
	}
	before := len(srv.Requests())
	for _, p := range []string{"/appservices/../x", "/x?org=1", "https://evil.example/x"} {
		if err := c.Do(ctx, carbonblack.Request{Path: p}, nil); !errors.Is(err, carbonblack.ErrInvalidRequest) || !errors.As(err, &ce) {
			t.Errorf("path %q: %v", p, err)
		}
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("refused paths sent %d requests", n-before)
	}
}
