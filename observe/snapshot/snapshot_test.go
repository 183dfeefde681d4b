package snapshot

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestNew_SortsAndIndexes(t *testing.T) {
	agents := []*Agent{{ID: "b", Hostname: "node2"}, {ID: "a", Hostname: "node1"}}
	tasks := []*Task{{ID: "t2"}, {ID: "t1"}}
	s := New(3, time.Unix(5, 0), Subscription{State: Subscribed}, agents, tasks, nil)
	if s.Agents[0].ID != "a" || s.Tasks[0].ID != "t1" {
		t.Fatalf("not sorted: agents %s,%s tasks %s,%s", s.Agents[0].ID, s.Agents[1].ID, s.Tasks[0].ID, s.Tasks[1].ID)
	}
	if s.Agent("b").Hostname != "node2" || s.Agent("zzz") != nil {
		t.Fatal("Agent lookup wrong")
	}
	if s.Items == nil {
		t.Fatal("nil items map")
	}
}

func TestTaskState_TerminalAndMaybeAlive(t *testing.T) {
	terminal := map[TaskState]bool{Finished: true, Failed: true, Killed: true, Error: true, Lost: true, Dropped: true, Gone: true, GoneByOperator: true}
	for _, s := range []TaskState{Staging, Starting, Running, Killing, Finished, Failed, Killed, Error, Lost, Dropped, Unreachable, Gone, GoneByOperator, Unknown, Launching} {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
		if want := s == Unreachable || s == Unknown; s.MaybeAlive() != want {
			t.Errorf("%s.MaybeAlive() = %v", s, s.MaybeAlive())
		}
	}
}

func TestTask_Failed(t *testing.T) {
	for _, tc := range []struct {
		state    TaskState
		killSent bool
		want     bool
	}{
		{Failed, false, true}, {Finished, false, true}, {Lost, false, true}, {Error, false, true}, {Dropped, false, true},
		{Killed, false, true}, // Mesos killed it (a health check): no kill of ours
		{Killed, true, false}, {Failed, true, false},
		{Gone, false, false}, {GoneByOperator, false, false}, {Running, false, false}, {Unreachable, false, false},
	} {
		tk := &Task{State: tc.state}
		if tc.killSent {
			tk.KillSent = time.Unix(1, 0)
		}
		if got := tk.Failed(); got != tc.want {
			t.Errorf("%s (kill sent %v): Failed() = %v, want %v", tc.state, tc.killSent, got, tc.want)
		}
	}
}

func TestTaskEnd_Describe(t *testing.T) {
	for _, tc := range []struct {
		end  TaskEnd
		want string
	}{
		{TaskEnd{TaskID: "t", State: Failed, Reason: "REASON_CONTAINER_LAUNCH_FAILED", Message: "pull failed"},
			"task t FAILED (REASON_CONTAINER_LAUNCH_FAILED): pull failed"},
		{TaskEnd{TaskID: "t", State: Killed, HealthKilled: true, HealthFailures: 3, Message: "Command exited with status 0"},
			"task t killed by Mesos after 3 failed health checks: Command exited with status 0"},
		{TaskEnd{TaskID: "t", State: Killed, HealthKilled: true}, "task t killed by Mesos for failing its health check"},
		{TaskEnd{TaskID: "t", State: Finished}, "task t FINISHED"},
	} {
		if got := tc.end.Describe(); got != tc.want {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
}

// Next must give what New gives for the same state, list for list, after
// any sequence of changes (the observer builds every generation with it).
func TestNext_EqualsNew(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		agents := map[string]*Agent{}
		tasks := map[string]*Task{}
		s := New(0, time.Time{}, Subscription{}, nil, nil, nil)
		for step := range rapid.IntRange(1, 8).Draw(rt, "steps") {
			var ch Change
			for range rapid.IntRange(0, 4).Draw(rt, "agents") {
				a := &Agent{ID: fmt.Sprintf("a%d", rapid.IntRange(0, 5).Draw(rt, "agent"))}
				if slices.ContainsFunc(ch.Agents, func(b *Agent) bool { return b.ID == a.ID }) {
					continue // a change names each agent once
				}
				agents[a.ID] = a
				ch.Agents = append(ch.Agents, a)
			}
			changed := map[string]bool{}
			for range rapid.IntRange(0, 12).Draw(rt, "tasks") {
				id := fmt.Sprintf("t%02d", rapid.IntRange(0, 20).Draw(rt, "task"))
				if changed[id] {
					continue
				}
				changed[id] = true
				if tasks[id] != nil && rapid.Bool().Draw(rt, "remove") {
					delete(tasks, id)
					ch.Removed = append(ch.Removed, id)
					continue
				}
				tk := &Task{ID: id, AgentID: fmt.Sprintf("a%d", rapid.IntRange(0, 7).Draw(rt, "on"))}
				tasks[id] = tk
				ch.Tasks = append(ch.Tasks, tk)
			}
			s = s.Next(uint64(step+1), time.Time{}, Subscription{}, ch, nil)
			want := New(0, time.Time{}, Subscription{}, slices.Collect(maps.Values(agents)), slices.Collect(maps.Values(tasks)), nil)
			if !slices.Equal(s.Agents, want.Agents) || !slices.Equal(s.Tasks, want.Tasks) || !slices.Equal(s.Orphans(), want.Orphans()) {
				rt.Fatalf("step %d: agents %v tasks %v orphans %v, want %v %v %v", step, ids(s.Agents), ids(s.Tasks), ids(s.Orphans()), ids(want.Agents), ids(want.Tasks), ids(want.Orphans()))
			}
			for i := range want.Agents {
				if !slices.Equal(s.AgentTasks(i), want.AgentTasks(i)) {
					rt.Fatalf("step %d: tasks on %s %v, want %v", step, want.Agents[i].ID, ids(s.AgentTasks(i)), ids(want.AgentTasks(i)))
				}
			}
		}
	})
}

// Next shares the task list of an agent whose tasks did not change.
func TestNext_SharesUnchangedLists(t *testing.T) {
	s := New(1, time.Time{}, Subscription{}, []*Agent{{ID: "a"}, {ID: "b"}}, []*Task{{ID: "t1", AgentID: "a"}, {ID: "t2", AgentID: "b"}}, nil)
	n := s.Next(2, time.Time{}, Subscription{}, Change{Tasks: []*Task{{ID: "t3", AgentID: "b"}}}, nil)
	if &n.AgentTasks(0)[0] != &s.AgentTasks(0)[0] {
		t.Error("the list of agent a was copied although its tasks did not change")
	}
	if len(n.AgentTasks(1)) != 2 || len(s.AgentTasks(1)) != 1 {
		t.Errorf("agent b: %d tasks, before %d", len(n.AgentTasks(1)), len(s.AgentTasks(1)))
	}
}

func ids[T interface{ *Agent | *Task }](xs []T) []string {
	var out []string
	for _, x := range xs {
		switch v := any(x).(type) {
		case *Agent:
			out = append(out, v.ID)
		case *Task:
			out = append(out, v.ID+"@"+v.AgentID)
		}
	}
	return out
}
