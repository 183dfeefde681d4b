package chaos

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// Timings of the simulated services and probers.
const (
	// stopTime is how long a stopped service takes to exit (the stand-in's
	// STANDIN_STOP_GRACE, shortened; bounded by the kill grace).
	stopTime = 150 * time.Millisecond
	// detectLatency is how long a prober takes to notice a marker change
	// (the real one watches with inotify and rescans).
	detectLatency = 100 * time.Millisecond
)

// agentRuntime runs one agent's tasks in simulation (mesossim's Runtime):
// tasks are entries in the world, services are healthy or not as the
// stand-in would be (world.evaluate), checked as Mesos' health checker
// checks them, and probers report what the real prober's scanner finds in
// the host's directory. Updates go to the master in order from one
// goroutine, started while there is work.
type agentRuntime struct {
	w    *world
	cfg  mesossim.RuntimeConfig
	host *ghost

	// closed, seq (prober reports so far) and the tasks' fields are
	// guarded by w.mu; the queue by mu.
	closed  bool
	seq     uint64
	mu      sync.Mutex
	queue   []queued
	running bool
}

// queued is an update to deliver, a prober report to make (scanned when it
// is sent), or an executor's exit.
type queued struct {
	fwID   string
	status mesos.TaskStatus
	report *gtask
	exited string
}

// runtimeFactory makes the world's runtimes for mesossim.
func (w *world) runtimeFactory(cfg mesossim.RuntimeConfig) (mesossim.Runtime, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.hosts[cfg.Hostname]
	if h == nil {
		return nil, fmt.Errorf("chaos: agent %s on a host the world does not know", cfg.Hostname)
	}
	h.agentID = cfg.AgentID
	return &agentRuntime{w: w, cfg: cfg, host: h}, nil
}

func (rt *agentRuntime) Endpoint() string { return "" }

func (rt *agentRuntime) Launch(fw mesos.FrameworkInfo, ti mesos.TaskInfo) {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if rt.closed {
		return
	}
	now := w.now()
	id, _ := taskid.Parse(ti.TaskID.Value)
	env := taskEnv(ti)
	t := &gtask{
		id: ti.TaskID.Value, kind: id.Kind, config: id.ConfigHash, host: rt.host.name, agentID: rt.cfg.AgentID,
		frameworkID: fw.GetID().GetValue(), rt: rt, info: ti, launched: now, listening: now,
		neverHealthy: env["STANDIN_NEVER_HEALTHY_VERSION"] != "" && env["STANDIN_NEVER_HEALTHY_VERSION"] == env["QUOBYTE_VERSION"],
		registries:   registryHosts(env),
	}
	if ti.Executor != nil {
		eid := ti.Executor.ExecutorID
		t.executorID = &eid
	}
	if d, err := time.ParseDuration(env["STANDIN_SLOW_START"]); err == nil {
		t.listening = now.Add(d)
	}
	w.chk.launched(t, now)
	w.tasks[t.id] = t
	if !t.service() {
		t.setServing(now, true)
		rt.enqueue(queued{fwID: t.frameworkID, report: t})
		rt.keepAlive(t)
		return
	}
	rt.enqueueStatus(t, mesos.TASK_STARTING, nil, nil, "")
	rt.enqueueStatus(t, mesos.TASK_RUNNING, nil, nil, "")
	t.setServing(now, false)
	if hc := ti.HealthCheck; hc != nil {
		t.hc = newHealthState(*hc, now)
		rt.scheduleCheck(t, t.hc.delay)
	}
}

// Kill stops a task: TASK_KILLING at once (the framework has the
// TASK_KILLING_STATE capability), TASK_KILLED once the service has exited.
func (rt *agentRuntime) Kill(_, taskID string, grace time.Duration) {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tasks[taskID]
	if rt.closed || t == nil || t.rt != rt || !t.ended.IsZero() || !t.killed.IsZero() {
		return
	}
	now := w.now()
	w.chk.killReceived(t, now) // as it was when the kill came
	t.killed, t.fwKill = now, true
	t.setServing(now, false)
	rt.stop(t, grace, nil)
}

// stop sends TASK_KILLING and ends the task after its stop time.
func (rt *agentRuntime) stop(t *gtask, grace time.Duration, healthy *bool) {
	rt.enqueueStatus(t, mesos.TASK_KILLING, nil, nil, "")
	time.AfterFunc(min(grace, stopTime), func() {
		rt.w.mu.Lock()
		defer rt.w.mu.Unlock()
		rt.finish(t, mesos.TASK_KILLED, healthy, nil, "Command exited with status 0")
	})
}

func (rt *agentRuntime) KillProcess(taskID string) error {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tasks[taskID]
	if rt.closed || t == nil || t.rt != rt || !t.ended.IsZero() {
		return fmt.Errorf("chaos runtime: no running task %q", taskID)
	}
	rt.finish(t, mesos.TASK_FAILED, nil, mesos.REASON_COMMAND_EXECUTOR_FAILED.Enum(), "Command terminated with signal Killed")
	return nil
}

// finish ends a live task with a terminal update; with w.mu held.
func (rt *agentRuntime) finish(t *gtask, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string) {
	if rt.closed || !t.ended.IsZero() {
		return
	}
	now := rt.w.now()
	t.ended, t.endState = now, state
	t.setServing(now, false)
	rt.enqueueStatus(t, state, healthy, reason, msg)
	if t.executorID != nil {
		for _, o := range rt.w.tasks {
			if o.rt == rt && o.ended.IsZero() && o.executorID != nil && o.executorID.Value == t.executorID.Value {
				return
			}
		}
		// The executor exits with its last task, as the default one does.
		rt.enqueue(queued{fwID: t.frameworkID, exited: t.executorID.Value})
	}
}

