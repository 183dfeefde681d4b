package controller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// planCase is one table row: build a world, plan, compare the rendered
// lines (filtered by prefix when filter is set) with want.
type planCase struct {
	name   string
	spec   func() *spec.Cluster
	world  func(c *spec.Cluster, w *world)
	filter []string
	want   []string
}

func runPlanCases(t *testing.T, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testCluster()
			if tc.spec != nil {
				c = tc.spec()
			}
			w := newWorld()
			tc.world(c, w)
			got := render(Plan(input(c, w)))
			if tc.filter != nil {
				got = only(got, tc.filter...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan lines (-want +got):\n%s", diff)
			}
		})
	}
}

// converged adds a prober on every agent and every wanted service, all
// running and healthy: the steady state a plan leaves alone.
func converged(c *spec.Cluster, w *world, registryHost string, hosts ...string) {
	for _, h := range hosts {
		a := w.agents["a-"+h]
		w.prober(c, a)
		for _, k := range []spec.Kind{spec.Registry, spec.Metadata, spec.Data} {
			if a.Probe.Report.HasType(k.DeviceType()) {
				w.service(c, k, a)
			}
		}
	}
	w.service(c, spec.API, w.agents["a-"+registryHost])
	w.service(c, spec.Webconsole, w.agents["a-"+registryHost])
}

func TestPlan_Reconciliation_GatesEverything(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name: "not subscribed",
			world: func(c *spec.Cluster, w *world) {
				w.sub.State = snapshot.Disconnected
				w.agent("node1", spec.DataDevice)
			},
			want: []string{"blocked * -: waiting for the Mesos subscription (disconnected)"},
		},
		{
			name: "subscribed, not reconciled: nothing launched, nothing killed",
			world: func(c *spec.Cluster, w *world) {
				w.sub.Reconciled = false
				a := w.agent("node1")
				w.service(c, spec.Data, a) // no DATA_DEVICE: would be killed once reconciled
			},
			want: []string{"blocked * -: waiting for reconciliation"},
		},
	})
}

func TestPlan_Probers_OnEveryEligibleReachableAgent(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			// (Their launch says why there is no report: no "waiting
			// for the prober" besides.)
			name: "fresh cluster: probers everywhere, waiting for their reports",
			world: func(c *spec.Cluster, w *world) {
				w.noReport("node2")
				w.noReport("node1")
			},
			want: []string{
				"launch-prober prober on node1 config " + proberConfigHash(testCluster()) + ": no prober on node1",
				"launch-prober prober on node2 config " + proberConfigHash(testCluster()) + ": no prober on node2",
				"blocked api -: api waits for the core services: no DIR_DEVICE found yet (waiting for prober reports)",
				"blocked webconsole -: webconsole waits for the core services: no DIR_DEVICE found yet (waiting for prober reports)",
			},
		},
		{
			name: "placement globs and attributes narrow; unreachable agents get none",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Placement.Hosts = []string{"store*"}
				c.Placement.Attributes = map[string]string{"rack": "r1"}
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				// Attributes come with offers.
				offered := func(host, rack string) *snapshot.Agent {
					a := w.noReport(host)
					a.Attributes["rack"] = rack
					a.LastOffer = &snapshot.Offer{At: w.now, Resources: spec.Resources{CPUs: 8, Mem: 16384}}
					return a
				}
				offered("store1", "r1")
				offered("store2", "r2")
				offered("web1", "r1")
				offered("store3", "r1").Reachable = false
			},
			filter: []string{"launch-prober"},
			want:   []string{"launch-prober prober on store1 config " + proberHashOf(func(c *spec.Cluster) { c.Placement.Hosts = []string{"store*"} }) + ": no prober on store1"},
		},
		{
			name: "prober of another config: killed first, its successor launched once it is gone",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1")
				w.task(taskid.ProberKind, "oldprober", a, snapshot.Running)
			},
			filter: []string{"kill", "launch-prober"},
			want: []string{
				"kill quobyte.prober.oldprober.s0001 on node1 (replace): config oldprober -> " + proberConfigHash(testCluster()),
			},
		},
		{
			name: "prober outside the placement is killed",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Placement.Hosts = []string{"store*"}
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				w.prober(c, w.agent("web1"))
			},
			filter: []string{"kill"},
			want:   []string{"kill quobyte.prober." + proberHashOf(func(c *spec.Cluster) { c.Placement.Hosts = []string{"store*"} }) + ".s0001 on web1: not wanted: web1 is outside the placement"},
		},
		{
			name: "probers run when the cluster is stopped",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Quobyte.State = spec.Stopped
				return c
			},
			world: func(c *spec.Cluster, w *world) { w.agent("node1") },
			want:  []string{"launch-prober prober on node1 config " + proberConfigHash(testCluster()) + ": no prober on node1"},
		},
	})
}

