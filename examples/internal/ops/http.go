package ops

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/internal/rest"
)

// HTTPMetrics records the vendor clients' HTTP attempts. Pass it to each
// client's WithObserver option; it implements every vendor package's
// Observer. The collectors, each with a "connector" constant label:
//
//   - soarkit_http_requests_total{vendor, method, route, status}: attempts by
//     route template and status ("error" when no response arrived);
//   - soarkit_http_request_duration_seconds{vendor, method, route}: attempt
//     latency;
//   - soarkit_http_retries_total{vendor, method, route}: attempts that repeat
//     an earlier one;
//   - soarkit_http_rate_limited_total{vendor, route}: 429 answers;
//   - soarkit_http_rate_limiter_wait_seconds{vendor}: time spent waiting for
//     the client's own rate limiters before an attempt.
type HTTPMetrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	limiterWait *prometheus.HistogramVec
}

var (
	_ rest.Observer        = (*HTTPMetrics)(nil)
	_ prometheus.Collector = (*HTTPMetrics)(nil)
)

// NewHTTPMetrics creates the HTTP collectors. Register the result (a
// [prometheus.Collector]) with the registry /metrics serves; clients may be
// given it before.
func NewHTTPMetrics(connectorName string) *HTTPMetrics {
	constLabels := prometheus.Labels{"connector": connectorName}
	return &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "soarkit", Subsystem: "http", Name: "requests_total", ConstLabels: constLabels,
			Help: "HTTP attempts to vendor APIs by route template and status (error: no response).",
		}, []string{"vendor", "method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "soarkit", Subsystem: "http", Name: "request_duration_seconds", ConstLabels: constLabels,
			Help:    "Latency of HTTP attempts to vendor APIs, rate-limiter wait and backoff excluded.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"vendor", "method", "route"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "soarkit", Subsystem: "http", Name: "retries_total", ConstLabels: constLabels,
			Help: "HTTP attempts that repeat an earlier attempt of the same call.",
		}, []string{"vendor", "method", "route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "soarkit", Subsystem: "http", Name: "rate_limited_total", ConstLabels: constLabels,
			Help: "HTTP 429 answers from vendor APIs.",
		}, []string{"vendor", "route"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "soarkit", Subsystem: "http", Name: "rate_limiter_wait_seconds", ConstLabels: constLabels,
			Help:    "Time HTTP attempts waited for the client-side rate limiters.",
			Buckets: []float64{0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300},
		}, []string{"vendor"}),
	}
}

func (m *HTTPMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.retries, m.rateLimited, m.limiterWait}
}

// Describe implements [prometheus.Collector].
func (m *HTTPMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (m *HTTPMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// ObserveRequest implements the vendor clients' Observer.
func (m *HTTPMetrics) ObserveRequest(e rest.RequestEvent) {
	status := "error"
	if e.StatusCode > 0 {
		status = strconv.Itoa(e.StatusCode)
	}
	m.requests.WithLabelValues(e.Vendor, e.Method, e.Route, status).Inc()
	m.duration.WithLabelValues(e.Vendor, e.Method, e.Route).Observe(e.Latency.Seconds())
	if e.Retry() {
		m.retries.WithLabelValues(e.Vendor, e.Method, e.Route).Inc()
	}
	if e.StatusCode == http.StatusTooManyRequests {
		m.rateLimited.WithLabelValues(e.Vendor, e.Route).Inc()
	}
	m.limiterWait.WithLabelValues(e.Vendor).Observe(e.LimiterWait.Seconds())
}
