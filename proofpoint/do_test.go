package proofpoint_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

// Do sends through the same engine as the wrapped calls: authentication,
// retries, error decoding, and the response metadata.
func TestDoEscapeHatch(t *testing.T) {
	srv := proofpointtest.NewServer(t)
	c := srv.Client()
	ctx := context.Background()
	srv.AddVAPUser(proofpoint.VAPUser{Identity: proofpoint.Identity{GUID: "88e7b2a3-8a0b-4a2a-9d5f-1b0c3f5a6e21", Emails: []string{"cfo@example.com"}, Name: "Ada Finance"}})
	want, err := c.People.ListVAP(ctx, proofpoint.PeopleOptions{Window: 30})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(proofpointtest.Fault{Method: http.MethodGet, Path: "/v2/people/vap", Status: http.StatusInternalServerError, Times: 1})
	var md proofpoint.ResponseMetadata
	var got struct {
		TotalVAPUsers int `json:"totalVapUsers"`
		Users         []struct {
			Identity struct {
				Emails []string `json:"emails"`
			} `json:"identity"`
		} `json:"users"`
	}
	if err := c.Do(proofpoint.WithResponseMetadata(ctx, &md), proofpoint.Request{Path: "/v2/people/vap", Query: url.Values{"window": {"30"}}}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 1 || got.TotalVAPUsers != want.TotalVAPUsers || len(want.Users) != 1 ||
		got.Users[0].Identity.Emails[0] != "cfo@example.com" {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	if md.StatusCode != http.StatusOK || md.Attempts != 2 || md.Header.Get("Content-Type") == "" {
		t.Errorf("metadata %+v, want 200 after 2 attempts with headers", md)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if user, _, ok := basicAuth(last.Header); !ok || user == "" || last.Query.Get("window") != "30" {
		t.Errorf("request %s?%s without basic auth or window", last.Path, last.RawQuery)
	}

	err = c.Do(ctx, proofpoint.Request{Path: "/v2/no/such/endpoint"}, nil)
	var pe *proofpoint.Error
	if !errors.As(err, &pe) || !errors.Is(err, proofpoint.ErrNotFound) || pe.Op != "Client.Do" {
		t.Errorf("unknown endpoint: %#v", err)
	}
	before := len(srv.Requests())
	for _, p := range []string{"/v2/people/../siem/all", "/v2/people/vap?window=30", "https://evil.example/v2"} {
		if err := c.Do(ctx, proofpoint.Request{Path: p}, nil); !errors.Is(err, proofpoint.ErrInvalidRequest) || !errors.As(err, &pe) {
			t.Errorf("path %q: %v", p, err)
		}
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("refused paths sent %d requests", n-before)
	}
}

func basicAuth(h http.Header) (user, pass string, ok bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}