// proberHashOf is the prober hash of the test cluster changed by f (the
// placement is not part of it: the hash only covers what the prober runs with).
func proberHashOf(f func(*spec.Cluster)) string {
	c := testCluster()
	f(c)
	return proberConfigHash(c)
}

func TestPlan_Probe_AsksStaleProbers(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name: "report older than three intervals",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1")
				a.Probe.ReceivedAt = w.now.Add(-91 * time.Second)
				w.prober(c, a)
			},
			filter: []string{"probe"},
			want:   []string{"probe quobyte.prober." + proberConfigHash(testCluster()) + ".s0001: last report from node1 is 1m31s old"},
		},
		{
			name: "fresh report: no probe",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1")
				a.Probe.ReceivedAt = w.now.Add(-89 * time.Second)
				w.prober(c, a)
			},
			filter: []string{"probe"},
			want:   nil,
		},
		{
			name: "running prober without any report (after a framework restart)",
			world: func(c *spec.Cluster, w *world) {
				w.prober(c, w.noReport("node1"))
			},
			filter: []string{"probe"},
			want:   []string{"probe quobyte.prober." + proberConfigHash(testCluster()) + ".s0001: no report from the prober on node1 after 1h0m0s running"},
		},
	})
}

func TestPlan_DeviceServices_FollowTheDevices(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name: "one service per device type, however many devices",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice, spec.DataDevice, spec.MetadataDevice)
				w.prober(c, a)
			},
			filter: []string{"launch", "kill"},
			want: []string{
				"launch metadata on node1 config metadata1: METADATA_DEVICE on node1 has no metadata service",
				"launch data on node1 config data1: DATA_DEVICE on node1 has no data service",
			},
		},
		{
			name: "no report yet: wait, and keep what runs",
			world: func(c *spec.Cluster, w *world) {
				a := w.noReport("node3")
				w.prober(c, a)
				w.service(c, spec.Data, a)
			},
			filter: []string{"launch", "kill", "blocked prober"},
			want:   []string{"blocked prober node3: waiting for the prober on node3"},
		},
		{
			name: "marker gone: the service is killed with the reason",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.MetadataDevice)
				w.prober(c, a)
				w.service(c, spec.Metadata, a)
				w.service(c, spec.Data, a)
			},
			filter: []string{"launch", "kill"},
			want:   []string{"kill quobyte.data.data1.s0003 on node1: no DATA_DEVICE on node1 any more"},
		},
		{
			name: "unreachable agent: its services are unknown, not gone; nothing replaces them",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice)
				a.Reachable = false
				w.task(string(spec.Data), "data1", a, snapshot.Unreachable)
				w.agent("node2", spec.DataDevice)
			},
			filter: []string{"launch data", "kill"},
			want:   []string{"launch data on node2 config data1: DATA_DEVICE on node2 has no data service"},
		},
		{
			name: "launching counts as present",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice)
				w.prober(c, a)
				w.task(string(spec.Data), "data1", a, snapshot.Launching)
			},
			filter: []string{"launch", "kill"},
			want:   nil,
		},
		{
			name: "two tasks of a kind on one agent: the extra is killed",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice)
				w.prober(c, a)
				w.service(c, spec.Data, a)
				w.task(string(spec.Data), "data1", a, snapshot.Staging)
			},
			filter: []string{"launch", "kill"},
			want:   []string{"kill quobyte.data.data1.s0003 on node1: duplicate: data already runs on node1 as quobyte.data.data1.s0002"},
		},
		{
			name: "service hosts narrow the placement",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Services[spec.Data].Hosts = []string{"big*"}
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				w.prober(c, w.agent("small1", spec.DataDevice))
				w.prober(c, w.agent("big1", spec.DataDevice))
			},
			filter: []string{"launch", "kill"},
			want:   []string{"launch data on big1 config data1: DATA_DEVICE on big1 has no data service"},
		},
		{
			name: "disabled kind: its tasks are killed; foreign kinds are ignored",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Services[spec.Metadata].Enabled = false
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.MetadataDevice)
				w.prober(c, a)
				w.service(c, spec.Metadata, a)
				w.task("gateway", "x", a, snapshot.Running)
			},
			filter: []string{"launch", "kill"},
			want:   []string{"kill quobyte.metadata.metadata1.s0002 on node1: not wanted: metadata is disabled"},
		},
	})
}

