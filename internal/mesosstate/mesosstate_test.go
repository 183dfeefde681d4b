package mesosstate

import (
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

func TestTerminal(t *testing.T) {
	terminal := []mesos.TaskState{mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR,
		mesos.TASK_LOST, mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR}
	live := []mesos.TaskState{mesos.TASK_STAGING, mesos.TASK_STARTING, mesos.TASK_RUNNING, mesos.TASK_KILLING,
		mesos.TASK_UNREACHABLE, mesos.TASK_UNKNOWN}
	if n := len(terminal) + len(live); n != len(mesos.TaskState_name) {
		t.Fatalf("the test lists %d states, Mesos has %d", n, len(mesos.TaskState_name))
	}
	for _, s := range terminal {
		if !Terminal(s) {
			t.Errorf("%s is terminal", s)
		}
	}
	for _, s := range live {
		if Terminal(s) {
			t.Errorf("%s is not terminal", s)
		}
	}
}
