package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Property tests (pgregory.net/rapid): plans over generated snapshots must
// keep the safety rules, and a fake cluster driven by plans must converge.
// A failing case is shrunk to a minimal one (fewer agents, fewer tasks,
// plainer states) and can be replayed with the -rapid.failfile rapid
// prints; -rapid.checks=N runs more cases.

// draws is the source the generators draw from: every Intn is one value
// drawn by rapid, which shrinks it towards 0.
type draws struct{ t *rapid.T }

func (d draws) Intn(n int) int { return rapid.IntRange(0, n-1).Draw(d.t, "n") }

// tb is what the checks need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

var allStates = []snapshot.TaskState{
	snapshot.Launching, snapshot.Staging, snapshot.Starting, snapshot.Running, snapshot.Running, snapshot.Running,
	snapshot.Killing, snapshot.Failed, snapshot.Killed, snapshot.Lost, snapshot.Unreachable, snapshot.Unknown, snapshot.Finished,
}

var deviceTypes = []spec.DeviceType{spec.DirDevice, spec.MetadataDevice, spec.DataDevice}

// genCluster draws a spec: counts, parallelism, optional kinds, placement.
func genCluster(rng draws) *spec.Cluster {
	c := testCluster()
	c.Upgrade.MaxParallel = 1 + rng.Intn(3)
	c.Services[spec.API].Count = 1 + rng.Intn(3)
	c.Services[spec.Webconsole].Count = 1 + rng.Intn(2)
	c.Services[spec.S3].Enabled = rng.Intn(3) == 0
	c.Services[spec.Client].Enabled = rng.Intn(2) == 0
	if rng.Intn(4) == 0 {
		c.Placement.Hosts = []string{"h1*", "h2*"}
	}
	if rng.Intn(10) == 0 {
		c.Quobyte.State = spec.Stopped
	}
	// Some kinds have a new config: a rollout is under way.
	for _, k := range spec.Kinds() {
		if rng.Intn(3) == 0 {
			c.Services[k].ConfigHash = string(k) + "2"
		}
	}
	return c
}

// genWorld draws agents, reports, offers and tasks of current and old
// configs in every state, and holds.
func genWorld(rng draws, c *spec.Cluster) *world {
	w := newWorld()
	if rng.Intn(20) == 0 {
		w.sub.Reconciled = false
	}
	n := 1 + rng.Intn(25)
	for i := 0; i < n; i++ {
		var types []spec.DeviceType
		for _, dt := range deviceTypes {
			if rng.Intn(2) == 0 {
				types = append(types, dt)
			}
		}
		a := w.agent(fmt.Sprintf("h%d", i), types...)
		a.Reachable = rng.Intn(10) != 0
		a.Probe.Report.ClientMountPoint = rng.Intn(2) == 0
		a.Probe.ReceivedAt = w.now.Add(-time.Duration(rng.Intn(200)) * time.Second)
		if rng.Intn(8) == 0 {
			a.Probe = nil
		}
		if rng.Intn(3) == 0 {
			a.LastOffer = &snapshot.Offer{Resources: spec.Resources{CPUs: float64(rng.Intn(4)), Mem: float64(rng.Intn(4096))},
				Ports: []snapshot.PortRange{{Begin: 7000, End: 9000}}}
		}
		kinds := append([]string{taskid.ProberKind}, kindNames()...)
		for _, k := range kinds {
			for j := rng.Intn(3); j > 0; j-- {
				hash := string(k) + "1"
				if k == taskid.ProberKind {
					hash = proberConfigHash(c)
					if rng.Intn(4) == 0 {
						hash = "oldprober"
					}
				} else if rng.Intn(3) == 0 {
					hash = string(k) + "2"
				}
				t := w.task(k, hash, a, allStates[rng.Intn(len(allStates))])
				if rng.Intn(5) == 0 {
					t.KillSent = w.now.Add(-time.Second)
				}
				if t.State == snapshot.Running && rng.Intn(4) == 0 {
					no := false
					t.Healthy, t.HealthySince = &no, time.Time{}
				}
				if rng.Intn(3) == 0 {
					t.RunningSince = w.now.Add(-time.Duration(rng.Intn(120)) * time.Second)
					t.HealthySince = t.RunningSince
					t.LaunchedAt = w.now.Add(-time.Duration(rng.Intn(600)) * time.Second)
				}
			}
			if k != taskid.ProberKind && rng.Intn(10) == 0 {
				w.holds[snapshot.ItemKey(k, a.ID)] = Hold{Failures: 2, Until: w.now.Add(time.Minute), LastError: "boom"}
			}
		}
	}
	return w
}

