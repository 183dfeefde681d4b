package mesossim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func TestPartitionAndHealAgent(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("partition"))
	o := f.offer()
	f.runTask(o, "t1")

	cut := time.Now()
	if err := c.PartitionAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	// master.cpp: the SlaveObserver marks the agent unreachable after
	// max_agent_ping_timeouts missed pings, "health check timed out".
	st := f.wait(updateFor("t1", mesos.TASK_UNREACHABLE)).Update.Status
	if st.GetSource() != mesos.SOURCE_MASTER || st.GetReason() != mesos.REASON_AGENT_REMOVED || len(st.UUID) != 0 ||
		st.UnreachableTime == nil || st.GetMessage() != "health check timed out" {
		t.Fatalf("UNREACHABLE update: source %s reason %s uuid %x unreachable_time %v message %q",
			st.GetSource(), st.GetReason(), st.UUID, st.UnreachableTime, st.GetMessage())
	}
	if d := time.Since(cut); d < 5*20*time.Millisecond {
		t.Errorf("marked unreachable %v after the cut, before 5 ping timeouts of 20ms", d)
	}
	f.wait(isType(scheduler.Event_FAILURE))
	f.reconcile(reconcileTask("t1", o.AgentID.Value), reconcileTask("ghost", o.AgentID.Value))
	for _, id := range []string{"t1", "ghost"} {
		f.wait(updateFor(id, mesos.TASK_UNREACHABLE))
	}
	// A kill cannot reach the agent meanwhile: it is answered as
	// reconciliation answers, and the framework must retry later.
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}, AgentID: &o.AgentID}})
	f.wait(updateFor("t1", mesos.TASK_UNREACHABLE))

	if err := c.HealAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	st = f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status
	if st.GetReason() != mesos.REASON_AGENT_REREGISTERED || len(st.UUID) != 0 {
		t.Fatalf("after healing: reason %s uuid %x", st.GetReason(), st.UUID)
	}
	f.wait(offersFrom(o.AgentID.Value))
}

func TestRestartAgentWipedGivesNewIDAndLostTasks(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("restart"))
	o := f.offer()
	f.runTask(o, "t1")
	newID, err := c.RestartAgentWiped(o.AgentID.Value)
	if err != nil {
		t.Fatal(err)
	}
	if newID == o.AgentID.Value {
		t.Fatal("restarted agent kept its ID")
	}
	// The Mesos master removes the old agent and loses its tasks, partition
	// aware or not.
	st := f.wait(updateFor("t1", mesos.TASK_LOST)).Update.Status
	if st.GetReason() != mesos.REASON_AGENT_REMOVED || st.GetSource() != mesos.SOURCE_MASTER {
		t.Fatalf("LOST update: reason %s source %s", st.GetReason(), st.GetSource())
	}
	f.wait(offersFrom(newID))
	f.reconcile(reconcileTask("t1", o.AgentID.Value))
	f.wait(updateFor("t1", mesos.TASK_UNKNOWN))
}

// A partition shorter than the ping timeouts goes unnoticed: no
// TASK_UNREACHABLE, reconciliation answers from the master's stale view,
// and what the agent held arrives once it is back.
func TestShortPartitionGoesUnnoticed(t *testing.T) {
	cfg := fastConfig(1)
	cfg.AgentPingTimeout = time.Minute
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("blip"))
	o := f.offer()
	f.runTask(o, "t1")
	if err := c.PartitionAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	if err := c.KillTask("t1"); err != nil { // the crash's update waits on the agent
		t.Fatal(err)
	}
	f.reconcile(reconcileTask("t1", o.AgentID.Value))
	if st := f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status; st.GetReason() != mesos.REASON_RECONCILIATION {
		t.Fatalf("reconciliation during the cut: %s", st.GetReason())
	}
	f.quiet(200*time.Millisecond, func(ev *scheduler.Event) bool {
		return ev.Type == scheduler.Event_UPDATE && ev.Update.Status.GetState() != mesos.TASK_RUNNING
	}, "an update crossed the cut")
	if err := c.HealAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	f.wait(updateFor("t1", mesos.TASK_FAILED))
}

