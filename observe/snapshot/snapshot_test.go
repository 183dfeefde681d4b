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
	if s.Backoffs == nil {
		t.Fatal("nil backoffs map")
	}
	held := s.WithBackoffs(map[string]Backoff{ItemKey("data", "a"): {Failures: 2}})
	if len(s.Backoffs) != 0 || held.Backoffs["data@a"].Failures != 2 || held.Agent("a") == nil {
		t.Fatalf("WithBackoffs changed the original or lost the index: %+v / %+v", s.Backoffs, held.Backoffs)
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
