package controller

import (
	"fmt"
	"testing"

	"github.com/quobyte/quobyte-mesos/internal/benchcpu"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// bigCluster builds 10,000 agents, each with a metadata and a data device
// and the client mount point, and 40,000+ tasks: a prober, metadata, data
// and client on every agent, three registries, API and webconsole. All
// run healthy: the steady state the loop plans against on every tick.
func bigCluster(b *testing.B) (*spec.Cluster, *snapshot.Snapshot) {
	b.Helper()
	c := testCluster()
	c.Services[spec.Client].Enabled = true
	c.Services[spec.API].Count = 3
	w := newWorld()
	var agents []*snapshot.Agent
	var tasks []*snapshot.Task
	for i := 0; i < 10000; i++ {
		types := []spec.DeviceType{spec.MetadataDevice, spec.DataDevice}
		if i < 3 {
			types = append(types, spec.DirDevice)
		}
		a := w.agent(fmt.Sprintf("node%05d", i), types...)
		a.Probe.Report.ClientMountPoint = true
		a.LastOffer = &snapshot.Offer{Resources: spec.Resources{CPUs: 8, Mem: 16384}, Ports: []snapshot.PortRange{{Begin: 7000, End: 9000}}}
		agents = append(agents, a)
		tasks = append(tasks, w.prober(c, a), w.service(c, spec.Metadata, a), w.service(c, spec.Data, a), w.service(c, spec.Client, a))
		if i < 3 {
			tasks = append(tasks, w.service(c, spec.Registry, a), w.service(c, spec.API, a))
		}
		if i == 3 {
			tasks = append(tasks, w.service(c, spec.Webconsole, a))
		}
	}
	return c, snapshot.New(1, w.now, w.sub, agents, tasks, nil)
}

func benchmarkPlan(b *testing.B, c *spec.Cluster, s *snapshot.Snapshot) {
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	var r *Result
	for i := 0; i < b.N; i++ {
		r = Plan(Input{Spec: c, Snapshot: s, Now: s.Time})
	}
	stop()
	b.StopTimer()
	b.ReportMetric(float64(len(r.Actions)), "actions")
	b.ReportMetric(float64(len(s.Tasks)), "tasks")
}

// BenchmarkPlan_10kAgents_40kTasks: the target is under 20 ms per Plan.
func BenchmarkPlan_10kAgents_40kTasks(b *testing.B) {
	c, s := bigCluster(b)
	b.Run("converged", func(b *testing.B) {
		benchmarkPlan(b, c, s)
	})
	b.Run("rollout_of_data", func(b *testing.B) {
		benchmarkPlan(b, withNewConfig(c, "2", spec.Data), s)
	})
	b.Run("fresh_no_tasks", func(b *testing.B) {
		fresh := snapshot.New(1, s.Time, s.Subscription, s.Agents, nil, nil)
		benchmarkPlan(b, c, fresh)
	})
}
