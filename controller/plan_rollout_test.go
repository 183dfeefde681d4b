package controller

import (
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// threeRegistries is a converged cluster of three hosts, each with a
// registry, metadata and data device; API and webconsole on node1.
func threeRegistries(c *spec.Cluster, w *world) {
	for _, h := range []string{"node1", "node2", "node3"} {
		w.agent(h, spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
	}
	converged(c, w, "node1", "node1", "node2", "node3")
}

// taskOf returns the live task of kind on host (the test world has one).
func taskOf(t *testing.T, w *world, kind spec.Kind, host string) *snapshot.Task {
	t.Helper()
	live := w.liveOn(string(kind), "a-"+host)
	if len(live) != 1 {
		t.Fatalf("%s on %s: %d live tasks, want 1", kind, host, len(live))
	}
	return live[0]
}

func TestPlan_Upgrade_Steps(t *testing.T) {
	newRegistry := func() *spec.Cluster { return withNewConfig(testCluster(), "2", spec.Registry) }
	// successor: node1's registry killed and gone, its successor of
	// config registry2 running (healthy, as the world makes it).
	successor := func(w *world) *snapshot.Task {
		threeRegistries(testCluster(), w)
		old := taskOf(t, w, spec.Registry, "node1")
		old.State, old.KillSent = snapshot.Killed, w.now
		return w.task("registry", "registry2", w.agents["a-node1"], snapshot.Running)
	}
	// unhealthySuccessor: the successor never healthy, launched ago.
	unhealthySuccessor := func(w *world, ago time.Duration) {
		n := successor(w)
		no := false
		n.Healthy, n.HealthySince = &no, time.Time{}
		n.LaunchedAt = w.now.Add(-ago)
	}
	runPlanCases(t, []planCase{
		{
			name: "first step: one registry killed, the others wait",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
			},
			// (The others wait their turn: that is no blocked item, and
			// nothing is down before this plan.)
			want: []string{
				"kill quobyte.registry.registry1.s0002 on node1 (replace): config registry1 -> registry2",
				"change registry: 3 to replace (1 at a time): config registry1 -> registry2",
			},
		},
		{
			name: "killed task gone: its successor launched on the same agent",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
				old := taskOf(t, w, spec.Registry, "node1")
				old.State, old.KillSent = snapshot.Killed, w.now
			},
			filter: []string{"launch", "kill"},
			want:   []string{"launch registry on node1 config registry2: replaces quobyte.registry.registry1.s0002: config registry1 -> registry2"},
		},
		{
			name: "successor healthy for less than min_healthy_time: the next waits",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				n := successor(w)
				n.HealthySince = w.now.Add(-59 * time.Second)
			},
			want: []string{"change registry: 2 to replace (1 at a time): config registry1 -> registry2", "blocked registry node1: upgrade of registry waits for registry on node1 to be healthy for 1m0s"},
		},
		{
			name: "successor healthy for min_healthy_time: the next goes",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				n := successor(w)
				n.HealthySince = w.now.Add(-time.Minute)
			},
			filter: []string{"kill"},
			want:   []string{"kill quobyte.registry.registry1.s0006 on node2 (replace): config registry1 -> registry2"},
		},
		{
			name: "successor not healthy within healthy_deadline: paused, nothing else touched",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				unhealthySuccessor(w, 5*time.Minute)
			},
			want: []string{"change registry: 2 to replace (1 at a time): config registry1 -> registry2", "blocked registry node1: upgrade paused: registry on node1 not healthy after 5m0s"},
		},
		{
			// Chaos seed 36: its agent was out of sight for a while after
			// the launch, holding the task's health updates back; the
			// deadline counts from when it was back.
			name: "successor not healthy within healthy_deadline, but its agent back only lately: it waits",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				unhealthySuccessor(w, 5*time.Minute)
				w.agents["a-node1"].BackSince = w.now.Add(-time.Minute)
			},
			filter: []string{"blocked", "kill"},
			want:   []string{"blocked registry node1: upgrade of registry waits for registry on node1 to be healthy for 1m0s"},
		},
		{
			name: "successor not healthy within healthy_deadline of its agent's return: paused",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				unhealthySuccessor(w, 10*time.Minute)
				w.agents["a-node1"].BackSince = w.now.Add(-5 * time.Minute)
			},
			filter: []string{"blocked"},
			want:   []string{"blocked registry node1: upgrade paused: registry on node1 not healthy after 5m0s"},
		},
		{
			name: "spec fixed (new hash): the rollout resumes with the unhealthy one",
			spec: func() *spec.Cluster { return withNewConfig(testCluster(), "3", spec.Registry) },
			world: func(c *spec.Cluster, w *world) {
				unhealthySuccessor(w, 5*time.Minute)
			},
			filter: []string{"kill"},
			want:   []string{"kill quobyte.registry.registry2.s0015 on node1 (replace): config registry2 -> registry3"},
		},
		{
			name: "kinds one at a time: metadata waits for the registries",
			spec: func() *spec.Cluster { return withNewConfig(testCluster(), "2", spec.Registry, spec.Metadata) },
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
			},
			filter: []string{"kill", "blocked metadata"},
			want: []string{
				"kill quobyte.registry.registry1.s0002 on node1 (replace): config registry1 -> registry2",
				"blocked metadata -: upgrade of metadata waits until every registry runs the new config, settled",
			},
		},
		{
			name: "the next kind waits until the last replacement has settled",
			spec: func() *spec.Cluster { return withNewConfig(testCluster(), "2", spec.Registry, spec.Metadata) },
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
				// Every registry runs the new config; node3's only just
				// turned healthy (less than MinHealthyTime ago).
				for _, h := range []string{"node1", "node2", "node3"} {
					r := w.liveOn("registry", "a-"+h)[0]
					r.Config = c.Service(spec.Registry).ConfigHash
					if h == "node3" {
						r.HealthySince = w.now.Add(-time.Second)
					}
				}
			},
			filter: []string{"kill", "blocked metadata"},
			want: []string{
				"blocked metadata -: upgrade of metadata waits until every registry runs the new config, settled",
			},
		},
		{
			name: "max_parallel applies per kind",
			spec: func() *spec.Cluster {
				c := withNewConfig(testCluster(), "2", spec.Data)
				c.Upgrade.MaxParallel = 2
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
			},
			filter: []string{"kill"},
			want: []string{
				"kill quobyte.data.data1.s0004 on node1 (replace): config data1 -> data2",
				"kill quobyte.data.data1.s0008 on node2 (replace): config data1 -> data2",
			},
		},
		{
			name: "never more than one registry down, whatever max_parallel",
			spec: func() *spec.Cluster {
				c := withNewConfig(testCluster(), "2", spec.Registry)
				c.Upgrade.MaxParallel = 3
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
			},
			filter: []string{"kill"},
			want:   []string{"kill quobyte.registry.registry1.s0002 on node1 (replace): config registry1 -> registry2"},
		},
		{
			name: "a registry down already: no registry replaced",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
				taskOf(t, w, spec.Registry, "node3").State = snapshot.Staging
			},
			filter: []string{"kill"},
			want: []string{
				"kill quobyte.registry.registry1.s0010 on node3 (replace): config registry1 -> registry2",
			},
		},
		{
			name: "an unreachable old registry blocks nothing else but counts as down",
			spec: newRegistry,
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
				w.agents["a-node3"].Reachable = false
				taskOf(t, w, spec.Registry, "node3").State = snapshot.Unreachable
			},
			filter: []string{"kill", "blocked registry"},
			want: []string{
				"blocked registry node3: upgrade of registry waits for node3: its registry is unknown (agent unreachable or no prober report)",
				"blocked registry -: upgrade of registry waits: 1 down (node3), at most 1 at a time",
			},
		},
		{
			name: "a stateless kind is not replaced while the core is down",
			spec: func() *spec.Cluster { return withNewConfig(testCluster(), "2", spec.API) },
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
				taskOf(t, w, spec.Registry, "node2").State = snapshot.Failed
			},
			filter: []string{"kill", "blocked api"},
			want:   []string{"blocked api -: upgrade of api waits for the core services: registry on node2 is not running"},
		},
		{
			name: "probers are replaced without gating, all at once",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Prober.Mode = "directories"
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				threeRegistries(testCluster(), w)
			},
			filter: []string{"kill"},
			want: []string{
				"kill quobyte.prober." + proberConfigHash(testCluster()) + ".s0001 on node1 (replace): config " + proberConfigHash(testCluster()) + " -> " + proberHashOf(func(c *spec.Cluster) { c.Prober.Mode = "directories" }),
				"kill quobyte.prober." + proberConfigHash(testCluster()) + ".s0005 on node2 (replace): config " + proberConfigHash(testCluster()) + " -> " + proberHashOf(func(c *spec.Cluster) { c.Prober.Mode = "directories" }),
				"kill quobyte.prober." + proberConfigHash(testCluster()) + ".s0009 on node3 (replace): config " + proberConfigHash(testCluster()) + " -> " + proberHashOf(func(c *spec.Cluster) { c.Prober.Mode = "directories" }),
			},
		},
	})
}

