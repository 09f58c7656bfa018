package proofpoint_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/soarkit/soarkit/proofpoint"
)

// Client.Do sends any TAP request through the client's engine. This package
// wraps every endpoint TAP publishes today, so the example reads the Very
// Attacked People report raw, decoding only the fields it needs, as a call to
// an endpoint TAP adds later would; WithResponseMetadata shows what the
// successful response carried. The httptest server stands in for TAP.
func ExampleClient_Do() {
	tap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, ok := r.BasicAuth()
		if r.URL.Path != "/v2/people/vap" || r.URL.Query().Get("window") != "14" || !ok || user != "principal" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Request-Id", "e21a")
		w.Write([]byte(`{"users":[{"identity":{"emails":["cfo@example.com"]},"threatStatistics":{"attackIndex":1320}}],"totalVapUsers":1,"interval":"2026-11-19T00:00:00Z/2026-12-03T00:00:00Z"}`))
	}))
	defer tap.Close()

	c, err := proofpoint.New(tap.URL, "principal", "secret")
	if err != nil {
		log.Fatal(err)
	}
	var md proofpoint.ResponseMetadata
	var vap struct {
		Users []struct {
			Identity struct {
				Emails []string `json:"emails"`
			} `json:"identity"`
			ThreatStatistics struct {
				AttackIndex int `json:"attackIndex"`
			} `json:"threatStatistics"`
		} `json:"users"`
	}
	ctx := proofpoint.WithResponseMetadata(context.Background(), &md)
	if err := c.Do(ctx, proofpoint.Request{Path: "/v2/people/vap", Query: url.Values{"window": {"14"}}}, &vap); err != nil {
		log.Fatal(err)
	}
	fmt.Println(vap.Users[0].Identity.Emails[0], vap.Users[0].ThreatStatistics.AttackIndex, md.StatusCode, md.RequestID)
	// Output: cfo@example.com 1320 200 e21a
}