func TestPlan_Client_WhereTheMountPointIs(t *testing.T) {
	runPlanCases(t, []planCase{{
		name: "enabled: on agents with the client mount point; gone mount point: killed",
		spec: func() *spec.Cluster {
			c := testCluster()
			c.Services[spec.Client].Enabled = true
			return c
		},
		world: func(c *spec.Cluster, w *world) {
			a := w.agent("app1")
			a.Probe.Report.ClientMountPoint = true
			w.prober(c, a)
			b := w.agent("app2")
			w.prober(c, b)
			w.service(c, spec.Client, b)
		},
		filter: []string{"launch", "kill"},
		want: []string{
			"launch client on app1 config client1: client mount point on app1 has no client",
			"kill quobyte.client.client1.s0003 on app2: no client mount point on app2 any more",
		},
	}})
}

func TestPlan_Anywhere_StartedWithTheFirstRegistries(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name: "registry not running yet: API and webconsole start with it",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.task(string(spec.Registry), "registry1", a, snapshot.Staging)
			},
			filter: []string{"launch", "blocked api", "blocked webconsole"},
			want: []string{
				"launch api on node1 config api1: 0 of 1 api placed; node1 has the fewest of our tasks",
				"launch webconsole on node1 config webconsole1: 0 of 1 webconsole placed; node1 has the fewest of our tasks",
			},
		},
		{
			name: "no registry host known: API and webconsole wait",
			world: func(c *spec.Cluster, w *world) {
				w.prober(c, w.agent("node1", spec.DataDevice))
			},
			filter: []string{"launch api", "launch webconsole", "blocked api", "blocked webconsole"},
			want: []string{
				"blocked api -: api waits for the core services: " + coreNoRegistryWanted,
				"blocked webconsole -: webconsole waits for the core services: " + coreNoRegistryWanted,
			},
		},
		{
			name: "registry disabled without an external one: API and webconsole wait",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Services[spec.Registry].Enabled = false
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				w.prober(c, w.agent("node1", spec.DirDevice))
			},
			filter: []string{"launch api", "blocked api"},
			want:   []string{"blocked api -: api waits for the core services: " + coreNoRegistryWanted},
		},
		{
			name: "core runs: spread over the least loaded agents, at most one per agent",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Services[spec.API].Count = 2
				c.Services[spec.Webconsole].Count = 2
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.prober(c, w.agent("node2"))
				w.prober(c, w.agent("node3"))
			},
			filter: []string{"launch"},
			want: []string{
				"launch api on node2 config api1: 0 of 2 api placed; node2 has the fewest of our tasks",
				"launch api on node3 config api1: 1 of 2 api placed; node3 has the fewest of our tasks",
				"launch webconsole on node1 config webconsole1: 0 of 2 webconsole placed; node1 has the fewest of our tasks",
				"launch webconsole on node2 config webconsole1: 1 of 2 webconsole placed; node2 has the fewest of our tasks",
			},
		},
		{
			name: "excess instances are killed, the old config first",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				b := w.agent("node2")
				w.prober(c, b)
				w.task(string(spec.API), "apiold", a, snapshot.Running)
				w.service(c, spec.API, b)
				w.service(c, spec.Webconsole, b)
			},
			filter: []string{"launch", "kill"},
			want:   []string{"kill quobyte.api.apiold.s0004 on node1: not wanted: only 1 api wanted"},
		},
		{
			name: "unreachable within the timeout: still counted",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				b := w.agent("node2")
				b.Reachable = false
				api := w.task(string(spec.API), "api1", b, snapshot.Unreachable)
				api.UpdatedAt = w.now.Add(-9 * time.Minute)
			},
			filter: []string{"launch", "kill"},
			want:   nil,
		},
		{
			name: "unreachable past the timeout: replaced elsewhere, never killed",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				b := w.agent("node2")
				b.Reachable = false
				api := w.task(string(spec.API), "api1", b, snapshot.Unreachable)
				api.UnreachableSince = w.now.Add(-10 * time.Minute)
			},
			filter: []string{"launch", "kill"},
			want: []string{
				"launch api on node1 config api1: 0 of 1 api placed (the one on node2 unreachable for 10m0s); node1 has the fewest of our tasks",
			},
		},
		{
			// Issue 10, bug 1: the task's last update was long ago (it ran
			// quietly), but it became unreachable only a minute ago.
			name: "unreachable measured from when it became unreachable, not its last update",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				b := w.agent("node2")
				b.Reachable, b.UnreachableSince = false, w.now.Add(-time.Minute)
				api := w.service(c, spec.API, b) // RUNNING at its last update, an hour ago
				api.UpdatedAt = w.now.Add(-time.Hour)
			},
			filter: []string{"launch", "kill"},
			want:   nil,
		},
		{
			name: "back after being replaced: decided again, the excess killed",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				w.service(c, spec.API, a)                // the replacement
				w.service(c, spec.API, w.agent("node2")) // back, healthy
			},
			filter: []string{"launch api", "kill"},
			want:   []string{"kill quobyte.api.api1.s0005 on node2: not wanted: only 1 api wanted"},
		},
	})
}

