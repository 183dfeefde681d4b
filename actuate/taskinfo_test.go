package actuate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

func envOf(t *testing.T, cmd *mesos.CommandInfo) map[string]string {
	t.Helper()
	if cmd == nil || cmd.Environment == nil {
		t.Fatal("no environment")
	}
	m := map[string]string{}
	var prev string
	for _, v := range cmd.Environment.Variables {
		if v.Name <= prev {
			t.Errorf("environment not sorted: %q after %q", v.Name, prev)
		}
		prev = v.Name
		m[v.Name] = v.GetValue()
	}
	return m
}

func serviceTask(t *testing.T, c *spec.Cluster, kind spec.Kind, regs string) mesos.TaskInfo {
	t.Helper()
	svc := c.Service(kind)
	a := launch("a1", "node1", kind, svc.Resources)
	a.ConfigHash = svc.ConfigHash
	ti, err := buildTaskInfo(c, a, taskParams{
		AgentID: "a1", TaskID: "quobyte." + string(kind) + "." + svc.ConfigHash + ".x1",
		Resources: []mesos.Resource{scalar("cpus", 1)}, RegistryAddrs: regs,
	})
	if err != nil {
		t.Fatalf("BuildTaskInfo: %v", err)
	}
	return ti
}

func TestBuildTaskInfo_Docker(t *testing.T) {
	c := dockerCluster(t)
	ti := serviceTask(t, c, spec.Data, "node1:7861,node2:7861")

	if ti.TaskID.Value != "quobyte.data."+c.Service(spec.Data).ConfigHash+".x1" || ti.AgentID.Value != "a1" || ti.Name != "quobyte-data" {
		t.Errorf("ids: %+v %+v %q", ti.TaskID, ti.AgentID, ti.Name)
	}
	ci := ti.Container
	if ci == nil || ci.GetType() != mesos.ContainerInfo_DOCKER || ci.Docker == nil {
		t.Fatalf("container = %+v", ci)
	}
	// Least privilege: not privileged unless the spec says so.
	if ci.Docker.Image != "quobyte/server:3.14" || ci.Docker.GetNetwork() != mesos.ContainerInfo_DockerInfo_HOST || ci.Docker.Privileged == nil || *ci.Docker.Privileged {
		t.Errorf("docker = %+v", ci.Docker)
	}
	wantVol := []mesos.Volume{{Mode: mesos.RW.Enum(), ContainerPath: "/mnt/quobyte", HostPath: strPtr("/mnt/quobyte")}}
	if !reflect.DeepEqual(ci.Volumes, wantVol) {
		t.Errorf("volumes = %+v", ci.Volumes)
	}
	cmd := ti.Command
	if cmd.GetShell() || cmd.Value != nil || !reflect.DeepEqual(cmd.Arguments, []string{"--debug"}) {
		t.Errorf("command: shell=%v value=%v args=%v; want the entrypoint with args", cmd.GetShell(), cmd.Value, cmd.Arguments)
	}
	env := envOf(t, cmd)
	want := map[string]string{
		"QUOBYTE_SERVICE":      "data",
		"QUOBYTE_REGISTRY":     "node1:7861,node2:7861",
		"QUOBYTE_RPC_PORT":     "7863",
		"QUOBYTE_HTTP_PORT":    "7873",
		"QUOBYTE_MAX_MEM_DATA": "3072m", // 75% of 4096 MiB: room for the JVM beside its heap
		"QUOBYTE_DEVICE_ROOT":  "/mnt/quobyte",
		"QUOBYTE_VERSION":      "3.14",
		"LOG_LEVEL":            "info",
		"SHARED":               "data", // the service's env wins
		"EXTRA":                "x y",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %v\nwant %v", env, want)
	}

	hc := ti.HealthCheck
	h := c.Service(spec.Data).Health
	if hc == nil || hc.Type != mesos.HealthCheck_HTTP || hc.HTTP.Port != 7873 || hc.HTTP.GetPath() != "/serviceHealth" {
		t.Fatalf("health check = %+v", hc)
	}
	if hc.GetDelaySeconds() != 0 || hc.GetIntervalSeconds() != h.Interval.Seconds() || hc.GetTimeoutSeconds() != h.Timeout.Seconds() ||
		hc.GetGracePeriodSeconds() != h.Grace.Seconds() || hc.GetConsecutiveFailures() != uint32(h.MaxFailures) {
		t.Errorf("health timings = %+v, spec %+v", hc, h)
	}
	if got := time.Duration(ti.KillPolicy.GracePeriod.Nanoseconds); got != c.Service(spec.Data).KillGrace {
		t.Errorf("kill grace = %v", got)
	}
	labels := map[string]string{}
	for _, l := range ti.Labels.Labels {
		labels[l.Key] = l.GetValue()
	}
	if labels[labelKind] != "data" || labels[labelConfigHash] != c.Service(spec.Data).ConfigHash || labels[labelSpecHash] != c.Hash || labels[labelVersion] != "3.14" {
		t.Errorf("labels = %v", labels)
	}
}

