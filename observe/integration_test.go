package observe_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe"
	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// framework is the observe side of a framework against the simulated
// cluster: a subscription, an observer, and a tiny launcher that starts one
// task per agent from the offers it is handed (the actuator's job, reduced
// to what these tests need).
type framework struct {
	conn *mesosconn.Conn
	obs  *observe.Observer
	stop func()

	mu       sync.Mutex
	launched map[string]bool // agent ID -> launched there
	launch   bool
}

func startFramework(t *testing.T, masters []string, store fwid.Store, launch bool) *framework {
	t.Helper()
	log := hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Info})
	conn, err := mesosconn.New(mesosconn.Config{
		Masters:        masters,
		Store:          store,
		Logger:         log,
		InitialBackoff: 50 * time.Millisecond,
		MaxBackoff:     500 * time.Millisecond,
		Framework:      mesosconn.Framework{Name: "quobyte-it", FailoverTimeout: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &framework{conn: conn, launched: map[string]bool{}, launch: launch}
	f.obs = observe.New(observe.Config{
		Caller:           conn.Caller(),
		Logger:           log,
		OnOffers:         f.offers,
		ReconcileInitial: 200 * time.Millisecond,
		ReconcileMax:     time.Second,
		ImplicitSettle:   500 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.obs.Run(ctx) }()
	go func() { defer wg.Done(); _ = conn.Run(ctx, f.obs) }()
	f.stop = func() { cancel(); wg.Wait() }
	t.Cleanup(f.stop)
	return f
}

func (f *framework) offers(ctx context.Context, offers []mesos.Offer) {
	caller := f.conn.Caller()
	for _, of := range offers {
		f.mu.Lock()
		doLaunch := f.launch && !f.launched[of.AgentID.Value]
		if doLaunch {
			f.launched[of.AgentID.Value] = true
		}
		f.mu.Unlock()
		if !doLaunch {
			resp, err := caller.Call(ctx, calls.Decline(of.ID))
			if resp != nil {
				resp.Close()
			}
			_ = err // a lost decline only delays the offer's return
			continue
		}
		id, _ := taskid.New("data", "cfg1", strings.ReplaceAll(of.AgentID.Value, ".", "-"))
		role := "*"
		if len(of.Resources) > 0 {
			if ai := of.Resources[0].AllocationInfo; ai != nil && ai.Role != nil {
				role = *ai.Role
			}
		}
		scalar := func(name string, v float64) mesos.Resource {
			return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v},
				AllocationInfo: &mesos.Resource_AllocationInfo{Role: &role}}
		}
		shell := true
		cmd := "sleep 3600"
		ti := mesos.TaskInfo{
			Name: id.String(), TaskID: mesos.TaskID{Value: id.String()}, AgentID: of.AgentID,
			Resources: []mesos.Resource{scalar("cpus", 0.1), scalar("mem", 32)},
			Command:   &mesos.CommandInfo{Shell: &shell, Value: &cmd},
		}
		// Record before sending: the snapshot must never miss a task that
		// may be running.
		if err := f.obs.RecordLaunch(id.String(), of.AgentID.Value); err != nil {
			panic(err)
		}
		resp, err := caller.Call(ctx, calls.Accept(calls.OfferOperations{calls.OpLaunch(ti)}.WithOffers(of.ID)))
		if resp != nil {
			resp.Close()
		}
		if err != nil {
			f.mu.Lock()
			f.launched[of.AgentID.Value] = false
			f.mu.Unlock()
		}
	}
}

// waitFor polls the observer's snapshot until cond holds.
func waitFor(t *testing.T, o *observe.Observer, what string, cond func(*snapshot.Snapshot) bool) *snapshot.Snapshot {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s := o.Latest(); cond(s) {
			return s
		}
		select {
		case <-o.Changed():
		case <-time.After(50 * time.Millisecond):
		}
	}
	s := o.Latest()
	t.Fatalf("timed out waiting for %s; subscription %+v, %d tasks: %s", what, s.Subscription, len(s.Tasks), describe(s))
	return nil
}