func TestPlan_Stopped_ReverseOrderGroupByGroup(t *testing.T) {
	stopped := func() *spec.Cluster {
		c := testCluster()
		c.Quobyte.State = spec.Stopped
		return c
	}
	runPlanCases(t, []planCase{
		{
			name: "data first; the others wait",
			spec: stopped,
			world: func(c *spec.Cluster, w *world) {
				w.agent("node1", spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
				converged(c, w, "node1", "node1")
			},
			want: []string{
				"kill quobyte.data.data1.s0004 on node1: not wanted: state = stopped",
				"change data: 1 to stop",
				"change metadata: 1 to stop",
				"change api: 1 to stop",
				"change webconsole: 1 to stop",
				"change registry: 1 to stop",
				"blocked metadata -: stopping metadata after data (1 task left)",
				"blocked api -: stopping api after data (1 task left)",
				"blocked webconsole -: stopping webconsole after data (1 task left)",
				"blocked registry -: stopping registry after data (1 task left)",
			},
		},
		{
			name: "data gone: metadata next",
			spec: stopped,
			world: func(c *spec.Cluster, w *world) {
				w.agent("node1", spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
				converged(c, w, "node1", "node1")
				w.tasks["quobyte.data.data1.s0004"].State = snapshot.Killed
			},
			filter: []string{"kill"},
			want:   []string{"kill quobyte.metadata.metadata1.s0003 on node1: not wanted: state = stopped"},
		},
		{
			name: "only the registry left: it stops last; kills are re-sent with KillSent",
			spec: stopped,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				r := w.service(c, spec.Registry, a)
				r.KillSent = w.now.Add(-time.Minute)
			},
			want: []string{"kill quobyte.registry.registry1.s0002 on node1: not wanted: state = stopped", "change registry: 1 to stop"},
		},
	})
}

func TestPlan_Kill_CarriesKillSent(t *testing.T) {
	c := testCluster()
	c.Quobyte.State = spec.Stopped
	w := newWorld()
	a := w.agent("node1", spec.DirDevice)
	r := w.service(c, spec.Registry, a)
	r.KillSent = w.now.Add(-time.Minute)
	got := Plan(input(c, w))
	var kills []Action
	for _, act := range got.Actions {
		if act.Type == Kill {
			kills = append(kills, act)
		}
	}
	if len(kills) != 1 || !kills[0].KillSent.Equal(r.KillSent) || kills[0].Item() != "registry@a-node1" {
		t.Fatalf("kills = %+v, want one re-sent kill with KillSent %v and item registry@a-node1", kills, r.KillSent)
	}
}

func TestPlan_Backoff_HoldsTheLaunch(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name: "per-agent item",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice)
				w.prober(c, a)
				w.holds[snapshot.ItemKey("data", a.ID)] = Hold{
					Failures: 3, Until: w.now.Add(40 * time.Second), LastError: "task quobyte.data.data1.x FAILED: exit 1",
				}
			},
			filter: []string{"launch", "blocked data"},
			want:   []string{"blocked data node1: backing off 40s after 3 failures: task quobyte.data.data1.x FAILED: exit 1"},
		},
		{
			name: "expired hold: launched",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DataDevice)
				w.prober(c, a)
				w.holds[snapshot.ItemKey("data", a.ID)] = Hold{Failures: 3, Until: w.now}
			},
			filter: []string{"launch", "blocked data"},
			want:   []string{"launch data on node1 config data1: DATA_DEVICE on node1 has no data service"},
		},
		{
			name: "anywhere kind: an agent backing off is passed over",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				w.prober(c, w.agent("node2"))
				w.holds[snapshot.ItemKey("api", "a-node2")] = Hold{Failures: 1, Until: w.now.Add(1500 * time.Millisecond)}
			},
			filter: []string{"launch", "blocked api"},
			want:   []string{"launch api on node1 config api1: 0 of 1 api placed; node1 has the fewest of our tasks"},
		},
		{
			name: "anywhere kind: every agent backing off",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node1", spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a)
				w.service(c, spec.Webconsole, a)
				w.holds[snapshot.ItemKey("api", "a-node1")] = Hold{Failures: 1, Until: w.now.Add(1500 * time.Millisecond), LastError: "boom"}
			},
			filter: []string{"launch", "blocked api"},
			want: []string{
				"blocked api node1: backing off 2s after 1 failure: boom",
			},
		},
	})
}

