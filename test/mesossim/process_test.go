package mesossim

import (
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

// TestProcessModeRunsAndKillsARealCommand drives the agentrt runtime through
// the master: a shell command runs as a process, is killed by a KILL call,
// and a second one is crashed by the KillTask fault.
func TestProcessModeRunsAndKillsARealCommand(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Mode = ModeProcess
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("process"))
	o := f.offer()
	f.launch(o, 0, commandTask("sleeper", o, 1, 64), commandTask("victim", o, 1, 64))
	for _, id := range []string{"sleeper", "victim"} {
		running := f.wait(func(ev *scheduler.Event) bool {
			if ev.Type == scheduler.Event_UPDATE && ev.Update.Status.TaskID.Value == id {
				st := ev.Update.Status
				if mesosstate.Terminal(st.GetState()) {
					t.Fatalf("task %s: %s %s", id, st.GetState(), st.GetMessage())
				}
				f.ack(st)
				return st.GetState() == mesos.TASK_RUNNING
			}
			return false
		}).Update.Status
		if running.GetSource() != mesos.SOURCE_EXECUTOR {
			t.Fatalf("RUNNING from %s", running.GetSource())
		}
	}
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "sleeper"}}})
	f.ack(f.wait(updateFor("sleeper", mesos.TASK_KILLED)).Update.Status)
	if err := c.KillTask("victim"); err != nil {
		t.Fatal(err)
	}
	f.ack(f.wait(updateFor("victim", mesos.TASK_FAILED)).Update.Status)
	waitUntil(t, "resources to be freed", func() bool { return c.State().Agents[0].UsedRes["cpus"] == 0 })
}