// Services that need no device get no device root.
func TestBuildTaskInfo_DockerStateless(t *testing.T) {
	c := dockerCluster(t)
	ti := serviceTask(t, c, spec.API, "node1:7861")
	if len(ti.Container.Volumes) != 0 {
		t.Errorf("api has volumes %+v", ti.Container.Volumes)
	}
	env := envOf(t, ti.Command)
	for k, v := range map[string]string{"QUOBYTE_SERVICE": "api", "QUOBYTE_API_PORT": "7860", "QUOBYTE_RPC_PORT": "7865", "QUOBYTE_HTTP_PORT": "7875", "QUOBYTE_MAX_MEM_API": "768m"} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["QUOBYTE_DEVICE_ROOT"]; ok {
		t.Error("api got QUOBYTE_DEVICE_ROOT")
	}
	web := envOf(t, serviceTask(t, c, spec.Webconsole, "").Command)
	if web["QUOBYTE_WEBCONSOLE_PORT"] != "8080" {
		t.Errorf("webconsole env = %v", web)
	}
}

// The first registry of a fresh cluster finds itself; an external
// registry list wins over ours.
func TestBuildTaskInfo_Registry(t *testing.T) {
	c := dockerCluster(t)
	if got := envOf(t, serviceTask(t, c, spec.Registry, "").Command)["QUOBYTE_REGISTRY"]; got != "node1:7861" {
		t.Errorf("first registry: %q", got)
	}
	if got := envOf(t, serviceTask(t, c, spec.Registry, "node2:7861").Command)["QUOBYTE_REGISTRY"]; got != "node2:7861,node1:7861" {
		t.Errorf("second registry: %q", got)
	}
	if got := envOf(t, serviceTask(t, c, spec.Registry, "node1:7861,node2:7861").Command)["QUOBYTE_REGISTRY"]; got != "node1:7861,node2:7861" {
		t.Errorf("registry already listed: %q", got)
	}
	// Addressed by IP (quobyte.address = "ip"), a registry finds itself by
	// the address its launch carries, not by its hostname, which may not
	// resolve.
	a := launch("a1", "node1", spec.Registry, c.Service(spec.Registry).Resources)
	a.ConfigHash, a.Address = c.Service(spec.Registry).ConfigHash, "10.0.9.1"
	ti, err := buildTaskInfo(c, a, taskParams{AgentID: "a1", TaskID: "quobyte.registry." + a.ConfigHash + ".x2",
		Resources: []mesos.Resource{scalar("cpus", 1)}, RegistryAddrs: "10.0.9.1:7861,10.0.9.2:7861"})
	if err != nil {
		t.Fatal(err)
	}
	if got := envOf(t, ti.Command)["QUOBYTE_REGISTRY"]; got != "10.0.9.1:7861,10.0.9.2:7861" {
		t.Errorf("registry addressed by IP: %q", got)
	}
	ext := testCluster(t, `image = "quobyte/server"
registry = "ext1:7861,ext2:7861"`, "")
	if got := envOf(t, serviceTask(t, ext, spec.Data, "node1:7861").Command)["QUOBYTE_REGISTRY"]; got != "ext1:7861,ext2:7861" {
		t.Errorf("external registry: %q", got)
	}
}

