package agentrt

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	execpb "github.com/mesos/mesos-go/api/v1/lib/executor"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// testExecutorBinary builds testdata/testexecutor once per test run.
func testExecutorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agentrt-testexecutor-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "testexecutor")
		out, err := exec.Command("go", "build", "-o", buildPath, "./testdata/testexecutor").CombinedOutput()
		if err != nil {
			buildErr = err
			buildPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build test executor: %v\n%s", buildErr, buildPath)
	}
	return buildPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildPath != "" && buildErr == nil {
		os.RemoveAll(filepath.Dir(buildPath))
	}
	os.Exit(code)
}

// binaryServer serves the test executor for the fetcher, as a framework
// serves its executor binary.
func binaryServer(t *testing.T) string {
	t.Helper()
	bin := testExecutorBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, bin)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/testexecutor"
}

func executorTask(taskID string, info *mesos.ExecutorInfo) mesos.TaskInfo {
	return mesos.TaskInfo{Name: taskID, TaskID: mesos.TaskID{Value: taskID},
		AgentID: mesos.AgentID{Value: "agent-S1"}, Executor: info}
}

func fetchedExecutor(id, binURL, codec string) *mesos.ExecutorInfo {
	cmd := "./testexecutor"
	return &mesos.ExecutorInfo{
		ExecutorID: mesos.ExecutorID{Value: id},
		Name:       strPtr("test executor"),
		Command: &mesos.CommandInfo{
			Value:       &cmd,
			URIs:        []mesos.CommandInfo_URI{{Value: binURL, Executable: boolPtr(true)}},
			Environment: &mesos.Environment{Variables: []mesos.Environment_Variable{{Name: "SIM_CODEC", Value: &codec}}},
		},
	}
}

func shellExecutor(id, cmd string) *mesos.ExecutorInfo {
	return &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: id}, Command: &mesos.CommandInfo{Value: &cmd}}
}

func hasData(want string) func(mesos.TaskStatus) bool {
	return func(st mesos.TaskStatus) bool { return st.GetState() == mesos.TASK_RUNNING && string(st.Data) == want }
}