// RestartAgent is an agent restart with checkpointing (slave.cpp
// recovery; master.cpp Master::kill for a disconnected agent): the agent
// keeps its ID and running tasks, the master offers nothing of it and
// answers reconciliation from what it holds, a kill meanwhile waits for
// the agent to reregister, and offers come back after recovery.
func TestRestartAgentKeepsIDAndTasks(t *testing.T) {
	cfg := fastConfig(1)
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("restart"))
	o := f.offer()
	f.runTask(o, "t1")
	f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: []mesos.OfferID{o.ID}}})
	restarted := time.Now()
	if err := c.RestartAgent(o.Hostname, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.RestartAgent(o.Hostname, 0); err == nil {
		t.Error("restarting a restarting agent succeeded")
	}
	f.reconcile(reconcileTask("t1", o.AgentID.Value))
	f.wait(updateFor("t1", mesos.TASK_RUNNING))
	f.call(&scheduler.Call{Type: scheduler.Call_REVIVE})
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	var killed time.Time
	for killed.IsZero() {
		ev := f.wait(func(ev *scheduler.Event) bool {
			return ev.Type == scheduler.Event_OFFERS || ev.Type == scheduler.Event_FAILURE || updateFor("t1", mesos.TASK_KILLED)(ev)
		})
		switch ev.Type {
		case scheduler.Event_FAILURE:
			t.Fatal("FAILURE event for a restarting agent")
		case scheduler.Event_OFFERS:
			if time.Since(restarted) < 500*time.Millisecond {
				t.Fatalf("offer of a restarting agent after %v", time.Since(restarted))
			}
		default:
			killed = time.Now()
			if ev.Update.Status.GetAgentID().GetValue() != o.AgentID.Value {
				t.Errorf("agent ID changed: %s", ev.Update.Status.GetAgentID().GetValue())
			}
		}
	}
	if d := killed.Sub(restarted); d < 500*time.Millisecond {
		t.Errorf("the kill reached the agent %v after its restart, before down (300ms) + reregistration timeout (200ms)", d)
	}
	f.wait(offersFrom(o.AgentID.Value))
}

func TestMarkAgentGone(t *testing.T) {
	c := startCluster(t, fastConfig(2))
	f := subscribeRaw(t, c, partitionAwareInfo("gone"))
	o := f.offer()
	f.runTask(o, "t1")
	if err := c.MarkAgentGone(o.Hostname); err != nil {
		t.Fatal(err)
	}
	st := f.wait(updateFor("t1", mesos.TASK_GONE_BY_OPERATOR)).Update.Status
	if st.GetReason() != mesos.REASON_AGENT_REMOVED_BY_OPERATOR {
		t.Fatalf("reason %s", st.GetReason())
	}
	f.reconcile(reconcileTask("ghost", o.AgentID.Value))
	f.wait(updateFor("ghost", mesos.TASK_GONE_BY_OPERATOR))
	if err := c.HealAgent(o.Hostname); err == nil {
		t.Fatal("a gone agent healed")
	}
}

func TestMasterFailover(t *testing.T) {
	cfg := fastConfig(1)
	cfg.AgentReregisterDelay = 300 * time.Millisecond
	c := startCluster(t, cfg)
	info := withFailoverTimeout(partitionAwareInfo("master-failover"), time.Minute)
	f := subscribeRaw(t, c, info)
	o := f.offer()
	f.runTask(o, "t1")

	c.FailoverMaster()
	select {
	case <-func() chan struct{} {
		done := make(chan struct{})
		go func() {
			for range f.s.frames {
			}
			close(done)
		}()
		return done
	}():
	case <-time.After(waitLimit):
		t.Fatal("stream survived the failover")
	}
	info.ID = &mesos.FrameworkID{Value: f.id}
	g := subscribeRaw(t, c, info)
	if g.streamID == f.streamID {
		t.Fatal("stream ID unchanged after failover")
	}
	// Before the agent reregisters the master cannot answer: not for a task
	// on that agent, not for a task without agent ID (it could be anywhere),
	// and implicit reconciliation leaves the agent's tasks out.
	g.reconcile(reconcileTask("t1", o.AgentID.Value))
	g.reconcile(reconcileTask("other", ""))
	g.reconcile()
	g.quiet(100*time.Millisecond, isType(scheduler.Event_UPDATE), "reconciliation answer before the agent reregistered")

	waitUntil(t, "the agent to reregister", func() bool { return c.State().Agents[0].Active })
	g.reconcile(reconcileTask("t1", o.AgentID.Value), reconcileTask("other", ""))
	g.wait(updateFor("t1", mesos.TASK_RUNNING))
	g.wait(updateFor("other", mesos.TASK_UNKNOWN))
}

