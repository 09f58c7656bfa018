package ops_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/examples/internal/ops"
)

func ExampleNewMetrics() {
	reg := prometheus.NewRegistry()
	m, err := ops.NewMetrics(reg, "s1-vmray")
	if err != nil {
		panic(err)
	}
	m.Add(connector.CounterSubmitted, 1, "vmray")

	rec := httptest.NewRecorder()
	ops.Handler(reg, ops.NewHealth(0), nil).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 503 {
	//   "ready": false,
	//   "reasons": [
	//     "no source has collected successfully yet"
	//   ]
	// }
}
