package actuate_test

import (
	"context"
	"math/rand"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// simSched subscribes to the simulated master with mesos-go (protobuf, as
// the framework does) and feeds offers to an Actuator.
type simSched struct {
	t      *testing.T
	caller calls.Caller
	fwID   string
	act    *actuate.Actuator
	last   actuate.Report // the last Apply's full report

	mu      sync.Mutex
	states  map[string]mesos.TaskState
	reasons map[string]string
	offers  map[string]bool  // agent IDs that sent offers
	tasks   []mesos.TaskInfo // every task of every ACCEPT sent
}

func startSim(t *testing.T, agents ...mesossim.AgentConfig) (*mesossim.Cluster, *simSched) {
	t.Helper()
	cl, err := mesossim.Start(context.Background(), mesossim.Config{
		Agents:             agents,
		AllocationInterval: 50 * time.Millisecond,
		HeartbeatInterval:  time.Second,
		WorkDir:            t.TempDir(),
		Rand:               rand.New(rand.NewSource(1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	cli := httpcli.New(httpcli.Endpoint(cl.URL()+"/api/v1/scheduler"), httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]))
	s := &simSched{t: t, caller: httpsched.NewCaller(cli), states: map[string]mesos.TaskState{}, reasons: map[string]string{}, offers: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	info := mesos.FrameworkInfo{
		User: "root", Name: "actuate-test", Roles: []string{"quobyte"},
		Capabilities: []mesos.FrameworkInfo_Capability{
			{Type: mesos.FrameworkInfo_Capability_PARTITION_AWARE},
			{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE},
		},
	}
	resp, err := s.caller.Call(ctx, calls.Subscribe(&info))
	if err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	t.Cleanup(func() { resp.Close() })
	subscribed := make(chan string, 1)
	s.act = actuate.New(actuate.Config{
		Caller:            calls.CallerFunc(s.call),
		FrameworkID:       func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.fwID },
		FrameworkHTTPBase: "http://127.0.0.1:1",
		OnReport:          func(r actuate.Report) { s.last = r }, // Apply's goroutine: read after it returns
	})
	go func() {
		for {
			var ev scheduler.Event
			if err := resp.Decode(&ev); err != nil {
				return
			}
			switch ev.Type {
			case scheduler.Event_SUBSCRIBED:
				s.mu.Lock()
				s.fwID = ev.Subscribed.FrameworkID.Value
				s.mu.Unlock()
				subscribed <- ev.Subscribed.FrameworkID.Value
			case scheduler.Event_OFFERS:
				s.act.HandleOffers(ev.Offers.Offers)
				s.mu.Lock()
				for _, o := range ev.Offers.Offers {
					s.offers[o.AgentID.Value] = true
				}
				s.mu.Unlock()
			case scheduler.Event_RESCIND:
				s.act.HandleRescind(ev.Rescind.OfferID.Value)
			case scheduler.Event_UPDATE:
				st := ev.Update.Status
				s.mu.Lock()
				s.states[st.TaskID.Value] = st.GetState()
				s.reasons[st.TaskID.Value] = st.GetReason().String() + ": " + st.GetMessage()
				s.mu.Unlock()
				if len(st.UUID) > 0 {
					_ = calls.CallNoData(context.Background(), calls.CallerFunc(s.call), calls.Acknowledge(st.GetAgentID().GetValue(), st.TaskID.Value, st.UUID))
				}
			}
		}
	}()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("not subscribed")
	}
	return cl, s
}

func (s *simSched) call(ctx context.Context, c *scheduler.Call) (mesos.Response, error) {
	s.mu.Lock()
	id := s.fwID
	s.mu.Unlock()
	if c.FrameworkID == nil {
		c.FrameworkID = &mesos.FrameworkID{Value: id}
	}
	if c.Type == scheduler.Call_ACCEPT {
		s.mu.Lock()
		for _, op := range c.Accept.Operations {
			s.tasks = append(s.tasks, op.GetLaunch().GetTaskInfos()...)
		}
		s.mu.Unlock()
	}
	return s.caller.Call(ctx, c)
}

func (s *simSched) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *simSched) state(id string) (mesos.TaskState, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[id], s.reasons[id]
}

// The simulated master validates ACCEPTs as Mesos does: tasks built from
// matched offers (reserved and unreserved resources, fixed ports, several
// tasks per offer, the prober's executor) launch and run.
func TestSim_LaunchRunsOnSimulatedMesos(t *testing.T) {
	for name, rt := range map[string]string{
		"command": `runtime = "command"
  command = "sleep 1000"`,
		"docker": `image = "quobyte/server"`,
	} {
		t.Run(name, func(t *testing.T) { testSimLaunch(t, rt) })
	}
}

func testSimLaunch(t *testing.T, runtime string) {
	a1 := mesossim.DefaultAgent("node1")
	a1.Reservations = map[string]map[string]float64{"quobyte": {"cpus": 1.5, "mem": 2048}}
	cl, s := startSim(t, a1, mesossim.DefaultAgent("node2"))
	s.waitFor("offers from both agents", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.offers) == 2 })
	agents := map[string]string{}
	for _, a := range cl.State().Agents {
		agents[a.Hostname] = a.ID
	}
	c, diags := spec.LoadBytes([]byte(`
mesos { master = "http://m1:5050" }
quobyte {
  `+runtime+`
}
`), "sim.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	act := func(kind spec.Kind, host string) controller.Action {
		svc := c.Service(kind)
		var ps []int
		for _, p := range svc.Ports {
			ps = append(ps, p)
		}
		return controller.Action{Type: controller.Launch, AgentID: agents[host], Hostname: host, Kind: string(kind),
			ConfigHash: svc.ConfigHash, Resources: svc.Resources, Ports: ps}.WithReason("test")
	}
	prober := controller.Action{Type: controller.LaunchProber, AgentID: agents["node2"], Hostname: "node2", Kind: "prober",
		ConfigHash: c.Prober.ConfigHash, Resources: c.Prober.Resources}.WithReason("test")
	plan := &controller.Result{Spec: c, SpecHash: c.Hash, Actions: []controller.Action{
		act(spec.Registry, "node1"), act(spec.Metadata, "node1"), act(spec.Data, "node1"),
		act(spec.API, "node2"), act(spec.Webconsole, "node2"), prober,
	}}

	var launched []actuate.LaunchedTask
	for i := 0; len(launched) < len(plan.Actions); i++ {
		if i > 100 {
			t.Fatalf("launched %d of %d", len(launched), len(plan.Actions))
		}
		if rep := s.act.Apply(context.Background(), plan); len(rep.Failed)+len(rep.Errors) > 0 {
			t.Fatalf("apply: %+v", rep)
		}
		rep := s.last
		launched = append(launched, rep.Launched...)
		// Launched actions leave the plan, as the observer records them.
		var rest []controller.Action
		done := map[string]bool{}
		for _, l := range rep.Launched {
			done[l.Item] = true
		}
		for _, a := range plan.Actions {
			if !done[a.Item()] {
				rest = append(rest, a)
			}
		}
		plan.Actions = rest
		time.Sleep(60 * time.Millisecond)
	}
	for _, l := range launched {
		s.waitFor("RUNNING of "+l.TaskID, func() bool {
			st, why := s.state(l.TaskID)
			if st != 0 && st != mesos.TASK_STARTING && st != mesos.TASK_STAGING && st != mesos.TASK_RUNNING {
				t.Fatalf("%s (%s on %s): %s %s", l.TaskID, l.Kind, l.Hostname, st, why)
			}
			return st == mesos.TASK_RUNNING
		})
	}

	// Converged: the next plans decline what is held and suppress, once
	// the prober's launch is a REVIVE interval (1 s) old: its report was
	// on its way until then.
	suppressed := false
	for deadline := time.Now().Add(3 * time.Second); !suppressed && time.Now().Before(deadline); {
		if rep := s.act.Apply(context.Background(), &controller.Result{Spec: c, SpecHash: c.Hash}); len(rep.Failed)+len(rep.Errors) > 0 {
			t.Fatalf("apply: %+v", rep)
		}
		suppressed = s.last.Suppressed
		time.Sleep(60 * time.Millisecond)
	}
	if !suppressed {
		t.Error("not suppressed when converged")
	}
	// The tasks on node1 used the resources reserved for our role first.
	var reserved float64
	s.mu.Lock()
	for _, ti := range s.tasks {
		for _, r := range ti.Resources {
			if r.Name == "cpus" && !r.IsUnreserved() && r.ReservationRole() == "quobyte" {
				reserved += r.Scalar.Value
			}
		}
	}
	s.mu.Unlock()
	if reserved != 1.5 {
		t.Errorf("reserved cpus used = %v, want all 1.5", reserved)
	}
}
