package scale

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// layout says which device types each agent's prober finds.
type layout func(agentIndex int) []spec.DeviceType

// standardLayout: DIR_DEVICE on the first three agents, METADATA_DEVICE on
// the next three (so the two device-bound core kinds do not share hosts and
// neither hides the other's placement cost), DATA_DEVICE on every agent.
func standardLayout(i int) []spec.DeviceType {
	var ts []spec.DeviceType
	switch {
	case i < 3:
		ts = append(ts, spec.DirDevice)
	case i < 6:
		ts = append(ts, spec.MetadataDevice)
	}
	return append(ts, spec.DataDevice)
}

// probeRuntime is mesossim's simulated runtime plus a stand-in for the
// prober executor. mesossim does not export its simulated runtime, so this
// re-implements its behaviour (STARTING, RUNNING, healthy=true for tasks with
// a health check; KILLED on kill; the executor exits with its last task)
// and adds what the real prober (observe/prober) would send: for a task of
// kind "prober", one TASK_RUNNING from the executor whose Data is a JSON
// probe.Report, and a fresh report whenever the framework MESSAGEs the
// executor (the framework's "probe now"). It sends no keep-alive reports:
// the spec's prober interval is long enough that none is due while a
// measurement runs, and a stale report is answered by the MESSAGE path.
//
// Updates are delivered in order from one goroutine per agent, started only
// while there is work, so 5,000 idle agents cost no goroutine.
type probeRuntime struct {
	cfg    mesossim.RuntimeConfig
	report probe.Report

	mu      sync.Mutex
	tasks   map[string]rtTask // task ID -> live task
	queue   []rtUpdate
	running bool
	closed  bool
}

type rtTask struct {
	frameworkID string
	executorID  *mesos.ExecutorID
	prober      bool
	killing     bool // the framework has TASK_KILLING_STATE
}

type rtUpdate struct {
	frameworkID string
	status      mesos.TaskStatus
	exited      string // when set, not an update: this executor exited
}

// newRuntimeFactory returns a factory whose agents report the devices lay
// gives them; agents are told apart by hostname, which index maps back to
// their position in the cluster.
func newRuntimeFactory(index map[string]int, lay layout) mesossim.RuntimeFactory {
	return func(rc mesossim.RuntimeConfig) (mesossim.Runtime, error) {
		i, ok := index[rc.Hostname]
		if !ok {
			return nil, fmt.Errorf("scale runtime: agent %q is not in the layout", rc.Hostname)
		}
		return &probeRuntime{cfg: rc, report: reportFor(rc.Hostname, lay(i)), tasks: map[string]rtTask{}}, nil
	}
}

// reportFor is what the real prober's Scan would report in directories mode
// for a host with one marked device per type.
func reportFor(hostname string, types []spec.DeviceType) probe.Report {
	r := probe.Report{
		Version:    probe.ReportVersion,
		Hostname:   hostname,
		DeviceRoot: "/srv/quobyte",
		Mode:       "directories",
	}
	for _, t := range types {
		r.Devices = append(r.Devices, probe.Device{
			Path:       "/srv/quobyte/" + string(t),
			Filesystem: "xfs",
			Types:      []spec.DeviceType{t},
			Serial:     hostname + "-" + string(t),
			FreeBytes:  900 << 30,
			TotalBytes: 1 << 40,
		})
	}
	return r
}

func (s *probeRuntime) Endpoint() string { return "" }

func (s *probeRuntime) Launch(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	var execID *mesos.ExecutorID
	if task.Executor != nil {
		id := task.Executor.ExecutorID
		execID = &id
	}
	killing := false
	for _, c := range fw.Capabilities {
		if c.Type == mesos.FrameworkInfo_Capability_TASK_KILLING_STATE {
			killing = true
		}
	}
	id, ok := taskid.Parse(task.TaskID.Value)
	prober := ok && id.Kind == taskid.ProberKind && execID != nil

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.tasks[task.TaskID.Value] = rtTask{frameworkID: fwID, executorID: execID, prober: prober, killing: killing}
	if prober {
		// The real prober reports on LAUNCH straight away (no STARTING):
		// observe/prober.handle, Event_LAUNCH -> report(force).
		s.enqueueReportLocked(fwID, task.TaskID.Value, execID)
		return
	}
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_STARTING, nil, nil, "", nil)
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, nil, nil, "", nil)
	if task.HealthCheck != nil {
		healthy := true
		reason := mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED
		s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, &healthy, &reason, "", nil)
	}
}