func kindNames() []string {
	var out []string
	for _, k := range spec.Kinds() {
		out = append(out, string(k))
	}
	return out
}

// checkSafety asserts the rules every single plan keeps.
func checkSafety(t tb, in Input, r *Result) {
	t.Helper()
	c, s := in.Spec, in.Snapshot
	if sub := s.Subscription; (sub.State != snapshot.Subscribed || !sub.Reconciled) && len(r.Actions) > 0 {
		t.Fatalf("actions before reconciliation: %v", render(r))
	}
	live := map[string]int{} // kind@agent -> live tasks in the snapshot
	byID := map[string]*snapshot.Task{}
	for _, tk := range s.Tasks {
		byID[tk.ID] = tk
		if !tk.State.Terminal() {
			live[snapshot.ItemKey(tk.Kind, tk.AgentID)]++
		}
	}
	killed := map[string]bool{}
	launched := map[string]bool{}
	newKillsOfAvailable := map[string]int{}
	for _, a := range r.Actions {
		switch a.Type {
		case Kill:
			if killed[a.TaskID] {
				t.Fatalf("task %s killed twice in one plan", a.TaskID)
			}
			killed[a.TaskID] = true
			tk := byID[a.TaskID]
			if tk == nil || tk.State.Terminal() {
				t.Fatalf("kill of a task not live: %s", a.TaskID)
			}
			if ag := s.Agent(tk.AgentID); ag == nil || !ag.Reachable || tk.State.MaybeAlive() {
				t.Fatalf("kill of %s, which we cannot see (Mesos cannot deliver it): %s", a.TaskID, a.Reason())
			}
			if tk.Kind == taskid.ProberKind && c.Quobyte.State == spec.Stopped && a.Replaces == "" && a.Reason() == reasonStopped {
				t.Fatalf("prober killed because of state = stopped")
			}
			ag := s.Agent(tk.AgentID)
			svc := c.Service(spec.Kind(tk.Kind))
			// A replacement that takes a serving slot down: the only task of
			// its kind on the agent (killing a duplicate frees no slot).
			// Removing a device-bound task a placement change left out takes
			// one down as well.
			paced := a.Replaces != "" || (spec.Kind(tk.Kind).DeviceBound() && strings.HasSuffix(a.Reason(), "outside the placement"))
			if paced && svc != nil && tk.KillSent.IsZero() && tk.State == snapshot.Running &&
				ag != nil && ag.Reachable && healthOK(tk, svc) && live[snapshot.ItemKey(tk.Kind, tk.AgentID)] == 1 {
				newKillsOfAvailable[tk.Kind]++
			}
		case Launch, LaunchProber:
			if launched[a.Item()] {
				t.Fatalf("item %s launched twice in one plan", a.Item())
			}
			launched[a.Item()] = true
			if live[snapshot.ItemKey(a.Kind, a.AgentID)] > 0 {
				t.Fatalf("launch of %s on %s where one is live (two of a kind on an agent)", a.Kind, a.Hostname)
			}
			ag := s.Agent(a.AgentID)
			if ag == nil || !ag.Reachable || !placementAllows(c.Placement, ag) {
				t.Fatalf("launch on an agent not eligible or unreachable: %s", a.Hostname)
			}
			if b, ok := in.Holds[a.Item()]; ok && b.Until.After(in.Now) && (b.Config == "" || b.Config == a.ConfigHash) {
				t.Fatalf("launch of %s while it backs off", a.Item())
			}
			k := spec.Kind(a.Kind)
			if c.Quobyte.State == spec.Stopped && a.Type == Launch {
				t.Fatalf("launch with state = stopped: %v", a)
			}
			if k.DeviceBound() && (ag.Probe == nil || !ag.Probe.Report.HasType(k.DeviceType())) {
				t.Fatalf("%s launched on %s without a %s", k, a.Hostname, k.DeviceType())
			}
			if k == spec.Client && (ag.Probe == nil || !ag.Probe.Report.ClientMountPoint) {
				t.Fatalf("client launched on %s without the mount point", a.Hostname)
			}
		}
	}
	// One item appears once: a launch is not also listed as blocked (what
	// keeps it waiting is in the launch).
	for _, b := range r.Blocked {
		if launched[b.Item] {
			t.Fatalf("item %s both launched and blocked: %v", b.Item, only(render(r), "blocked "+b.Kind, "launch"))
		}
	}
	for kind, n := range newKillsOfAvailable {
		limit := c.Upgrade.MaxParallel
		if kind == string(spec.Registry) {
			limit = 1
		}
		if n > limit {
			t.Fatalf("%d available %s taken down at once, at most %d allowed:\n%v", n, kind, limit, only(render(r), "kill quobyte."+kind, "blocked "+kind))
		}
	}
	checkDownBudget(t, c, s, r, killed)
	if newKillsOfAvailable[string(spec.Registry)] > 0 {
		// Taking a registry down is only allowed when all the others serve.
		for _, ag := range s.Agents {
			if !ag.Reachable || ag.Probe == nil || !ag.Probe.Report.HasType(spec.DirDevice) || !placementAllows(c.Placement, ag) {
				continue
			}
			ok := false
			for _, tk := range s.Tasks {
				if tk.Kind == string(spec.Registry) && tk.AgentID == ag.ID && tk.State == snapshot.Running &&
					tk.KillSent.IsZero() && healthOK(tk, c.Service(spec.Registry)) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("a registry taken down while the one on %s is down:\n%v", ag.Hostname, only(render(r), "kill quobyte.registry", "blocked registry"))
			}
		}
	}
}

