package agentrt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// These tests run real containers of the stand-in server image. They need a
// Docker engine in this process's network namespace (not under
// /work/bin/isolated) and skip, saying why, without one; CI starts one.

const engineTestTag = "agentrt-test"

var (
	engineImagesOnce sync.Once
	engineImagesErr  error
)

// engineAgent starts an agent with the Docker containerizer whose
// containers carry a label unique to the test, or skips the test.
func engineAgent(t *testing.T, ip string) (*Agent, *recorder, string) {
	t.Helper()
	if err := (DockerConfig{}).Check(context.Background()); err != nil {
		t.Skipf("Docker engine tests skipped: %v", err)
	}
	engineImagesOnce.Do(func() {
		root, _ := filepath.Abs("../../..")
		out, err := exec.Command("make", "--no-print-directory", "-C", root, "images",
			"IMAGE_TAG="+engineTestTag, "IMAGE_BIN="+filepath.Join(os.TempDir(), "agentrt-test-images")).CombinedOutput()
		if err != nil {
			engineImagesErr = fmt.Errorf("make images: %v\n%s", err, out)
		}
	})
	if engineImagesErr != nil {
		t.Fatal(engineImagesErr)
	}
	run := fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		if ids := labelled(t, "test-run", run); len(ids) > 0 {
			t.Errorf("containers left behind: %v", ids)
			_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
		}
	})
	a, rec := newTestAgent(t, func(c *Config) {
		c.Hostname, c.IP = ip, ip
		c.Docker = &DockerConfig{Labels: map[string]string{"test-run": run}}
	})
	return a, rec, run
}

func labelled(t *testing.T, key, value string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+key+"="+value).CombinedOutput()
	if err != nil {
		t.Fatalf("docker ps: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// registryTask runs the stand-in as a registry on the agent's address with
// a DIR_DEVICE under /devices (the host directory's devices/ on this
// simulated host), health-checked over HTTP.
func registryTask(t *testing.T, a *Agent, id string, httpPort int) mesos.TaskInfo {
	t.Helper()
	dev := filepath.Join(a.cfg.HostDir, "devices", "r1")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "QUOBYTE_DEV_SETUP"), []byte("device.type=DIR_DEVICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	task := dockerServiceTask(id, "quobyte-server:"+engineTestTag)
	task.Container.Docker.Parameters = nil
	task.Container.Volumes = task.Container.Volumes[:1] // /devices
	task.Command.Arguments = nil
	task.Command.Environment = &mesos.Environment{Variables: []mesos.Environment_Variable{
		{Name: "QUOBYTE_SERVICE", Value: strPtr("registry")},
		{Name: "QUOBYTE_RPC_PORT", Value: strPtr(strconv.Itoa(httpPort + 1))},
		{Name: "QUOBYTE_HTTP_PORT", Value: strPtr(strconv.Itoa(httpPort))},
		{Name: "QUOBYTE_BIND", Value: strPtr(a.cfg.IP)},
		{Name: "QUOBYTE_DEVICE_ROOT", Value: strPtr("/devices")},
		{Name: "STANDIN_STOP_GRACE", Value: strPtr("100ms")},
	}}
	delay, interval, failures := 0.0, 0.2, uint32(3)
	task.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheck_HTTP, DelaySeconds: &delay, IntervalSeconds: &interval, ConsecutiveFailures: &failures,
		HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: uint32(httpPort), Path: strPtr("/serviceHealth")}}
	task.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(2 * time.Second)}}
	return task
}

type inspected struct {
	Name   string
	Config struct {
		Env      []string
		Hostname string
		Labels   map[string]string
	}
	HostConfig struct {
		CpuShares   int64
		Memory      int64
		NetworkMode string
		Privileged  bool
		Binds       []string
	}
}

func inspectContainer(t *testing.T, id string) inspected {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--type=container", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect: %v\n%s", err, out)
	}
	var got []inspected
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
		t.Fatalf("docker inspect %s: %v\n%s", id, err, out)
	}
	return got[0]
}