func TestUpdateFaults(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("faults"))
	o := f.offer()

	c.DropUpdates(1)
	sent := time.Now()
	f.launch(o, 0, commandTask("t1", o, 1, 64))
	st := f.wait(updateFor("t1", mesos.TASK_STARTING)).Update.Status
	if time.Since(sent) < 250*time.Millisecond {
		t.Fatal("dropped update arrived before the retry interval")
	}
	c.DuplicateUpdates(1)
	f.ack(st)
	running := f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status
	dup := f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status
	if !bytes.Equal(dup.UUID, running.UUID) {
		t.Fatal("duplicate has another uuid")
	}
	f.ack(running)
	// The master's own updates are never dropped, delayed or duplicated:
	// they travel on the stream, lost only with it. A reconciliation
	// answer passes the faults by; the agent's next update takes them.
	c.DropUpdates(1)
	c.DelayUpdates(1, 200*time.Millisecond)
	f.reconcile(reconcileTask("t1", ""))
	f.wait(updateFor("t1", mesos.TASK_RUNNING))
	sent = time.Now()
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	f.wait(updateFor("t1", mesos.TASK_KILLED)) // dropped, then delayed when resent
	if time.Since(sent) < 500*time.Millisecond {
		t.Fatal("dropped and delayed update arrived before the retry interval and the delay")
	}
	if got := c.State().Faults; got != (FaultCounts{Dropped: 2, Delayed: 1, Duplicated: 1}) {
		t.Fatalf("fault counts %+v", got)
	}
}

// An agent's update held up on its way is dropped when the agent is
// removed before it arrives: the master does not forward updates from an
// agent it removed, so no framework hears from an agent after its FAILURE
// (chaos HA seed 11: a late TASK_RUNNING made a wiped agent look reachable
// again, and launches waited for its offers for good).
func TestDelayedUpdateOfARemovedAgentIsDropped(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("late"))
	o := f.offer()
	c.DelayUpdates(1, 300*time.Millisecond)
	f.launch(o, 0, commandTask("t1", o, 1, 64)) // TASK_STARTING is held up
	time.Sleep(50 * time.Millisecond)
	if err := c.RemoveAgent(o.AgentID.Value); err != nil {
		t.Fatal(err)
	}
	f.wait(func(ev *scheduler.Event) bool { return ev.GetType() == scheduler.Event_FAILURE })
	f.quiet(600*time.Millisecond, func(ev *scheduler.Event) bool {
		st := ev.GetUpdate().GetStatus()
		return ev.GetType() == scheduler.Event_UPDATE && st.GetState() != mesos.TASK_LOST && st.GetState() != mesos.TASK_GONE_BY_OPERATOR
	}, "an update from the removed agent after its FAILURE")
}

func TestKillTaskFailsTheTask(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("crash"))
	f.runTask(f.offer(), "t1")
	if err := c.KillTask("t1"); err != nil {
		t.Fatal(err)
	}
	f.wait(updateFor("t1", mesos.TASK_FAILED))
	if err := c.KillTask("nope"); err == nil {
		t.Fatal("KillTask of an unknown task succeeded")
	}
}

