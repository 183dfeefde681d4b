package agentrt

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

func TestCommandTaskRunsAndIsKilledWithinGrace(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), shellTask("t1", "echo hi; sleep 30"))

	running := rec.waitState(t, "t1", mesos.TASK_RUNNING, 10*time.Second)
	if got := states(rec.of("t1")); !slices.Equal(got[:2], []mesos.TaskState{mesos.TASK_STARTING, mesos.TASK_RUNNING}) {
		t.Fatalf("first updates = %v, want STARTING, RUNNING", got)
	}
	if running.GetSource() != mesos.SOURCE_EXECUTOR || running.GetAgentID().GetValue() != "agent-S1" ||
		running.GetExecutorID().GetValue() != "t1" || len(running.UUID) != 16 || running.Timestamp == nil {
		t.Fatalf("RUNNING lacks the fields Mesos sets: %+v", running)
	}
	cs := running.GetContainerStatus()
	if cs.GetContainerID().GetValue() == "" || cs.GetExecutorPID() == 0 || len(cs.NetworkInfos) != 1 {
		t.Fatalf("container status = %+v", cs)
	}
	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "t1", "runs", cs.GetContainerID().GetValue())
	waitFile(t, filepath.Join(sandbox, "stdout"), "hi\n")

	start := time.Now()
	a.Kill(testFW, "t1", 5*time.Second)
	killed := rec.waitState(t, "t1", mesos.TASK_KILLED, 10*time.Second)
	if time.Since(start) > 3*time.Second {
		t.Fatalf("sleep ignores nothing; SIGTERM should have ended it well within the grace period")
	}
	if killed.GetMessage() != "Command terminated with signal Terminated" {
		t.Errorf("message = %q", killed.GetMessage())
	}
	if slices.Contains(states(rec.of("t1")), mesos.TASK_KILLING) {
		t.Errorf("TASK_KILLING sent to a framework without the TASK_KILLING_STATE capability")
	}
	if err := syscall.Kill(int(cs.GetExecutorPID()), 0); err == nil {
		t.Errorf("process %d still alive after TASK_KILLED", cs.GetExecutorPID())
	}
}

func TestKillingStateAndSIGKILLEscalation(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	// The shell and its sleep both ignore SIGTERM: only SIGKILL ends them.
	task := shellTask("t2", "trap '' TERM; sleep 30")
	a.Launch(frameworkInfo(mesos.FrameworkInfo_Capability_TASK_KILLING_STATE), task)
	rec.waitState(t, "t2", mesos.TASK_RUNNING, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // let sh install the trap before we signal

	a.Kill(testFW, "t2", 300*time.Millisecond)
	killed := rec.waitState(t, "t2", mesos.TASK_KILLED, 10*time.Second)
	if killed.GetMessage() != "Command terminated with signal Killed" {
		t.Errorf("message = %q, want SIGKILL after the grace period", killed.GetMessage())
	}
	got := states(rec.of("t2"))
	want := []mesos.TaskState{mesos.TASK_STARTING, mesos.TASK_RUNNING, mesos.TASK_KILLING, mesos.TASK_KILLED}
	if !slices.Equal(got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
}

func TestCommandTaskExitStatus(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), shellTask("ok", "exit 0"))
	a.Launch(frameworkInfo(), shellTask("bad", "exit 3"))
	noShell := "/bin/sh"
	task := shellTask("argv", "")
	task.Command = &mesos.CommandInfo{Value: &noShell, Shell: boolPtr(false), Arguments: []string{"sh", "-c", "exit 4"}}
	a.Launch(frameworkInfo(), task)

	fin := rec.waitState(t, "ok", mesos.TASK_FINISHED, 10*time.Second)
	if fin.GetMessage() != "Command exited with status 0" {
		t.Errorf("FINISHED message = %q", fin.GetMessage())
	}
	failed := rec.waitState(t, "bad", mesos.TASK_FAILED, 10*time.Second)
	if failed.GetMessage() != "Command exited with status 3" || failed.GetReason() != mesos.REASON_COMMAND_EXECUTOR_FAILED ||
		failed.GetSource() != mesos.SOURCE_EXECUTOR {
		t.Errorf("FAILED = %s", describe([]mesos.TaskStatus{failed}))
	}
	argv := rec.waitState(t, "argv", mesos.TASK_FAILED, 10*time.Second)
	if argv.GetMessage() != "Command exited with status 4" {
		t.Errorf("shell=false: message = %q", argv.GetMessage())
	}
}