func describe(s *snapshot.Snapshot) string {
	var b strings.Builder
	for _, tk := range s.Tasks {
		fmt.Fprintf(&b, "%s=%s(%s) ", tk.ID, tk.State, tk.Reason)
	}
	return b.String()
}

func running(n int) func(*snapshot.Snapshot) bool {
	return func(s *snapshot.Snapshot) bool {
		c := 0
		for _, tk := range s.Tasks {
			if tk.State == snapshot.Running {
				c++
			}
		}
		return c == n && s.Subscription.State == snapshot.Subscribed && s.Subscription.Reconciled
	}
}

func startSim(t *testing.T, reregisterDelay time.Duration) *mesossim.Cluster {
	t.Helper()
	cfg := mesossim.Config{
		AgentReregisterDelay:      reregisterDelay,
		Masters:                   2,
		AllocationInterval:        50 * time.Millisecond,
		HeartbeatInterval:         200 * time.Millisecond,
		StatusUpdateRetryInterval: 300 * time.Millisecond,
		AgentPingTimeout:          20 * time.Millisecond, // partitions noticed after 100ms
		WorkDir:                   t.TempDir(),
	}
	for i := 1; i <= 3; i++ {
		cfg.Agents = append(cfg.Agents, mesossim.DefaultAgent(fmt.Sprintf("host-%d.example", i)))
	}
	c, err := mesossim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A master failover drops the stream: the framework resubscribes (to the
// new leader, found through the old one's 307 or the master list) with the
// same framework ID, and after reconciliation the task set is complete.
func TestIntegration_MasterFailoverKeepsTaskSet(t *testing.T) {
	// Agents reregister with the new leader only after a while: until then
	// explicit reconciliation gets no answer and must be repeated.
	sim := startSim(t, 1500*time.Millisecond)
	store := fwid.NewFileStore(filepath.Join(t.TempDir(), "framework-id"))
	f := startFramework(t, sim.MasterURLs(), store, true)
	s := waitFor(t, f.obs, "three running tasks", running(3))
	fw := s.Subscription.FrameworkID
	if saved, _ := store.Load(context.Background()); saved != fw || fw == "" {
		t.Fatalf("stored framework id %q, subscription %q", saved, fw)
	}
	if len(s.Agents) != 3 {
		t.Fatalf("agents = %d", len(s.Agents))
	}

	sim.FailoverMaster()
	s = waitFor(t, f.obs, "resubscription", func(s *snapshot.Snapshot) bool {
		return s.Subscription.Resubscriptions >= 1 && s.Subscription.State == snapshot.Subscribed
	})
	if s.Subscription.Reconciled {
		t.Fatal("reconciled at once although no agent has reregistered")
	}
	time.Sleep(500 * time.Millisecond)
	if p := f.obs.PendingReconciliation(); len(p) != 3 || f.obs.Latest().Subscription.Reconciled {
		t.Fatalf("pending reconciliation %v, reconciled %v; want all three tasks unanswered", p, f.obs.Latest().Subscription.Reconciled)
	}
	s = waitFor(t, f.obs, "resubscription and reconciliation after failover", func(s *snapshot.Snapshot) bool {
		return s.Subscription.Resubscriptions >= 1 && running(3)(s)
	})
	if s.Subscription.FrameworkID != fw {
		t.Fatalf("framework id changed over failover: %q -> %q", fw, s.Subscription.FrameworkID)
	}
	if s.Subscription.Master != sim.URL() {
		t.Fatalf("subscribed to %s, leader is %s", s.Subscription.Master, sim.URL())
	}
	// Calls go to the new leader: a kill reaches the task.
	var victim string
	for _, tk := range s.Tasks {
		victim = tk.ID
		break
	}
	resp, err := f.conn.Caller().Call(context.Background(), calls.Kill(victim, task(s, victim).AgentID))
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		t.Fatalf("kill through the new leader: %v", err)
	}
	f.obs.RecordKillSent(victim)
	waitFor(t, f.obs, "the killed task's terminal state", func(s *snapshot.Snapshot) bool {
		tk := task(s, victim)
		return tk != nil && tk.State == snapshot.Killed && !tk.KillSent.IsZero()
	})
}

// After a framework restart nothing is known but the framework ID: implicit
// reconciliation rebuilds the task set from the task IDs.
func TestIntegration_RestartRebuildsTaskSet(t *testing.T) {
	sim := startSim(t, 0)
	store := fwid.NewFileStore(filepath.Join(t.TempDir(), "framework-id"))
	f := startFramework(t, sim.MasterURLs(), store, true)
	s := waitFor(t, f.obs, "three running tasks", running(3))
	fw := s.Subscription.FrameworkID
	f.stop()

	g := startFramework(t, sim.MasterURLs(), store, false)
	s = waitFor(t, g.obs, "the task set rebuilt by implicit reconciliation", running(3))
	if s.Subscription.FrameworkID != fw {
		t.Fatalf("restarted framework registered as %q, want %q", s.Subscription.FrameworkID, fw)
	}
	for _, tk := range s.Tasks {
		if tk.Kind != "data" || tk.Config != "cfg1" || tk.AgentID == "" {
			t.Fatalf("rebuilt task %+v", tk)
		}
	}
}

func task(s *snapshot.Snapshot, id string) *snapshot.Task {
	for _, tk := range s.Tasks {
		if tk.ID == id {
			return tk
		}
	}
	return nil
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func agentOfHost(s *snapshot.Snapshot, host string) *snapshot.Agent {
	for _, a := range s.Agents {
		if a.Hostname == host {
			return a
		}
	}
	return nil
}

// A partitioned agent's tasks are unknown, not gone; when it heals they
// are running again.
func TestIntegration_PartitionAndHeal(t *testing.T) {
	sim := startSim(t, 0)
	f := startFramework(t, sim.MasterURLs(), fwid.NewFileStore(filepath.Join(t.TempDir(), "id")), true)
	s := waitFor(t, f.obs, "three running tasks", running(3))
	a := agentOfHost(s, "host-1.example")
	if a == nil {
		t.Fatal("no agent host-1.example")
	}
	if err := sim.PartitionAgent("host-1.example"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f.obs, "the partitioned agent's task unreachable", func(s *snapshot.Snapshot) bool {
		for _, tk := range s.Tasks {
			if tk.AgentID == a.ID {
				return tk.State == snapshot.Unreachable && !s.Agent(a.ID).Reachable
			}
		}
		return false
	})
	if err := sim.HealAgent("host-1.example"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f.obs, "the healed agent's task running", func(s *snapshot.Snapshot) bool {
		return running(3)(s) && s.Agent(a.ID).Reachable
	})
}

// Updates dropped, repeated and delayed on their way still leave the
// snapshot right: a crashed task is seen as failed, the others running.
func TestIntegration_UnreliableUpdates(t *testing.T) {
	sim := startSim(t, 0)
	sim.DuplicateUpdates(20)
	sim.DelayUpdates(5, 200*time.Millisecond)
	sim.DropUpdates(2)
	f := startFramework(t, sim.MasterURLs(), fwid.NewFileStore(filepath.Join(t.TempDir(), "id")), true)
	s := waitFor(t, f.obs, "three running tasks", running(3))
	victim := s.Tasks[0].ID
	sim.DuplicateUpdates(5)
	if err := sim.KillTask(victim); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f.obs, "the crashed task terminal, the others running", func(s *snapshot.Snapshot) bool {
		tk := task(s, victim)
		if tk == nil || !tk.State.Terminal() {
			return false
		}
		n := 0
		for _, tk := range s.Tasks {
			if tk.State == snapshot.Running {
				n++
			}
		}
		return n == 2
	})
}
