package rest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/soarkit/soarkit/internal/rest"
)

// printObserver prints each attempt; a real one feeds metrics.
type printObserver struct{}

func (printObserver) ObserveRequest(e rest.RequestEvent) {
	fmt.Println(e.Vendor, e.Method, e.Route, e.StatusCode, "attempt", e.Attempt, "retry", e.Retry())
}

// An Observer sees every attempt with the route template, never the ids.
func ExampleObserver() {
	throttled := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !throttled {
			throttled = true
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	c, err := rest.New(rest.Config{Vendor: "vmray", BaseURL: srv.URL, Observer: printObserver{}})
	if err != nil {
		panic(err)
	}
	if _, err := c.Do(context.Background(), &rest.Request{Op: "Samples.Get", Path: "/sample/{}", PathArgs: []string{"42"}}, nil); err != nil {
		panic(err)
	}
	// Output:
	// vmray GET /sample/{} 429 attempt 1 retry false
	// vmray GET /sample/{} 200 attempt 2 retry true
}
