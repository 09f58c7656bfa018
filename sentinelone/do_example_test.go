package sentinelone_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/soarkit/soarkit/sentinelone"
)

// Client.Do calls an endpoint this package does not wrap, here the agent
// count, through the client's engine; WithResponseMetadata shows what the
// successful response carried. The httptest server stands in for a console
// (the fake serves only the wrapped endpoints).
func ExampleClient_Do() {
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/web/api/v2.1/agents/count" || r.URL.Query().Get("isActive") != "true" || r.Header.Get("Authorization") != "ApiToken my-token" {
			http.Error(w, `{"errors":[{"code":4000010,"title":"Validation Error"}]}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Request-Id", "5c0ffee")
		w.Write([]byte(`{"data":{"total":1284}}`))
	}))
	defer console.Close()

	c, err := sentinelone.New(console.URL, "my-token")
	if err != nil {
		log.Fatal(err)
	}
	var md sentinelone.ResponseMetadata
	var count struct {
		Data struct {
			Total int `json:"total"`
		} `json:"data"`
	}
	ctx := sentinelone.WithResponseMetadata(context.Background(), &md)
	if err := c.Do(ctx, sentinelone.Request{Path: "/agents/count", Query: url.Values{"isActive": {"true"}}}, &count); err != nil {
		log.Fatal(err)
	}
	fmt.Println(count.Data.Total, md.StatusCode, md.RequestID)
	// Output: 1284 200 5c0ffee
}
