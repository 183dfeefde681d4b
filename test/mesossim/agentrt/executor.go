package agentrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	execpb "github.com/mesos/mesos-go/api/v1/lib/executor"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

// executor is one run of a custom executor: its process, its subscription
// and the tasks the agent knows it has.
//
// Lock order: Agent.mu before executor.emitMu before executor.mu. Updates
// are emitted holding emitMu only, so that a decision (is the task still
// live?) and its update stay in order with other updates of the executor.
type executor struct {
	a             *Agent
	fw            mesos.FrameworkInfo
	fwID          string
	info          mesos.ExecutorInfo
	containerID   string
	sandbox       string
	shutdownGrace time.Duration
	log           hclog.Logger

	subscribedCh  chan struct{} // closed on the first SUBSCRIBE
	shutdownCh    chan struct{} // closed when shutdown is requested
	subscribeOnce sync.Once
	shutdownOnce  sync.Once
	emitMu        sync.Mutex

	mu           sync.Mutex
	proc         *proc
	stream       *eventStream // current subscription; nil when none
	queued       []mesos.TaskInfo
	live         map[string]*execTask // tasks not yet terminal
	shuttingDown bool
	exited       bool
	// reregistered is set by a SUBSCRIBE after the agent's restart;
	// pending is how the live tasks end when the agent destroys the
	// executor (Restart), instead of REASON_EXECUTOR_TERMINATED.
	reregistered bool
	pending      *termination
	// seen remembers the UUIDs of the last updates relayed, so that an
	// update resent after a reconnection is acknowledged but not relayed
	// twice (the status update manager of a Mesos agent does the same).
	seen      map[string]bool
	seenOrder []string
}

const seenUpdates = 1024

type execTask struct {
	info     mesos.TaskInfo
	launched bool // a LAUNCH event was queued to the executor
}

var errNotSubscribed = errors.New("Executor is not subscribed")

func (a *Agent) launchExecutorTask(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	info := *task.Executor
	if info.FrameworkID == nil {
		info.FrameworkID = &mesos.FrameworkID{Value: fwID}
	}
	eid := info.ExecutorID.Value
	a.mu.Lock()
	f := a.frameworkLocked(fw)
	if f.hasTaskLocked(task.TaskID.Value) {
		a.mu.Unlock()
		a.failAsync(fwID, task, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID, "Task has duplicate ID: "+task.TaskID.Value)
		return
	}
	if ex := f.executors[eid]; ex != nil {
		if !ex.info.Equal(&info) {
			a.mu.Unlock()
			a.failAsync(fwID, task, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID,
				"ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID")
			return
		}
		ex.addTask(task)
		a.mu.Unlock()
		return
	}
	if _, clash := f.tasks[eid]; clash {
		a.mu.Unlock()
		a.failAsync(fwID, task, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID,
			"ExecutorID '"+eid+"' is already used by a command task")
		return
	}
	grace := a.cfg.ExecutorShutdownGracePeriod
	if info.ShutdownGracePeriod != nil {
		grace = time.Duration(info.ShutdownGracePeriod.Nanoseconds)
	}
	cid := uuidString(newUUID())
	ex := &executor{
		a: a, fw: fw, fwID: fwID, info: info, containerID: cid,
		sandbox:       a.sandboxDir(fwID, eid, cid),
		shutdownGrace: grace,
		log:           a.log.With("framework_id", fwID, "executor_id", eid),
		subscribedCh:  make(chan struct{}),
		shutdownCh:    make(chan struct{}),
		live:          map[string]*execTask{},
		seen:          map[string]bool{},
	}
	ex.addTask(task)
	f.executors[eid] = ex
	a.mu.Unlock()
	if !a.goRun(func() { ex.run(a.ctx) }) {
		ex.forget()
	}
}

// hasTaskLocked reports whether a live task of the framework has this ID; a.mu held.
func (f *framework) hasTaskLocked(taskID string) bool {
	if _, ok := f.tasks[taskID]; ok {
		return true
	}
	for _, ex := range f.executors {
		if ex.hasTask(taskID) {
			return true
		}
	}
	return false
}

func (ex *executor) hasTask(taskID string) bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	_, ok := ex.live[taskID]
	return ok
}

