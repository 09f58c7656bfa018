package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// TestHTTPMetricsAgainstTheFakes drives each real client against its fake,
// with one 429 injected per vendor, and checks the counts by vendor, route
// template and status.
func TestHTTPMetricsAgainstTheFakes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTPMetrics("test")
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	throttle := func(path string) vmraytest.Fault {
		return vmraytest.Fault{Path: path, Times: 1, Status: 429, RetryAfter: "0"}
	}

	vm := vmraytest.NewServer(t)
	vm.InjectFault(throttle("/rest/system_info"))
	vc := vm.Client(vmray.WithObserver(m))
	if _, err := vc.System.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Samples.Get(ctx, 987654); !errors.Is(err, vmray.ErrNotFound) {
		t.Fatalf("sample 987654: %v", err)
	}

	cb := carbonblacktest.NewServer(t)
	cb.InjectFault(throttle("/threathunter/feedmgr"))
	if _, err := cb.Client(carbonblack.WithObserver(m)).Feeds.List(ctx, false); err != nil {
		t.Fatal(err)
	}

	s1 := sentinelonetest.NewServer(t)
	s1.InjectFault(throttle("/web/api/v2.1/system/info"))
	if _, err := s1.Client(sentinelone.WithObserver(m)).System.Info(ctx); err != nil {
		t.Fatal(err)
	}
	bad, err := sentinelone.New(s1.URL(), "wrong-token", sentinelone.WithObserver(m))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.System.Info(ctx); !errors.Is(err, sentinelone.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}

	tap := proofpointtest.NewServer(t)
	tap.InjectFault(throttle("/v2/siem/all"))
	if _, err := tap.Client(proofpoint.WithObserver(m)).SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{SinceSeconds: 60}); err != nil {
		t.Fatal(err)
	}

	series := gatherSeries(t, reg)
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`soarkit_http_requests_total{method="GET",route="/system_info",status="429",vendor="vmray"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/system_info",status="200",vendor="vmray"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/sample/{}",status="404",vendor="vmray"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/threathunter/feedmgr/v2/orgs/{}/feeds",status="429",vendor="carbonblack"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/threathunter/feedmgr/v2/orgs/{}/feeds",status="200",vendor="carbonblack"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/system/info",status="429",vendor="sentinelone"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/system/info",status="200",vendor="sentinelone"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/system/info",status="401",vendor="sentinelone"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/v2/siem/all",status="429",vendor="proofpoint"}`, 1},
		{`soarkit_http_requests_total{method="GET",route="/v2/siem/all",status="200",vendor="proofpoint"}`, 1},
		{`soarkit_http_rate_limited_total{route="/system_info",vendor="vmray"}`, 1},
		{`soarkit_http_rate_limited_total{route="/threathunter/feedmgr/v2/orgs/{}/feeds",vendor="carbonblack"}`, 1},
		{`soarkit_http_rate_limited_total{route="/system/info",vendor="sentinelone"}`, 1},
		{`soarkit_http_rate_limited_total{route="/v2/siem/all",vendor="proofpoint"}`, 1},
		{`soarkit_http_retries_total{method="GET",route="/v2/siem/all",vendor="proofpoint"}`, 1},
		{`soarkit_http_retries_total{method="GET",route="/system/info",vendor="sentinelone"}`, 1},
		// Ten attempts, each with one latency and one limiter-wait sample.
		{`soarkit_http_request_duration_seconds_count`, 10},
		{`soarkit_http_rate_limiter_wait_seconds_count`, 10},
	} {
		if got := series[c.series]; got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	if got := series[`soarkit_http_retries_total`]; got != 4 {
		t.Errorf("retries = %v, want one per vendor", got)
	}
	// No id and no org key in any label.
	for name := range series {
		for _, leak := range []string{"987654", carbonblacktest.DefaultOrgKey} {
			if strings.Contains(name, leak) {
				t.Errorf("series %s carries %q", name, leak)
			}
		}
	}
	if err := reg.Register(NewHTTPMetrics("test")); err == nil {
		t.Error("registering twice succeeded")
	}
}

// gatherSeries returns every sample of g by name and labels (connector
// left out), plus per family name the sum of its counters or of its
// histograms' sample counts (as name_count).
func gatherSeries(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "connector" {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
				out[f.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[f.GetName()+"_count"] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
