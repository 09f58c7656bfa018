package ops

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
)

// Metrics binds the pipeline's counters and stage latencies to Prometheus
// collectors named soarkit_<counter>_total and
// soarkit_stage_duration_seconds, and its health reports to the gauges
// soarkit_component_healthy{kind,component} (1 healthy, 0 unauthorized) and
// soarkit_source_last_success_timestamp_seconds{source}, each with a
// "connector" constant label.
type Metrics struct {
	counters    map[connector.Counter]*prometheus.CounterVec
	latency     *prometheus.HistogramVec
	runs        *prometheus.CounterVec
	lastRun     prometheus.Gauge
	healthy     *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
}

var (
	_ connector.Observer       = (*Metrics)(nil)
	_ connector.HealthObserver = (*Metrics)(nil)
)

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
	m.healthy = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "soarkit", Name: "component_healthy",
		Help:        "1 while the component works, 0 while its credentials are refused (401/403).",
		ConstLabels: constLabels,
	}, []string{"kind", "component"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "soarkit", Name: "source_last_success_timestamp_seconds",
		Help: "Unix time of the last successful collection of the source.", ConstLabels: constLabels,
	}, []string{"source"})
	for _, c := range []prometheus.Collector{m.latency, m.runs, m.lastRun, m.healthy, m.lastSuccess} {
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

// ComponentHealth implements connector.HealthObserver.
func (m *Metrics) ComponentHealth(kind connector.ComponentKind, name string, healthy bool, reason string) {
	v := 0.0
	if healthy {
		v = 1
	}
	m.healthy.WithLabelValues(string(kind), name).Set(v)
}

// SourceCollected implements connector.HealthObserver.
func (m *Metrics) SourceCollected(name string, at time.Time) {
	m.lastSuccess.WithLabelValues(name).Set(float64(at.UnixNano()) / 1e9)
}

// StateCollector reports the state file's items at every scrape (connector.CountItems):
// soarkit_items{state}, soarkit_items_waiting (open items waiting on a
// backoff or an unauthorized component) and
// soarkit_oldest_open_item_age_seconds.
type StateCollector struct {
	store   connector.Store
	now     func() time.Time
	items   *prometheus.Desc
	waiting *prometheus.Desc
	oldest  *prometheus.Desc
	errors  *prometheus.Desc
}

// NewStateCollector creates the collector for store and registers it with reg.
func NewStateCollector(reg prometheus.Registerer, connectorName string, store connector.Store) (*StateCollector, error) {
	cl := prometheus.Labels{"connector": connectorName}
	c := &StateCollector{store: store, now: time.Now,
		items:   prometheus.NewDesc("soarkit_items", "Items in the state file by state.", []string{"state"}, cl),
		waiting: prometheus.NewDesc("soarkit_items_waiting", "Open items waiting on a backoff or an unauthorized component.", nil, cl),
		oldest:  prometheus.NewDesc("soarkit_oldest_open_item_age_seconds", "Age of the oldest open item (0 when none is open).", nil, cl),
		errors:  prometheus.NewDesc("soarkit_state_scrape_error", "1 when the state file could not be read for this scrape.", nil, cl),
	}
	return c, reg.Register(c)
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.items
	ch <- c.waiting
	ch <- c.oldest
	ch <- c.errors
}

// Collect implements prometheus.Collector.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	counts, err := connector.CountItems(ctx, c.store)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.GaugeValue, 0)
	for st, n := range counts.ByState {
		ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(n), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(counts.Waiting))
	age := 0.0
	if !counts.OldestOpen.IsZero() {
		age = max(0, c.now().Sub(counts.OldestOpen).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