// A service task in a container: TASK_STARTING, TASK_RUNNING with the
// container's inspect output as data, then healthy over HTTP on the
// simulated host's address; the container is named mesos-<container id>,
// has host networking, the simulated host's name, no privileges, cpu shares
// and memory from the task's resources plus the executor's allowance, the
// host's /devices mapped to the agent's host directory, and exactly the
// environment a Mesos agent gives a Docker container. `docker kill` ends the
// task TASK_FAILED "Container exited with status 137" and the container is
// removed.
func TestDockerEngine_ServiceTask_RunsHealthyThenCrashes(t *testing.T) {
	a, rec, run := engineAgent(t, "127.0.77.1")
	task := registryTask(t, a, "reg1", 17871)
	a.Launch(frameworkInfo(), task)
	rec.waitFor(t, "reg1", 60*time.Second, func(st mesos.TaskStatus) bool { return st.Healthy != nil && *st.Healthy })
	ups := rec.of("reg1")
	if ups[0].GetState() != mesos.TASK_STARTING || ups[1].GetState() != mesos.TASK_RUNNING || ups[1].Healthy != nil {
		t.Fatalf("updates %s, want STARTING, RUNNING, then healthy", describe(ups))
	}
	if !strings.Contains(string(ups[1].Data), `"Name": "/mesos-`) || ups[1].GetContainerStatus().GetExecutorPID() == 0 {
		t.Errorf("TASK_RUNNING data %.100q, container status %+v: want docker inspect output and the pid", ups[1].Data, ups[1].GetContainerStatus())
	}

	ids := labelled(t, LabelTaskID, "reg1")
	if len(ids) != 1 {
		t.Fatalf("containers of the task: %v", ids)
	}
	c := inspectContainer(t, ids[0])
	cid := ups[1].GetContainerStatus().GetContainerID().GetValue()
	if c.Name != "/mesos-"+cid || c.Config.Labels["test-run"] != run {
		t.Errorf("container name %q labels %v, want /mesos-%s", c.Name, c.Config.Labels, cid)
	}
	if c.Config.Hostname != "127.0.77.1" || c.HostConfig.NetworkMode != "host" || c.HostConfig.Privileged {
		t.Errorf("hostname %q network %q privileged %v", c.Config.Hostname, c.HostConfig.NetworkMode, c.HostConfig.Privileged)
	}
	if c.HostConfig.CpuShares != 614 || c.HostConfig.Memory != 132<<20 {
		t.Errorf("cpu shares %d memory %d, want 614 (0.5+0.1 cpus) and 132 MB (100+32)", c.HostConfig.CpuShares, c.HostConfig.Memory)
	}
	wantBind := filepath.Join(a.cfg.HostDir, "devices") + ":/devices:rw"
	binds := append([]string(nil), c.HostConfig.Binds...)
	sort.Strings(binds) // Docker keeps no order
	if len(binds) != 2 || binds[1] != wantBind || !strings.HasSuffix(binds[0], ":/mnt/mesos/sandbox") {
		t.Errorf("binds %v, want %s and the sandbox", c.HostConfig.Binds, wantBind)
	}
	var names []string
	for _, kv := range c.Config.Env {
		if name, _, _ := strings.Cut(kv, "="); name != "PATH" { // Docker's default PATH for an image without one
			names = append(names, name)
		}
	}
	sort.Strings(names)
	wantEnv := "MESOS_ALLOCATION_ROLE MESOS_CONTAINER_NAME MESOS_SANDBOX QUOBYTE_BIND QUOBYTE_DEVICE_ROOT QUOBYTE_HTTP_PORT QUOBYTE_RPC_PORT QUOBYTE_SERVICE STANDIN_STOP_GRACE"
	if strings.Join(names, " ") != wantEnv {
		t.Errorf("container environment %v\nwant %s", c.Config.Env, wantEnv)
	}

	if err := a.KillProcess("reg1"); err != nil {
		t.Fatal(err)
	}
	st := rec.waitState(t, "reg1", mesos.TASK_FAILED, 30*time.Second)
	if st.GetMessage() != "Container exited with status 137" || st.GetSource() != mesos.SOURCE_EXECUTOR || st.Reason != nil {
		t.Errorf("after docker kill: %s", describe([]mesos.TaskStatus{st}))
	}
	waitGone(t, LabelTaskID, "reg1")
}

func waitGone(t *testing.T, key, value string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(labelled(t, key, value)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("containers with %s=%s not removed", key, value)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A kill is `docker stop -t <grace>`: TASK_KILLING for a framework that
// can take it, then TASK_KILLED with the container's exit status (the
// stand-in exits 0 on SIGTERM); Close removes the containers still running.
func TestDockerEngine_KillThenClose(t *testing.T) {
	a, rec, run := engineAgent(t, "127.0.77.2")
	fw := frameworkInfo(mesos.FrameworkInfo_Capability_TASK_KILLING_STATE)
	a.Launch(fw, registryTask(t, a, "reg1", 17871))
	rec.waitState(t, "reg1", mesos.TASK_RUNNING, 60*time.Second)
	a.Kill(testFW, "reg1", 5*time.Second)
	st := rec.waitState(t, "reg1", mesos.TASK_KILLED, 30*time.Second)
	if st.GetMessage() != "Container exited with status 0" {
		t.Errorf("killed: %s", describe(rec.of("reg1")))
	}
	rec.waitState(t, "reg1", mesos.TASK_KILLING, time.Second)
	waitGone(t, LabelTaskID, "reg1")

	a.Launch(fw, registryTask(t, a, "reg2", 17881))
	rec.waitState(t, "reg2", mesos.TASK_RUNNING, 60*time.Second)
	a.Close()
	if ids := labelled(t, "test-run", run); len(ids) != 0 {
		t.Errorf("containers after Close: %v", ids)
	}
}
