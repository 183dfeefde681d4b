package agentrt

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

func scalarRes(name string, v float64, role string) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v},
		AllocationInfo: &mesos.Resource_AllocationInfo{Role: &role}}
}

func dockerServiceTask(id, image string) mesos.TaskInfo {
	f := false
	return mesos.TaskInfo{
		Name:      id,
		TaskID:    mesos.TaskID{Value: id},
		AgentID:   mesos.AgentID{Value: "agent-S1"},
		Resources: []mesos.Resource{scalarRes("cpus", 0.5, "quobyte"), scalarRes("mem", 100, "quobyte")},
		Command: &mesos.CommandInfo{Shell: &f, Arguments: []string{"--flag", "x y"},
			Environment: &mesos.Environment{Variables: []mesos.Environment_Variable{
				{Name: "QUOBYTE_SERVICE", Value: strPtr("registry")},
				{Name: "MESOS_SANDBOX", Value: strPtr("overridden by the agent")},
			}}},
		Container: &mesos.ContainerInfo{
			Type: mesos.ContainerInfo_DOCKER.Enum(),
			Docker: &mesos.ContainerInfo_DockerInfo{
				Image:      image,
				Network:    mesos.ContainerInfo_DockerInfo_HOST.Enum(),
				Parameters: []mesos.Parameter{{Key: "cap-add", Value: "SYS_ADMIN"}, {Key: "volume", Value: "/srv/root:/root:ro,rslave"}, {Key: "volume", Value: "named:/n"}},
			},
			Volumes: []mesos.Volume{
				{Mode: mesos.RW.Enum(), ContainerPath: "/devices", HostPath: strPtr("/devices")},
				{Mode: mesos.RO.Enum(), ContainerPath: "conf", HostPath: strPtr("/etc/conf")},
				{Mode: mesos.RW.Enum(), ContainerPath: "/cache", HostPath: strPtr("cache")},
			},
		},
	}
}

// The run options follow Mesos' Docker::RunOptions::create and Docker::run:
// resources give --cpu-shares (1024 per cpu) and --memory (bytes), the
// environment is the command's plus MESOS_ALLOCATION_ROLE,
// MESOS_CONTAINER_NAME and MESOS_SANDBOX (the agent's value wins), absolute
// host paths of volumes and volume parameters name the simulated host's
// filesystem, relative ones the sandbox, shell=false keeps the image's
// entrypoint and passes the arguments.
func TestRunOptions_ServiceTask(t *testing.T) {
	task := dockerServiceTask("t1", "quobyte-server:2")
	hostPath := func(p string) string { return "/hosts/a1" + p }
	o, err := newRunOptions(task.Container, task.Command, "mesos-cid", "/sb", task.Resources, nil, hostPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"run", "--cpu-shares", "512", "--memory", "104857600",
		"-e", "MESOS_ALLOCATION_ROLE=quobyte", "-e", "MESOS_CONTAINER_NAME=mesos-cid", "-e", "MESOS_SANDBOX=/mnt/mesos/sandbox", "-e", "QUOBYTE_SERVICE=registry",
		"-v", "/hosts/a1/devices:/devices:rw", "-v", "/hosts/a1/etc/conf:/mnt/mesos/sandbox/conf:ro", "-v", "/sb/cache:/cache:rw", "-v", "/sb:/mnt/mesos/sandbox",
		"--net", "host", "--name", "mesos-cid",
		"--cap-add=SYS_ADMIN", "--volume=/hosts/a1/srv/root:/root:ro,rslave", "--volume=named:/n",
		"quobyte-server:2", "--flag", "x y"}
	if got := o.args(); !reflect.DeepEqual(got, want) {
		t.Errorf("docker run args\n got %q\nwant %q", got, want)
	}
}

func TestRunOptions_ShellPrivilegedAndMinimums(t *testing.T) {
	cmd := "echo hi"
	tr := true
	ci := &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(),
		Docker: &mesos.ContainerInfo_DockerInfo{Image: "img", Privileged: &tr, Parameters: []mesos.Parameter{{Key: "net", Value: "none"}, {Key: "network", Value: "ignored"}}}}
	res := []mesos.Resource{scalarRes("cpus", 0.001, "*"), scalarRes("mem", 1, "*")}
	o, err := newRunOptions(ci, &mesos.CommandInfo{Value: &cmd}, "n", "/sb", res, map[string]string{"A": "from agent"}, func(p string) string { return p })
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(o.args(), " ")
	for _, want := range []string{"run --privileged --cpu-shares 2 --memory 33554432 ", "-e A=from agent", "--net none", "--entrypoint /bin/sh --name n --network=ignored img -c echo hi"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
}

