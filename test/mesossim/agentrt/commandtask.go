package agentrt

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// commandTask emulates the Mesos command executor running one task. All of
// the task's updates are emitted from its own goroutine (run), which keeps
// them in order; other methods only post requests to it.
type commandTask struct {
	a           *Agent
	fw          mesos.FrameworkInfo
	info        mesos.TaskInfo
	containerID string
	sandbox     string
	log         hclog.Logger

	kills chan killRequest

	mu   sync.Mutex
	proc *proc // set once the process runs; read by crash()
}

type killRequest struct {
	grace  time.Duration
	health bool // the kill comes from a failing health check
}

func (a *Agent) launchCommandTask(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	cid := uuidString(newUUID())
	t := &commandTask{
		a: a, fw: fw, info: task, containerID: cid,
		sandbox: a.sandboxDir(fwID, task.TaskID.Value, cid),
		log:     a.log.With("framework_id", fwID, "task_id", task.TaskID.Value),
		kills:   make(chan killRequest, 8),
	}
	a.mu.Lock()
	f := a.frameworkLocked(fw)
	if f.hasTaskLocked(task.TaskID.Value) || f.executors[task.TaskID.Value] != nil {
		a.mu.Unlock()
		a.failAsync(fwID, task, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID, "Task has duplicate ID: "+task.TaskID.Value)
		return
	}
	f.tasks[task.TaskID.Value] = t
	a.mu.Unlock()
	if !a.goRun(func() { t.run(a.ctx) }) {
		t.forget()
	}
}

// kill asks the task to terminate with the given grace period. Non-blocking:
// a full queue means kills are already pending.
func (t *commandTask) kill(grace time.Duration, health bool) {
	select {
	case t.kills <- killRequest{grace: grace, health: health}:
	default:
	}
}

// crash SIGKILLs the process group without marking the task killed, so it
// ends TASK_FAILED like a crashed process.
func (t *commandTask) crash() error {
	t.mu.Lock()
	p := t.proc
	t.mu.Unlock()
	if p == nil {
		return fmt.Errorf("agentrt: task %q has no running process", t.info.TaskID.Value)
	}
	return p.signal(syscall.SIGKILL)
}

func (t *commandTask) forget() {
	fwID := t.fw.GetID().GetValue()
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	if f := t.a.frameworks[fwID]; f != nil && f.tasks[t.info.TaskID.Value] == t {
		delete(f.tasks, t.info.TaskID.Value)
		t.a.forgetFrameworkLocked(fwID)
	}
}

func (t *commandTask) emit(st mesos.TaskStatus) { t.a.emit(t.fw.GetID().GetValue(), st) }

func (t *commandTask) newStatus(state mesos.TaskState, src mesos.TaskStatus_Source) mesos.TaskStatus {
	return t.a.status(t.info.TaskID.Value, t.info.TaskID.Value, state, src)
}

// fail reports a task that could not be started.
func (t *commandTask) fail(state mesos.TaskState, src mesos.TaskStatus_Source, reason mesos.TaskStatus_Reason, msg string) {
	st := t.newStatus(state, src)
	st.Reason = reason.Enum()
	st.Message = &msg
	t.emit(st)
}

// run is the task's whole life: sandbox, fetch, process, health checks,
// kill handling and the terminal update.
func (t *commandTask) run(ctx context.Context) {
	defer t.forget()
	if err := os.MkdirAll(t.sandbox, 0o755); err != nil {
		t.fail(mesos.TASK_FAILED, mesos.SOURCE_AGENT, mesos.REASON_CONTAINER_LAUNCH_FAILED,
			"Failed to launch container: failed to create sandbox: "+err.Error())
		return
	}
	if !t.fetch(ctx) {
		return
	}
	env := t.a.executorEnv(t.fw, t.info.TaskID.Value, t.sandbox, t.a.cfg.ExecutorShutdownGracePeriod)
	env, err := commandTaskEnv(env, t.info)
	if err != nil {
		t.fail(mesos.TASK_FAILED, mesos.SOURCE_AGENT, mesos.REASON_CONTAINER_LAUNCH_FAILED, "Failed to launch container: "+err.Error())
		return
	}
	p, err := startProcess(t.info.Command, t.sandbox, env)
	if err != nil {
		t.fail(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, mesos.REASON_COMMAND_EXECUTOR_FAILED, "Failed to launch command: "+err.Error())
		return
	}
	t.mu.Lock()
	t.proc = p
	t.mu.Unlock()
	t.log.Debug("task process started", "pid", p.pid, "sandbox", t.sandbox)
	t.emit(t.newStatus(mesos.TASK_STARTING, mesos.SOURCE_EXECUTOR))
	running := t.newStatus(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR)
	running.ContainerStatus = containerStatus(t.containerID, t.a.cfg.IP, p.pid)
	t.emit(running)
	t.supervise(ctx, p, env)
}

