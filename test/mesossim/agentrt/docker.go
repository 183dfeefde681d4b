package agentrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// DockerConfig gives an agent Mesos' Docker containerizer next to the Mesos
// one, as an agent started with --containerizers=docker,mesos has: tasks and
// custom executors whose ContainerInfo is DOCKER run as Docker containers
// through the docker CLI, as Mesos runs them (see doc.go).
type DockerConfig struct {
	// Path is the docker CLI, as Mesos' --docker flag names it; "" means
	// "docker", looked up in PATH. Messages show it as given.
	Path string
	// Host is the engine's socket, passed as -H as Mesos passes its
	// --docker_socket; "" means $DOCKER_HOST, else unix:///var/run/docker.sock.
	Host string
	// Labels are put on every container, beside the agent's own (the
	// simulator's extension: a task cannot see them), so that whoever
	// started the cluster can find its containers.
	Labels map[string]string
}

// Labels the agent puts on each container it starts (see DockerConfig.Labels).
const (
	LabelAgentID   = "mesos-sim.agent-id"
	LabelHostname  = "mesos-sim.hostname"
	LabelTaskID    = "mesos-sim.task-id"  // Docker tasks
	LabelExecutor  = "mesos-sim.executor" // custom executors in a container
	LabelFramework = "mesos-sim.framework"
)

// Mesos' constants for Docker containers (src/docker/docker.hpp,
// src/slave/constants.hpp, src/slave/containerizer/docker.cpp).
const (
	dockerNamePrefix  = "mesos-"
	mappedSandbox     = "/mnt/mesos/sandbox" // --sandbox_directory
	cpuSharesPerCPU   = 1024
	minCPUShares      = 2
	minMemoryBytes    = 32 << 20
	executorCPUs      = 0.1 // the command (or docker) executor's allowance
	executorMemMB     = 32
	defaultDockerHost = "unix:///var/run/docker.sock"
	inspectInterval   = 100 * time.Millisecond
	cleanupTimeout    = 30 * time.Second
)

func (d DockerConfig) withDefaults() DockerConfig {
	if d.Path == "" {
		d.Path = "docker"
	}
	if d.Host == "" {
		d.Host = os.Getenv("DOCKER_HOST")
	}
	if d.Host == "" {
		d.Host = defaultDockerHost
	}
	return d
}

// Check reports why the engine cannot serve a simulated agent: it does not
// answer, or it runs in another network namespace than this process, where
// containers with host networking could not be reached on the simulated
// hosts' loopback addresses (a test run under a private network namespace).
func (d DockerConfig) Check(ctx context.Context) error {
	d = d.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cli := dockerCLI{d}
	out, err := cli.output(ctx, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return fmt.Errorf("no Docker engine answers at %s: %w", d.Host, err)
	}
	sock, ok := strings.CutPrefix(d.Host, "unix://")
	if !ok {
		return nil // a remote engine: nothing to compare
	}
	pid, err := socketPeerPID(sock)
	if err != nil {
		return fmt.Errorf("docker engine %s at %s: %w", strings.TrimSpace(out), d.Host, err)
	}
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	ours, err2 := os.Readlink("/proc/self/ns/net")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("comparing network namespaces with the Docker engine (pid %d): %w", pid, err)
	}
	if theirs != ours {
		return fmt.Errorf("the Docker engine at %s (pid %d) runs in network namespace %s, this process in %s: "+
			"containers with host networking would not be reachable from here", d.Host, pid, theirs, ours)
	}
	return nil
}

// socketPeerPID is the pid of the process serving a unix socket.
func socketPeerPID(path string) (int, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, fmt.Errorf("peer credentials of %s: %w", path, credErr)
	}
	return int(cred.Pid), nil
}

// dockerCLI runs the docker CLI against one engine, always with -H, as
// Mesos does.
type dockerCLI struct{ cfg DockerConfig }

func (d dockerCLI) argv(args ...string) []string {
	return append([]string{d.cfg.Path, "-H", d.cfg.Host}, args...)
}