func TestBuildTaskInfo_MesosContainerizer(t *testing.T) {
	c := testCluster(t, `image = "quobyte/server"
version = "3.14"
runtime = "mesos"`, "")
	ti := serviceTask(t, c, spec.Metadata, "r:7861")
	ci := ti.Container
	if ci.GetType() != mesos.ContainerInfo_MESOS || ci.Docker != nil || ci.Mesos == nil {
		t.Fatalf("container = %+v", ci)
	}
	img := ci.Mesos.Image
	if img.GetType() != mesos.Image_DOCKER || img.Docker.Name != "quobyte/server:3.14" {
		t.Errorf("image = %+v", img)
	}
	if len(ci.Volumes) != 1 || ci.Volumes[0].ContainerPath != c.Quobyte.DeviceRoot || ci.Volumes[0].GetHostPath() != c.Quobyte.DeviceRoot || ci.Volumes[0].GetMode() != mesos.RW {
		t.Errorf("volumes = %+v", ci.Volumes)
	}
	if envOf(t, ti.Command)["QUOBYTE_SERVICE"] != "metadata" || ti.HealthCheck == nil || ti.HealthCheck.HTTP.Port != 7872 {
		t.Errorf("env or health check missing: %+v", ti)
	}
}

func TestBuildTaskInfo_Command(t *testing.T) {
	c := testCluster(t, `runtime = "command"
command = "bin/quobyte-standin --flag"`, `service "registry" {
  args = ["--name", "it's"]
}`)
	ti := serviceTask(t, c, spec.Registry, "")
	if ti.Container != nil {
		t.Errorf("command runtime has a container: %+v", ti.Container)
	}
	if !ti.Command.GetShell() || ti.Command.GetValue() != `bin/quobyte-standin --flag --name 'it'\''s'` {
		t.Errorf("command = shell %v %q", ti.Command.GetShell(), ti.Command.GetValue())
	}
	if envOf(t, ti.Command)["QUOBYTE_REGISTRY"] != "node1:7861" {
		t.Error("registry env missing")
	}
}

