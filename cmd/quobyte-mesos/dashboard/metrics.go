package dashboard

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the grid's counts, computed when Prometheus scrapes
// (never on the controller loop):
//
//	quobyte_mesos_services{kind, health="healthy"|"unhealthy"|"missing"}
//	quobyte_mesos_services_crash_looping{kind}
//
// as overview.KindCounts defines them. An instance that observes nothing
// (a standby) exports neither, so that sums over every instance count
// each service once. examples/prometheus/alerts.yml alerts on them.
type Collector struct {
	cfg          Config
	services     *prometheus.Desc
	crashLooping *prometheus.Desc
}

// NewCollector returns the collector of cfg's source.
func NewCollector(cfg Config) *Collector {
	return &Collector{
		cfg: cfg,
		services: prometheus.NewDesc("quobyte_mesos_services",
			"Services by kind and health, as the dashboard's grid counts them: healthy (running, health check passing), unhealthy (a task is there but does not run healthy), missing (wanted, no task: launch pending, blocked, backing off).",
			[]string{"kind", "health"}, nil),
		crashLooping: prometheus.NewDesc("quobyte_mesos_services_crash_looping",
			"Services of a kind that failed 3 or more times recently (crash-looping).", []string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.services
	ch <- c.crashLooping
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.cfg.Source.Snapshot() == nil {
		return
	}
	for _, k := range Overview(c.cfg).ByKind {
		for health, n := range map[string]int{"healthy": k.Healthy, "unhealthy": k.Unhealthy, "missing": k.Missing} {
			ch <- prometheus.MustNewConstMetric(c.services, prometheus.GaugeValue, float64(n), k.Kind, health)
		}
		ch <- prometheus.MustNewConstMetric(c.crashLooping, prometheus.GaugeValue, float64(k.CrashLooping), k.Kind)
	}
}