// Message answers a framework message to a prober: it reports again.
func (rt *agentRuntime) Message(frameworkID, executorID string, _ []byte) error {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	found := false
	for _, t := range w.tasks {
		if t.rt == rt && t.ended.IsZero() && t.frameworkID == frameworkID && t.executorID != nil && t.executorID.Value == executorID {
			found = true
			rt.enqueue(queued{fwID: frameworkID, report: t})
		}
	}
	if !found {
		return fmt.Errorf("chaos runtime: no executor %q", executorID)
	}
	return nil
}

// ShutdownFramework happens when the master removes the framework: every
// task is killed.
func (rt *agentRuntime) ShutdownFramework(frameworkID string) {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.tasks {
		if t.rt == rt && t.ended.IsZero() && t.frameworkID == frameworkID {
			w.chk.frameworkRemoved(t, w.now())
			rt.finish(t, mesos.TASK_KILLED, nil, nil, "Executor shut down")
		}
	}
}

// Restart: the agent recovers its checkpointed tasks (they keep running)
// after the downtime and the executor reregistration timeout, as
// mesossim's simulated runtime does.
func (rt *agentRuntime) Restart(down time.Duration, recovered func()) {
	time.AfterFunc(down+rt.cfg.ExecutorReregistrationTimeout, func() {
		rt.w.mu.Lock()
		closed := rt.closed
		rt.w.mu.Unlock()
		if !closed {
			recovered()
		}
	})
}

// Close: the agent is gone (removed, or wiped): its tasks die with it.
func (rt *agentRuntime) Close() {
	w := rt.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if rt.closed {
		return
	}
	now := w.now()
	for _, t := range w.tasks {
		if t.rt == rt && t.ended.IsZero() {
			t.ended, t.endState = now, mesos.TASK_LOST
			t.setServing(now, false)
		}
	}
	rt.closed = true
	if rt.host.agentID == rt.cfg.AgentID {
		rt.host.agentID = ""
	}
	rt.mu.Lock()
	rt.queue = nil
	rt.mu.Unlock()
}

// keepAlive re-reports every prober interval while the prober runs.
func (rt *agentRuntime) keepAlive(t *gtask) {
	time.AfterFunc(proberInterval, func() {
		rt.w.mu.Lock()
		defer rt.w.mu.Unlock()
		if rt.closed || !t.ended.IsZero() {
			return
		}
		rt.enqueue(queued{fwID: t.frameworkID, report: t})
		rt.keepAlive(t)
	})
}

// devicesChanged makes the host's running probers report again, once they
// have noticed; with w.mu held.
func (w *world) devicesChanged(h *ghost) {
	for _, t := range w.tasks {
		if t.host == h.name && !t.service() && t.ended.IsZero() {
			t := t
			time.AfterFunc(detectLatency, func() {
				w.mu.Lock()
				defer w.mu.Unlock()
				if !t.rt.closed && t.ended.IsZero() {
					t.rt.enqueue(queued{fwID: t.frameworkID, report: t})
				}
			})
		}
	}
}

func (rt *agentRuntime) enqueueStatus(t *gtask, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string) {
	rt.enqueue(queued{fwID: t.frameworkID, status: rt.status(t, state, healthy, reason, msg, nil)})
}

func (rt *agentRuntime) status(t *gtask, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string, data []byte) mesos.TaskStatus {
	src := mesos.SOURCE_EXECUTOR
	ts := float64(rt.cfg.Now().UnixNano()) / 1e9
	uuid := make([]byte, 16)
	_, _ = rand.Read(uuid)
	st := mesos.TaskStatus{
		TaskID: mesos.TaskID{Value: t.id}, State: &state, Source: &src, Reason: reason,
		AgentID: &mesos.AgentID{Value: rt.cfg.AgentID}, ExecutorID: t.executorID, Timestamp: &ts,
		UUID: uuid, Healthy: healthy, Data: data,
	}
	if msg != "" {
		st.Message = &msg
	}
	return st
}

func (rt *agentRuntime) enqueue(q queued) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.queue = append(rt.queue, q)
	if !rt.running {
		rt.running = true
		go rt.deliver()
	}
}

// deliver hands queued updates to the master in order, without holding a
// lock: the master may call back into the runtime.
func (rt *agentRuntime) deliver() {
	for {
		rt.mu.Lock()
		if len(rt.queue) == 0 {
			rt.running = false
			rt.mu.Unlock()
			return
		}
		q := rt.queue[0]
		rt.queue = rt.queue[1:]
		rt.mu.Unlock()
		switch {
		case q.exited != "":
			if rt.cfg.ExecutorExited != nil {
				rt.cfg.ExecutorExited(q.fwID, q.exited, 0)
			}
		case q.report != nil:
			if st, ok := rt.report(q.report); ok {
				rt.cfg.Updates(q.fwID, st)
			}
		default:
			rt.cfg.Updates(q.fwID, q.status)
		}
	}
}

// report is a prober's TASK_RUNNING with what the real scanner finds in the
// host directory now (directories mode).
func (rt *agentRuntime) report(t *gtask) (mesos.TaskStatus, bool) {
	rt.w.mu.Lock()
	live := !rt.closed && t.ended.IsZero()
	rt.seq++
	seq := rt.seq
	rt.w.mu.Unlock()
	if !live {
		return mesos.TaskStatus{}, false
	}
	r := probe.NewScanner(probe.Config{DeviceRoot: rt.host.dir, Mode: probe.ModeDirectories, Hostname: rt.host.name}).Scan()
	r.Seq = seq
	data, err := json.Marshal(r)
	if err != nil {
		return mesos.TaskStatus{}, false
	}
	return rt.status(t, mesos.TASK_RUNNING, nil, nil, "", data), true
}
