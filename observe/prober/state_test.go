package prober

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
)

func TestState_UnackedCappedKeepsTerminal(t *testing.T) {
	s := newState("exec-1")
	s.launch(mesos.TaskInfo{TaskID: mesos.TaskID{Value: "t1"}})
	mk := func(st mesos.TaskState) executor.Call_Update {
		status, err := s.newStatus("t1", st, nil, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return executor.Call_Update{Status: status}
	}
	killed := mk(mesos.TASK_KILLED)
	s.sent(killed)
	dropped := 0
	for i := 0; i < maxUnacked+5; i++ {
		dropped += s.sent(mk(mesos.TASK_RUNNING))
	}
	if dropped != 6 || len(s.unacked) != maxUnacked {
		t.Fatalf("dropped %d, kept %d; want 6 and %d", dropped, len(s.unacked), maxUnacked)
	}
	if string(s.unacked[0].Status.UUID) != string(killed.Status.UUID) || !s.terminal[string(killed.Status.UUID)] {
		t.Fatal("the terminal update was dropped")
	}
	sub := s.subscribe().Subscribe
	if len(sub.UnacknowledgedUpdates) != maxUnacked || len(sub.UnacknowledgedTasks) != 1 {
		t.Fatalf("subscribe carries %d updates and %d tasks", len(sub.UnacknowledgedUpdates), len(sub.UnacknowledgedTasks))
	}
	s.ack("t1", killed.Status.UUID)
	if len(s.terminal) != 0 || len(s.unackedTasks) != 0 || len(s.unacked) != maxUnacked-1 {
		t.Fatalf("after ack: terminal %d, unacked tasks %d, unacked %d", len(s.terminal), len(s.unackedTasks), len(s.unacked))
	}
}

func TestNewUUID_Version4(t *testing.T) {
	a, err := newUUID()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newUUID()
	if len(a) != 16 || a[6]>>4 != 4 || a[8]>>6 != 2 || string(a) == string(b) {
		t.Fatalf("uuid %x (and %x) is not a fresh version 4 UUID", a, b)
	}
}
