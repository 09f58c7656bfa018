package fakehttp_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/soarkit/soarkit/internal/fakehttp"
)

func Example() {
	mw := fakehttp.NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fakehttp.WriteJSON(w, http.StatusOK, map[string]string{"hello": "world"})
	}))
	srv, err := fakehttp.Start(mw, fakehttp.Options{TLS: true})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	mw.InjectFault(fakehttp.Fault{Path: "/api", Times: 1, Status: http.StatusServiceUnavailable})
	for range 2 {
		resp, err := srv.HTTPClient().Get(srv.URL() + "/api")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println(len(mw.Requests()), "requests recorded")
	// Output:
	// 503 {}
	// 200 {"hello":"world"}
	// 2 requests recorded
}
