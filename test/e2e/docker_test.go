package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/dockertest"
	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// The production runtime: every Quobyte service in a Docker container of the
// stand-in server image, probers in containers of the framework image, on
// agents with Mesos' Docker containerizer (mesos-sim --docker). These tests
// need a Docker engine in the test's network namespace and skip without
// one (CI starts one; run them outside /work/bin/isolated).

const (
	dockerImageTag       = "e2e"
	dockerFrameworkImage = dockertest.FrameworkImage + ":" + dockerImageTag
)

// dockerImages builds the images (once per test binary) and tags the server
// image with the versions the tests roll between.
func dockerImages(t *testing.T) {
	t.Helper()
	dockertest.Images(t, dockerImageTag)
	for _, v := range []string{"e2e-v1", "e2e-v2"} {
		dockertest.Tag(t, dockertest.ServerImage, dockerImageTag, v)
	}
}

// dockerSpec adds to examples/local-docker.hcl what the tests need: the
// stand-in's short timings in the containers' environment (a container gets
// none of the agent's), a client image that does not exist, and the client
// mount point under the device root, where the prober in its container can
// see it.
func dockerSpec(t *testing.T, s string) string {
	t.Helper()
	for old, repl := range map[string]string{
		`device_root = "/devices"`: `device_root = "/devices"
  client_image = "quobyte-client"
  env = {
    STANDIN_CATCHUP    = "300ms"
    STANDIN_STOP_GRACE = "200ms"
  }`,
		`artifact = "image"`: `artifact = "image"
  client_mount_point = "/devices/quobyte-client"`,
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("examples/local-docker.hcl no longer contains %s", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	return s
}

// deviceDir is where the cluster's devices are, relative to a host's
// directory: a Docker host's containers see <host dir>/devices as /devices.
func (c *cluster) deviceDir() string {
	if c.docker {
		return "devices/"
	}
	return ""
}

// simWorkDir is mesos-sim's work directory, the value of the
// mesos-sim.workdir label on each of its containers.
func (c *cluster) simWorkDir() string { return filepath.Join(c.dir, "sim") }

// containers lists the running containers of this cluster that match the
// extra docker ps filters.
func (c *cluster) containers(filters ...string) []string {
	c.t.Helper()
	args := []string{"ps", "-q", "--filter", "label=mesos-sim.workdir=" + c.simWorkDir()}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker ps: %v\n%s", err, out)
	}
	ids := strings.Fields(string(out))
	sort.Strings(ids)
	return ids
}

func (c *cluster) inspectFormat(id, format string) string {
	c.t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", format, id).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker inspect %s: %v\n%s", id, err, out)
	}
	return strings.TrimSpace(string(out))
}

// checkNoContainersLeft registers a check that runs once everything else
// has stopped: mesos-sim leaves no container behind.
func (c *cluster) checkNoContainersLeft() {
	c.t.Cleanup(func() {
		if n := dockertest.RemoveContainers(c.t, "mesos-sim.workdir", c.simWorkDir()); n > 0 {
			c.t.Errorf("%d containers left behind after mesos-sim stopped", n)
		}
	})
}

// serviceContainers checks that every live service task runs in exactly one
// running container of image, unprivileged, and that a prober container runs
// on every host; it returns the task IDs by container.
func (c *cluster) serviceContainers(image string) map[string]string {
	c.t.Helper()
	byContainer := map[string]string{}
	for _, h := range c.status().Hosts {
		for kind, tasks := range h.Services {
			if kind == "prober" {
				continue
			}
			for _, ts := range tasks {
				ids := c.containers("label=" + agentrt.LabelTaskID + "=" + ts.TaskID)
				if len(ids) != 1 {
					c.t.Errorf("%s on %s (%s): %d running containers, want 1", kind, h.Hostname, ts.TaskID, len(ids))
					continue
				}
				byContainer[ids[0]] = ts.TaskID
				if got := c.inspectFormat(ids[0], "{{.Config.Image}} {{.HostConfig.Privileged}} {{.HostConfig.NetworkMode}}"); got != image+" false host" {
					c.t.Errorf("%s on %s: image, privileged, network = %s; want %s false host", kind, h.Hostname, got, image)
				}
			}
		}
	}
	if probers := c.containers("label="+agentrt.LabelExecutor, "ancestor="+dockerFrameworkImage); len(probers) != len(c.hosts) {
		c.t.Errorf("%d prober containers of %s, want %d", len(probers), dockerFrameworkImage, len(c.hosts))
	}
	return byContainer
}

