package statusapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// Metrics holds the framework's Prometheus metrics in a registry of its own
// (never the global default one), so tests and several instances don't clash.
type Metrics struct {
	Registry *prometheus.Registry

	tasks           *prometheus.GaugeVec
	planActions     *prometheus.GaugeVec
	planBlocked     prometheus.Gauge
	OffersReceived  prometheus.Counter
	OffersDeclined  prometheus.Counter
	OffersUsed      prometheus.Counter
	Reconciliation  prometheus.Histogram
	subscribed      prometheus.Gauge
	Resubscriptions prometheus.Counter
	reloadSuccess   prometheus.Gauge
	reloadTime      prometheus.Gauge
	reloads         *prometheus.CounterVec
	snapshotGen     prometheus.Gauge
}

// NewMetrics creates and registers every metric.
func NewMetrics() *Metrics {
	const ns = "quobyte_mesos"
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		tasks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "tasks",
			Help: "Tasks of ours by kind and Mesos state, in the current snapshot."}, []string{"kind", "state"}),
		planActions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "plan_actions",
			Help: "Actions in the current plan, by type."}, []string{"type"}),
		planBlocked: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "plan_blocked",
			Help: "Items the current plan wants but cannot do yet."}),
		OffersReceived: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "offers_received_total",
			Help: "Offers received from Mesos."}),
		OffersDeclined: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "offers_declined_total",
			Help: "Offers declined."}),
		OffersUsed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "offers_used_total",
			Help: "Offers accepted with at least one launch."}),
		Reconciliation: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "reconciliation_duration_seconds",
			Help:    "Time from (re)subscription until every known task answered explicit reconciliation.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		subscribed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "subscribed",
			Help: "1 while the Mesos subscription is up."}),
		Resubscriptions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "resubscriptions_total",
			Help: "Subscriptions made after the first one."}),
		reloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "spec_reload_success",
			Help: "1 if the last spec (re)load succeeded, 0 if it failed and the old spec is still in force."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "spec_reload_timestamp_seconds",
			Help: "Unix time of the last spec (re)load attempt."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "spec_reloads_total",
			Help: "Spec reload attempts by result."}, []string{"result"}),
		snapshotGen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "snapshot_generation",
			Help: "Generation of the current snapshot."}),
	}
	m.Registry.MustRegister(m.tasks, m.planActions, m.planBlocked, m.OffersReceived, m.OffersDeclined,
		m.OffersUsed, m.Reconciliation, m.subscribed, m.Resubscriptions, m.reloadSuccess, m.reloadTime,
		m.reloads, m.snapshotGen,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveSnapshot sets the gauges derived from a snapshot.
func (m *Metrics) ObserveSnapshot(s *snapshot.Snapshot) {
	if s == nil {
		return
	}
	m.tasks.Reset()
	for _, t := range s.Tasks {
		m.tasks.WithLabelValues(t.Kind, string(t.State)).Inc()
	}
	if s.Subscription.State == snapshot.Subscribed {
		m.subscribed.Set(1)
	} else {
		m.subscribed.Set(0)
	}
	m.snapshotGen.Set(float64(s.Generation))
}

// ObservePlan sets the gauges derived from the current plan.
func (m *Metrics) ObservePlan(r *controller.Result) {
	if r == nil {
		return
	}
	m.planActions.Reset()
	for _, t := range []controller.ActionType{controller.LaunchProber, controller.Launch, controller.Kill, controller.Probe} {
		m.planActions.WithLabelValues(string(t)).Set(0)
	}
	for _, a := range r.Actions {
		m.planActions.WithLabelValues(string(a.Type)).Inc()
	}
	m.planBlocked.Set(float64(len(r.Blocked)))
}

// ObserveReload records a spec (re)load attempt.
func (m *Metrics) ObserveReload(at time.Time, ok bool) {
	m.reloadTime.Set(float64(at.UnixNano()) / 1e9)
	if ok {
		m.reloadSuccess.Set(1)
		m.reloads.WithLabelValues("success").Inc()
	} else {
		m.reloadSuccess.Set(0)
		m.reloads.WithLabelValues("failure").Inc()
	}
}