func TestCustomExecutorWithMesosGoClient(t *testing.T) {
	binURL := binaryServer(t)
	for _, codec := range []string{"protobuf", "json"} {
		t.Run(codec, func(t *testing.T) {
			a, rec := newTestAgent(t, nil)
			eid := "prober-" + codec
			info := fetchedExecutor(eid, binURL, codec)
			a.Launch(frameworkInfo(), executorTask("e1", info))

			running := rec.waitFor(t, "e1", 20*time.Second, hasData("running on agent-S1"))
			if running.GetSource() != mesos.SOURCE_EXECUTOR || running.GetAgentID().GetValue() != "agent-S1" ||
				running.GetExecutorID().GetValue() != eid || running.GetContainerStatus().GetContainerID() == nil {
				t.Errorf("relayed update lacks agent fields: %+v", running)
			}
			waitMessage(t, rec, "hello from "+eid)

			// A framework message reaches the executor, which echoes it back.
			if err := a.Message(testFW, eid, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			rec.waitFor(t, "e1", 10*time.Second, hasData("echo:ping"))

			// A second task goes to the running executor; a different
			// ExecutorInfo under the same ID is refused.
			a.Launch(frameworkInfo(), executorTask("e2", info))
			rec.waitFor(t, "e2", 10*time.Second, hasData("running on agent-S1"))
			other := fetchedExecutor(eid, binURL, "other")
			a.Launch(frameworkInfo(), executorTask("e3", other))
			bad := rec.waitState(t, "e3", mesos.TASK_ERROR, 10*time.Second)
			if bad.GetReason() != mesos.REASON_TASK_INVALID {
				t.Errorf("mismatching ExecutorInfo: %s", describe([]mesos.TaskStatus{bad}))
			}

			a.Kill(testFW, "e1", time.Second)
			rec.waitState(t, "e1", mesos.TASK_KILLED, 10*time.Second)
			a.Kill(testFW, "e2", time.Second)
			rec.waitState(t, "e2", mesos.TASK_KILLED, 10*time.Second)

			// The executor exits with no tasks left; nothing more is reported.
			deadline := time.Now().Add(10 * time.Second)
			for a.Message(testFW, eid, []byte("x")) == nil {
				if time.Now().After(deadline) {
					t.Fatal("executor still registered after its last task was killed")
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, id := range []string{"e1", "e2"} {
				ups := rec.of(id)
				if last := ups[len(ups)-1]; last.GetState() != mesos.TASK_KILLED {
					t.Errorf("%s: updates after TASK_KILLED: %s", id, describe(ups))
				}
			}
		})
	}
}

func TestShutdownFrameworkSendsShutdown(t *testing.T) {
	binURL := binaryServer(t)
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), executorTask("s1", fetchedExecutor("ex", binURL, "protobuf")))
	a.Launch(frameworkInfo(), shellTask("s2", "sleep 30"))
	rec.waitFor(t, "s1", 20*time.Second, hasData("running on agent-S1"))
	cmd := rec.waitState(t, "s2", mesos.TASK_RUNNING, 10*time.Second)
	n1, n2 := len(rec.of("s1")), len(rec.of("s2"))

	a.ShutdownFramework(testFW)
	// The executor exits on SHUTDOWN and the command task is killed; like a
	// Mesos agent for a terminating framework, nothing more is reported.
	deadline := time.Now().Add(10 * time.Second)
	for a.Message(testFW, "ex", []byte("x")) == nil || syscall.Kill(int(cmd.GetContainerStatus().GetExecutorPID()), 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("executor or command task survived ShutdownFramework")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Launch(frameworkInfo(), shellTask("s3", "true"))
	time.Sleep(100 * time.Millisecond)
	if len(rec.of("s1")) != n1 || len(rec.of("s2")) != n2 || len(rec.of("s3")) != 0 {
		t.Errorf("updates after ShutdownFramework: %s %s %s", describe(rec.of("s1")), describe(rec.of("s2")), describe(rec.of("s3")))
	}
}

func TestExecutorCrashFailsItsTasks(t *testing.T) {
	binURL := binaryServer(t)
	exited := make(chan string, 1)
	a, rec := newTestAgent(t, func(c *Config) {
		c.ExecutorExited = func(fwID, execID string, status int) { exited <- fwID + "/" + execID }
	})
	// A checkpointing framework: its executors also get MESOS_RECOVERY_TIMEOUT
	// and MESOS_SUBSCRIPTION_BACKOFF_MAX, which mesos-go's config.FromEnv
	// then requires.
	fw := frameworkInfo()
	fw.Checkpoint = boolPtr(true)
	a.Launch(fw, executorTask("k1", fetchedExecutor("ex", binURL, "protobuf")))
	rec.waitFor(t, "k1", 20*time.Second, hasData("running on agent-S1"))
	if err := a.KillProcess("k1"); err != nil {
		t.Fatal(err)
	}
	st := rec.waitState(t, "k1", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_EXECUTOR_TERMINATED || st.GetSource() != mesos.SOURCE_AGENT {
		t.Errorf("after executor crash: %s", describe([]mesos.TaskStatus{st}))
	}
	// The master hears of the exit (and sends the framework a FAILURE).
	select {
	case got := <-exited:
		if got != testFW+"/ex" {
			t.Errorf("ExecutorExited(%s), want %s/ex", got, testFW)
		}
	case <-time.After(10 * time.Second):
		t.Error("ExecutorExited not called after the executor crashed")
	}
}

func TestExecutorThatNeverSubscribes(t *testing.T) {
	a, rec := newTestAgent(t, func(c *Config) { c.ExecutorRegistrationTimeout = 300 * time.Millisecond })
	a.Launch(frameworkInfo(), executorTask("r1", shellExecutor("silent", "sleep 30")))
	st := rec.waitState(t, "r1", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_EXECUTOR_REGISTRATION_TIMEOUT {
		t.Errorf("registration timeout: %s", describe([]mesos.TaskStatus{st}))
	}

	a.Launch(frameworkInfo(), executorTask("r2", shellExecutor("quitter", "exit 3")))
	st = rec.waitState(t, "r2", mesos.TASK_FAILED, 10*time.Second)
	if st.GetReason() != mesos.REASON_EXECUTOR_TERMINATED || !strings.Contains(st.GetMessage(), "status 3") {
		t.Errorf("executor exit: %s", describe([]mesos.TaskStatus{st}))
	}

	// Killing a task whose executor has not subscribed yet kills it at once.
	a.Launch(frameworkInfo(), executorTask("r3", shellExecutor("slow", "sleep 30")))
	a.Kill(testFW, "r3", time.Second)
	st = rec.waitState(t, "r3", mesos.TASK_KILLED, 10*time.Second)
	if st.GetReason() != mesos.REASON_TASK_KILLED_DURING_LAUNCH {
		t.Errorf("kill before subscription: %s", describe([]mesos.TaskStatus{st}))
	}
}

func TestExecutorAPIRejectsMalformedCalls(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), executorTask("m1", shellExecutor("waiting", "sleep 30")))
	url := "http://" + a.Endpoint() + "/api/v1/executor"

	call := func(c execpb.Call) []byte {
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	uuid := newUUID()
	update := execpb.Call{
		FrameworkID: mesos.FrameworkID{Value: testFW}, ExecutorID: mesos.ExecutorID{Value: "waiting"},
		Type: execpb.Call_UPDATE, Update: &execpb.Call_Update{Status: mesos.TaskStatus{
			TaskID: mesos.TaskID{Value: "m1"}, State: mesos.TASK_RUNNING.Enum(), Source: mesos.SOURCE_EXECUTOR.Enum(), UUID: uuid}},
	}
	noUUID := update
	noUUID.Update = &execpb.Call_Update{Status: update.Update.Status}
	noUUID.Update.Status.UUID = nil
	subscribe := execpb.Call{FrameworkID: update.FrameworkID, ExecutorID: update.ExecutorID,
		Type: execpb.Call_SUBSCRIBE, Subscribe: &execpb.Call_Subscribe{}}
	unknownFW := update
	unknownFW.FrameworkID.Value = "nope"

	cases := []struct {
		name, method, ctype string
		accept              string
		body                []byte
		code                int
		text                string
	}{
		{"GET", http.MethodGet, "", "", nil, http.StatusMethodNotAllowed, "Expecting 'POST'"},
		{"content type", http.MethodPost, "text/plain", "", []byte("x"), http.StatusUnsupportedMediaType, "Content-Type"},
		{"garbage protobuf", http.MethodPost, mediaProtobuf, "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest, "Failed to parse"},
		{"garbage json", http.MethodPost, mediaJSON, "", []byte("{"), http.StatusBadRequest, "Failed to parse"},
		{"json without ids", http.MethodPost, mediaJSON, "", []byte(`{"type":"HEARTBEAT"}`), http.StatusBadRequest, "executor_id"},
		{"no uuid", http.MethodPost, mediaProtobuf, "", call(noUUID), http.StatusBadRequest, "Expecting 'uuid'"},
		{"unknown framework", http.MethodPost, mediaProtobuf, "", call(unknownFW), http.StatusBadRequest, "Framework cannot be found"},
		{"not subscribed", http.MethodPost, mediaProtobuf, "", call(update), http.StatusForbidden, "not subscribed"},
		{"not acceptable", http.MethodPost, mediaProtobuf, "text/html", call(subscribe), http.StatusNotAcceptable, "Accept"},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, url, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.Contains(buf.String(), c.text) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, res.StatusCode, buf.String(), c.code, c.text)
		}
	}
	if n := len(rec.of("m1")); n != 0 {
		t.Errorf("rejected calls produced updates: %s", describe(rec.of("m1")))
	}
}

func waitMessage(t *testing.T, rec *recorder, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		for _, m := range rec.msgs {
			if string(m) == want {
				rec.mu.Unlock()
				return
			}
		}
		rec.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("executor message %q never arrived", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMessageTargets(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), shellTask("cmdtask", "sleep 30"))
	a.Launch(frameworkInfo(), executorTask("x1", shellExecutor("unsubscribed", "sleep 30")))
	rec.waitState(t, "cmdtask", mesos.TASK_RUNNING, 10*time.Second)
	if err := a.Message(testFW, "cmdtask", []byte("x")); err != nil {
		t.Errorf("message to a command executor: %v (Mesos drops it silently)", err)
	}
	if err := a.Message(testFW, "unsubscribed", []byte("x")); err == nil {
		t.Error("message to an executor that has not subscribed succeeded")
	}
	if err := a.Message(testFW, "nope", []byte("x")); err == nil {
		t.Error("message to an unknown executor succeeded")
	}
}