// checkDownBudget: for each device-bound kind, the wanted agents without a
// serving task after the plan's kills are no more than before, or within
// the kind's budget (max_parallel; 1 for registries). (Checked with 6,000
// seeds when written; the suite runs 400 to stay fast.)
func checkDownBudget(t tb, c *spec.Cluster, s *snapshot.Snapshot, r *Result, killed map[string]bool) {
	t.Helper()
	if c.Quobyte.State != spec.Running {
		return
	}
	for _, k := range []spec.Kind{spec.Registry, spec.Metadata, spec.Data} {
		svc := c.Service(k)
		limit := c.Upgrade.MaxParallel
		if k == spec.Registry {
			limit = 1
		}
		downBefore, downAfter := 0, 0
		for _, ag := range s.Agents {
			if !ag.Reachable || ag.Probe == nil || !ag.Probe.Report.HasType(k.DeviceType()) || !placementAllows(c.Placement, ag) {
				continue
			}
			before, after := false, false
			for _, tk := range s.Tasks {
				if tk.Kind == string(k) && tk.AgentID == ag.ID && tk.State == snapshot.Running && tk.KillSent.IsZero() && healthOK(tk, svc) {
					before = true
					after = after || !killed[tk.ID]
				}
			}
			if !before {
				downBefore++
			}
			if !after {
				downAfter++
			}
		}
		if downAfter > downBefore && downAfter > limit {
			t.Fatalf("%s: %d down after the plan (%d before), at most %d allowed:\n%v", k, downAfter, downBefore, limit,
				only(render(r), "kill quobyte."+string(k), "blocked "+string(k)))
		}
	}
}