// TestPlan_Upgrade_RollsThroughOneHostAtATime drives a version change of
// every kind through the fake cluster, where launches take one round to
// become healthy, and checks after every round that no more than the
// allowed number of a kind is down, and that the rollout finishes in the
// spec's kind order.
func TestPlan_Upgrade_RollsThroughOneHostAtATime(t *testing.T) {
	old := testCluster()
	w := newWorld()
	for _, h := range []string{"node1", "node2", "node3", "node4"} {
		w.agent(h, spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
	}
	converged(old, w, "node1", "node1", "node2", "node3", "node4")
	c := withNewConfig(old, "2", spec.Registry, spec.API, spec.Webconsole, spec.Metadata, spec.Data)
	c.Upgrade.MaxParallel = 2

	f := &fakeCluster{w: w, slow: true}
	var finished []spec.Kind
	kills := 0
	for round := 0; round < 200; round++ {
		r := Plan(input(c, w))
		if r.IsNoOp() {
			t.Logf("converged after %d rounds, %d kills sent", round, kills)
			break
		}
		kills += r.Counts().Kills
		f.apply(r)
		for _, k := range c.Upgrade.Order {
			available, outdated := 0, 0
			for _, h := range []string{"node1", "node2", "node3", "node4"} {
				for _, tk := range w.liveOn(string(k), "a-"+h) {
					if tk.Config != c.Service(k).ConfigHash {
						outdated++
					}
					if tk.State == snapshot.Running && tk.KillSent.IsZero() {
						available++
					}
				}
			}
			down := 4 - available
			if !k.DeviceBound() {
				down = 1 - available
			}
			limit := 2
			if k == spec.Registry {
				limit = 1
			}
			if down > limit {
				t.Fatalf("round %d: %d %s down, at most %d allowed", round, down, k, limit)
			}
			if outdated == 0 && !containsKind(finished, k) {
				finished = append(finished, k)
			}
		}
		f.advance(20 * time.Second)
	}
	if r := Plan(input(c, w)); !r.IsNoOp() {
		t.Fatalf("rollout did not converge; last plan:\n%v", render(r))
	}
	want := []spec.Kind{spec.Registry, spec.API, spec.Webconsole, spec.Metadata, spec.Data}
	if len(finished) != len(want) {
		t.Fatalf("finished kinds %v, want %v", finished, want)
	}
	for i := range want {
		if finished[i] != want[i] {
			t.Fatalf("kinds finished in order %v, want %v", finished, want)
		}
	}
}

func containsKind(ks []spec.Kind, k spec.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Found by the chaos runs (seed 15): a metadata rollout killed node3's
// old task; its agent was then wiped (a new agent ID on the same host) and
// took the replacement with it. The old agent, now unreachable with no
// live task, was no slot any more, the new one had not reported yet, so
// nothing was down and the next metadata was killed: two metadata services
// down by our kills with max_parallel 1. An agent lost within the
// unreachable timeout, whose devices call for the kind, counts as a down
// slot until its host is back under a new agent (which has its own slot)
// or the timeout has passed (the host is given up).
func TestPlan_Upgrade_LostAgentKeepsItsSlotDown(t *testing.T) {
	newMetadata := func() *spec.Cluster { return withNewConfig(testCluster(), "2", spec.Metadata) }
	lost := func(since time.Duration) func(c *spec.Cluster, w *world) {
		return func(c *spec.Cluster, w *world) {
			w.agent("node1", spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
			w.agent("node2", spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
			w.agent("node3", spec.MetadataDevice, spec.DataDevice)
			converged(testCluster(), w, "node1", "node1", "node2", "node3")
			old := taskOf(t, w, spec.Metadata, "node3")
			old.State, old.KillSent = snapshot.Killed, w.now.Add(-time.Second)
			w.task("metadata", "metadata2", w.agents["a-node3"], snapshot.Running)
			for _, tk := range w.tasks { // lost with the agent
				if tk.AgentID == "a-node3" && !tk.State.Terminal() {
					tk.State, tk.Reason = snapshot.Lost, "REASON_AGENT_REMOVED"
				}
			}
			a := w.agents["a-node3"]
			a.Reachable, a.UnreachableSince = false, w.now.Add(-since)
		}
	}
	runPlanCases(t, []planCase{
		{
			name:   "lost a moment ago: the next waits",
			spec:   newMetadata,
			world:  lost(time.Second),
			filter: []string{"kill", "blocked metadata"},
			want:   []string{"blocked metadata -: upgrade of metadata waits: 1 down (node3), at most 1 at a time"},
		},
		{
			name: "the host back under a new agent: its own slot counts",
			spec: newMetadata,
			world: func(c *spec.Cluster, w *world) {
				lost(time.Second)(c, w)
				// Wiped: a new agent ID on the same host.
				b := w.agent("node3b", spec.MetadataDevice, spec.DataDevice)
				b.Hostname = "node3"
			},
			filter: []string{"kill", "launch metadata", "blocked metadata"},
			want: []string{
				"launch metadata on node3 config metadata2: METADATA_DEVICE on node3 has no metadata service",
				"blocked metadata -: upgrade of metadata waits: 1 down (node3), at most 1 at a time",
			},
		},
		{
			name:   "lost for the unreachable timeout: given up, the next goes",
			spec:   newMetadata,
			world:  lost(10 * time.Minute),
			filter: []string{"kill"},
			want:   []string{"kill quobyte.metadata.metadata1.s0003 on node1 (replace): config metadata1 -> metadata2"},
		},
		{
			// Chaos seed 25: the end of the lost agent's task never
			// reached us (it went with a dropped stream; reconciliation
			// answers TASK_UNKNOWN, not terminal). Its host is back under
			// a new agent that runs the new config: the old agent counts
			// for nothing, and the rollout goes on. Before, its slot
			// stayed unknown and the rollout waited for it for good.
			name: "the host back under a new agent, the lost task's end never heard: the next goes",
			spec: newMetadata,
			world: func(c *spec.Cluster, w *world) {
				lost(time.Second)(c, w)
				for _, tk := range w.tasks {
					if tk.AgentID == "a-node3" && tk.Config == "metadata2" {
						tk.State, tk.Reason = snapshot.Unknown, "REASON_RECONCILIATION"
					}
				}
				b := w.agent("node3b", spec.MetadataDevice, spec.DataDevice)
				b.Hostname = "node3"
				w.task("metadata", "metadata2", b, snapshot.Running)
				w.service(c, spec.Data, b)
				w.prober(c, b)
			},
			filter: []string{"kill", "launch metadata", "blocked metadata"},
			want:   []string{"kill quobyte.metadata.metadata1.s0003 on node1 (replace): config metadata1 -> metadata2"},
		},
	})
}