// enqueueReportLocked queues one report, with the next sequence number, as
// the prober executor's TASK_RUNNING (Source EXECUTOR, its ExecutorID).
func (s *probeRuntime) enqueueReportLocked(fwID, taskID string, execID *mesos.ExecutorID) {
	s.report.Seq++
	data, err := json.Marshal(s.report)
	if err != nil {
		// A probe.Report of plain fields always encodes; if it ever does
		// not, the framework sees no report and the harness times out
		// waiting for it, which names the agent.
		s.cfg.Logger.Error("scale runtime: encoding the prober report", "error", err)
		return
	}
	s.enqueueLocked(fwID, mesos.TaskID{Value: taskID}, execID, mesos.TASK_RUNNING, nil, nil, "", data)
}

func (s *probeRuntime) Kill(frameworkID, taskID string, _ time.Duration) {
	s.mu.Lock()
	if t, ok := s.tasks[taskID]; ok && t.killing && !s.closed {
		s.enqueueLocked(t.frameworkID, mesos.TaskID{Value: taskID}, t.executorID, mesos.TASK_KILLING, nil, nil, "", nil)
	}
	s.mu.Unlock()
	s.finish(taskID, mesos.TASK_KILLED, "Command terminated with signal Terminated")
}

func (s *probeRuntime) KillProcess(taskID string) error {
	if !s.finish(taskID, mesos.TASK_FAILED, "Command terminated with signal Killed") {
		return fmt.Errorf("scale runtime: no running task %q", taskID)
	}
	return nil
}

// Message answers the framework's probe request as the real prober does
// (Event_MESSAGE -> report to every task of the executor).
func (s *probeRuntime) Message(frameworkID, executorID string, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for id, t := range s.tasks {
		if t.frameworkID != frameworkID || t.executorID == nil || t.executorID.Value != executorID {
			continue
		}
		found = true
		if t.prober {
			s.enqueueReportLocked(frameworkID, id, t.executorID)
		}
	}
	if !found {
		return fmt.Errorf("scale runtime: no executor %q of framework %q", executorID, frameworkID)
	}
	return nil
}

func (s *probeRuntime) ShutdownFramework(frameworkID string) {
	s.mu.Lock()
	var ids []string
	for id, t := range s.tasks {
		if t.frameworkID == frameworkID {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.finish(id, mesos.TASK_KILLED, "Executor shut down")
	}
}

func (s *probeRuntime) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.queue = nil
	s.tasks = map[string]rtTask{}
}

// finish moves a live task to a terminal state; it reports whether the task was live.
func (s *probeRuntime) finish(taskID string, state mesos.TaskState, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	if !ok || s.closed {
		return false
	}
	delete(s.tasks, taskID)
	s.enqueueLocked(t.frameworkID, mesos.TaskID{Value: taskID}, t.executorID, state, nil, nil, msg, nil)
	if t.executorID != nil && !s.executorBusyLocked(t.frameworkID, t.executorID.Value) {
		// The executor exits with its last task, as the prober does.
		s.queue = append(s.queue, rtUpdate{frameworkID: t.frameworkID, exited: t.executorID.Value})
	}
	return true
}

func (s *probeRuntime) executorBusyLocked(fwID, execID string) bool {
	for _, t := range s.tasks {
		if t.frameworkID == fwID && t.executorID != nil && t.executorID.Value == execID {
			return true
		}
	}
	return false
}

func (s *probeRuntime) enqueueLocked(fwID string, taskID mesos.TaskID, execID *mesos.ExecutorID, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string, data []byte) {
	src := mesos.SOURCE_EXECUTOR
	ts := float64(s.cfg.Now().UnixNano()) / 1e9
	st := mesos.TaskStatus{
		TaskID:     taskID,
		State:      &state,
		Source:     &src,
		Reason:     reason,
		AgentID:    &mesos.AgentID{Value: s.cfg.AgentID},
		ExecutorID: execID,
		Timestamp:  &ts,
		UUID:       newUUID(),
		Healthy:    healthy,
		Data:       data,
	}
	if msg != "" {
		st.Message = &msg
	}
	s.queue = append(s.queue, rtUpdate{frameworkID: fwID, status: st})
	if !s.running {
		s.running = true
		go s.deliver()
	}
}

// deliver hands queued updates to the master in order, outside the lock so
// the master may call back into the runtime.
func (s *probeRuntime) deliver() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.closed {
			s.running = false
			s.mu.Unlock()
			return
		}
		u := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		if u.exited != "" {
			if s.cfg.ExecutorExited != nil {
				s.cfg.ExecutorExited(u.frameworkID, u.exited, 0)
			}
			continue
		}
		s.cfg.Updates(u.frameworkID, u.status)
	}
}

// newUUID is a random version-4 UUID, as Mesos wants for status updates.
func newUUID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}
