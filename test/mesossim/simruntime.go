package mesossim

import (
	"fmt"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// simRuntime runs no processes: a launched task goes TASK_STARTING then
// TASK_RUNNING at once (plus a healthy=true update when it has a health
// check), a killed one goes TASK_KILLED, a crashed one TASK_FAILED. A custom
// executor's task reports what Config.ExecutorData says, if anything. Updates are
// delivered from one goroutine per agent, started only while there is work,
// so idle agents cost no goroutine.
type simRuntime struct {
	cfg          RuntimeConfig
	newUUID      func() []byte
	executorData func(hostname string, task mesos.TaskInfo) []byte // Config.ExecutorData

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
	// info is kept for a custom executor's task when ExecutorData is set:
	// a MESSAGE asks the hook again for each task of the executor.
	info *mesos.TaskInfo
}

type simUpdate struct {
	frameworkID string
	status      mesos.TaskStatus
	exited      string // when set, not an update: this executor exited
}

func newSimRuntime(cfg RuntimeConfig, newUUID func() []byte, executorData func(string, mesos.TaskInfo) []byte) *simRuntime {
	return &simRuntime{cfg: cfg, newUUID: newUUID, executorData: executorData, tasks: map[string]simTask{}}
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
	t := simTask{frameworkID: fwID, executorID: execID, killing: killing}
	if execID != nil && s.executorData != nil {
		t.info = &task
		if data := s.executorData(s.cfg.Hostname, task); data != nil {
			// A custom executor reports as it pleases: here one
			// TASK_RUNNING carrying its data.
			s.tasks[task.TaskID.Value] = t
			s.enqueueStatusLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, nil, nil, "", data)
			return
		}
	}
	s.tasks[task.TaskID.Value] = t
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_STARTING, nil, "")
	s.enqueueLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, nil, "")
	if task.HealthCheck != nil {
		healthy := true
		reason := mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED
		s.enqueueStatusLocked(fwID, task.TaskID, execID, mesos.TASK_RUNNING, &healthy, &reason, "", nil)
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
	found := false
	for id, t := range s.tasks {
		if t.frameworkID != frameworkID || t.executorID == nil || t.executorID.Value != executorID {
			continue
		}
		found = true
		if t.info == nil {
			continue // a simulated executor has nothing to say to a message
		}
		if data := s.executorData(s.cfg.Hostname, *t.info); data != nil {
			s.enqueueStatusLocked(frameworkID, mesos.TaskID{Value: id}, t.executorID, mesos.TASK_RUNNING, nil, nil, "", data)
		}
	}
	if !found {
		return fmt.Errorf("simulated runtime: no executor %q of framework %q", executorID, frameworkID)
	}
	return nil
}

// reportAgain asks ExecutorData again for every custom executor's task and
// sends each answer as a new TASK_RUNNING: what a prober executor does on
// its own when it sees a device marker appear. It returns how many tasks
// reported.
func (s *simRuntime) reportAgain() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, t := range s.tasks {
		if t.info == nil || s.closed {
			continue
		}
		if data := s.executorData(s.cfg.Hostname, *t.info); data != nil {
			s.enqueueStatusLocked(t.frameworkID, mesos.TaskID{Value: id}, t.executorID, mesos.TASK_RUNNING, nil, nil, "", data)
			n++
		}
	}
	return n
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

// Restart: simulated executors are back at once; recovery still takes the
// reregistration timeout, as a Mesos agent's does (MESOS-7539).
func (s *simRuntime) Restart(down time.Duration, recovered func()) {
	time.AfterFunc(down+s.cfg.ExecutorReregistrationTimeout, func() {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			recovered()
		}
	})
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
	s.enqueueStatusLocked(fwID, taskID, execID, state, healthy, nil, msg, nil)
}

func (s *simRuntime) enqueueStatusLocked(fwID string, taskID mesos.TaskID, execID *mesos.ExecutorID, state mesos.TaskState, healthy *bool, reason *mesos.TaskStatus_Reason, msg string, data []byte) {
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
		Data:       data,
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