func TestAdminEndpointsAndDeviceMarkers(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Agents[0].HostDir = t.TempDir()
	c := startCluster(t, cfg)
	post := func(path, body string) int {
		resp, err := http.Post(c.URL()+"/admin/"+path, mediaJSON, bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("add-device-marker", `{"agent": "agent1", "device": "disk1", "content": "device.serial=S1\n"}`); code != http.StatusOK {
		t.Fatalf("add-device-marker: %d", code)
	}
	marker := filepath.Join(cfg.Agents[0].HostDir, "disk1", "QUOBYTE_DEV_SETUP")
	if b, err := os.ReadFile(marker); err != nil || string(b) != "device.serial=S1\n" {
		t.Fatalf("marker: %q %v", b, err)
	}
	if code := post("remove-device-marker", `{"hostname": "agent1", "device": "disk1"}`); code != http.StatusOK {
		t.Fatalf("remove-device-marker: %d", code)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("marker still there: %v", err)
	}
	if code := post("add-device-marker", `{"agent": "agent1", "device": "../escape"}`); code != http.StatusNotFound {
		t.Fatalf("device name with a path: %d, want 404", code)
	}
	if code := post("partition-agent", `{"agent": "nobody"}`); code != http.StatusNotFound {
		t.Fatalf("unknown agent: %d, want 404", code)
	}
	if code := post("partition-agent", `{"agent": `); code != http.StatusBadRequest {
		t.Fatalf("malformed body: %d, want 400", code)
	}
	if code := post("partition-agent", `{"agent": "agent1"}`); code != http.StatusOK {
		t.Fatalf("partition-agent: %d", code)
	}
	var st State
	waitUntil(t, "/state to show the partitioned agent unreachable", func() bool {
		resp, err := http.Get(c.URL() + "/state")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		st = State{}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.Agents[0].State == "unreachable" && st.ActivatedAgents == 0
	})
	if code := post("heal-agent", `{"agent": "agent1"}`); code != http.StatusOK {
		t.Fatalf("heal-agent: %d", code)
	}
	resp2, err := http.Get(c.URL() + "/admin/heal-agent")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET on an admin endpoint: %d, want 405", resp2.StatusCode)
	}
}

func TestPartitionWithoutPartitionAwareLosesThenRecoversTasks(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, mesos.FrameworkInfo{User: "root", Name: "old-style"})
	o := f.offer()
	f.runTask(o, "t1")
	if err := c.PartitionAgent(o.AgentID.Value); err != nil {
		t.Fatal(err)
	}
	if st := f.wait(updateFor("t1", mesos.TASK_LOST)).Update.Status; st.GetReason() != mesos.REASON_AGENT_REMOVED {
		t.Fatalf("reason %s", st.GetReason())
	}
	if err := c.HealAgent(o.AgentID.Value); err != nil {
		t.Fatal(err)
	}
	// Like Mesos since partition awareness, the master takes the task back
	// when the agent returns, whether the framework is partition-aware or not.
	st := f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status
	if st.GetReason() != mesos.REASON_AGENT_REREGISTERED {
		t.Fatalf("reason %s", st.GetReason())
	}
}

func TestAddAgentWhileRunning(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("grow"))
	f.offer()
	resp, err := http.Post(c.URL()+"/admin/add-agent", mediaJSON, bytes.NewBufferString(`{"hostname": "agent9", "cpus": 2, "attributes": {"rack": "r9"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || out["agent_id"] == "" {
		t.Fatalf("add-agent: %d %v %v", resp.StatusCode, out, err)
	}
	o := f.wait(offersFrom(out["agent_id"])).Offers.Offers
	for _, x := range o {
		if x.AgentID.Value == out["agent_id"] && (x.Hostname != "agent9" || scalarOf(x, "cpus") != 2 || x.Attributes[0].GetText().GetValue() != "r9") {
			t.Fatalf("offer from the new agent: %+v", x)
		}
	}
	if _, err := c.AddAgent(DefaultAgent("agent9")); err == nil {
		t.Fatal("a second agent9 was added")
	}
}

func TestDroppedKillMustBeRetried(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("lost-kill"))
	f.runTask(f.offer(), "t1")
	c.DropKills(1)
	kill := func() {
		f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	}
	kill()
	f.quiet(200*time.Millisecond, updateFor("t1", mesos.TASK_KILLED), "a lost kill killed the task")
	kill()
	f.wait(updateFor("t1", mesos.TASK_KILLED))
	if got := c.State().Faults.KillsLost; got != 1 {
		t.Fatalf("lost kills %d, want 1", got)
	}
}

// ClearFaults ends the message faults not yet spent: the chaos runner ends
// its fault phase with it (seed 77: kills lost after the phase held a
// rollout back).
func TestClearFaultsEndsUnspentFaults(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("clear"))
	f.runTask(f.offer(), "t1")
	c.DropKills(3)
	c.DropUpdates(3)
	c.DuplicateUpdates(3)
	c.DelayUpdates(3, time.Hour)
	c.ClearFaults()
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	f.wait(updateFor("t1", mesos.TASK_KILLED))
	if got := c.State().Faults; got != (FaultCounts{}) {
		t.Fatalf("faults spent after ClearFaults: %+v", got)
	}
}

// A healed cut and a new one: the master counts missed pings from the new
// cut, not from the first.
func TestRepeatedPartitionCountsFromTheLastCut(t *testing.T) {
	cfg := fastConfig(1)
	cfg.AgentPingTimeout = 60 * time.Millisecond // unreachable after 300ms
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("flap"))
	o := f.offer()
	f.runTask(o, "t1")
	if err := c.PartitionAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.HealAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	if err := c.PartitionAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	second := time.Now()
	f.wait(updateFor("t1", mesos.TASK_UNREACHABLE))
	if d := time.Since(second); d < 250*time.Millisecond {
		t.Errorf("unreachable %v after the second cut, want the full 300ms", d)
	}
}
