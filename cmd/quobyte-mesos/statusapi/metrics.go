package statusapi

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// Metrics holds the framework's Prometheus metrics in a registry of its own
// (never the global default one), so tests and several instances don't clash.
type Metrics struct {
	Registry *prometheus.Registry

	tasks           *prometheus.GaugeVec
	tasksEnded      *prometheus.CounterVec
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
	leader          prometheus.Gauge
	leaderChanges   *prometheus.CounterVec

	mu sync.Mutex
	// ended holds the IDs of terminal tasks already counted in tasksEnded,
	// as long as the snapshot holds them (they stay there a while).
	ended map[string]bool
}

// ObserveLeadership records that this instance won (true) or lost the
// leadership. A standby observes nothing: the gauges of tasks and of the
// plan are cleared, so that sums over every instance count each task once.
func (m *Metrics) ObserveLeadership(leading bool) {
	if leading {
		m.leader.Set(1)
		m.leaderChanges.WithLabelValues("won").Inc()
		return
	}
	m.leader.Set(0)
	m.leaderChanges.WithLabelValues("lost").Inc()
	m.subscribed.Set(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tasks.Reset()
	m.planActions.Reset()
	m.planBlocked.Set(0)
}

// NewMetrics creates and registers every metric.
func NewMetrics() *Metrics {
	const ns = "quobyte_mesos"
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		tasks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "tasks",
			Help: "Current (not terminal) tasks of ours by kind and Mesos state."}, []string{"kind", "state"}),
		tasksEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tasks_ended_total",
			Help: "Tasks of ours that reached a terminal state, by kind and that state."}, []string{"kind", "state"}),
		planActions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "plan_actions",
			Help: "Changes in the current plan, by type, in the words of /v1/plan and `plan`: launch, replace, stop, probe."}, []string{"type"}),
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
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leader",
			Help: "1 while this instance leads (acts on Mesos); always 1 without an ha block."}),
		leaderChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "leader_changes_total",
			Help: "Times this instance won (change=\"won\") or lost (change=\"lost\") the leadership."}, []string{"change"}),
		ended: map[string]bool{},
	}
	m.Registry.MustRegister(m.tasks, m.tasksEnded, m.planActions, m.planBlocked, m.OffersReceived, m.OffersDeclined,
		m.OffersUsed, m.Reconciliation, m.subscribed, m.Resubscriptions, m.reloadSuccess, m.reloadTime,
		m.reloads, m.snapshotGen, m.leader, m.leaderChanges,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveSnapshot sets the gauges derived from a snapshot: current tasks
// only (a terminal task stays in snapshots for a while, and counting it
// there made KILLED grow with every rollout), and counts each task that
// ended once.
func (m *Metrics) ObserveSnapshot(s *snapshot.Snapshot) {
	if s == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Counted first, then set: a labelled Inc per task hashes its labels
	// every time (40,000 tasks took about 6 ms a snapshot).
	type kindState struct{ kind, state string }
	current := map[kindState]int{}
	ended := make(map[string]bool, len(m.ended))
	for _, t := range s.Tasks {
		if !t.State.Terminal() {
			current[kindState{t.Kind, string(t.State)}]++
			continue
		}
		ended[t.ID] = true
		if !m.ended[t.ID] {
			m.tasksEnded.WithLabelValues(t.Kind, string(t.State)).Inc()
		}
	}
	m.ended = ended // forget tasks the snapshot has dropped
	m.tasks.Reset()
	for ks, n := range current {
		m.tasks.WithLabelValues(ks.kind, ks.state).Set(float64(n))
	}
	if s.Subscription.State == snapshot.Subscribed {
		m.subscribed.Set(1)
	} else {
		m.subscribed.Set(0)
	}
	m.snapshotGen.Set(float64(s.Generation))
}

// ObservePlan sets the gauges derived from the current plan, counted as
// planview.Summarize counts them for /v1/plan and `plan`.
func (m *Metrics) ObservePlan(r *controller.Result) {
	if r == nil {
		return
	}
	s := planview.Summarize(r)
	for typ, n := range map[string]int{"launch": s.Launch, "replace": s.Replace, "stop": s.Stop, "probe": s.Probe} {
		m.planActions.WithLabelValues(typ).Set(float64(n))
	}
	m.planBlocked.Set(float64(s.Blocked))
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