func TestRunOptions_Errors(t *testing.T) {
	docker := func(mod func(*mesos.ContainerInfo)) *mesos.ContainerInfo {
		ci := &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(), Docker: &mesos.ContainerInfo_DockerInfo{Image: "i", Network: mesos.ContainerInfo_DockerInfo_HOST.Enum()}}
		mod(ci)
		return ci
	}
	f := false
	for name, tc := range map[string]struct {
		ci   *mesos.ContainerInfo
		cmd  *mesos.CommandInfo
		want string
	}{
		"no docker info": {&mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum()}, &mesos.CommandInfo{Shell: &f}, "No docker info"},
		"both relative": {docker(func(ci *mesos.ContainerInfo) {
			ci.Volumes = []mesos.Volume{{Mode: mesos.RW.Enum(), ContainerPath: "a", HostPath: strPtr("b")}}
		}), &mesos.CommandInfo{Shell: &f}, "are relative"},
		"hostname on host": {docker(func(ci *mesos.ContainerInfo) { ci.Hostname = strPtr("h") }), &mesos.CommandInfo{Shell: &f}, "Unable to set hostname"},
		"shell, no value":  {docker(func(*mesos.ContainerInfo) {}), &mesos.CommandInfo{}, "Shell specified but no command value"},
	} {
		_, err := newRunOptions(tc.ci, tc.cmd, "n", "/sb", nil, nil, func(p string) string { return p })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}

// fakeDocker writes a docker CLI that answers `inspect` with failure (after
// inspectDelay) and `pull` with Docker's error, as an engine does for an
// image that does not exist; anything else is an unexpected call.
func fakeDocker(t *testing.T, inspectDelay string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker")
	script := `#!/bin/sh
# argv: -H <host> <command> ...
case "$3" in
inspect) sleep ` + inspectDelay + `; echo "Error: No such image: $5" >&2; exit 1 ;;
pull) echo "Error response from daemon: pull access denied for $4, repository does not exist" >&2; exit 1 ;;
*) echo "unexpected: $*" >&2; exit 3 ;;
esac
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// An image that cannot be pulled: staging goes straight to TASK_FAILED from
// the agent, REASON_CONTAINER_LAUNCH_FAILED, with the pull command and
// Docker's error in the message, as Mesos reports it. No TASK_STARTING: the
// docker executor never ran.
func TestDockerTask_PullFailure(t *testing.T) {
	cli := fakeDocker(t, "0")
	a, rec := newTestAgent(t, func(c *Config) { c.Docker = &DockerConfig{Path: cli, Host: "unix:///run/fake.sock"} })
	a.Launch(frameworkInfo(), dockerServiceTask("t1", "quobyte-server:nope"))
	st := rec.waitState(t, "t1", mesos.TASK_FAILED, 10*time.Second)
	want := "Failed to launch container: Failed to run '" + cli + " -H unix:///run/fake.sock pull quobyte-server:nope': exited with status 1; " +
		"stderr='Error response from daemon: pull access denied for quobyte-server:nope, repository does not exist\n'"
	if st.GetMessage() != want {
		t.Errorf("message\n got %q\nwant %q", st.GetMessage(), want)
	}
	if st.GetSource() != mesos.SOURCE_AGENT || st.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED {
		t.Errorf("source %v reason %v, want agent, container launch failed", st.GetSource(), st.GetReason())
	}
	if got := states(rec.of("t1")); !reflect.DeepEqual(got, []mesos.TaskState{mesos.TASK_FAILED}) {
		t.Errorf("updates %v, want only TASK_FAILED", describe(rec.of("t1")))
	}
}

// Without Config.Docker, a DOCKER task fails as on an agent that only has
// the Mesos containerizer.
func TestDockerTask_NoDockerContainerizer(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), dockerServiceTask("t1", "img"))
	st := rec.waitState(t, "t1", mesos.TASK_FAILED, 5*time.Second)
	if !strings.Contains(st.GetMessage(), "None of the enabled containerizers (mesos)") || st.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED {
		t.Errorf("got %s", describe(rec.of("t1")))
	}
}

// A kill while the image is being pulled ends the task before it was
// launched, as a kill during a command task's fetch does.
func TestDockerTask_KilledWhilePulling(t *testing.T) {
	cli := fakeDocker(t, "30")
	a, rec := newTestAgent(t, func(c *Config) { c.Docker = &DockerConfig{Path: cli} })
	a.Launch(frameworkInfo(), dockerServiceTask("t1", "img"))
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	a.Kill(testFW, "t1", time.Second)
	st := rec.waitState(t, "t1", mesos.TASK_KILLED, 10*time.Second)
	if st.GetReason() != mesos.REASON_TASK_KILLED_DURING_LAUNCH || st.GetSource() != mesos.SOURCE_AGENT || time.Since(start) > 5*time.Second {
		t.Errorf("got %s after %s", describe(rec.of("t1")), time.Since(start))
	}
}
