package prober

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/prober/probertest"
	"github.com/quobyte/quobyte-mesos/spec"
)

const taskID = "quobyte.prober.abc123.x1"

func addDevice(t *testing.T, root, name string, typ spec.DeviceType) {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, probe.SetupFile), []byte("device.type="+string(typ)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testConfig(agent *probertest.Agent, root string) Config {
	return Config{
		Scan:     probe.Config{DeviceRoot: root, Mode: probe.ModeDirectories, Hostname: "agent1"},
		Interval: time.Hour,
		Executor: config.Config{
			FrameworkID: probertest.FrameworkID, ExecutorID: probertest.ExecutorID, AgentEndpoint: agent.Endpoint(),
			Checkpoint: true, RecoveryTimeout: 10 * time.Second, SubscriptionBackoffMax: 200 * time.Millisecond,
		},
		AckWait: 2 * time.Second,
	}
}

// running starts Run and returns a channel with its result.
func running(t *testing.T, ctx context.Context, cfg Config) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	return done
}

func waitDone(t *testing.T, done <-chan error, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Run did not return within %v", limit)
		return nil
	}
}

// report checks that u is a TASK_RUNNING of our task and decodes its data.
func report(t *testing.T, u executor.Call_Update) probe.Report {
	t.Helper()
	if u.Status.GetState() != mesos.TASK_RUNNING || u.Status.TaskID.Value != taskID {
		t.Fatalf("update = %s for %s, want TASK_RUNNING for %s", u.Status.GetState(), u.Status.TaskID.Value, taskID)
	}
	if u.Status.GetSource() != mesos.SOURCE_EXECUTOR || len(u.Status.UUID) != 16 || u.Status.ExecutorID == nil {
		t.Errorf("update lacks source, uuid or executor id: %+v", u.Status)
	}
	var r probe.Report
	if err := json.Unmarshal(u.Status.Data, &r); err != nil {
		t.Fatalf("update data is no report: %v: %q", err, u.Status.Data)
	}
	if r.Version != probe.ReportVersion {
		t.Errorf("report version %d, want %d", r.Version, probe.ReportVersion)
	}
	return r
}

func TestRun_LaunchChangeMessageKill(t *testing.T) {
	agent := probertest.NewAgent(t)
	root := t.TempDir()
	addDevice(t, root, "d1", spec.DataDevice)
	done := running(t, context.Background(), testConfig(agent, root))

	if sub := agent.NextSubscribe(5 * time.Second); len(sub.Subscribe.UnacknowledgedUpdates) != 0 {
		t.Errorf("first SUBSCRIBE carries updates: %+v", sub.Subscribe)
	}
	agent.Launch(taskID)
	r := report(t, agent.NextUpdate(5*time.Second))
	if r.Seq != 1 || len(r.Devices) != 1 || !r.HasType(spec.DataDevice) || r.Hostname != "agent1" {
		t.Fatalf("first report = %+v", r)
	}

	start := time.Now()
	addDevice(t, root, "d2", spec.DirDevice)
	r = report(t, agent.NextUpdate(2*time.Second))
	t.Logf("new device reported after %v", time.Since(start).Round(time.Millisecond))
	if r.Seq != 2 || !r.HasType(spec.DirDevice) {
		t.Fatalf("report after a new device = %+v", r)
	}

	agent.Message("probe")
	if r = report(t, agent.NextUpdate(2*time.Second)); r.Seq != 3 || len(r.Devices) != 2 {
		t.Fatalf("report after MESSAGE = %+v", r)
	}

	agent.Kill(taskID)
	u := agent.NextUpdate(2 * time.Second)
	if u.Status.GetState() != mesos.TASK_KILLED || u.Status.TaskID.Value != taskID {
		t.Fatalf("after KILL: %s for %s, want TASK_KILLED", u.Status.GetState(), u.Status.TaskID.Value)
	}
	if err := waitDone(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run after KILL: %v", err)
	}
}

