package vmray_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/soarkit/soarkit/vmray"
)

// Client.Do calls an endpoint this package does not wrap, here tagging a
// submission, through the client's engine; WithResponseMetadata shows what
// the successful response carried. The httptest server stands in for a VMRay
// Platform (the fake serves only the wrapped endpoints).
func ExampleClient_Do() {
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/rest/submission/4569315/tag/phishing" || r.Header.Get("Authorization") != "api_key my-key" {
			http.Error(w, `{"result":"error","error_msg":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Request-Id", "9f1c2d")
		w.Write([]byte(`{"result":"ok","data":{}}`))
	}))
	defer platform.Close()

	c, err := vmray.New(platform.URL, "my-key")
	if err != nil {
		log.Fatal(err)
	}
	var md vmray.ResponseMetadata
	var answer struct {
		Result string `json:"result"`
	}
	ctx := vmray.WithResponseMetadata(context.Background(), &md)
	if err := c.Do(ctx, vmray.Request{Method: http.MethodPost, Path: "/submission/4569315/tag/phishing"}, &answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println(answer.Result, md.StatusCode, md.RequestID)
	// Output: ok 200 9f1c2d
}