// addTask queues the task until the executor subscribes, or sends LAUNCH.
func (ex *executor) addTask(task mesos.TaskInfo) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.shuttingDown || ex.exited {
		state := mesos.TASK_LOST
		if hasCapability(ex.fw, mesos.FrameworkInfo_Capability_PARTITION_AWARE) {
			state = mesos.TASK_DROPPED
		}
		ex.a.failAsync(ex.fwID, task, state, mesos.REASON_EXECUTOR_TERMINATED, "Executor is terminating")
		return
	}
	t := &execTask{info: task}
	ex.live[task.TaskID.Value] = t
	if ex.stream != nil {
		t.launched = true
		ex.stream.push(execpb.Event{Type: execpb.Event_LAUNCH, Launch: &execpb.Event_Launch{Task: task}})
		return
	}
	ex.queued = append(ex.queued, task)
}

// killTask sends KILL to the executor, or kills a task still waiting for
// the executor to subscribe.
func (ex *executor) killTask(taskID string, grace time.Duration) {
	ex.mu.Lock()
	t := ex.live[taskID]
	if t == nil {
		ex.mu.Unlock()
		return
	}
	if t.launched {
		if ex.stream == nil {
			ex.mu.Unlock()
			ex.log.Warn("kill dropped: executor is disconnected", "task_id", taskID)
			return
		}
		d := grace
		ex.stream.push(execpb.Event{Type: execpb.Event_KILL, Kill: &execpb.Event_Kill{
			TaskID:     mesos.TaskID{Value: taskID},
			KillPolicy: &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(d)}},
		}})
		ex.mu.Unlock()
		return
	}
	delete(ex.live, taskID)
	for i, q := range ex.queued {
		if q.TaskID.Value == taskID {
			ex.queued = append(ex.queued[:i:i], ex.queued[i+1:]...)
			break
		}
	}
	// Like Mesos: an executor that never registered and has nothing left to
	// run is shut down.
	idle := len(ex.live) == 0 && ex.stream == nil
	ex.mu.Unlock()
	st := ex.a.status(taskID, ex.info.ExecutorID.Value, mesos.TASK_KILLED, mesos.SOURCE_AGENT)
	st.Reason = mesos.REASON_TASK_KILLED_DURING_LAUNCH.Enum()
	st.Message = strPtr("Task killed before it was launched")
	ex.a.goRun(func() { ex.emit(st) })
	if idle {
		ex.shutdown()
	}
}

func (ex *executor) message(data []byte) error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.stream == nil {
		return fmt.Errorf("agentrt: executor %q is not subscribed", ex.info.ExecutorID.Value)
	}
	ex.stream.push(execpb.Event{Type: execpb.Event_MESSAGE, Message: &execpb.Event_Message{Data: data}})
	return nil
}

// shutdown asks the executor to shut down: SHUTDOWN now, SIGKILL after its
// grace period (at once when it never subscribed).
func (ex *executor) shutdown() { ex.shutdownOnce.Do(func() { close(ex.shutdownCh) }) }

func (ex *executor) crash() error {
	ex.mu.Lock()
	p := ex.proc
	ex.mu.Unlock()
	if p == nil {
		return fmt.Errorf("agentrt: executor %q has no running process", ex.info.ExecutorID.Value)
	}
	return p.signal(syscall.SIGKILL)
}

func (ex *executor) emit(st mesos.TaskStatus) {
	ex.emitMu.Lock()
	defer ex.emitMu.Unlock()
	ex.a.emit(ex.fwID, st)
}

func (ex *executor) forget() {
	ex.a.mu.Lock()
	defer ex.a.mu.Unlock()
	if f := ex.a.frameworks[ex.fwID]; f != nil && f.executors[ex.info.ExecutorID.Value] == ex {
		delete(f.executors, ex.info.ExecutorID.Value)
		ex.a.forgetFrameworkLocked(ex.fwID)
	}
}

// failAll ends every live task with the same update, from the agent.
func (ex *executor) failAll(state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string) {
	ex.emitMu.Lock()
	defer ex.emitMu.Unlock()
	ex.mu.Lock()
	var ids []string
	for id := range ex.live {
		ids = append(ids, id)
	}
	ex.live = map[string]*execTask{}
	ex.queued = nil
	ex.mu.Unlock()
	for _, id := range ids {
		st := ex.a.status(id, ex.info.ExecutorID.Value, state, mesos.SOURCE_AGENT)
		st.Reason = reason.Enum()
		st.Message = strPtr(msg)
		ex.a.emit(ex.fwID, st)
	}
}

