package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
)

// Metrics binds the pipeline's counters and stage latencies to Prometheus
// collectors named soarkit_<counter>_total and
// soarkit_stage_duration_seconds, each with a "connector" constant label.
type Metrics struct {
	counters map[connector.Counter]*prometheus.CounterVec
	latency  *prometheus.HistogramVec
	runs     *prometheus.CounterVec
	lastRun  prometheus.Gauge
}

var _ connector.Observer = (*Metrics)(nil)

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer, connectorName string) (*Metrics, error) {
	constLabels := prometheus.Labels{"connector": connectorName}
	m := &Metrics{counters: make(map[connector.Counter]*prometheus.CounterVec)}
	for _, c := range connector.Counters() {
		vec := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "soarkit", Name: string(c) + "_total",
			Help: "Pipeline counter " + string(c) + ".", ConstLabels: constLabels,
		}, c.Labels())
		if err := reg.Register(vec); err != nil {
			return nil, err
		}
		m.counters[c] = vec
	}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "soarkit", Name: "stage_duration_seconds",
		Help:        "Duration of component calls per pipeline stage.",
		ConstLabels: constLabels,
		Buckets:     prometheus.ExponentialBuckets(0.005, 3, 12),
	}, []string{"stage", "component", "outcome"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "soarkit", Name: "cycles_total", Help: "Completed collection cycles by result.", ConstLabels: constLabels,
	}, []string{"result"})
	m.lastRun = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "soarkit", Name: "last_cycle_timestamp_seconds", Help: "Unix time of the last completed cycle.", ConstLabels: constLabels,
	})
	for _, c := range []prometheus.Collector{m.latency, m.runs, m.lastRun} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Add implements connector.Observer.
func (m *Metrics) Add(c connector.Counter, n int, labels ...string) {
	vec, ok := m.counters[c]
	if !ok || len(labels) != len(c.Labels()) {
		return
	}
	vec.WithLabelValues(labels...).Add(float64(n))
}

// Latency implements connector.Observer.
func (m *Metrics) Latency(stage connector.Stage, component, outcome string, d time.Duration) {
	m.latency.WithLabelValues(string(stage), component, outcome).Observe(d.Seconds())
}

// CycleDone records a finished collection cycle.
func (m *Metrics) CycleDone(at time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(result).Inc()
	m.lastRun.Set(float64(at.Unix()))
}
