package controller

import (
	"fmt"
	"testing"
	"time"

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

// benchmarkPlan plans s over and over with the index Step would hold for
// it (built once, outside the measured loop, as Step keeps it between
// plans): the cost of a plan on a tick or after news that changed nothing
// the planner indexes. With cold, each plan indexes the snapshot itself.
func benchmarkPlan(b *testing.B, c *spec.Cluster, s *snapshot.Snapshot, cold bool) {
	in := Input{Spec: c, Snapshot: s, Now: s.Time}
	if !cold {
		in.index = indexFor(c, s, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	var r *Result
	for i := 0; i < b.N; i++ {
		r = Plan(in)
	}
	stop()
	b.StopTimer()
	b.ReportMetric(float64(len(r.Actions)), "actions")
	b.ReportMetric(float64(len(s.Tasks)), "tasks")
}

// benchmarkUpdate is what one status update costs the controller: the
// observer's next snapshot (one task changed, snapshot.Next), Step's index
// of it (indexFor from the last one), and the plan.
func benchmarkUpdate(b *testing.B, c *spec.Cluster, s *snapshot.Snapshot) {
	ix := indexFor(c, s, nil)
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	var r *Result
	for i := 0; i < b.N; i++ {
		t := *s.Tasks[i%len(s.Tasks)]
		t.UpdatedAt = t.UpdatedAt.Add(time.Second) // a repeated RUNNING, as a keep-alive brings
		s = s.Next(s.Generation+1, s.Time, s.Subscription, snapshot.Change{Tasks: []*snapshot.Task{&t}}, s.Items)
		ix = indexFor(c, s, ix)
		r = Plan(Input{Spec: c, Snapshot: s, Now: s.Time, index: ix})
	}
	stop()
	b.StopTimer()
	b.ReportMetric(float64(len(r.Actions)), "actions")
}

// BenchmarkPlan_10kAgents_40kTasks: the targets are under 5 ms of CPU for
// a converged cluster and under 10 ms for a fresh one.
func BenchmarkPlan_10kAgents_40kTasks(b *testing.B) {
	c, s := bigCluster(b)
	b.Run("converged", func(b *testing.B) {
		benchmarkPlan(b, c, s, false)
	})
	b.Run("converged_one_update", func(b *testing.B) {
		benchmarkUpdate(b, c, s)
	})
	b.Run("converged_cold_index", func(b *testing.B) {
		benchmarkPlan(b, c, s, true)
	})
	b.Run("rollout_of_data", func(b *testing.B) {
		benchmarkPlan(b, withNewConfig(c, "2", spec.Data), s, false)
	})
	b.Run("fresh_no_tasks", func(b *testing.B) {
		fresh := snapshot.New(1, s.Time, s.Subscription, s.Agents, nil, nil)
		benchmarkPlan(b, c, fresh, false)
	})
}
