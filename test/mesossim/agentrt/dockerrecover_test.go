package agentrt

import (
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// Container names as Mesos' Docker containerizer parses them: only
// mesos-<uuid> (and the 0.23-1.3 form mesos-<agent>.<uuid>[.executor])
// were started by Mesos.
func TestMesosContainerID(t *testing.T) {
	const id = "0b5a6f0e-3c1d-4e2f-9a8b-7c6d5e4f3a2b"
	for name, want := range map[string]string{
		"mesos-" + id:                        id,
		"/mesos-" + id:                       id,
		"mesos-agent-S1." + id:               id,
		"mesos-agent-S1." + id + ".executor": id,
		"mesos-notauuid":                     "",
		"mesos-a.b.c.d":                      "",
		"other-" + id:                        "",
		"mesos-" + id[:35] + "g":             "",
	} {
		got, ok := mesosContainerID(name)
		if ok != (want != "") || got != want && ok {
			t.Errorf("mesosContainerID(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// An agent restarted with checkpointing (docker.cpp recover): a Docker
// task's container is re-adopted (the same container runs on, the task
// sees no update, and a kill afterwards stops it), and an orphaned
// container of this host (named mesos-<uuid>, no run of the agent's) is
// stopped and removed, while containers Mesos did not start, or of another
// host, stay.
func TestDockerEngine_RestartReadoptsContainersAndRemovesOrphans(t *testing.T) {
	a, rec, run := engineAgent(t, "127.0.78.1")
	fw := frameworkInfo(mesos.FrameworkInfo_Capability_PARTITION_AWARE, mesos.FrameworkInfo_Capability_TASK_KILLING_STATE)
	fw.Checkpoint = boolPtr(true)
	a.Launch(fw, registryTask(t, a, "reg1", 18871))
	rec.waitFor(t, "reg1", 60*time.Second, func(st mesos.TaskStatus) bool { return st.Healthy != nil && *st.Healthy })
	task := labelled(t, LabelTaskID, "reg1")

	// Containers the agent did not start: an orphan of this host, one
	// Mesos did not start, and one of another host.
	start := func(name, agentID string, port int) string {
		out, err := exec.Command("docker", "run", "-d", "--name", name, "--net", "host",
			"--label", LabelAgentID+"="+agentID, "--label", "test-run="+run,
			"-e", "QUOBYTE_SERVICE=client", "-e", "QUOBYTE_HTTP_PORT="+strconv.Itoa(port), "-e", "QUOBYTE_BIND=127.0.78.1",
			"quobyte-server:"+engineTestTag).CombinedOutput()
		if err != nil {
			t.Fatalf("docker run %s: %v\n%s", name, err, out)
		}
		return name
	}
	orphan := start("mesos-"+uuidString(newUUID()), a.cfg.AgentID, 18891)
	notMesos := start("mesos-not-a-container-id-"+run[len(run)-6:], a.cfg.AgentID, 18892)
	foreign := start("mesos-"+uuidString(newUUID()), "another-agent-S9", 18893)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", notMesos, foreign).Run() })

	recovered := make(chan struct{})
	a.Restart(300*time.Millisecond, func() { close(recovered) })
	select {
	case <-recovered:
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not recover")
	}
	if now := labelled(t, LabelTaskID, "reg1"); !slices.Equal(now, task) {
		t.Errorf("the task's container after the restart: %v, want %v", now, task)
	}
	if ids := labelled(t, "test-run", run); len(ids) != 3 { // the task's, notMesos, foreign
		t.Errorf("%d containers after the restart, want 3 (the orphan removed)", len(ids))
	}
	for _, name := range []string{notMesos, foreign} {
		if err := exec.Command("docker", "inspect", "--type=container", name).Run(); err != nil {
			t.Errorf("container %s removed by the recovery: it is not this host's Mesos container", name)
		}
	}
	if err := exec.Command("docker", "inspect", "--type=container", orphan).Run(); err == nil {
		t.Errorf("orphaned container %s still there after the recovery", orphan)
	}
	if ups := rec.of("reg1"); len(ups) != 3 {
		t.Errorf("updates of the task across the restart: %s, want STARTING, RUNNING, healthy only", describe(ups))
	}

	// The re-adopted container is still the task's: a kill stops it.
	a.Kill(testFW, "reg1", 2*time.Second)
	if st := rec.waitState(t, "reg1", mesos.TASK_KILLED, 30*time.Second); st.GetMessage() != "Container exited with status 0" {
		t.Errorf("killed after the restart: %s", describe(rec.of("reg1")))
	}
	waitGone(t, LabelTaskID, "reg1")
	_ = exec.Command("docker", "rm", "-f", notMesos, foreign).Run()
}
