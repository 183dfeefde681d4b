package controller

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The index Step keeps is a cache: after each change (snapshot.Next, as
// the observer builds them), the view of an agent whose agent and tasks
// did not change is reused, the changed agent's is built anew, and the
// plan made with the kept index equals the plan made without one.
func TestIndexFor_ReusesUnchangedAgentsAndPlansAlike(t *testing.T) {
	c := testCluster()
	w := newWorld()
	var agents []*snapshot.Agent
	var tasks []*snapshot.Task
	for _, h := range []string{"node1", "node2", "node3", "node4"} {
		a := w.agent(h, spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
		agents = append(agents, a)
		tasks = append(tasks, w.prober(c, a), w.service(c, spec.Registry, a), w.service(c, spec.Metadata, a), w.service(c, spec.Data, a))
	}
	tasks = append(tasks, w.service(c, spec.API, agents[0]), w.service(c, spec.Webconsole, agents[1]))
	s := snapshot.New(1, w.now, w.sub, agents, tasks, nil)
	ix := indexFor(c, s, nil)

	// The data service on node3 fails.
	var failed *snapshot.Task
	for _, tk := range s.Tasks {
		if tk.Kind == string(spec.Data) && tk.AgentID == agents[2].ID {
			cp := *tk
			cp.State = snapshot.Failed
			failed = &cp
		}
	}
	s2 := s.Next(2, w.now, w.sub, snapshot.Change{Tasks: []*snapshot.Task{failed}}, nil)
	ix2 := indexFor(c, s2, ix)
	for i, av := range ix2.agents {
		if reused := av == ix.agents[i]; reused != (i != 2) {
			t.Errorf("agent %s: view reused %v", av.agent.Hostname, reused)
		}
	}
	if len(ix2.agents[2].live[idxData]) != 0 {
		t.Errorf("node3 still has a live data task in the new index")
	}

	for _, tc := range []struct {
		name string
		s    *snapshot.Snapshot
		ix   *index
	}{{"before", s, ix}, {"after", s2, ix2}} {
		in := Input{Spec: c, Snapshot: tc.s, Now: w.now}
		cold := Plan(in)
		in.index = tc.ix
		if kept := Plan(in); !reflect.DeepEqual(kept, cold) {
			t.Errorf("%s: plan with the kept index %+v, without %+v", tc.name, kept, cold)
		}
	}
	if r := Plan(Input{Spec: c, Snapshot: s2, Now: w.now, index: ix2}); r.Counts().Launches != 1 {
		t.Errorf("plan after the failure: %+v, want one launch (data on node3)", r.Actions)
	}
	// An index of another placement is not used.
	placed := *c
	placed.Placement.Hosts = []string{"node1"}
	if got := indexFor(&placed, s2, ix2); got == ix2 || !got.agents[0].eligible || got.agents[1].eligible {
		t.Error("the index of another placement was reused")
	}
}

// The plan counts its launches by agent as it makes them (the loads by
// which anywhere kinds are placed): every launch, of every kind, and
// nothing else.
func TestPlan_LaunchedCountsEveryLaunchByAgent(t *testing.T) {
	c := testCluster()
	c.Services[spec.API].Count = 2
	w := newWorld()
	var agents []*snapshot.Agent
	for _, h := range []string{"node1", "node2", "node3", "node4", "node5"} {
		agents = append(agents, w.agent(h, spec.DirDevice, spec.DataDevice))
	}
	old := w.task(string(spec.S3), "s31", agents[1], snapshot.Running) // disabled: a kill
	s := snapshot.New(1, w.now, w.sub, agents, []*snapshot.Task{old}, nil)
	p := &planner{c: c, s: s, now: w.now, res: &Result{}}
	p.compute()
	want := make([]int32, len(p.ix.agents))
	kills := 0
	for _, a := range p.actions.all() {
		switch a.Type {
		case Launch, LaunchProber:
			want[slices.IndexFunc(p.ix.agents, func(av *agentView) bool { return av.agent.ID == a.AgentID })]++
		case Kill:
			kills++
		}
	}
	if !reflect.DeepEqual(p.launched, want) || kills != 1 {
		t.Errorf("launched by agent %v, want %v (kills %d)", p.launched, want, kills)
	}
}

// The slots a per-agent kind merely misses come back, when the rollout
// needs them, in agent order among the others.
func TestMissingSlots_WithKeepsAgentOrder(t *testing.T) {
	agents := make([]*agentView, 70) // more than one word of bits
	for i := range agents {
		agents[i] = &agentView{agent: &snapshot.Agent{ID: fmt.Sprintf("a%02d", i)}}
	}
	var m missingSlots
	for _, j := range []int{0, 2, 64, 69} {
		m.add(j, len(agents))
	}
	kept := []slot{{av: agents[1]}, {av: agents[3], unknown: true}, {av: agents[65]}}
	var got []string
	for _, s := range m.with(agents, kept) {
		got = append(got, fmt.Sprintf("%s/%v", s.av.agent.ID, s.unknown))
	}
	want := []string{"a00/false", "a01/false", "a02/false", "a03/true", "a64/false", "a65/false", "a69/false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("slots %v, want %v", got, want)
	}
	if n := len((missingSlots{}).with(agents, kept)); n != len(kept) {
		t.Errorf("no missing slots: %d slots, want %d", n, len(kept))
	}
}