// A cluster in containers through its life: it converges with every
// service in a container; `docker kill` of a data container brings the
// service back on its host; a framework restart adopts every container and
// restarts none; an image tag change rolls one host at a time,
// health-gated; an image that does not exist fails with Docker's message in
// /v1/status and backs off, touching nothing that runs; mesos-sim leaves no
// container behind.
func TestDocker_Converges_RecoversKilledContainer_AdoptsOnRestart_Rolls_BacksOffMissingImage(t *testing.T) {
	dockerImages(t)
	c := startCluster(t, clusterOpts{subnet: "127.0.20", registry: 3, metadata: 3, data: 5, version: "e2e-v1", docker: true})
	start := time.Now()
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })
	t.Logf("converged in containers after %s", time.Since(start).Round(100*time.Millisecond))
	c.serviceContainers("quobyte-server:e2e-v1")

	// docker kill of the data container on the second host: it exits 137,
	// the task fails, and the service comes back there.
	killed := strings.TrimSpace(c.taskIDs()[c.hosts[1]+"/data"])
	ids := c.containers("label=" + agentrt.LabelTaskID + "=" + killed)
	if len(ids) != 1 {
		t.Fatalf("containers of %s: %v", killed, ids)
	}
	if out, err := exec.Command("docker", "kill", ids[0]).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	c.eventually(convergeWithin, "the killed data service back on its host", func() (bool, string) {
		now := strings.TrimSpace(c.taskIDs()[c.hosts[1]+"/data"])
		if now == "" || now == killed {
			return false, "data on " + c.hosts[1] + ": " + now
		}
		return c.converged(fullLayout)
	})
	if n := c.logLines("mesos-sim", `task_id=`+killed+` state=TASK_FAILED reason="" message="Container exited with status 137"`); n != 1 {
		t.Errorf("mesos-sim logged TASK_FAILED 'Container exited with status 137' of %s %d times, want 1", killed, n)
	}

	// A framework restart adopts every container and restarts none.
	beforeTasks, beforeContainers := c.taskIDs(), c.containers()
	c.restartFramework()
	c.eventually(convergeWithin, "convergence after the restart", func() (bool, string) {
		if st := c.status(); !st.Subscription.Reconciled {
			return false, "not reconciled"
		}
		return c.converged(fullLayout)
	})
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(beforeTasks) {
		t.Errorf("the restart changed what runs:\nbefore %v\nafter  %v", beforeTasks, after)
	}
	if after := c.containers(); fmt.Sprint(after) != fmt.Sprint(beforeContainers) {
		t.Errorf("the restart changed the containers:\nbefore %v\nafter  %v", beforeContainers, after)
	}
	if n := c.logLines("framework-2", "actuate: launch: task_id="); n != 0 {
		t.Errorf("the restarted framework launched %d tasks, want none", n)
	}

	// A new image tag rolls through one host at a time, health-gated.
	c.writeSpec("e2e-v2", "")
	c.signal(syscall.SIGHUP)
	c.checkRollout(c.watchRollout("e2e-v2"))
	c.serviceContainers("quobyte-server:e2e-v2")

	// The client, enabled on hosts with its mount point, has an image that
	// does not exist: Docker's pull error shows in /v1/status, the client
	// backs off, and nothing that runs is touched.
	for _, h := range c.hosts[3:] {
		if err := os.MkdirAll(filepath.Join(c.simWorkDir(), "hosts", h, "devices", "quobyte-client"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	before := c.taskIDs()
	c.writeSpec("e2e-v2", "\nservice \"client\" {\n  enabled = true\n  ports {\n    http = 31555\n  }\n}\n")
	c.signal(syscall.SIGHUP)
	wantErr := "Failed to launch container: Failed to run 'docker -H unix:///var/run/docker.sock pull quobyte-client:e2e-v2': exited with status 1; stderr='"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		wantErr = strings.Replace(wantErr, "unix:///var/run/docker.sock", h, 1)
	}
	c.eventually(2*convergeWithin, "the client backing off with Docker's pull error", func() (bool, string) {
		st := c.status()
		for _, b := range st.Backoffs {
			if strings.HasPrefix(b.Item, "client@") && b.Failures >= 2 && strings.Contains(b.LastError, wantErr) {
				t.Logf("backoff %s: %d failures, last: %s", b.Item, b.Failures, b.LastError)
				return true, ""
			}
		}
		return false, fmt.Sprintf("backoffs %+v", st.Backoffs)
	})
	for key, ids := range c.taskIDs() {
		if !strings.HasSuffix(key, "/client") && ids != before[key] {
			t.Errorf("%s: %q, was %q: a failing client touched what runs", key, ids, before[key])
		}
	}
	for _, h := range c.status().Hosts {
		for kind, tasks := range h.Services {
			for _, ts := range tasks {
				if kind != "prober" && kind != "client" && (ts.State != "RUNNING" || ts.Healthy == nil || !*ts.Healthy) {
					t.Errorf("%s on %s: %s healthy=%v", kind, h.Hostname, ts.State, ts.Healthy)
				}
			}
		}
	}
}

// The framework's own image runs the whole local cluster, as Marathon runs
// it: host networking, the spec mounted read-only; the agents fetch the
// prober from the framework's artifact URL (the command runtime of `make
// run`), or run it from the same image (every service in a container);
// stopped, it leaves Quobyte running.
func TestDocker_FrameworkImageRunsTheCluster(t *testing.T) {
	dockerImages(t)
	for _, tc := range []struct {
		name, subnet string
		docker       bool
	}{
		{"CommandRuntime_ProberFetchedFromTheFramework", "127.0.21", false},
		{"DockerRuntime_ProberFromTheImage", "127.0.22", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small := want{"prober": 5, "registry": 1, "metadata": 1, "data": 2, "api": 1, "webconsole": 1}
			c := startSim(t, clusterOpts{subnet: tc.subnet, registry: 1, metadata: 1, data: 2, version: "e2e-v1", docker: tc.docker})
			name := c.startFrameworkContainer()
			c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(small) })
			if tc.docker {
				c.serviceContainers("quobyte-server:e2e-v1")
			} else if ids := c.containers(); len(ids) != 0 {
				t.Errorf("containers of a command-runtime cluster: %v", ids)
			}

			// docker stop: the framework exits 0 on SIGTERM and Quobyte
			// keeps running.
			before, beforeTasks, killed := c.containers(), c.taskIDs(), c.logLines("mesos-sim", "state=TASK_KILLED")
			if out, err := exec.Command("docker", "stop", "-t", "15", name).CombinedOutput(); err != nil {
				t.Fatalf("docker stop: %v\n%s", err, out)
			}
			if code := c.inspectFormat(name, "{{.State.ExitCode}}"); code != "0" {
				t.Errorf("framework container exit code %s, want 0", code)
			}
			time.Sleep(time.Second)
			if after := c.containers(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("stopping the framework changed the containers:\nbefore %v\nafter  %v", before, after)
			}
			if n := c.logLines("mesos-sim", "state=TASK_KILLED") - killed; n != 0 {
				t.Errorf("%d tasks killed after the framework stopped, want none", n)
			}
			if n, want := c.runningTasks(), len(strings.Fields(strings.Join(mapValues(beforeTasks), " "))); n != want {
				t.Errorf("%d tasks running after the framework stopped, want %d", n, want)
			}
		})
	}
}

