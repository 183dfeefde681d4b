package prober

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// These tests run the prober against the simulated Mesos agent
// (test/mesossim/agentrt), which follows slave.cpp and slave/http.cpp.

const simFW = "fw-sim"

// simUpdates records what the simulated agent relays to its master.
type simUpdates struct {
	mu  sync.Mutex
	all []mesos.TaskStatus
}

func (u *simUpdates) add(_ string, st mesos.TaskStatus) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.all = append(u.all, st)
}

func (u *simUpdates) count(pred func(mesos.TaskStatus) bool) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, st := range u.all {
		if pred(st) {
			n++
		}
	}
	return n
}

func (u *simUpdates) waitCount(t *testing.T, what string, n int, pred func(mesos.TaskStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for u.count(pred) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d %s within 15s", n, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isReport(st mesos.TaskStatus) bool {
	return st.GetState() == mesos.TASK_RUNNING && len(st.Data) > 0
}

func isTerminalState(st mesos.TaskStatus) bool {
	switch st.GetState() {
	case mesos.TASK_RUNNING, mesos.TASK_STARTING, mesos.TASK_STAGING, mesos.TASK_KILLING:
		return false
	}
	return true
}

// syncBuffer is a log sink safe for the prober's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startOnSimAgent starts a simulated agent, launches a task of a custom
// executor whose process only stands in for the prober, and runs the
// prober in this process under that executor's IDs, configured from what
// the agent tells its executors.
func startOnSimAgent(t *testing.T, reregistration time.Duration) (*agentrt.Agent, *simUpdates, *syncBuffer, <-chan error) {
	t.Helper()
	ups := &simUpdates{}
	a, err := agentrt.New(agentrt.Config{
		AgentID: "agent-S1", Hostname: "agent1", WorkDir: t.TempDir(), Updates: ups.add,
		ExecutorReregistrationTimeout: reregistration,
		Logger:                        hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: testLogWriter{t}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	checkpoint := true
	fw := mesos.FrameworkInfo{User: "root", Name: "quobyte", ID: &mesos.FrameworkID{Value: simFW}, Checkpoint: &checkpoint}
	hold := "sleep 60"
	a.Launch(fw, mesos.TaskInfo{
		Name: "prober", TaskID: mesos.TaskID{Value: taskID}, AgentID: mesos.AgentID{Value: "agent-S1"},
		Executor: &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "prober-x"}, Command: &mesos.CommandInfo{Value: &hold}},
	})
	root := t.TempDir()
	addDevice(t, root, "d1", spec.DataDevice)
	logs := &syncBuffer{}
	cfg := Config{
		Scan:     probe.Config{DeviceRoot: root, Mode: probe.ModeDirectories},
		Interval: time.Hour,
		Executor: config.Config{
			FrameworkID: simFW, ExecutorID: "prober-x", AgentEndpoint: a.Endpoint(), Checkpoint: true,
			RecoveryTimeout: time.Minute, SubscriptionBackoffMax: reregistration,
		},
		AckWait: 3 * time.Second,
		Logger:  hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() { done <- Run(ctx, cfg); close(finished) }()
	t.Cleanup(func() {
		cancel()
		<-finished
		if t.Failed() {
			t.Logf("prober log:\n%s", logs.String())
		}
	})
	ups.waitCount(t, "first report", 1, isReport)
	return a, ups, logs, done
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Issue 10, bugs 2 and 3: across agent restarts the prober is back within
// the agent's executor reregistration timeout, keeps its subscription
// while the recovering agent answers 503 "Agent has not finished
// recovery", and reports again once the agent has recovered; its task
// lives on.
func TestRun_SimAgentRestartsKeepTheProber(t *testing.T) {
	a, ups, logs, _ := startOnSimAgent(t, 600*time.Millisecond)
	const restarts = 3
	for i := 1; i <= restarts; i++ {
		recovered := make(chan struct{})
		a.Restart(300*time.Millisecond, func() { close(recovered) })
		select {
		case <-recovered:
		case <-time.After(10 * time.Second):
			t.Fatal("the agent did not recover")
		}
		ups.waitCount(t, "reports after the restarts", 1+i, isReport)
	}
	if n := ups.count(isTerminalState); n > 0 {
		t.Fatalf("the prober's task ended across agent restarts: %d terminal updates", n)
	}
	if n := strings.Count(logs.String(), "subscribed to the agent"); n != 1+restarts {
		t.Errorf("subscribed %d times for %d restarts, want %d (503 during recovery must not end the subscription)", n, restarts, 1+restarts)
	}
}

// Issue 10, bug 7: when its framework is torn down the agent shuts the
// prober down and acknowledges nothing more; the prober sends TASK_KILLED
// and leaves at once instead of waiting AckWait for acknowledgements.
func TestRun_SimFrameworkTeardownEndsTheProberAtOnce(t *testing.T) {
	a, _, _, done := startOnSimAgent(t, 2*time.Second)
	at := time.Now()
	a.ShutdownFramework(simFW)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the prober did not leave after SHUTDOWN")
	}
	if d := time.Since(at); d > time.Second {
		t.Errorf("the prober left %v after SHUTDOWN, want at once (AckWait is 3s)", d.Round(time.Millisecond))
	}
}

// Issue 10, bug 2: the wait before resubscribing never exceeds
// MESOS_SUBSCRIPTION_BACKOFF_MAX (Mesos' executor library draws it in
// [0, max]), so a restarted agent's reregistration window is never missed.
func TestRun_ResubscribeDelayNeverExceedsBackoffMax(t *testing.T) {
	const max = 300 * time.Millisecond
	var mu sync.Mutex
	var attempts []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts = append(attempts, time.Now())
		mu.Unlock()
		http.Error(w, "Agent has not finished recovery", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := Config{
		Scan: probe.Config{DeviceRoot: t.TempDir(), Mode: probe.ModeDirectories},
		Executor: config.Config{
			FrameworkID: simFW, ExecutorID: "prober-x", AgentEndpoint: strings.TrimPrefix(srv.URL, "http://"),
			Checkpoint: true, RecoveryTimeout: time.Minute, SubscriptionBackoffMax: max,
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	defer func() { cancel(); <-done }()
	const want = 20
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(attempts)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d SUBSCRIBE attempts in 20s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < want; i++ {
		// The gap is the drawn delay plus one refused request.
		if gap := attempts[i].Sub(attempts[i-1]); gap > max+60*time.Millisecond {
			t.Errorf("attempt %d came %v after the previous one, more than MESOS_SUBSCRIPTION_BACKOFF_MAX %v", i, gap.Round(time.Millisecond), max)
		}
	}
}