func TestBuildTaskInfo_Errors(t *testing.T) {
	c := dockerCluster(t)
	ok := taskParams{AgentID: "a1", TaskID: "t1"}
	for name, tc := range map[string]struct {
		a controller.Action
		p taskParams
	}{
		"no task id":   {launch("a1", "n", spec.Data, spec.Resources{}), taskParams{AgentID: "a1"}},
		"unknown kind": {launch("a1", "n", "nfs", spec.Resources{}), ok},
		"kill":         {controller.Action{Type: controller.Kill, Kind: "data"}, ok},
		"prober without HTTP base": {launchProber("a1", "n", c),
			taskParams{AgentID: "a1", TaskID: "t1", ExecutorResources: []mesos.Resource{scalar("cpus", 1)}}},
		"prober without executor resources": {launchProber("a1", "n", c), taskParams{AgentID: "a1", TaskID: "t1", FrameworkHTTPBase: "http://f"}},
	} {
		if _, err := buildTaskInfo(c, tc.a, tc.p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func proberTask(t *testing.T, c *spec.Cluster, taskID, base string) mesos.TaskInfo {
	t.Helper()
	a := launchProber("a1", "node1", c)
	ti, err := buildTaskInfo(c, a, taskParams{
		AgentID: "a1", TaskID: taskID,
		Resources:         []mesos.Resource{scalar("cpus", 0.01), scalar("mem", 8)},
		ExecutorResources: []mesos.Resource{scalar("cpus", 0.09), scalar("mem", 56)},
		FrameworkHTTPBase: base, FrameworkImage: "quobyte/quobyte-mesos:1.0",
	})
	if err != nil {
		t.Fatalf("BuildTaskInfo: %v", err)
	}
	return ti
}

func TestBuildTaskInfo_ProberFramework(t *testing.T) {
	c := dockerCluster(t)
	ti := proberTask(t, c, "quobyte.prober."+c.Prober.ConfigHash+".s1", "http://fw:7888/")
	e := ti.Executor
	if e == nil || e.Type != mesos.ExecutorInfo_CUSTOM || e.ExecutorID.Value != "quobyte-prober-"+c.Prober.ConfigHash {
		t.Fatalf("executor = %+v", e)
	}
	if ti.Command != nil || ti.Container != nil {
		t.Error("a task of a custom executor carries no command or container")
	}
	want := []mesos.CommandInfo_URI{{Value: "http://fw:7888/artifacts/quobyte-mesos", Executable: boolPtr(true), Cache: boolPtr(false)}}
	if !reflect.DeepEqual(e.Command.URIs, want) {
		t.Errorf("uris = %+v", e.Command.URIs)
	}
	wantCmd := "./quobyte-mesos prober --device-root /mnt/quobyte --mode mounts --interval " + c.Prober.Interval.String() + " --client-mount-point " + c.Prober.ClientMountPoint
	if e.Command.GetValue() != wantCmd || !e.Command.GetShell() {
		t.Errorf("command = %q, want %q", e.Command.GetValue(), wantCmd)
	}
	if sum(e.Resources, "cpus") != 0.09 || sum(ti.Resources, "cpus") != 0.01 {
		t.Errorf("resources: executor %v task %v", e.Resources, ti.Resources)
	}
}

// Mesos requires every ExecutorInfo of one executor ID to be identical:
// two prober launches of one config build equal ExecutorInfos whatever
// else differs (task ID, other spec settings).
func TestBuildTaskInfo_ProberExecutorStable(t *testing.T) {
	c1 := dockerCluster(t)
	c2 := testCluster(t, `image = "other/server"
version = "4.0"
device_root = "/mnt/quobyte"`, "")
	if c1.Prober.ConfigHash != c2.Prober.ConfigHash {
		t.Fatalf("prober hashes differ: %s %s", c1.Prober.ConfigHash, c2.Prober.ConfigHash)
	}
	t1 := proberTask(t, c1, "quobyte.prober.h.s1", "http://fw:7888")
	t2 := proberTask(t, c2, "quobyte.prober.h.s2", "http://fw:7888")
	if !reflect.DeepEqual(t1.Executor, t2.Executor) {
		t.Errorf("executor infos differ:\n%+v\n%+v", t1.Executor, t2.Executor)
	}
	c3 := testCluster(t, `image = "quobyte/server"
device_root = "/srv/devices"`, "")
	if t3 := proberTask(t, c3, "quobyte.prober.h.s3", "http://fw:7888"); t3.Executor.ExecutorID == t1.Executor.ExecutorID {
		t.Error("another device root must mean another executor ID")
	}
}

func TestBuildTaskInfo_ProberImage(t *testing.T) {
	c := testCluster(t, `image = "quobyte/server"
device_root = "/mnt/q"`, `prober {
  artifact = "image"
  mode = "directories"
}`)
	e := proberTask(t, c, "quobyte.prober.h.s1", "").Executor
	ci := e.Container
	if ci.GetType() != mesos.ContainerInfo_DOCKER || ci.Docker.Image != "quobyte/quobyte-mesos:1.0" || ci.Docker.GetNetwork() != mesos.ContainerInfo_DockerInfo_HOST {
		t.Fatalf("container = %+v", ci)
	}
	if ci.Docker.GetPrivileged() {
		t.Error("the prober must not be privileged")
	}
	if !reflect.DeepEqual(ci.Docker.Parameters, []mesos.Parameter{{Key: "volume", Value: "/mnt/q:/mnt/q:ro,rslave"}}) {
		t.Errorf("device root mount = %+v", ci.Docker.Parameters)
	}
	if e.Command.GetShell() || e.Command.GetValue() != "prober" || !strings.Contains(strings.Join(e.Command.Arguments, " "), "--mode directories") {
		t.Errorf("command = %+v", e.Command)
	}
	if len(e.Command.URIs) != 0 {
		t.Error("nothing to fetch with an image")
	}
}

func TestProberExecutorIDOfTask(t *testing.T) {
	if id, err := proberExecutorIDOfTask("quobyte.prober.abc123.s1"); err != nil || id != "quobyte-prober-abc123" {
		t.Errorf("= %q, %v", id, err)
	}
	if _, err := proberExecutorIDOfTask("quobyte.data.abc123.s1"); err == nil {
		t.Error("a data task is no prober")
	}
}

// The client's FUSE mount must reach the host: a shared bind of the mount
// point, and the client image.
func TestBuildTaskInfo_Client(t *testing.T) {
	c := testCluster(t, `image = "quobyte/server"
client_image = "quobyte/client"
version = "3.14"`, `service "client" {
  enabled = true
}`)
	ti := serviceTask(t, c, spec.Client, "node1:7861")
	d := ti.Container.Docker
	if d.Image != "quobyte/client:3.14" || d.GetPrivileged() {
		t.Errorf("docker = %+v", d)
	}
	// FUSE: /dev/fuse and SYS_ADMIN, not every privilege.
	mp := c.Prober.ClientMountPoint
	if !reflect.DeepEqual(d.Parameters, []mesos.Parameter{{Key: "cap-add", Value: "SYS_ADMIN"}, {Key: "device", Value: "/dev/fuse"}, {Key: "volume", Value: mp + ":" + mp + ":rshared"}}) {
		t.Errorf("parameters = %+v", d.Parameters)
	}
	if len(ti.Container.Volumes) != 0 {
		t.Errorf("client has device volumes: %+v", ti.Container.Volumes)
	}
	if env := envOf(t, ti.Command); env["QUOBYTE_SERVICE"] != "client" || env["QUOBYTE_REGISTRY"] != "node1:7861" {
		t.Errorf("env = %v", env)
	}
}

// The shared templates must not change a TaskInfo: every launch built by
// taskBuilder equals buildTaskInfo's, whatever came before it (a registry's
// own address in its environment, memory, kind).
func TestTaskBuilder_SameAsBuildTaskInfo(t *testing.T) {
	c := dockerCluster(t)
	var acts []controller.Action
	for i, host := range []string{"node1", "node2", "node1", "node3"} {
		for _, kind := range []spec.Kind{spec.Registry, spec.Data, spec.Metadata, spec.API} {
			res := c.Service(kind).Resources
			if i == 2 {
				res.Mem *= 2 // a resized task: its heap differs
			}
			a := launch("agent-"+host, host, kind, res)
			a.ConfigHash = c.Service(kind).ConfigHash
			if i == 3 {
				a.Address = "10.0.0.3"
			}
			acts = append(acts, a)
		}
	}
	acts = append(acts, launchProber("agent-node1", "node1", c))
	var b taskBuilder
	for i, a := range acts {
		p := taskParams{AgentID: a.AgentID, TaskID: fmt.Sprintf("t%d", i), Resources: []mesos.Resource{scalar("cpus", float64(i))},
			ExecutorResources: []mesos.Resource{scalar("cpus", 0.09)}, RegistryAddrs: "node1:7861", FrameworkHTTPBase: "http://fw:7888"}
		want, err := buildTaskInfo(c, a, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.build(c, a, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("launch %d (%s on %s): taskBuilder's TaskInfo differs from buildTaskInfo's:\n%v\n%v", i, a.Kind, a.Hostname, got, want)
		}
	}
	if len(b.templates) >= len(acts)-1 {
		t.Errorf("%d templates for %d service launches: nothing shared", len(b.templates), len(acts)-1)
	}
}
