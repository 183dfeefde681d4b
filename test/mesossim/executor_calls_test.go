package mesossim

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// recordingRuntime wraps the simulated runtime and records framework messages,
// so the master's MESSAGE wiring can be seen from both ends.
type recordingRuntime struct {
	*simRuntime
	cfg      RuntimeConfig
	mu       sync.Mutex
	messages []string
}

func (r *recordingRuntime) Message(frameworkID, executorID string, data []byte) error {
	r.mu.Lock()
	r.messages = append(r.messages, executorID+":"+string(data))
	r.mu.Unlock()
	return nil
}

func (r *recordingRuntime) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.messages...)
}

func TestMessagesBetweenSchedulerAndExecutor(t *testing.T) {
	cfg := fastConfig(1)
	var rt *recordingRuntime
	var c *Cluster
	cfg.RuntimeFactory = func(rc RuntimeConfig) (Runtime, error) {
		rt = &recordingRuntime{simRuntime: newSimRuntime(rc, func() []byte { return c.m.newUUID() }, nil), cfg: rc}
		return rt, nil
	}
	c = startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("messages"))
	o := f.offer()
	f.call(&scheduler.Call{Type: scheduler.Call_MESSAGE, Message: &scheduler.Call_Message{
		AgentID: o.AgentID, ExecutorID: mesos.ExecutorID{Value: "prober"}, Data: []byte("probe now"),
	}})
	waitUntil(t, "the executor to get the message", func() bool {
		got := rt.received()
		return len(got) == 1 && got[0] == "prober:probe now"
	})
	rt.cfg.Messages(f.id, "prober", []byte("found disk1"))
	ev := f.wait(isType(scheduler.Event_MESSAGE))
	if string(ev.Message.Data) != "found disk1" || ev.Message.ExecutorID.Value != "prober" || ev.Message.AgentID != o.AgentID {
		t.Fatalf("MESSAGE event %+v", ev.Message)
	}
}

func TestShutdownKillsTheExecutorsTasks(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("shutdown"))
	o := f.offer()
	var tasks []mesos.TaskInfo
	for _, id := range []string{"a", "b"} {
		task := commandTask(id, o, 1, 64)
		task.Command = nil
		task.Executor = &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "exec"}, Command: &mesos.CommandInfo{Value: strPtr("executor")}}
		tasks = append(tasks, task)
	}
	f.launch(o, 0, tasks...)
	waitUntil(t, "both tasks to run", func() bool {
		ts := c.State().Frameworks[0].Tasks
		return len(ts) == 2 && ts[0].State == "TASK_RUNNING" && ts[1].State == "TASK_RUNNING"
	})
	f.call(&scheduler.Call{Type: scheduler.Call_SHUTDOWN, Shutdown: &scheduler.Call_Shutdown{
		ExecutorID: mesos.ExecutorID{Value: "exec"}, AgentID: o.AgentID,
	}})
	waitUntil(t, "both tasks to be killed", func() bool {
		ts := c.State().Frameworks[0].Tasks
		return len(ts) == 2 && ts[0].State == "TASK_KILLED" && ts[1].State == "TASK_KILLED"
	})
}

func TestSuppressOneRoleOfAMultiRoleFramework(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Agents[0].Reservations = map[string]map[string]float64{"a": {"cpus": 1, "mem": 64}, "b": {"cpus": 1, "mem": 64}}
	c := startCluster(t, cfg)
	info := partitionAwareInfo("multi")
	info.Roles = []string{"a", "b"}
	info.Capabilities = append(info.Capabilities, mesos.FrameworkInfo_Capability{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE})
	f := subscribeRaw(t, c, info)
	first := f.wait(isType(scheduler.Event_OFFERS)).Offers.Offers
	roles := map[string]bool{}
	var ids []mesos.OfferID
	for _, o := range first {
		roles[o.GetAllocationInfo().GetRole()] = true
		ids = append(ids, o.ID)
	}
	if !roles["a"] || !roles["b"] {
		t.Fatalf("first offers for roles %v, want a and b", roles)
	}
	f.call(&scheduler.Call{Type: scheduler.Call_SUPPRESS, Suppress: &scheduler.Call_Suppress{Roles: []string{"a"}}})
	f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: ids, Filters: &mesos.Filters{RefuseSeconds: new(float64)}}})
	for i := 0; i < 3; i++ {
		for _, o := range f.wait(isType(scheduler.Event_OFFERS)).Offers.Offers {
			if role := o.GetAllocationInfo().GetRole(); role != "b" {
				t.Fatalf("offer for suppressed role %q", role)
			}
			f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: []mesos.OfferID{o.ID}, Filters: &mesos.Filters{RefuseSeconds: new(float64)}}})
		}
	}
}

