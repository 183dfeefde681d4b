package agentrt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// dockerTask emulates a Docker task on an agent with the Docker
// containerizer: the containerizer fetches the URIs and pulls the image,
// then the docker executor (mesos-docker-executor) runs the container,
// health-checks it and stops it. All updates come from run's goroutine.
type dockerTask struct {
	a           *Agent
	fw          mesos.FrameworkInfo
	info        mesos.TaskInfo
	containerID string
	name        string // mesos-<container id>
	sandbox     string
	log         hclog.Logger
	kills       chan killRequest

	mu      sync.Mutex
	running bool // the container has started: crash() may kill it
}

func (a *Agent) launchDockerTask(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	cid := uuidString(newUUID())
	t := &dockerTask{
		a: a, fw: fw, info: task, containerID: cid, name: dockerNamePrefix + cid,
		sandbox: a.sandboxDir(fwID, task.TaskID.Value, cid),
		log:     a.log.With("framework_id", fwID, "task_id", task.TaskID.Value, "container", dockerNamePrefix+cid),
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

func (t *dockerTask) kill(grace time.Duration, health bool) {
	select {
	case t.kills <- killRequest{grace: grace, health: health}:
	default:
	}
}

// crash is `docker kill`: SIGKILL to the container, which then exits with
// status 137 and ends TASK_FAILED, as after a kill from outside Mesos.
func (t *dockerTask) crash() error {
	t.mu.Lock()
	running := t.running
	t.mu.Unlock()
	if !running {
		return fmt.Errorf("agentrt: task %q has no running container", t.info.TaskID.Value)
	}
	return t.a.docker.signal(t.name, syscall.SIGKILL)
}

func (t *dockerTask) forget() {
	fwID := t.fw.GetID().GetValue()
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	if f := t.a.frameworks[fwID]; f != nil && f.tasks[t.info.TaskID.Value] == t {
		delete(f.tasks, t.info.TaskID.Value)
		t.a.forgetFrameworkLocked(fwID)
	}
}

func (t *dockerTask) emit(st mesos.TaskStatus) { t.a.emit(t.fw.GetID().GetValue(), st) }

func (t *dockerTask) newStatus(state mesos.TaskState, src mesos.TaskStatus_Source) mesos.TaskStatus {
	return t.a.status(t.info.TaskID.Value, t.info.TaskID.Value, state, src)
}

func (t *dockerTask) fail(state mesos.TaskState, src mesos.TaskStatus_Source, reason *mesos.TaskStatus_Reason, msg string) {
	st := t.newStatus(state, src)
	st.Reason = reason
	st.Message = &msg
	t.emit(st)
}

// launchFailed is the agent's update for a container that could not be
// launched (sandbox, fetch or pull).
func (t *dockerTask) launchFailed(msg string) {
	t.fail(mesos.TASK_FAILED, mesos.SOURCE_AGENT, mesos.REASON_CONTAINER_LAUNCH_FAILED.Enum(), "Failed to launch container: "+msg)
}

func (t *dockerTask) run(ctx context.Context) {
	defer t.forget()
	if err := os.MkdirAll(t.sandbox, 0o755); err != nil {
		t.launchFailed("failed to create sandbox: " + err.Error())
		return
	}
	fetch := func(ctx context.Context) error {
		if err := t.a.fetchURIs(ctx, t.info.Command.URIs, t.sandbox); err != nil {
			return fmt.Errorf("Failed to fetch all URIs for container '%s': %w", t.containerID, err)
		}
		return nil
	}
	pull := func(ctx context.Context) error {
		di := t.info.Container.GetDocker()
		return t.a.docker.pull(ctx, di.GetImage(), di.GetForcePullImage(), t.sandbox)
	}
	for _, step := range []func(context.Context) error{fetch, pull} {
		killed, err := launchStep(ctx, t.kills, step)
		switch {
		case killed:
			t.fail(mesos.TASK_KILLED, mesos.SOURCE_AGENT, mesos.REASON_TASK_KILLED_DURING_LAUNCH.Enum(), "Task killed before it was launched")
			return
		case ctx.Err() != nil:
			return
		case err != nil:
			t.launchFailed(err.Error())
			return
		}
	}

	// From here on the docker executor speaks: TASK_STARTING first.
	t.emit(t.newStatus(mesos.TASK_STARTING, mesos.SOURCE_EXECUTOR))
	resources := append(append([]mesos.Resource(nil), t.info.Resources...), executorAllowance(t.info.Resources)...)
	args, err := t.a.containerRunArgs(t.info.Container, t.info.Command, t.name, t.sandbox, resources, nil,
		map[string]string{LabelTaskID: t.info.TaskID.Value, LabelFramework: t.fw.GetID().GetValue()})
	if err != nil {
		t.fail(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, "Failed to create docker run options: "+err.Error())
		return
	}
	client, err := t.a.startContainer(args, t.sandbox)
	if err != nil {
		t.fail(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, "Failed to run docker container: "+err.Error())
		return
	}
	defer func() {
		if err := t.a.docker.remove(t.name); err != nil {
			t.log.Warn("removing the container", "error", err)
		}
	}()
	t.supervise(ctx, client)
}

// executorAllowance is what the agent adds to a command task for its
// (docker) executor: 0.1 cpus and 32 MB in the task's role.
func executorAllowance(task []mesos.Resource) []mesos.Resource {
	var alloc *mesos.Resource_AllocationInfo
	if len(task) > 0 {
		alloc = task[0].AllocationInfo
	}
	scalar := func(name string, v float64) mesos.Resource {
		return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}, AllocationInfo: alloc}
	}
	return []mesos.Resource{scalar("cpus", executorCPUs), scalar("mem", executorMemMB)}
}