func TestRun_KeepAlive(t *testing.T) {
	agent := probertest.NewAgent(t)
	cfg := testConfig(agent, t.TempDir())
	cfg.Interval = 150 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := running(t, ctx, cfg)
	agent.Launch(taskID)
	var last uint64
	for i := 0; i < 3; i++ {
		r := report(t, agent.NextUpdate(2*time.Second))
		if r.Seq <= last {
			t.Errorf("seq %d after %d", r.Seq, last)
		}
		last = r.Seq
	}
	cancel()
	if err := waitDone(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

// TestRun_ResubscribeResendsUnacknowledged drops the stream while an update
// is unacknowledged: the next SUBSCRIBE must carry it and the task, and the
// executor must report again once subscribed.
func TestRun_ResubscribeResendsUnacknowledged(t *testing.T) {
	agent := probertest.NewAgent(t)
	agent.SetAutoAck(false)
	root := t.TempDir()
	addDevice(t, root, "d1", spec.MetadataDevice)
	done := running(t, context.Background(), testConfig(agent, root))
	agent.NextSubscribe(5 * time.Second)
	agent.Launch(taskID)
	first := agent.NextUpdate(2 * time.Second)
	report(t, first)

	// The agent restarts: the stream ends, and for a while it refuses calls.
	agent.SetDown(true)
	agent.Drop()
	time.Sleep(300 * time.Millisecond)
	agent.SetDown(false)

	sub := agent.NextSubscribe(5 * time.Second)
	ups := sub.Subscribe.UnacknowledgedUpdates
	if len(ups) != 1 || string(ups[0].Status.UUID) != string(first.Status.UUID) {
		t.Fatalf("resubscribe carries %d updates, want the unacknowledged first one", len(ups))
	}
	if tasks := sub.Subscribe.UnacknowledgedTasks; len(tasks) != 1 || tasks[0].TaskID.Value != taskID {
		t.Fatalf("resubscribe carries tasks %+v, want %s", tasks, taskID)
	}
	again := agent.NextUpdate(2 * time.Second)
	if r := report(t, again); r.Seq != 2 || !r.HasType(spec.MetadataDevice) {
		t.Fatalf("report after resubscribing = %+v", r)
	}

	// Acknowledged updates are not sent again.
	agent.Ack(first)
	agent.Ack(again)
	time.Sleep(100 * time.Millisecond)
	agent.Drop()
	sub = agent.NextSubscribe(5 * time.Second)
	if n := len(sub.Subscribe.UnacknowledgedUpdates) + len(sub.Subscribe.UnacknowledgedTasks); n != 0 {
		t.Fatalf("after acknowledgements SUBSCRIBE still carries %d items: %+v", n, sub.Subscribe)
	}
	report(t, agent.NextUpdate(2*time.Second))

	agent.SetAutoAck(true)
	agent.Shutdown()
	if u := agent.NextUpdate(2 * time.Second); u.Status.GetState() != mesos.TASK_KILLED {
		t.Fatalf("after SHUTDOWN: %s, want TASK_KILLED", u.Status.GetState())
	}
	if err := waitDone(t, done, 3*time.Second); err != nil {
		t.Fatalf("Run after SHUTDOWN: %v", err)
	}
}

func TestRun_ErrorEventResubscribes(t *testing.T) {
	agent := probertest.NewAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := running(t, ctx, testConfig(agent, t.TempDir()))
	agent.NextSubscribe(5 * time.Second)
	agent.Send(&executor.Event{Type: executor.Event_ERROR, Error: &executor.Event_Error{Message: "boom"}})
	agent.NextSubscribe(5 * time.Second)
	cancel()
	if err := waitDone(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRun_WithoutCheckpointExitsOnDisconnect(t *testing.T) {
	agent := probertest.NewAgent(t)
	cfg := testConfig(agent, t.TempDir())
	cfg.Executor.Checkpoint = false
	done := running(t, context.Background(), cfg)
	agent.NextSubscribe(5 * time.Second)
	agent.Drop()
	if err := waitDone(t, done, 3*time.Second); err == nil {
		t.Fatal("Run returned nil after losing the agent without checkpointing")
	}
}

func TestRun_RecoveryTimeout(t *testing.T) {
	agent := probertest.NewAgent(t)
	agent.SetDown(true)
	cfg := testConfig(agent, t.TempDir())
	cfg.Executor.RecoveryTimeout = 500 * time.Millisecond
	start := time.Now()
	err := waitDone(t, running(t, context.Background(), cfg), 5*time.Second)
	if err == nil {
		t.Fatal("Run returned nil though the agent never answered")
	}
	t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestRun_InvalidConfig(t *testing.T) {
	if err := Run(context.Background(), Config{}); err == nil {
		t.Fatal("Run accepted an empty configuration")
	}
}

func TestRun_MalformedEventsIgnored(t *testing.T) {
	agent := probertest.NewAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := running(t, ctx, testConfig(agent, t.TempDir()))
	agent.NextSubscribe(5 * time.Second)
	for _, typ := range []executor.Event_Type{executor.Event_LAUNCH, executor.Event_KILL, executor.Event_ACKNOWLEDGED, executor.Event_LAUNCH_GROUP, executor.Event_Type(99)} {
		agent.Send(&executor.Event{Type: typ})
	}
	agent.Launch(taskID)
	report(t, agent.NextUpdate(2*time.Second))
	cancel()
	if err := waitDone(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestRun_KillWhileAgentRecovering: the TASK_KILLED is refused with 503 at
// first (a recovering agent answers so, slave/http.cpp); it is sent again
// on the same subscription until taken, and the executor then leaves.
func TestRun_KillWhileAgentRecovering(t *testing.T) {
	agent := probertest.NewAgent(t)
	done := running(t, context.Background(), testConfig(agent, t.TempDir()))
	agent.NextSubscribe(5 * time.Second)
	agent.Launch(taskID)
	report(t, agent.NextUpdate(2*time.Second))

	agent.SetDown(true)
	agent.Kill(taskID)
	time.Sleep(300 * time.Millisecond)
	agent.SetDown(false)
	if u := agent.NextUpdate(2 * time.Second); u.Status.GetState() != mesos.TASK_KILLED {
		t.Fatalf("after the agent recovered: %s, want TASK_KILLED", u.Status.GetState())
	}
	if err := waitDone(t, done, 3*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// Reports name the host as the agent does (AgentInfo in SUBSCRIBED), not as
// the machine does: a Mesos agent's --hostname may differ, and simulated
// agents share one machine. An operator's --hostname still wins.
func TestRun_ReportsTheAgentsHostname(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{{"", "agent1"}, {"given-by-operator", "given-by-operator"}} {
		agent := probertest.NewAgent(t)
		root := t.TempDir()
		cfg := testConfig(agent, root)
		cfg.Scan.Hostname = tc.flag
		ctx, cancel := context.WithCancel(context.Background())
		done := running(t, ctx, cfg)
		agent.NextSubscribe(5 * time.Second)
		agent.Launch(taskID)
		if r := report(t, agent.NextUpdate(5*time.Second)); r.Hostname != tc.want {
			t.Errorf("--hostname %q: report hostname %q, want %q", tc.flag, r.Hostname, tc.want)
		}
		cancel()
		waitDone(t, done, 10*time.Second)
	}
}