// startFrameworkContainer runs the framework image on the cluster's spec as
// Marathon would (examples/marathon.json): host networking, the spec's
// directory read-only at /etc/quobyte-mesos, arguments to the entrypoint.
// The test's directory is mounted too, for the framework ID store.
func (c *cluster) startFrameworkContainer() string {
	c.t.Helper()
	etc := filepath.Join(c.dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "spec.hcl"), []byte(c.spec("e2e-v1", "")), 0o644); err != nil {
		c.t.Fatal(err)
	}
	name := "quobyte-mesos-e2e-" + filepath.Base(c.dir)
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--net=host",
		"-v", etc+":/etc/quobyte-mesos:ro", "-v", c.dir+":"+c.dir,
		dockerFrameworkImage, "run", "--spec", "/etc/quobyte-mesos/spec.hcl",
		"--listen", strings.TrimPrefix(c.apiURL, "http://"), "--framework-image", dockerFrameworkImage).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker run %s: %v\n%s", dockerFrameworkImage, err, out)
	}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "60", name).CombinedOutput()
			c.t.Logf("--- tail of the framework container's log:\n%s", logs)
		}
		_ = exec.Command("docker", "rm", "-f", name).Run()
	})
	c.waitHTTP(c.apiURL+"/v1/status", 20*time.Second)
	return name
}

// runningTasks counts the tasks mesos-sim holds in TASK_RUNNING.
func (c *cluster) runningTasks() int {
	c.t.Helper()
	resp, err := http.Get(c.masterURL + "/state")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Frameworks []struct {
			Tasks []struct{ State string } `json:"tasks"`
		} `json:"frameworks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.t.Fatal(err)
	}
	n := 0
	for _, f := range st.Frameworks {
		for _, task := range f.Tasks {
			if task.State == "TASK_RUNNING" {
				n++
			}
		}
	}
	return n
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