func (d dockerCLI) command(ctx context.Context, args ...string) *exec.Cmd {
	argv := d.argv(args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// Cancelled, it returns even if something it started holds its output.
	cmd.WaitDelay = time.Second
	return cmd
}

// output runs a short docker command; a failure carries Mesos' wording
// ("Failed to run '<cmd>': exited with status N; stderr='...'").
func (d dockerCLI) output(ctx context.Context, args ...string) (string, error) {
	return d.outputEnv(ctx, nil, args...)
}

func (d dockerCLI) outputEnv(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := d.command(ctx, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout.String(), fmt.Errorf("Failed to run '%s': %s; stderr='%s'",
			strings.Join(d.argv(args...), " "), waitString(ee.Sys().(syscall.WaitStatus)), stderr.String())
	case err != nil:
		return stdout.String(), fmt.Errorf("Failed to execute '%s': %w", strings.Join(d.argv(args...), " "), err)
	}
	return stdout.String(), nil
}

// waitString is Mesos' WSTRINGIFY of a wait status.
func waitString(ws syscall.WaitStatus) string {
	return strings.TrimPrefix(exitMessage(ws), "Command ")
}

// pull makes the image present the way Mesos' Docker::pull does: `docker
// inspect` it, and `docker pull` only when that fails (always with
// force_pull_image). An image without a tag means ":latest". HOME is the
// sandbox, where a fetched docker config would be.
func (d dockerCLI) pull(ctx context.Context, image string, force bool, sandbox string) error {
	tagged := image
	parts := strings.Split(image, "/")
	if !strings.Contains(parts[len(parts)-1], ":") {
		tagged += ":latest"
	}
	if !force {
		if _, err := d.output(ctx, "inspect", "--type=image", tagged); err == nil {
			return nil
		}
		image = tagged
	}
	env := append(os.Environ(), "HOME="+sandbox)
	if _, err := d.outputEnv(ctx, env, "pull", image); err != nil {
		return err
	}
	return nil
}

// remove force-removes a container (killing it if it runs); a container
// that is gone already is no error.
func (d dockerCLI) remove(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, err := d.output(ctx, "rm", "-f", name)
	if err != nil && strings.Contains(err.Error(), "No such container") {
		return nil
	}
	return err
}

// signal sends a signal to a container's main process (`docker kill`).
func (d dockerCLI) signal(name string, sig syscall.Signal) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, err := d.output(ctx, "kill", "--signal", strconv.Itoa(int(sig)), name)
	return err
}

// containerState is what the agent reads from `docker inspect` of a
// container: the raw output (the Data of a Docker task's TASK_RUNNING, as
// Mesos' docker executor sends it) and whether it has started.
type containerState struct {
	raw     []byte
	pid     int
	started bool
}

