package ops_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/examples/internal/ops"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// HTTPMetrics is every vendor client's observer; /metrics then shows the
// attempts by vendor, route template and status.
func ExampleNewHTTPMetrics() {
	fake, err := vmraytest.New()
	if err != nil {
		panic(err)
	}
	defer fake.Close()

	reg := prometheus.NewRegistry()
	httpMetrics := ops.NewHTTPMetrics("cbc-vmray")
	reg.MustRegister(httpMetrics)
	client := fake.Client(vmray.WithObserver(httpMetrics))
	if _, err := client.System.Info(context.Background()); err != nil {
		panic(err)
	}

	rec := httptest.NewRecorder()
	ops.Handler(reg, ops.NewHealth(0), nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "soarkit_http_requests_total") {
			fmt.Print(line)
		}
	}
	// Output:
	// soarkit_http_requests_total{connector="cbc-vmray",method="GET",route="/system_info",status="200",vendor="vmray"} 1
}