func TestKillProcessLooksLikeACrash(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), shellTask("t3", "sleep 30"))
	rec.waitState(t, "t3", mesos.TASK_RUNNING, 10*time.Second)
	if err := a.KillProcess("t3"); err != nil {
		t.Fatal(err)
	}
	failed := rec.waitState(t, "t3", mesos.TASK_FAILED, 10*time.Second)
	if failed.GetMessage() != "Command terminated with signal Killed" {
		t.Errorf("message = %q", failed.GetMessage())
	}
	if err := a.KillProcess("nope"); err == nil {
		t.Error("KillProcess of an unknown task succeeded")
	}
}

func TestEnvironmentOfCommandTask(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	task := shellTask("env-task", "env > env.txt; pwd > pwd.txt")
	v := "bar"
	task.Command.Environment = &mesos.Environment{Variables: []mesos.Environment_Variable{{Name: "FOO", Value: &v}}}
	a.Launch(frameworkInfo(), task)
	running := rec.waitState(t, "env-task", mesos.TASK_RUNNING, 10*time.Second)
	rec.waitState(t, "env-task", mesos.TASK_FINISHED, 10*time.Second)

	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "env-task", "runs",
		running.GetContainerStatus().GetContainerID().GetValue())
	env := readEnvFile(t, filepath.Join(sandbox, "env.txt"))
	want := map[string]string{
		"MESOS_FRAMEWORK_ID":                   testFW,
		"MESOS_EXECUTOR_ID":                    "env-task",
		"MESOS_SLAVE_ID":                       "agent-S1",
		"MESOS_SANDBOX":                        sandbox,
		"MESOS_DIRECTORY":                      sandbox,
		"MESOS_AGENT_ENDPOINT":                 a.Endpoint(),
		"MESOS_CHECKPOINT":                     "0",
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
		"MESOS_SIM_HOST_DIR":                   a.cfg.HostDir,
		"MESOS_SLAVE_PID":                      "slave(1)@" + a.Endpoint(),
		"MESOS_SIM_IP":                         "127.0.0.1",
		"LIBPROCESS_IP":                        "127.0.0.1",
		"LIBPROCESS_PORT":                      "0",
		"FOO":                                  "bar",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if pwd, _ := os.ReadFile(filepath.Join(sandbox, "pwd.txt")); strings.TrimSpace(string(pwd)) != sandbox {
		t.Errorf("cwd = %q, want the sandbox", pwd)
	}
}

// slave.cpp executorEnvironment(): --executor_environment_variables stands
// in for the agent's environment, LIBPROCESS_PORT is 0, a checkpointing
// framework's executors learn the recovery timeout and their backoff cap;
// launcher/executor.cpp adds MESOS_ALLOCATION_ROLE over the task's own.
func TestEnvironmentWithExecutorEnvironmentVariables(t *testing.T) {
	t.Setenv("AGENT_ONLY", "x")
	a, rec := newTestAgent(t, func(c *Config) {
		c.ExecutorEnvironment = map[string]string{"FROM_FLAG": "1", "LIBPROCESS_IP": "10.0.0.9"}
		c.ExecutorReregistrationTimeout = 3 * time.Second
	})
	task := shellTask("env-flag", "env > env.txt")
	role := "storage"
	task.Resources = []mesos.Resource{{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 0.1},
		AllocationInfo: &mesos.Resource_AllocationInfo{Role: &role}}}
	v := "mine"
	task.Command.Environment = &mesos.Environment{Variables: []mesos.Environment_Variable{{Name: "MESOS_ALLOCATION_ROLE", Value: &v}}}
	fw := frameworkInfo()
	fw.Checkpoint = boolPtr(true)
	a.Launch(fw, task)
	running := rec.waitState(t, "env-flag", mesos.TASK_RUNNING, 10*time.Second)
	rec.waitState(t, "env-flag", mesos.TASK_FINISHED, 10*time.Second)
	sandbox := filepath.Join(a.cfg.WorkDir, "frameworks", testFW, "executors", "env-flag", "runs",
		running.GetContainerStatus().GetContainerID().GetValue())
	env := readEnvFile(t, filepath.Join(sandbox, "env.txt"))
	want := map[string]string{
		"FROM_FLAG":                      "1",
		"LIBPROCESS_IP":                  "10.0.0.9",
		"LIBPROCESS_PORT":                "0",
		"MESOS_CHECKPOINT":               "1",
		"MESOS_RECOVERY_TIMEOUT":         "15mins",
		"MESOS_SUBSCRIPTION_BACKOFF_MAX": "3secs",
		"MESOS_ALLOCATION_ROLE":          "storage",
		"PATH":                           hostDefaultPath,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["AGENT_ONLY"]; ok {
		t.Error("the agent's own environment reached the task although --executor_environment_variables was given")
	}
}

