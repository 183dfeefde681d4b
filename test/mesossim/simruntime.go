package mesossim

import (
	"fmt"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// simRuntime runs no processes: a launched task goes TASK_STARTING then
// TASK_RUNNING at once (plus a healthy=true update when it has a health
// check), a killed one goes TASK_KILLED, a crashed one TASK_FAILED. Updates are
// delivered from one goroutine per agent, started only while there is work,
// so idle agents cost no goroutine.
type simRuntime struct {
	cfg     RuntimeConfig
	newUUID func() []byte

	mu      sync.Mutex
	tasks   map[string]simTask // task ID -> task
	queue   []simUpdate
	running bool
	closed  bool
}

type simTask struct {
	frameworkID string
	executorID  *mesos.ExecutorID
	killing     bool // the framework has TASK_KILLING_STATE: kills go through TASK_KILLING
}

type simUpdate struct {
	frameworkID string
	status      mesos.TaskStatus
	exited      string // when set, not an update: this executor exited
}

func newSimRuntime(cfg RuntimeConfig, newUUID func() []byte) *simRuntime {
	return &simRuntime{cfg: cfg, newUUID: newUUID, tasks: map[string]simTask{}}
}

func (s *simRuntime) Endpoint() string { return "" }

func (s *simRuntime) Launch(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	var execID *mesos.ExecutorID
	if task.Executor != nil {
		id := task.Executor.ExecutorID
		execID = &id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	killing := false
	for _, c := range fw.Capabilities {
		if c.Type == mesos.FrameworkInfo_Capability_TASK_KILLING_STATE {
			killing = true
		}
	}
	s.tasks[task.TaskID.Value] = simTask{frameworkID: fwID, executorID: execID, killing: killing}
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_STARTING, nil, "")
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, nil, "")
	if task.HealthCheck != nil {
		healthy := true
		reason := mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED
		s.enqueueReasonLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, &healthy, &reason, "")
	}
}

func (s *simRuntime) Kill(frameworkID, taskID string, _ time.Duration) {
	s.mu.Lock()
	if t, ok := s.tasks[taskID]; ok && t.killing && !s.closed {
		s.enqueueLocked(t.frameworkID, mesos.TaskID{Value: taskID}, t.executorID, mesos.TASK_KILLING, nil, "")
	}
	s.mu.Unlock()
	s.finish(taskID, mesos.TASK_KILLED, "Command terminated with signal Terminated")
}

func (s *simRuntime) KillProcess(taskID string) error {
	if !s.finish(taskID, mesos.TASK_FAILED, "Command terminated with signal Killed") {
		return fmt.Errorf("simulated runtime: no running task %q", taskID)
	}
	return nil
}

func (s *simRuntime) Message(frameworkID, executorID string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		if t.frameworkID == frameworkID && t.executorID != nil && t.executorID.Value == executorID {
			return nil // a simulated executor has nothing to do with a message
		}
	}
	return fmt.Errorf("simulated runtime: no executor %q of framework %q", executorID, frameworkID)
}

func (s *simRuntime) ShutdownFramework(frameworkID string) {
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

func (s *simRuntime) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.queue = nil
	s.tasks = map[string]simTask{}
}

// finish moves a live task to a terminal state; it reports whether the task was live.
func (s *simRuntime) finish(taskID string, state mesos.TaskState, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	if !ok || s.closed {
		return false
	}
	delete(s.tasks, taskID)
	s.enqueueLocked(t.frameworkID, mesos.TaskID{Value: taskID}, t.executorID, state, nil, msg)
	if t.executorID != nil && !s.executorBusyLocked(t.frameworkID, t.executorID.Value) {
		// A simulated executor exits with its last task, as the default
		// executor does.
		s.queue = append(s.queue, simUpdate{frameworkID: t.frameworkID, exited: t.executorID.Value})
	}
	return true
}

func (s *simRuntime) executorBusyLocked(fwID, execID string) bool {
	for _, t := range s.tasks {
		if t.frameworkID == fwID && t.executorID != nil && t.executorID.Value == execID {
			return true
		}
	}
	return false
}

func (s *simRuntime) enqueueLocked(fwID string, taskID mesos.TaskID, execID *mesos.ExecutorID, state mesos.TaskState, healthy *bool, msg string) {
	s.enqueueReasonLocked(fwID, taskID, execID, state, healthy, nil, msg)
}

func (s *simRuntime) enqueueReasonLocked(fwID string, taskID mesos.TaskID, execID *mesos.ExecutorID, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string) {
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
		UUID:       s.newUUID(),
		Healthy:    healthy,
	}
	if msg != "" {
		st.Message = &msg
	}
	s.queue = append(s.queue, simUpdate{frameworkID: fwID, status: st})
	if !s.running {
		s.running = true
		go s.deliver()
	}
}

// deliver hands queued updates to the master in order, outside the lock so the
// master may call back into the runtime.
func (s *simRuntime) deliver() {
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