func TestPlan_Property_SafetyOverGeneratedSnapshots(t *testing.T) {
	var total Counts
	replacements, plans := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		c := genCluster(draws{rt})
		w := genWorld(draws{rt}, c)
		in := input(c, w)
		r := Plan(in)
		n := r.Counts()
		plans++
		total.Launches, total.Kills, total.Probes, total.Blocked = total.Launches+n.Launches, total.Kills+n.Kills, total.Probes+n.Probes, total.Blocked+n.Blocked
		for _, a := range r.Actions {
			if a.Replaces != "" {
				replacements++
			}
		}
		checkSafety(rt, in, r)
		if again := Plan(in); !cmp.Equal(r, again, cmp.AllowUnexported(Action{})) {
			rt.Fatalf("same input, different plan:\n%s", cmp.Diff(r, again, cmp.AllowUnexported(Action{})))
		}
		// The views' task facts only spare reading the tasks: an index
		// whose config table knows no config (so that no fact matches)
		// plans the same.
		blind := *indexFor(c, in.Snapshot, nil)
		blind.configs = nil
		slow := in
		slow.index = &blind
		if again := Plan(slow); !cmp.Equal(r, again, cmp.AllowUnexported(Action{})) {
			rt.Fatalf("plan without the task facts differs:\n%s", cmp.Diff(r, again, cmp.AllowUnexported(Action{})))
		}
	})
	// The generator must exercise the rules, not produce empty plans.
	t.Logf("%d plans: %+v, %d replacement actions", plans, total, replacements)
	if total.Launches == 0 || total.Kills == 0 || total.Blocked == 0 || replacements == 0 {
		t.Fatalf("generated snapshots exercise too little: %+v, %d replacements", total, replacements)
	}
}

// TestPlan_Property_ApplyAndPlanAgainConverges drives generated clusters
// through the fake cluster: every plan is safe, nothing is launched twice
// (the world would then hold two of a kind on an agent, which checkSafety
// rejects), and the plans run out of launches and kills.
func TestPlan_Property_ApplyAndPlanAgainConverges(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		d := draws{rt}
		c := genCluster(d)
		c.Placement.Hosts = nil
		w := genWorld(d, c)
		w.sub.Reconciled = true
		w.holds = map[string]Hold{}
		for _, a := range w.agents {
			a.Reachable = true // unknown tasks never resolve in the fake
			a.LastOffer = nil
		}
		yes := true
		for _, tk := range w.tasks {
			if tk.State.MaybeAlive() {
				tk.State = snapshot.Lost
			}
			if tk.State == snapshot.Running { // the fake heals nothing
				tk.Healthy = &yes
			}
		}
		f := &fakeCluster{w: w, slow: d.Intn(2) == 0}
		for round := 0; ; round++ {
			for _, a := range w.agents { // probers report on their own
				if a.Probe == nil && len(w.liveOn(taskid.ProberKind, a.ID)) > 0 {
					a.Probe = &snapshot.Probe{}
				}
				if a.Probe != nil {
					a.Probe.ReceivedAt = w.now
				}
			}
			in := input(c, w)
			r := Plan(in)
			checkSafety(rt, in, r)
			if r.Counts().Launches+r.Counts().Kills == 0 {
				// Converged when nothing waits but what cannot change:
				// more anywhere instances wanted than agents, or no
				// registry device at all.
				settled := true
				for _, b := range only(render(r), "blocked") {
					settled = settled && (strings.Contains(b, "no further eligible") || strings.Contains(b, "no registry wanted"))
				}
				if settled {
					return
				}
			}
			if round == 100 {
				rt.Fatalf("no convergence after 100 rounds; last plan:\n%v", render(r))
			}
			f.apply(r)
			f.advance(30 * time.Second)
		}
	})
}