// A launch the agent's last offer cannot hold is planned all the same (the
// actuator keeps it until an offer fits), and says in the launch itself —
// not in a blocked item besides — what falls short: only the resources
// that do, against the largest offer, or against the most the agent can
// have had for us when even that is too little.
func TestPlan_Offer_TooSmallIsExplained(t *testing.T) {
	offer := func(a *snapshot.Agent, last, most spec.Resources, ports ...snapshot.PortRange) {
		if ports == nil {
			ports = []snapshot.PortRange{{Begin: 7000, End: 8000}}
		}
		a.LastOffer = &snapshot.Offer{Resources: last, Ports: ports, At: t0}
		a.MostOffered = most
	}
	storage := func() *spec.Cluster {
		c := testCluster()
		c.Mesos.Role = "storage"
		return c
	}
	const launch = "launch data on node4 config data1: DATA_DEVICE on node4 has no data service"
	runPlanCases(t, []planCase{
		{
			name: "largest offer short, our tasks there use the rest",
			spec: storage,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice, spec.DirDevice)
				w.prober(c, a)
				w.service(c, spec.Registry, a) // cpus=1 mem=1024
				offer(a, spec.Resources{CPUs: 0.2, Mem: 4096}, spec.Resources{CPUs: 0.2, Mem: 4096})
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch + " (waiting: needs cpus=1, largest offer from node4 cpus=0.2)"},
		},
		{
			name: "never fits: beyond the largest offer plus our tasks there",
			spec: storage,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a) // cpus=0.1 mem=32
				offer(a, spec.Resources{CPUs: 0.5, Mem: 512}, spec.Resources{CPUs: 2, Mem: 512})
			},
			filter: []string{"launch data", "blocked data"},
			want: []string{launch + " (waiting: never fits: needs mem=1024, but node4 has had at most mem=544 for role storage" +
				" (its largest offer plus our tasks there; resources reserved for other roles are never offered to it))"},
		},
		{
			name: "a task of a config no spec knows: no claim of never",
			spec: storage,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.task("prober", "unknown", a, snapshot.Running)
				offer(a, spec.Resources{CPUs: 0.5, Mem: 512}, spec.Resources{CPUs: 0.5, Mem: 512})
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch + " (waiting: needs cpus=1 mem=1024, largest offer from node4 cpus=0.5 mem=512)"},
		},
		{
			name: "last offer short, earlier ones were not",
			spec: storage,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a)
				offer(a, spec.Resources{CPUs: 0.2, Mem: 4096}, spec.Resources{CPUs: 4, Mem: 4096})
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch + " (waiting: needs cpus=1, last offer from node4 cpus=0.2 (up to cpus=4 before))"},
		},
		{
			name: "port",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a)
				offer(a, spec.Resources{CPUs: 4, Mem: 4096}, spec.Resources{CPUs: 4, Mem: 4096}, snapshot.PortRange{Begin: 7870, End: 7880})
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch + " (waiting: needs port 7863, last offer from node4 lacks it)"},
		},
		{
			name: "resources reserved for another role",
			spec: storage,
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a)
				offer(a, spec.Resources{CPUs: 0.5, Mem: 4096}, spec.Resources{CPUs: 4, Mem: 4096})
				a.LastOffer.Reserved = map[string]spec.Resources{"quobyte": {CPUs: 0.3}, "storage": {Mem: 1024}}
			},
			filter: []string{"launch data", "blocked data"},
			want: []string{launch + " (waiting: node4 offers resources reserved for role quobyte; this framework's role is storage;" +
				" needs cpus=1, last offer from node4 cpus=0.5 (up to cpus=4 before))"},
		},
		{
			name: "reserved for an ancestor role: ours to use, not foreign",
			spec: func() *spec.Cluster {
				c := testCluster()
				c.Mesos.Role = "eng/storage"
				return c
			},
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a)
				offer(a, spec.Resources{CPUs: 0.5, Mem: 4096}, spec.Resources{CPUs: 4, Mem: 4096})
				a.LastOffer.Reserved = map[string]spec.Resources{"eng": {CPUs: 0.3}}
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch + " (waiting: needs cpus=1, last offer from node4 cpus=0.5 (up to cpus=4 before))"},
		},
		{
			name: "fits: no explanation",
			world: func(c *spec.Cluster, w *world) {
				a := w.agent("node4", spec.DataDevice)
				w.prober(c, a)
				offer(a, spec.Resources{CPUs: 4, Mem: 4096}, spec.Resources{CPUs: 4, Mem: 4096})
			},
			filter: []string{"launch data", "blocked data"},
			want:   []string{launch},
		},
	})
}