func (d dockerCLI) inspect(ctx context.Context, name string) (containerState, error) {
	out, err := d.output(ctx, "inspect", "--type=container", name)
	if err != nil {
		return containerState{}, err
	}
	var got []struct {
		State struct {
			Pid       int
			StartedAt string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		return containerState{}, fmt.Errorf("docker inspect %s: unexpected output %.200q", name, out)
	}
	st := got[0].State
	started := st.StartedAt != "" && !strings.HasPrefix(st.StartedAt, "0001-01-01")
	return containerState{raw: []byte(out), pid: st.Pid, started: started}, nil
}

// awaitStart polls `docker inspect` until the container has started, as
// Mesos' docker executor does before it reports TASK_RUNNING. It gives up
// when stop is closed (the `docker run` client exited) or ctx ends.
func (d dockerCLI) awaitStart(ctx context.Context, name string, stop <-chan struct{}) (containerState, bool) {
	t := time.NewTicker(inspectInterval)
	defer t.Stop()
	for {
		if st, err := d.inspect(ctx, name); err == nil && st.started {
			return st, true
		}
		select {
		case <-ctx.Done():
			return containerState{}, false
		case <-stop:
			return containerState{}, false
		case <-t.C:
		}
	}
}

// runOptions are the arguments of one `docker run`, built as Mesos'
// Docker::RunOptions::create builds them.
type runOptions struct {
	privileged bool
	cpuShares  uint64 // 0: none
	memory     uint64 // bytes; 0: none
	env        map[string]string
	volumes    []string
	network    string
	hostname   string // the simulated host's name (host networking only)
	name       string
	labels     map[string]string
	extra      []string // --key=value from DockerInfo.parameters
	entrypoint string
	image      string
	arguments  []string
}

// hostPathMapper maps a host path of a volume to this simulated host's
// filesystem (see Agent.hostPath).
type hostPathMapper func(string) string

// newRunOptions follows Docker::RunOptions::create: resources give
// --cpu-shares and --memory, env and the command's variables are followed by
// MESOS_SANDBOX, MESOS_CONTAINER_NAME and MESOS_ALLOCATION_ROLE, volumes and
// the sandbox are bind-mounted, parameters are passed on, and the command's
// shell flag decides between `/bin/sh -c value` and the image's entrypoint
// with value and arguments.
func newRunOptions(ci *mesos.ContainerInfo, cmd *mesos.CommandInfo, name, sandbox string,
	resources []mesos.Resource, env map[string]string, hostPath hostPathMapper) (runOptions, error) {
	di := ci.GetDocker()
	if di == nil {
		return runOptions{}, errors.New("No docker info found in container info")
	}
	o := runOptions{privileged: di.GetPrivileged(), env: map[string]string{}, name: name, image: di.Image}
	if len(resources) > 0 {
		cpus, mem, role := 0.0, 0.0, ""
		for i, r := range resources {
			if i == 0 {
				role = r.GetAllocationInfo().GetRole()
			}
			switch r.Name {
			case "cpus":
				cpus += r.GetScalar().GetValue()
			case "mem":
				mem += r.GetScalar().GetValue()
			}
		}
		if cpus > 0 {
			o.cpuShares = max(uint64(cpuSharesPerCPU*cpus), minCPUShares)
		}
		if mem > 0 {
			o.memory = max(uint64(mem)<<20, minMemoryBytes)
		}
		o.env["MESOS_ALLOCATION_ROLE"] = role
	}
	for k, v := range env {
		o.env[k] = v
	}
	for _, v := range cmd.GetEnvironment().GetVariables() {
		if _, set := env[v.Name]; !set {
			o.env[v.Name] = v.GetValue()
		}
	}
	o.env["MESOS_SANDBOX"] = mappedSandbox
	o.env["MESOS_CONTAINER_NAME"] = name

	for _, v := range ci.Volumes {
		target := v.ContainerPath
		if !filepath.IsAbs(target) {
			target = filepath.Join(mappedSandbox, target)
		}
		var spec string
		switch {
		case v.HostPath != nil:
			hp := v.GetHostPath()
			if !filepath.IsAbs(hp) && !filepath.IsAbs(v.ContainerPath) {
				return runOptions{}, fmt.Errorf("Both host_path '%s' and container_path '%s' of a volume are relative", hp, v.ContainerPath)
			}
			if filepath.IsAbs(hp) {
				hp = hostPath(hp)
			} else {
				hp = filepath.Join(sandbox, hp)
			}
			spec = hp + ":" + target
		case v.GetSource().GetType() == mesos.Volume_Source_DOCKER_VOLUME:
			spec = v.GetSource().GetDockerVolume().GetName() + ":" + target
		case v.Source != nil:
			continue // Mesos ignores other volume types here
		default:
			return runOptions{}, errors.New("Host path or volume source is required")
		}
		switch v.GetMode() {
		case mesos.RW:
			spec += ":rw"
		case mesos.RO:
			spec += ":ro"
		default:
			return runOptions{}, errors.New("Unsupported volume mode")
		}
		o.volumes = append(o.volumes, spec)
	}
	o.volumes = append(o.volumes, sandbox+":"+mappedSandbox)

	switch di.GetNetwork() {
	case mesos.ContainerInfo_DockerInfo_HOST:
		o.network = "host"
	case mesos.ContainerInfo_DockerInfo_BRIDGE:
		o.network = "bridge"
	case mesos.ContainerInfo_DockerInfo_NONE:
		o.network = "none"
	case mesos.ContainerInfo_DockerInfo_USER:
		if len(ci.NetworkInfos) != 1 || ci.NetworkInfos[0].GetName() == "" {
			return runOptions{}, errors.New("USER network needs exactly one network info with a name")
		}
		o.network = ci.NetworkInfos[0].GetName()
	}
	if ci.Hostname != nil {
		if o.network == "host" {
			return runOptions{}, errors.New("Unable to set hostname with host network mode")
		}
		o.hostname = ci.GetHostname()
	}
	if len(di.PortMappings) > 0 && (o.network == "host" || o.network == "none") {
		return runOptions{}, errors.New("Port mappings are only supported for bridge and user-defined networks")
	}
	networkSet := false
	for _, p := range di.Parameters {
		switch {
		case !networkSet && (p.Key == "net" || p.Key == "network"):
			o.network, networkSet = p.Value, true
		case p.Key == "volume" || p.Key == "v":
			o.extra = append(o.extra, "--"+p.Key+"="+mapVolumeParameter(p.Value, hostPath))
		default:
			o.extra = append(o.extra, "--"+p.Key+"="+p.Value)
		}
	}

	if cmd.GetShell() {
		if cmd.Value == nil {
			return runOptions{}, errors.New("Shell specified but no command value provided")
		}
		o.entrypoint = "/bin/sh"
		o.arguments = []string{"-c", cmd.GetValue()}
	} else {
		if cmd.Value != nil {
			o.arguments = append(o.arguments, cmd.GetValue())
		}
		o.arguments = append(o.arguments, cmd.Arguments...)
	}
	return o, nil
}

// mapVolumeParameter maps the host part of a "volume" parameter
// (host:container[:options]) to the simulated host; named volumes stay.
func mapVolumeParameter(v string, hostPath hostPathMapper) string {
	src, rest, ok := strings.Cut(v, ":")
	if !ok || !filepath.IsAbs(src) {
		return v
	}
	return hostPath(src) + ":" + rest
}

// args is the `docker run` argument list in Mesos' order (Docker::run),
// with the simulator's hostname and labels after the name.
func (o runOptions) args() []string {
	a := []string{"run"}
	if o.privileged {
		a = append(a, "--privileged")
	}
	if o.cpuShares > 0 {
		a = append(a, "--cpu-shares", strconv.FormatUint(o.cpuShares, 10))
	}
	if o.memory > 0 {
		a = append(a, "--memory", strconv.FormatUint(o.memory, 10))
	}
	for _, k := range slices.Sorted(maps.Keys(o.env)) {
		a = append(a, "-e", k+"="+o.env[k])
	}
	for _, v := range o.volumes {
		a = append(a, "-v", v)
	}
	if o.network != "" {
		a = append(a, "--net", o.network)
	}
	if o.hostname != "" {
		a = append(a, "--hostname", o.hostname)
	}
	if o.entrypoint != "" {
		a = append(a, "--entrypoint", o.entrypoint)
	}
	a = append(a, "--name", o.name)
	for _, k := range slices.Sorted(maps.Keys(o.labels)) {
		a = append(a, "--label", k+"="+o.labels[k])
	}
	a = append(a, o.extra...)
	a = append(a, o.image)
	return append(a, o.arguments...)
}

// isDocker reports whether a ContainerInfo asks for the Docker containerizer.
func isDocker(ci *mesos.ContainerInfo) bool {
	return ci != nil && ci.GetType() == mesos.ContainerInfo_DOCKER
}
