package carbonblack_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/soarkit/soarkit/carbonblack"
)

// Client.Do calls an endpoint this package does not wrap, here the alert
// facets, through the client's engine; WithResponseMetadata shows what the
// successful response carried. The httptest server stands in for Carbon Black
// Cloud (the fake serves only the wrapped endpoints).
func ExampleClient_Do() {
	cbc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/alerts/v7/orgs/7DESJ9GN/alerts/_facet" || r.Header.Get("X-Auth-Token") != "secret/ABCD1234" {
			http.Error(w, `{"error_code":"INVALID","message":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Request-Id", "b7e3")
		w.Write([]byte(`{"results":[{"field":"type","values":[{"id":"WATCHLIST","name":"WATCHLIST","total":12},{"id":"CB_ANALYTICS","name":"CB_ANALYTICS","total":3}]}]}`))
	}))
	defer cbc.Close()

	c, err := carbonblack.New(cbc.URL, "7DESJ9GN", "ABCD1234", "secret")
	if err != nil {
		log.Fatal(err)
	}
	var md carbonblack.ResponseMetadata
	var facets struct {
		Results []struct {
			Field  string `json:"field"`
			Values []struct {
				ID    string `json:"id"`
				Total int    `json:"total"`
			} `json:"values"`
		} `json:"results"`
	}
	ctx := carbonblack.WithResponseMetadata(context.Background(), &md)
	err = c.Do(ctx, carbonblack.Request{
		Method: http.MethodPost,
		Path:   "/api/alerts/v7/orgs/" + c.OrgKey() + "/alerts/_facet",
		Body: map[string]any{
			"criteria": map[string]any{"minimum_severity": 3},
			"terms":    map[string]any{"fields": []string{"type"}, "rows": 10},
		},
	}, &facets)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range facets.Results[0].Values {
		fmt.Println(v.ID, v.Total)
	}
	fmt.Println(md.StatusCode, md.RequestID)
	// Output:
	// WATCHLIST 12
	// CB_ANALYTICS 3
	// 200 b7e3
}