func TestUpdateFrameworkChangesRoles(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Agents[0].Reservations = map[string]map[string]float64{"new": {"cpus": 1, "mem": 64}}
	c := startCluster(t, cfg)
	info := partitionAwareInfo("update")
	f := subscribeRaw(t, c, info)
	first := f.offer()
	if role := first.GetAllocationInfo().GetRole(); role != "*" {
		t.Fatalf("first offer for role %q", role)
	}
	info.ID = &mesos.FrameworkID{Value: f.id}
	update := func(info mesos.FrameworkInfo, suppressed ...string) (int, string) {
		return protoCall(t, c, f.streamID, &scheduler.Call{Type: scheduler.Call_UPDATE_FRAMEWORK, FrameworkID: info.ID,
			UpdateFramework: &scheduler.Call_UpdateFramework{FrameworkInfo: info, SuppressedRoles: suppressed}})
	}
	// validation.cpp validateUpdate: principal, user and checkpoint stay;
	// suppressed roles must be the framework's.
	for name, bad := range map[string]func(*mesos.FrameworkInfo){
		"principal":  func(i *mesos.FrameworkInfo) { i.Principal = strPtr("other") },
		"user":       func(i *mesos.FrameworkInfo) { i.User = "nobody" },
		"checkpoint": func(i *mesos.FrameworkInfo) { i.Checkpoint = new(bool); *i.Checkpoint = !info.GetCheckpoint() },
		"roles":      func(i *mesos.FrameworkInfo) { i.Roles = []string{"x"} },
		"role name":  func(i *mesos.FrameworkInfo) { i.Role = strPtr("a b") },
	} {
		changed := info
		bad(&changed)
		if code, msg := update(changed); code != http.StatusBadRequest {
			t.Errorf("UPDATE_FRAMEWORK changing %s: %d %q, want 400", name, code, msg)
		}
	}
	if code, msg := update(info, "elsewhere"); code != http.StatusBadRequest {
		t.Errorf("UPDATE_FRAMEWORK suppressing a role it does not have: %d %q, want 400", code, msg)
	}
	info.Role = strPtr("new")
	info.Name = "renamed"
	// Master::updateFramework answers 200 OK, not 202.
	if code, msg := update(info); code != http.StatusOK {
		t.Fatalf("UPDATE_FRAMEWORK: %d %q, want 200", code, msg)
	}
	if ev := f.wait(isType(scheduler.Event_RESCIND)); ev.Rescind.OfferID != first.ID {
		t.Fatalf("rescinded %s, want the offer to the old role", ev.Rescind.OfferID.Value)
	}
	if next := f.offer(); next.GetAllocationInfo().GetRole() != "new" {
		role := next.GetAllocationInfo().GetRole()
		t.Fatalf("offer after UPDATE_FRAMEWORK for role %q, want new", role)
	}
	if st := c.State(); st.Frameworks[0].Name != "renamed" || len(st.Frameworks[0].Roles) != 1 || st.Frameworks[0].Roles[0] != "new" {
		t.Errorf("framework after UPDATE_FRAMEWORK: %+v", st.Frameworks[0])
	}
	wrong := &scheduler.Call{Type: scheduler.Call_UPDATE_FRAMEWORK, FrameworkID: &mesos.FrameworkID{Value: f.id},
		UpdateFramework: &scheduler.Call_UpdateFramework{FrameworkInfo: partitionAwareInfo("no-id")}}
	if code, _ := protoCall(t, c, f.streamID, wrong); code != 400 {
		t.Fatalf("UPDATE_FRAMEWORK without the framework's ID: %d, want 400", code)
	}
}