// fetch runs the fetcher, abandoning it on kill or Close. It reports
// failures itself and returns whether the launch should go on.
func (t *commandTask) fetch(ctx context.Context) bool {
	if len(t.info.Command.URIs) == 0 {
		return true
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- t.a.fetchURIs(fctx, t.info.Command.URIs, t.sandbox) }()
	select {
	case err := <-errc:
		if err != nil {
			t.fail(mesos.TASK_FAILED, mesos.SOURCE_AGENT, mesos.REASON_CONTAINER_LAUNCH_FAILED,
				fmt.Sprintf("Failed to launch container: Failed to fetch all URIs for container '%s': %v", t.containerID, err))
			return false
		}
		return true
	case <-t.kills:
		cancel()
		<-errc
		t.fail(mesos.TASK_KILLED, mesos.SOURCE_AGENT, mesos.REASON_TASK_KILLED_DURING_LAUNCH, "Task killed before it was launched")
		return false
	case <-ctx.Done():
		<-errc
		return false
	}
}

// supervise waits for the process, handling kills and health results, and
// sends the terminal update.
func (t *commandTask) supervise(ctx context.Context, p *proc, env []string) {
	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	health := make(chan healthResult, 4)
	if hc := t.info.HealthCheck; hc != nil {
		h := &healthChecker{a: t.a, hc: *hc, env: env, sandbox: t.sandbox, start: time.Now(), out: health, log: t.log}
		go h.run(hctx)
	}
	var (
		killed, unhealthy bool
		escalate          <-chan time.Time
		escalateAt        time.Time
	)
	startKill := func(k killRequest) {
		if k.health {
			unhealthy = true
		}
		deadline := time.Now().Add(k.grace)
		if killed {
			// A second kill may only shorten the grace period, as in Mesos.
			if deadline.Before(escalateAt) {
				escalateAt = deadline
				escalate = time.After(time.Until(deadline))
			}
			return
		}
		killed = true
		stopHealth()
		if hasCapability(t.fw, mesos.FrameworkInfo_Capability_TASK_KILLING_STATE) {
			t.emit(t.newStatus(mesos.TASK_KILLING, mesos.SOURCE_EXECUTOR))
		}
		if err := p.signal(syscall.SIGTERM); err != nil {
			t.log.Warn("SIGTERM failed", "error", err)
		}
		escalateAt = deadline
		escalate = time.After(k.grace)
	}
	for {
		select {
		case <-ctx.Done():
			_ = p.signal(syscall.SIGKILL)
			<-p.done
			return
		case k := <-t.kills:
			startKill(k)
		case <-escalate:
			t.log.Debug("grace period over, sending SIGKILL")
			_ = p.signal(syscall.SIGKILL)
			escalate = nil
		case r := <-health:
			if killed {
				continue
			}
			st := t.newStatus(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR)
			st.Healthy = boolPtr(r.healthy)
			st.Reason = mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED.Enum()
			st.ContainerStatus = containerStatus(t.containerID, t.a.cfg.IP, p.pid)
			t.emit(st)
			if r.kill {
				startKill(killRequest{grace: killGrace(t.info.KillPolicy, defaultKillGrace), health: true})
			}
		case <-p.done:
			stopHealth()
			t.emit(t.terminalStatus(p.waitStatus(), killed, unhealthy))
			return
		}
	}
}

// terminalStatus follows the command executor: a killed task ends
// TASK_KILLED whatever its exit status, otherwise exit 0 is TASK_FINISHED
// and anything else TASK_FAILED.
func (t *commandTask) terminalStatus(ws syscall.WaitStatus, killed, unhealthy bool) mesos.TaskStatus {
	msg := exitMessage(ws)
	var st mesos.TaskStatus
	switch {
	case killed:
		st = t.newStatus(mesos.TASK_KILLED, mesos.SOURCE_EXECUTOR)
		if unhealthy {
			st.Healthy = boolPtr(false)
		}
	case ws.Exited() && ws.ExitStatus() == 0:
		st = t.newStatus(mesos.TASK_FINISHED, mesos.SOURCE_EXECUTOR)
	default:
		st = t.newStatus(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR)
		st.Reason = mesos.REASON_COMMAND_EXECUTOR_FAILED.Enum()
	}
	st.Message = &msg
	return st
}

func hasCapability(fw mesos.FrameworkInfo, c mesos.FrameworkInfo_Capability_Type) bool {
	for _, have := range fw.Capabilities {
		if have.Type == c {
			return true
		}
	}
	return false
}

func boolPtr(b bool) *bool { return &b }
