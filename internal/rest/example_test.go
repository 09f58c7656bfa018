package rest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/soarkit/soarkit/internal/rest"
)

// A vendor package describes each call as a Request; the engine handles auth,
// retries, limits and errors.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "api_key example-key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/rest/sample/42" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"result":"error","error_msg":"No such sample"}`)
			return
		}
		io.WriteString(w, `{"result":"ok","data":{"sample_id":42,"sample_verdict":"malicious"}}`)
	}))
	defer srv.Close()

	c, err := rest.New(rest.Config{
		Vendor:  "vmray",
		BaseURL: srv.URL,
		Auth:    func(r *http.Request) { r.Header.Set("Authorization", "api_key example-key") },
	})
	if err != nil {
		panic(err)
	}
	var env struct {
		Data struct {
			ID      int    `json:"sample_id"`
			Verdict string `json:"sample_verdict"`
		} `json:"data"`
	}
	ctx := context.Background()
	if _, err := c.Do(ctx, &rest.Request{Op: "Samples.Get", Path: "/rest/sample/{}", PathArgs: []string{"42"}}, &env); err != nil {
		panic(err)
	}
	fmt.Println(env.Data.ID, env.Data.Verdict)

	_, err = c.Do(ctx, &rest.Request{Op: "Samples.Get", Path: "/rest/sample/{}", PathArgs: []string{"7"}}, &env)
	fmt.Println(errors.Is(err, rest.ErrNotFound))
	// Output:
	// 42 malicious
	// true
}

func ExamplePages() {
	pages := map[string][]string{"": {"a", "b"}, "next": {"c"}}
	fetch := func(ctx context.Context, cursor string) ([]string, string, error) {
		if cursor == "" {
			return pages[""], "next", nil
		}
		return pages[cursor], "", nil
	}
	for item, err := range rest.Pages(context.Background(), fetch) {
		if err != nil {
			panic(err)
		}
		fmt.Print(item, " ")
	}
	fmt.Println()
	// Output: a b c
}