func TestPlan_Determinism_SameInputSamePlan(t *testing.T) {
	c := testCluster()
	c.Services[spec.API].Count = 3
	w := newWorld()
	for _, h := range []string{"n5", "n3", "n1", "n4", "n2"} {
		w.agent(h, spec.DirDevice, spec.DataDevice)
	}
	converged(c, w, "n1", "n1", "n2")
	first := Plan(input(c, w))
	for i := 0; i < 20; i++ { // map-ordered builders shuffle the input every time
		if diff := cmp.Diff(first, Plan(input(c, w)), cmp.AllowUnexported(Action{}), cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Generation" }, cmp.Ignore())); diff != "" {
			t.Fatalf("plan differs on run %d (-first +now):\n%s", i, diff)
		}
	}
}

func TestPlan_Converged_IsNoOp(t *testing.T) {
	c := testCluster()
	w := newWorld()
	w.agent("node1", spec.DirDevice, spec.MetadataDevice)
	w.agent("node2", spec.DataDevice)
	converged(c, w, "node1", "node1", "node2")
	if r := Plan(input(c, w)); !r.IsNoOp() {
		t.Fatalf("converged cluster: plan not empty:\n%v", render(r))
	}
}

func TestProberConfigHash_SpecHashWins(t *testing.T) {
	c := testCluster()
	computed := proberConfigHash(c)
	if len(computed) != 10 {
		t.Fatalf("computed prober hash %q: want 10 hex digits", computed)
	}
	c.Prober.Mode = "directories"
	if proberConfigHash(c) == computed {
		t.Fatalf("prober hash ignores the mode")
	}
	c.Prober.ConfigHash = "fromspec01"
	if got := proberConfigHash(c); got != "fromspec01" {
		t.Fatalf("proberConfigHash = %q, want the loader's fromspec01", got)
	}
}

