package partylog

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the log's Prometheus metrics. All carry the log's origin as a
// constant label, so several logs can share one registry.
type metrics struct {
	appends     prometheus.Counter
	appendErrs  prometheus.Counter
	batch       prometheus.Histogram
	commit      prometheus.Histogram
	checkpoints prometheus.Counter
	size        prometheus.Gauge
	cpSize      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, origin string) (*metrics, error) {
	labels := prometheus.Labels{"origin": origin}
	m := &metrics{
		appends: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillit_log_appends_total",
			Help: "Entries durably appended.", ConstLabels: labels}),
		appendErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillit_log_append_errors_total",
			Help: "Entries whose append failed.", ConstLabels: labels}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tillit_log_batch_entries",
			Help: "Entries per group commit.", ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tillit_log_commit_seconds",
			Help: "Time to durably write one batch.", ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		checkpoints: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillit_log_checkpoints_total",
			Help: "Checkpoints signed and released.", ConstLabels: labels}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tillit_log_size",
			Help: "Durable tree size.", ConstLabels: labels}),
		cpSize: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tillit_log_checkpoint_size",
			Help: "Tree size of the latest released checkpoint.", ConstLabels: labels}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			m.unregister(reg)
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.appends, m.appendErrs, m.batch, m.commit, m.checkpoints, m.size, m.cpSize}
}

// unregister removes the metrics from reg, so that a log that failed to
// open (or was closed) can be opened again with the same registry.
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}