// run starts the executor and watches it until it exits.
func (ex *executor) run(ctx context.Context) {
	defer ex.forget()
	defer func() {
		ex.mu.Lock()
		ex.exited = true
		if ex.stream != nil {
			ex.stream.close()
			ex.stream = nil
		}
		ex.mu.Unlock()
	}()
	p, err := ex.start(ctx)
	if err != nil {
		if ctx.Err() == nil {
			ex.failAll(mesos.TASK_FAILED, mesos.REASON_CONTAINER_LAUNCH_FAILED, "Failed to launch container: "+err.Error())
		}
		return
	}
	ex.log.Debug("executor started", "pid", p.pid, "sandbox", ex.sandbox)
	registration := time.NewTimer(ex.a.cfg.ExecutorRegistrationTimeout)
	defer registration.Stop()
	subscribed, shutdownReq := ex.subscribedCh, ex.shutdownCh
	var escalate <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			_ = p.signal(syscall.SIGKILL)
			<-p.done
			return
		case <-subscribed:
			registration.Stop()
			subscribed = nil
		case <-registration.C:
			never := true
			select {
			case <-ex.subscribedCh:
				never = false
			default:
			}
			if never {
				ex.log.Warn("executor did not subscribe in time; killing it")
				ex.failAll(mesos.TASK_FAILED, mesos.REASON_EXECUTOR_REGISTRATION_TIMEOUT,
					"Executor did not register within "+ex.a.cfg.ExecutorRegistrationTimeout.String())
				_ = p.signal(syscall.SIGKILL)
			}
		case <-shutdownReq:
			shutdownReq = nil
			ex.mu.Lock()
			ex.shuttingDown = true
			s := ex.stream
			if s != nil {
				s.push(execpb.Event{Type: execpb.Event_SHUTDOWN})
			}
			ex.mu.Unlock()
			if s == nil {
				_ = p.signal(syscall.SIGKILL)
			} else {
				escalate = time.After(ex.shutdownGrace)
			}
		case <-escalate:
			escalate = nil
			_ = p.signal(syscall.SIGKILL)
		case <-p.done:
			ex.mu.Lock()
			shuttingDown, pending := ex.shuttingDown, ex.pending
			ex.mu.Unlock()
			ws := p.waitStatus()
			msg := "Executor terminated: " + exitMessage(ws)
			if pending != nil {
				ex.failAll(pending.state, pending.reason, pending.msg)
			} else if shuttingDown {
				ex.failAll(mesos.TASK_KILLED, mesos.REASON_EXECUTOR_TERMINATED, msg)
			} else {
				ex.failAll(mesos.TASK_FAILED, mesos.REASON_EXECUTOR_TERMINATED, msg)
			}
			ex.a.executorExited(ex.fwID, ex.info.ExecutorID.Value, int(ws))
			return
		}
	}
}

// start creates the sandbox, fetches the executor's URIs and starts it.
func (ex *executor) start(ctx context.Context) (*proc, error) {
	if isDocker(ex.info.Container) {
		return ex.startInContainer(ctx)
	}
	if err := os.MkdirAll(ex.sandbox, 0o755); err != nil {
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	ci := ex.info.Command
	if ci == nil {
		return nil, errors.New("ExecutorInfo has no command")
	}
	if err := ex.a.fetchURIs(ctx, ci.URIs, ex.sandbox); err != nil {
		return nil, fmt.Errorf("Failed to fetch all URIs for container '%s': %w", ex.containerID, err)
	}
	env := ex.a.executorEnv(ex.fw, ex.info.ExecutorID.Value, ex.sandbox, ex.shutdownGrace)
	env, err := withCommandEnv(env, ci)
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ci, ex.sandbox, env)
	if err != nil {
		return nil, err
	}
	ex.mu.Lock()
	ex.proc = p
	ex.mu.Unlock()
	return p, nil
}