func TestPlan_Gate_MarksThePlanGated(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	s := w.snap()
	if r := Plan(Input{Spec: c, Snapshot: s, Now: s.Time}); r.Gated {
		t.Fatalf("a reconciled subscription gives a gated plan: %+v", r)
	}
	s.Subscription.Reconciled = false
	if r := Plan(Input{Spec: c, Snapshot: s, Now: s.Time}); !r.Gated || len(r.Actions) != 0 {
		t.Fatalf("before reconciliation: gated %v, %d actions", r.Gated, len(r.Actions))
	}
}

// Found by the chaos runs (seeds 3, 12, 22, 30, 32, 37, 39): after a
// framework restart the agents are known from reconciliation only, by
// their IDs: no hostname, no attributes until an offer or a prober's
// report describes them. With a placement, every such agent failed it,
// and the restarted framework killed every prober and service as
// "outside the placement". An agent the placement cannot be decided for
// is unknown: nothing is launched there and nothing killed.
func TestPlan_Restart_UndescribedAgentsAreUnknown(t *testing.T) {
	restarted := func(c *spec.Cluster, w *world) {
		w.agent("node1", spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
		w.agent("node2", spec.DataDevice)
		converged(c, w, "node1", "node1", "node2")
		for _, a := range w.agents { // as a new observer knows them
			a.Hostname, a.Attributes, a.Probe, a.LastOffer = "", nil, nil, nil
		}
	}
	withPlacement := func() *spec.Cluster {
		c := testCluster()
		c.Placement.Hosts = []string{"node*"}
		c.Placement.Attributes = map[string]string{"rack": "r1"}
		return c
	}
	runPlanCases(t, []planCase{
		{
			name:   "with a placement: nothing killed, nothing launched",
			spec:   withPlacement,
			world:  restarted,
			filter: []string{"kill", "launch"},
			want:   nil,
		},
		{
			name:   "the probers are asked to report (their reports name the hosts)",
			spec:   withPlacement,
			world:  restarted,
			filter: []string{"probe"},
			want: []string{
				"probe quobyte.prober." + proberConfigHash(testCluster()) + ".s0001: no report from the prober on a-node1 after 1h0m0s running",
				"probe quobyte.prober." + proberConfigHash(testCluster()) + ".s0005: no report from the prober on a-node2 after 1h0m0s running",
			},
		},
	})
}
