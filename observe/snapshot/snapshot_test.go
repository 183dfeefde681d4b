package snapshot

import (
	"testing"
	"time"
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
