package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// BenchmarkMemory_10kAgents_40kTasks measures what the framework's state
// takes at 10,000 agents and 40,000 tasks: the observer fed the events a
// converged cluster brings (an offer from every agent, held by the
// actuator; a prober report from every agent; a RUNNING, healthy update of
// every task: prober, metadata, data and client on every agent), its
// snapshot, and the controller's Step with its index and a plan (empty:
// the cluster is converged). It reports the live heap this adds (after a
// GC) and the process's resident set size then (the test binary's own
// included). The target is under 200 MiB.
func BenchmarkMemory_10kAgents_40kTasks(b *testing.B) {
	const agents = 10000
	c, diags := spec.LoadBytes([]byte(specText("http://127.0.0.1:5050", "/nonexistent/framework-id")+
		"service \"client\" {\n  enabled = true\n}\n"), "scale.hcl")
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		ctx := context.Background()
		nop := calls.CallerFunc(func(context.Context, *scheduler.Call) (mesos.Response, error) { return nil, nil })
		act := actuate.New(actuate.Config{Caller: nop})
		obs := observe.New(observe.Config{Caller: nop, OnOffers: func(_ context.Context, o []mesos.Offer) { act.HandleOffers(o) }})
		obs.HandleStatus(mesosconn.Status{State: snapshot.Subscribed, FrameworkID: "fw", Subscriptions: 1})
		for a := 0; a < agents; a += 100 {
			var offers []mesos.Offer
			for j := a; j < a+100; j++ {
				offers = append(offers, agentOffer(j))
			}
			obs.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: offers}})
		}
		for a := 0; a < agents; a++ {
			host, agentID := fmt.Sprintf("node%05d", a), fmt.Sprintf("agent-%05d", a)
			r := reportFor(host, []spec.DeviceType{spec.MetadataDevice, spec.DataDevice})
			r.ClientMountPoint = true
			data, err := json.Marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			obs.HandleEvent(ctx, runningUpdate(taskID(b, taskid.ProberKind, c.Prober.ConfigHash, a), agentID, data))
			for _, k := range []spec.Kind{spec.Metadata, spec.Data, spec.Client} {
				obs.HandleEvent(ctx, runningUpdate(taskID(b, string(k), c.Service(k).ConfigHash, a), agentID, nil))
			}
		}
		s := obs.Latest()
		// The reconciliation round Run would drive: taken as done.
		sub := s.Subscription
		sub.Reconciled = true
		s = s.Next(s.Generation+1, s.Time, sub, snapshot.Change{}, s.Items)
		step := controller.NewStep(controller.StepConfig{})
		_, plan := step.Next(c, s, nil)
		if len(s.Tasks) != 4*agents || len(plan.Actions) != 0 {
			b.Fatalf("%d tasks, %d actions (first: %+v)", len(s.Tasks), len(plan.Actions), plan.Actions)
		}

		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(rss(b))/(1<<20), "MiB-rss")
		runtime.KeepAlive(act)
		runtime.KeepAlive(obs)
		runtime.KeepAlive(step)
	}
}

// agentOffer is agent i's offer, as the simulated agents make it.
func agentOffer(i int) mesos.Offer {
	scalar := func(name string, v float64) mesos.Resource {
		return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
	}
	return mesos.Offer{
		ID: mesos.OfferID{Value: fmt.Sprintf("offer-%05d", i)}, AgentID: mesos.AgentID{Value: fmt.Sprintf("agent-%05d", i)},
		FrameworkID: mesos.FrameworkID{Value: "fw"}, Hostname: fmt.Sprintf("node%05d", i),
		Resources: []mesos.Resource{scalar("cpus", 16), scalar("mem", 65536), scalar("disk", 1<<20),
			{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: 7000, End: 9000}, {Begin: 31000, End: 32000}}}}},
	}
}

func taskID(b *testing.B, kind, hash string, agent int) string {
	id, err := taskid.New(kind, hash, fmt.Sprintf("s%05d", agent))
	if err != nil {
		b.Fatal(err)
	}
	return id.String()
}

// runningUpdate is an executor's TASK_RUNNING, healthy, with data.
func runningUpdate(taskID, agentID string, data []byte) *scheduler.Event {
	state, src, healthy, ts := mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR, true, 1.0
	return &scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: mesos.TaskStatus{
		TaskID: mesos.TaskID{Value: taskID}, AgentID: &mesos.AgentID{Value: agentID}, State: &state, Source: &src,
		Healthy: &healthy, Timestamp: &ts, UUID: []byte("u-" + taskID), Data: data,
	}}}
}

// rss is the process's resident set size in bytes (VmRSS).
func rss(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
