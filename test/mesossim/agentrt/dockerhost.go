package agentrt

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// The agent's side of its Docker containerizer: the simulated host's
// filesystem, `docker run` of its containers, launch steps.

// shareHostDir makes the host directory a shared mount (a bind mount of
// itself) before the first container, as / is on a systemd host, so that
// volumes with rslave or rshared propagation work in it. Failing that (not
// root), such volumes fail as Docker says.
func (a *Agent) shareHostDir() {
	a.shareOnce.Do(func() {
		if a.cfg.HostDir != "" {
			a.hostDirMounted = mountShared(a.cfg.HostDir, a.log)
		}
	})
}

func mountShared(dir string, log hclog.Logger) bool {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Warn("creating the host directory", "dir", dir, "error", err)
		return false
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		log.Warn("cannot bind-mount the host directory: volumes with shared propagation will fail", "dir", dir, "error", err)
		return false
	}
	if err := syscall.Mount("", dir, "", syscall.MS_SHARED|syscall.MS_REC, ""); err != nil {
		log.Warn("cannot make the host directory a shared mount", "dir", dir, "error", err)
	}
	return true
}

// stopDocker undoes shareHostDir once every container is gone.
func (a *Agent) stopDocker() {
	a.shareOnce.Do(func() {}) // no mount from now on
	if a.hostDirMounted {
		if err := syscall.Unmount(a.cfg.HostDir, syscall.MNT_DETACH); err != nil {
			a.log.Warn("unmounting the host directory", "dir", a.cfg.HostDir, "error", err)
		}
	}
}

// hostPath maps an absolute host path of a container volume to this
// simulated host's filesystem, whose root is its host directory: every
// agent is its own machine, so /srv/devices on agent N is
// <host dir of N>/srv/devices.
func (a *Agent) hostPath(p string) string {
	if a.cfg.HostDir == "" {
		return p
	}
	return filepath.Join(a.cfg.HostDir, p)
}

// containerRunArgs builds `docker run` for a container of this agent: Mesos'
// run options, plus what the simulation adds: a container with host
// networking gets the simulated host's name (a real host's containers share
// its UTS name), and every container the agent's labels.
func (a *Agent) containerRunArgs(ci *mesos.ContainerInfo, cmd *mesos.CommandInfo, name, sandbox string,
	resources []mesos.Resource, env map[string]string, labels map[string]string) ([]string, error) {
	o, err := newRunOptions(ci, cmd, name, sandbox, resources, env, a.hostPath)
	if err != nil {
		return nil, err
	}
	a.shareHostDir()
	if o.network == "host" {
		o.hostname = a.cfg.Hostname
	}
	o.labels = map[string]string{LabelAgentID: a.cfg.AgentID, LabelHostname: a.cfg.Hostname}
	for k, v := range a.docker.cfg.Labels {
		o.labels[k] = v
	}
	for k, v := range labels {
		o.labels[k] = v
	}
	return o.args(), nil
}

// startContainer starts `docker run` attached, as Mesos does, with the
// container's output in the sandbox's stdout and stderr. The client's exit
// status is the container's.
func (a *Agent) startContainer(args []string, sandbox string) (*exec.Cmd, error) {
	stdout, err := os.OpenFile(filepath.Join(sandbox, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stdout: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(sandbox, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stderr: %w", err)
	}
	defer stderr.Close()
	// Never cancelled: cancelling the agent must not kill the client alone,
	// which would leave its container running; containers are removed.
	cmd := a.docker.command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	a.log.Debug("docker run", "argv", cmd.Args)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("Failed to create subprocess '%s': %w", a.docker.cfg.Path, err)
	}
	return cmd, nil
}

// launchStep runs one step of a launch (fetching, pulling) that a kill or
// Close abandons. killed reports a kill; err the step's own failure.
func launchStep(ctx context.Context, kills <-chan killRequest, step func(context.Context) error) (killed bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- step(sctx) }()
	select {
	case err := <-errc:
		return false, err
	case <-kills:
		cancel()
		<-errc
		return true, nil
	case <-ctx.Done():
		<-errc
		return false, ctx.Err()
	}
}