func TestExecutorExitIsReportedAsFailure(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("exec-exit"))
	o := f.offer()
	task := commandTask("t1", o, 1, 64)
	task.Command = nil
	task.Executor = &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "prober"}, Command: &mesos.CommandInfo{Value: strPtr("prober")}}
	f.launch(o, 0, task)
	f.ack(f.wait(updateFor("t1", mesos.TASK_STARTING)).Update.Status)
	f.ack(f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status)
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	ev := f.wait(isType(scheduler.Event_FAILURE))
	if ev.Failure.GetExecutorID().GetValue() != "prober" || ev.Failure.GetAgentID().GetValue() != o.AgentID.Value || ev.Failure.Status == nil {
		t.Fatalf("FAILURE %+v", ev.Failure)
	}
}

func TestMalformedRuntimeUpdatesAreDropped(t *testing.T) {
	cfg := fastConfig(1)
	var rt *recordingRuntime
	var c *Cluster
	cfg.RuntimeFactory = func(rc RuntimeConfig) (Runtime, error) {
		rt = &recordingRuntime{simRuntime: newSimRuntime(rc, func() []byte { return c.m.newUUID() }, nil), cfg: rc}
		return rt, nil
	}
	c = startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("bad-runtime"))
	o := f.offer()
	f.runTask(o, "t1")
	rt.cfg.Updates(f.id, mesos.TaskStatus{TaskID: mesos.TaskID{Value: "t1"}}) // no state
	f.reconcile(reconcileTask("t1", o.AgentID.Value))
	f.wait(updateFor("t1", mesos.TASK_RUNNING))
}

// In simulated mode, Config.ExecutorData stands in for what a custom
// executor reports: its data on launch (one TASK_RUNNING, no STARTING), and a
// fresh answer on every framework MESSAGE to the executor.
func TestExecutorDataStandsInForACustomExecutor(t *testing.T) {
	cfg := fastConfig(1)
	asked := 0
	var mu sync.Mutex
	cfg.ExecutorData = func(hostname string, task mesos.TaskInfo) []byte {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return []byte(fmt.Sprintf("%s %s #%d", hostname, task.TaskID.Value, asked))
	}
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("executor-data"))
	o := f.offer()
	task := commandTask("p1", o, 1, 64)
	task.Command = nil
	task.Executor = &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "prober"}, Command: &mesos.CommandInfo{Value: strPtr("prober")}}
	f.launch(o, 0, task)
	st := f.wait(isType(scheduler.Event_UPDATE)).Update.Status
	host := c.State().Agents[0].Hostname
	if st.GetState() != mesos.TASK_RUNNING || string(st.Data) != host+" p1 #1" || st.GetSource() != mesos.SOURCE_EXECUTOR {
		t.Fatalf("first update %s %q from %s, want TASK_RUNNING %q from the executor", st.GetState(), st.Data, st.GetSource(), host+" p1 #1")
	}
	f.ack(st) // the agent sends a task's next update once this one is acknowledged
	f.call(&scheduler.Call{Type: scheduler.Call_MESSAGE, Message: &scheduler.Call_Message{
		AgentID: o.AgentID, ExecutorID: mesos.ExecutorID{Value: "prober"}, Data: []byte("probe"),
	}})
	st = f.wait(func(ev *scheduler.Event) bool {
		return ev.Type == scheduler.Event_UPDATE && string(ev.Update.Status.Data) != host+" p1 #1"
	}).Update.Status
	if st.GetState() != mesos.TASK_RUNNING || string(st.Data) != host+" p1 #2" {
		t.Fatalf("update after MESSAGE %s %q, want TASK_RUNNING %q", st.GetState(), st.Data, host+" p1 #2")
	}
	// Unasked, as a prober reports a new device marker.
	f.ack(st)
	if err := c.ExecutorReport(host); err != nil {
		t.Fatal(err)
	}
	st = f.wait(func(ev *scheduler.Event) bool {
		return ev.Type == scheduler.Event_UPDATE && string(ev.Update.Status.Data) == host+" p1 #3"
	}).Update.Status
	if st.GetState() != mesos.TASK_RUNNING || st.GetSource() != mesos.SOURCE_EXECUTOR {
		t.Fatalf("unasked report %s from %s, want TASK_RUNNING from the executor", st.GetState(), st.GetSource())
	}
	if err := c.ExecutorReport("no-such-host"); err == nil {
		t.Error("a report of an unknown agent")
	}
}
