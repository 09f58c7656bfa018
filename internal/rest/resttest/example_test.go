package resttest_test

import (
	"context"
	"fmt"

	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/internal/rest/resttest"
)

func ExampleCanned() {
	canned := &resttest.Canned{}
	c, err := rest.New(rest.Config{Vendor: "demo", BaseURL: "https://demo.example", HTTPClient: canned.Client()})
	if err != nil {
		panic(err)
	}
	canned.Set([]byte(`{"items":[1,2,3]}`))
	var out struct{ Items []int }
	_, err = c.Do(context.Background(), &rest.Request{Op: "Items.List", Path: "/items"}, &out)
	fmt.Println(out.Items, err)

	canned.Set([]byte(`{"items":"not a list"}`))
	_, err = c.Do(context.Background(), &rest.Request{Op: "Items.List", Path: "/items"}, &out)
	fmt.Println(err)
	// Output:
	// [1 2 3] <nil>
	// demo: Items.List: GET /items: decoding response: malformed response: json: cannot unmarshal string into Go struct field .Items of type []int
}
