package mesossim

import (
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func TestReconciliationNeverRunsAheadOfUnacknowledgedUpdates(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("ahead"))
	o := f.offer()
	f.launch(o, 0, commandTask("t1", o, 1, 64))
	f.wait(updateFor("t1", mesos.TASK_STARTING))
	waitUntil(t, "the master to learn RUNNING", func() bool {
		return c.State().Frameworks[0].Tasks[0].State == "TASK_RUNNING"
	})
	// STARTING is not acknowledged: reconciliation still answers STARTING.
	f.reconcile()
	st := f.wait(func(ev *scheduler.Event) bool {
		return ev.Type == scheduler.Event_UPDATE && ev.Update.Status.GetReason() == mesos.REASON_RECONCILIATION
	}).Update.Status
	if st.GetState() != mesos.TASK_STARTING {
		t.Fatalf("reconciliation answered %s before RUNNING was delivered", st.GetState())
	}
}

func TestReconciliationWithoutPartitionAwareAnswersLost(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, mesos.FrameworkInfo{User: "root", Name: "old-style"})
	o := f.offer()
	f.reconcile(reconcileTask("ghost", o.AgentID.Value), reconcileTask("nowhere", ""))
	for _, id := range []string{"ghost", "nowhere"} {
		st := f.wait(updateFor(id, mesos.TASK_LOST)).Update.Status
		if st.GetReason() != mesos.REASON_RECONCILIATION {
			t.Fatalf("%s: reason %s", id, st.GetReason())
		}
	}
	// KILL of an unknown task is answered as reconciliation answers it.
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "phantom"}}})
	f.wait(updateFor("phantom", mesos.TASK_LOST))
}

func TestSimulatedKillGoesThroughKillingWhenAsked(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := partitionAwareInfo("killing")
	info.Capabilities = append(info.Capabilities, mesos.FrameworkInfo_Capability{Type: mesos.FrameworkInfo_Capability_TASK_KILLING_STATE})
	f := subscribeRaw(t, c, info)
	f.runTask(f.offer(), "t1")
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	f.ack(f.wait(updateFor("t1", mesos.TASK_KILLING)).Update.Status)
	f.ack(f.wait(updateFor("t1", mesos.TASK_KILLED)).Update.Status)
}
