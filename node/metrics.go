package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus metrics (docs/node.md lists them).
type metrics struct {
	reg            prometheus.Registerer
	cs             []prometheus.Collector
	sent           *prometheus.CounterVec
	received       *prometheus.CounterVec
	invalid        *prometheus.CounterVec
	sendLatency    prometheus.Histogram
	receiptLatency prometheus.Histogram
	pushLatency    *prometheus.HistogramVec
	pushFailures   *prometheus.CounterVec
	pulled         *prometheus.CounterVec
	overdue        prometheus.Gauge
	link           *prometheus.GaugeVec
	mirrorSize     *prometheus.GaugeVec
	forks          prometheus.Counter
	rateLimited    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg: reg,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillit_statements_sent_total",
			Help: "Statements this node appended to its log, by type."}, []string{"type"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillit_statements_received_total",
			Help: "Statements addressed to this party that arrived in a mirrored log, by type."}, []string{"type"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillit_invalid_entries_total",
			Help: "Entries of peers' logs that are not valid statements of the regime, by party."}, []string{"party"}),
		sendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tillit_send_seconds",
			Help: "Time from a send request to the statement being durable in the log.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		receiptLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tillit_receipt_latency_seconds",
			Help: "Time from a statement's time to its receipt (the recipient's cosignature timestamp, whole seconds).", Buckets: prometheus.ExponentialBuckets(0.5, 2, 14)}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tillit_push_seconds",
			Help: "Duration of successful pushes, by peer.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"peer"}),
		pushFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillit_push_failures_total",
			Help: "Pushes that got no receipt, by peer."}, []string{"peer"}),
		pulled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tillit_pulled_entries_total",
			Help: "Entries fetched by pulling, by peer."}, []string{"peer"}),
		overdue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tillit_overdue_statements",
			Help: "Statements (sent, received or observed) whose receipt or acknowledgment is overdue."}),
		link: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tillit_link_state",
			Help: "Link state per peer: 1 for the current state, 0 for the others."}, []string{"peer", "state"}),
		mirrorSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tillit_mirror_size",
			Help: "Entries in this node's mirror of each peer's log."}, []string{"peer"}),
		forks: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillit_forks_total",
			Help: "Forks detected (contradicting signed checkpoints of one log)."}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "tillit_peer_rate_limited_total",
			Help: "Peer requests refused by the rate limit."}),
	}
	m.cs = []prometheus.Collector{m.sent, m.received, m.invalid, m.sendLatency, m.receiptLatency, m.pushLatency,
		m.pushFailures, m.pulled, m.overdue, m.link, m.mirrorSize, m.forks, m.rateLimited}
	all := m.cs
	m.cs = nil
	if reg != nil {
		for _, c := range all {
			// A second node in one process (tests, the demo) cannot
			// register the same metrics; its metrics are then unexported.
			if reg.Register(c) == nil {
				m.cs = append(m.cs, c)
			}
		}
	}
	return m
}

func (m *metrics) setLink(peer, state string) {
	for _, s := range []string{LinkUp, LinkDegraded, LinkDown} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.link.WithLabelValues(peer, s).Set(v)
	}
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.cs {
		m.reg.Unregister(c)
	}
}
