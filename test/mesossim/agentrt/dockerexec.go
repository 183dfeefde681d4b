package agentrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// startInContainer is the Docker containerizer's launch of a custom
// executor whose ExecutorInfo has a DOCKER container: fetch, pull, then
// `docker run` of the executor itself, named mesos-<container id>. Its
// environment is the executor environment the agent computes (Mesos'
// executorEnvironment: no variable of the agent's own), then the command's,
// then MESOS_SANDBOX=/mnt/mesos/sandbox and MESOS_CONTAINER_NAME. The
// returned proc stands for the container: signals go through `docker kill`
// and its exit status is the container's.
func (ex *executor) startInContainer(ctx context.Context) (*proc, error) {
	if ex.a.docker == nil {
		return nil, errors.New("the agent has no Docker containerizer")
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
	di := ex.info.Container.GetDocker()
	if err := ex.a.docker.pull(ctx, di.GetImage(), di.GetForcePullImage(), ex.sandbox); err != nil {
		return nil, err
	}
	name := dockerNamePrefix + ex.containerID
	args, err := ex.a.containerRunArgs(ex.info.Container, ci, name, ex.sandbox, ex.info.Resources,
		ex.a.containerExecutorEnv(ex.fw, ex.info.ExecutorID.Value, ex.sandbox, ex.shutdownGrace),
		map[string]string{LabelExecutor: ex.info.ExecutorID.Value, LabelFramework: ex.fwID})
	if err != nil {
		return nil, err
	}
	client, err := ex.a.startContainer(args, ex.sandbox)
	if err != nil {
		return nil, err
	}
	d := ex.a.docker
	p := &proc{done: make(chan struct{}), signalVia: func(sig syscall.Signal) error { return d.signal(name, sig) }}
	exited := make(chan struct{})
	go func() {
		_ = client.Wait()
		ws, _ := client.ProcessState.Sys().(syscall.WaitStatus)
		p.mu.Lock()
		p.ws = ws
		p.mu.Unlock()
		close(exited)
		// Destroying the container removes it.
		if err := d.remove(name); err != nil {
			ex.log.Warn("removing the executor's container", "container", name, "error", err)
		}
		close(p.done)
	}()
	st, ok := d.awaitStart(ctx, name, exited)
	if !ok {
		if ctx.Err() != nil {
			_ = d.remove(name)
		}
		<-p.done
		return nil, fmt.Errorf("Container %s", waitString(p.waitStatus()))
	}
	p.pid = st.pid
	ex.mu.Lock()
	ex.proc = p
	ex.mu.Unlock()
	return p, nil
}

// containerExecutorEnv is the environment Mesos' agent computes for an
// executor (executorEnvironment in slave.cpp): LIBPROCESS_IP (the agent's
// --ip), LIBPROCESS_PORT=0 and the documented MESOS_* variables; the Docker
// containerizer passes nothing of the agent's own environment into the
// container.
func (a *Agent) containerExecutorEnv(fw mesos.FrameworkInfo, executorID, sandbox string, shutdownGrace time.Duration) map[string]string {
	checkpoint := "0"
	if fw.GetCheckpoint() {
		checkpoint = "1"
	}
	env := map[string]string{
		"LIBPROCESS_IP":                        a.cfg.IP,
		"LIBPROCESS_PORT":                      "0",
		"MESOS_FRAMEWORK_ID":                   fw.GetID().GetValue(),
		"MESOS_EXECUTOR_ID":                    executorID,
		"MESOS_DIRECTORY":                      sandbox,
		"MESOS_SLAVE_ID":                       a.cfg.AgentID,
		"MESOS_SLAVE_PID":                      "slave(1)@" + a.Endpoint(),
		"MESOS_AGENT_ENDPOINT":                 a.Endpoint(),
		"MESOS_CHECKPOINT":                     checkpoint,
		"MESOS_HTTP_COMMAND_EXECUTOR":          "0",
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": mesosDuration(shutdownGrace),
	}
	if fw.GetCheckpoint() {
		env["MESOS_RECOVERY_TIMEOUT"] = mesosDuration(defaultRecoveryTimeout)
		env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = mesosDuration(a.cfg.ExecutorReregistrationTimeout)
	}
	return env
}