// subscribe installs a new event stream (ending any previous one) and
// queues SUBSCRIBED and the LAUNCH of every waiting task.
func (ex *executor) subscribe() (*eventStream, error) {
	ex.mu.Lock()
	// proc may still be nil: a fast executor can subscribe before start()
	// has recorded its process.
	if ex.exited {
		ex.mu.Unlock()
		return nil, errors.New("Executor is not running")
	}
	old := ex.stream
	s := newEventStream()
	ex.stream = s
	ex.reregistered = true
	port := int32(0)
	if n, err := strconv.Atoi(portOf(ex.a.Endpoint())); err == nil {
		port = int32(n)
	}
	fw := ex.fw
	s.push(execpb.Event{Type: execpb.Event_SUBSCRIBED, Subscribed: &execpb.Event_Subscribed{
		ExecutorInfo:  ex.info,
		FrameworkInfo: fw,
		AgentInfo: mesos.AgentInfo{
			Hostname: ex.a.cfg.Hostname,
			ID:       &mesos.AgentID{Value: ex.a.cfg.AgentID},
			Port:     &port,
		},
		ContainerID: &mesos.ContainerID{Value: ex.containerID},
	}})
	for _, task := range ex.queued {
		if t := ex.live[task.TaskID.Value]; t != nil {
			t.launched = true
		}
		s.push(execpb.Event{Type: execpb.Event_LAUNCH, Launch: &execpb.Event_Launch{Task: task}})
	}
	ex.queued = nil
	if ex.shuttingDown {
		s.push(execpb.Event{Type: execpb.Event_SHUTDOWN})
	}
	ex.mu.Unlock()
	if old != nil {
		old.close()
	}
	ex.subscribeOnce.Do(func() { close(ex.subscribedCh) })
	return s, nil
}

// unsubscribe forgets s if it is still the current subscription (the
// executor disconnected).
func (ex *executor) unsubscribe(s *eventStream) {
	ex.mu.Lock()
	if ex.stream == s {
		ex.stream = nil
	}
	ex.mu.Unlock()
	s.close()
}

// update relays an UPDATE call's status to the master and acknowledges it
// to the executor.
func (ex *executor) update(st mesos.TaskStatus) error {
	ex.emitMu.Lock()
	ex.mu.Lock()
	s := ex.stream
	if s == nil {
		ex.mu.Unlock()
		ex.emitMu.Unlock()
		return errNotSubscribed
	}
	st.AgentID = &mesos.AgentID{Value: ex.a.cfg.AgentID}
	if st.ExecutorID == nil {
		st.ExecutorID = &mesos.ExecutorID{Value: ex.info.ExecutorID.Value}
	}
	if st.Timestamp == nil {
		ts := float64(ex.a.now().UnixNano()) / 1e9
		st.Timestamp = &ts
	}
	if st.GetState() == mesos.TASK_RUNNING && st.ContainerStatus == nil && ex.proc != nil {
		st.ContainerStatus = containerStatus(ex.containerID, ex.a.cfg.IP, ex.proc.pid)
	}
	if mesosstate.Terminal(st.GetState()) {
		delete(ex.live, st.TaskID.Value)
	}
	key := string(st.UUID)
	dup := ex.seen[key]
	if !dup {
		ex.seen[key] = true
		ex.seenOrder = append(ex.seenOrder, key)
		if len(ex.seenOrder) > seenUpdates {
			delete(ex.seen, ex.seenOrder[0])
			ex.seenOrder = ex.seenOrder[1:]
		}
	}
	ex.mu.Unlock()
	if dup {
		ex.log.Debug("duplicate status update acknowledged, not relayed", "task_id", st.TaskID.Value)
	} else {
		ex.a.emit(ex.fwID, st)
	}
	ex.emitMu.Unlock()
	if ex.a.isTerminating(ex.fwID) {
		// A Mesos agent ignores the updates of a terminating framework
		// (slave.cpp, statusUpdate) and acknowledges none of them.
		return nil
	}
	s.push(execpb.Event{Type: execpb.Event_ACKNOWLEDGED, Acknowledged: &execpb.Event_Acknowledged{
		TaskID: st.TaskID, UUID: st.UUID,
	}})
	return nil
}

func portOf(hostport string) string {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[i+1:]
		}
	}
	return ""
}

func strPtr(s string) *string { return &s }