// supervise is the docker executor's life with a running `docker run`:
// TASK_RUNNING once `docker inspect` sees the container started, health
// checks from then on, kills as `docker stop -t <grace>`, and the
// terminal update when the client exits.
func (t *dockerTask) supervise(ctx context.Context, client *exec.Cmd) {
	exited := make(chan struct{})
	var ws syscall.WaitStatus
	go func() {
		_ = client.Wait()
		ws, _ = client.ProcessState.Sys().(syscall.WaitStatus)
		close(exited)
	}()
	started := make(chan containerState, 1)
	go func() {
		if st, ok := t.a.docker.awaitStart(ctx, t.name, exited); ok {
			started <- st
		}
	}()

	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	health := make(chan healthResult, 4)
	var (
		isRunning, killed, unhealthy bool
		pendingStop                  *time.Duration // a kill waiting for the container to start
		pid                          int
	)
	stop := func(grace time.Duration) {
		// docker stop takes whole seconds; Mesos truncates the same way.
		secs := strconv.Itoa(int(grace / time.Second))
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), grace+cleanupTimeout)
			defer cancel()
			if _, err := t.a.docker.output(sctx, "stop", "-t", secs, t.name); err != nil {
				t.log.Warn("docker stop failed", "error", err)
			}
		}()
	}
	startKill := func(k killRequest) {
		if k.health {
			unhealthy = true
		}
		if !killed {
			killed = true
			stopHealth()
			if hasCapability(t.fw, mesos.FrameworkInfo_Capability_TASK_KILLING_STATE) {
				t.emit(t.newStatus(mesos.TASK_KILLING, mesos.SOURCE_EXECUTOR))
			}
		}
		// Mesos issues the stop only once inspect has seen the container,
		// so that it cannot race `docker run`.
		if !isRunning {
			pendingStop = &k.grace
			return
		}
		stop(k.grace)
	}
	for {
		select {
		case <-ctx.Done():
			// The agent stops: the container goes with it (the deferred
			// removal kills it), and the client exits.
			if err := t.a.docker.remove(t.name); err != nil {
				t.log.Warn("removing the container", "error", err)
			}
			<-exited
			return
		case st := <-started:
			isRunning, pid = true, st.pid
			t.mu.Lock()
			t.running = true
			t.mu.Unlock()
			if pendingStop != nil {
				stop(*pendingStop)
				continue
			}
			if killed {
				continue
			}
			running := t.newStatus(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR)
			running.Data = st.raw
			running.ContainerStatus = dockerContainerStatus(t.containerID, pid)
			t.emit(running)
			if hc := t.info.HealthCheck; hc != nil {
				h := &healthChecker{a: t.a, hc: t.inContainer(*hc), env: os.Environ(), sandbox: t.sandbox, start: time.Now(), out: health, log: t.log}
				go h.run(hctx)
			}
		case k := <-t.kills:
			startKill(k)
		case r := <-health:
			if killed {
				continue
			}
			st := t.newStatus(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR)
			st.Healthy = boolPtr(r.healthy)
			st.Reason = mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED.Enum()
			st.ContainerStatus = dockerContainerStatus(t.containerID, pid)
			t.emit(st)
			if r.kill {
				startKill(killRequest{grace: killGrace(t.info.KillPolicy, t.a.cfg.ExecutorShutdownGracePeriod), health: true})
			}
		case <-exited:
			stopHealth()
			t.emit(t.terminalStatus(ws, killed, unhealthy))
			return
		}
	}
}

// terminalStatus follows the docker executor: a killed task ends
// TASK_KILLED, exit 0 is TASK_FINISHED, anything else TASK_FAILED, with the
// message "Container exited with status N" and no reason.
func (t *dockerTask) terminalStatus(ws syscall.WaitStatus, killed, unhealthy bool) mesos.TaskStatus {
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
	}
	st.Message = strPtr("Container " + waitString(ws))
	return st
}

// inContainer runs a COMMAND health check inside the container (`docker
// exec`), where Mesos runs it; HTTP and TCP checks are unchanged (they reach
// a container with host networking on the simulated host's address).
func (t *dockerTask) inContainer(hc mesos.HealthCheck) mesos.HealthCheck {
	ci := hc.GetCommand()
	if hc.Type != mesos.HealthCheck_COMMAND || ci == nil {
		return hc
	}
	args := t.a.docker.argv("exec")
	for _, v := range ci.GetEnvironment().GetVariables() {
		args = append(args, "-e", v.Name+"="+v.GetValue())
	}
	args = append(args, t.name)
	if ci.GetShell() {
		args = append(args, "/bin/sh", "-c", ci.GetValue())
	} else {
		args = append(args, ci.GetValue())
		if len(ci.Arguments) > 1 {
			args = append(args, ci.Arguments[1:]...)
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		path = args[0]
	}
	hc.Command = &mesos.CommandInfo{Shell: boolPtr(false), Value: &path, Arguments: args}
	return hc
}

// dockerContainerStatus is the container status a Docker task's updates
// carry: a container with host networking has no address of its own, so
// there are no network infos, as in Mesos.
func dockerContainerStatus(containerID string, pid int) *mesos.ContainerStatus {
	cs := &mesos.ContainerStatus{ContainerID: &mesos.ContainerID{Value: containerID}}
	if pid > 0 {
		p := uint32(pid)
		cs.ExecutorPID = &p
	}
	return cs
}