func TestContainerizerRefusals(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	docker := shellTask("docker", "true")
	typ := mesos.ContainerInfo_DOCKER
	docker.Container = &mesos.ContainerInfo{Type: &typ, Docker: &mesos.ContainerInfo_DockerInfo{Image: "busybox"}}
	a.Launch(frameworkInfo(), docker)
	st := rec.waitState(t, "docker", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED || st.GetSource() != mesos.SOURCE_AGENT ||
		!strings.Contains(st.GetMessage(), "None of the enabled containerizers (mesos)") {
		t.Errorf("docker task: %s", describe([]mesos.TaskStatus{st}))
	}

	image := shellTask("image", "true")
	mt := mesos.ContainerInfo_MESOS
	imgType := mesos.Image_DOCKER
	image.Container = &mesos.ContainerInfo{Type: &mt, Mesos: &mesos.ContainerInfo_MesosInfo{
		Image: &mesos.Image{Type: &imgType, Docker: &mesos.Image_Docker{Name: "busybox"}}}}
	a.Launch(frameworkInfo(), image)
	st = rec.waitState(t, "image", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED {
		t.Errorf("image task: %s", describe([]mesos.TaskStatus{st}))
	}
	if n := len(rec.of("docker")) + len(rec.of("image")); n != 2 {
		t.Errorf("want exactly one update per refused task, got %d", n)
	}
}

func TestCloseKillsEverythingAndStopsUpdates(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), shellTask("c1", "sleep 30"))
	running := rec.waitState(t, "c1", mesos.TASK_RUNNING, 10*time.Second)
	a.Close()
	n := len(rec.of("c1"))
	pid := int(running.GetContainerStatus().GetExecutorPID())
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d survived Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Launch(frameworkInfo(), shellTask("c2", "true"))
	time.Sleep(100 * time.Millisecond)
	if len(rec.of("c1")) != n || len(rec.of("c2")) != 0 {
		t.Errorf("updates after Close: %s %s", describe(rec.of("c1")), describe(rec.of("c2")))
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", path, b, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

// The master calls back into the agent from inside Updates (a KILL right
// after RUNNING, a new launch after a terminal update); that must not
// deadlock, and neither may Close racing with it.
func TestReentrantCallsFromUpdates(t *testing.T) {
	var a *Agent
	rec := newRecorder()
	a, _ = newTestAgent(t, func(c *Config) {
		c.Updates = func(fwID string, st mesos.TaskStatus) {
			rec.update(fwID, st)
			switch {
			case st.TaskID.Value == "r1" && st.GetState() == mesos.TASK_RUNNING:
				a.Kill(fwID, "r1", time.Second)
			case st.TaskID.Value == "r1" && st.GetState() == mesos.TASK_KILLED:
				a.Launch(frameworkInfo(), shellTask("r2", "sleep 30"))
			}
		}
	})
	a.Launch(frameworkInfo(), shellTask("r1", "sleep 30"))
	rec.waitState(t, "r1", mesos.TASK_KILLED, 10*time.Second)
	rec.waitState(t, "r2", mesos.TASK_RUNNING, 10*time.Second)
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
}

func TestInvalidTasksAreRefused(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), mesos.TaskInfo{Name: "none", TaskID: mesos.TaskID{Value: "none"}})
	st := rec.waitState(t, "none", mesos.TASK_ERROR, 10*time.Second)
	if st.GetReason() != mesos.REASON_TASK_INVALID {
		t.Errorf("task without command: %s", describe([]mesos.TaskStatus{st}))
	}
	a.Launch(frameworkInfo(), shellTask("dup", "sleep 30"))
	rec.waitState(t, "dup", mesos.TASK_RUNNING, 10*time.Second)
	a.Launch(frameworkInfo(), shellTask("dup", "true"))
	rec.waitState(t, "dup", mesos.TASK_ERROR, 10*time.Second)
}
