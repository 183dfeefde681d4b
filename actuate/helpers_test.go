package actuate

import (
	"context"
	"sync"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Builders of offers and resources as the master sends them.

func scalar(name string, v float64) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
}

func ports(rs ...[2]uint64) mesos.Resource {
	r := mesos.Resource{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{}}
	for _, x := range rs {
		r.Ranges.Range = append(r.Ranges.Range, mesos.Value_Range{Begin: x[0], End: x[1]})
	}
	return r
}

// reserved marks r as dynamically reserved for role (reservation
// refinement format, as a MULTI_ROLE framework sees it), allocated to role.
func reserved(r mesos.Resource, role string) mesos.Resource {
	r.Reservations = []mesos.Resource_ReservationInfo{{
		Type: mesos.Resource_ReservationInfo_DYNAMIC.Enum(), Role: strPtr(role), Principal: strPtr("ops"),
	}}
	return allocated(r, role)
}

func allocated(r mesos.Resource, role string) mesos.Resource {
	r.AllocationInfo = &mesos.Resource_AllocationInfo{Role: strPtr(role)}
	return r
}

func offer(id, agent, host string, rs ...mesos.Resource) mesos.Offer {
	return mesos.Offer{
		ID: mesos.OfferID{Value: id}, AgentID: mesos.AgentID{Value: agent}, Hostname: host,
		FrameworkID: mesos.FrameworkID{Value: "fw"}, Resources: rs,
	}
}

// bigOffer has room for anything the tests launch.
func bigOffer(id, agent, host string) mesos.Offer {
	return offer(id, agent, host, scalar("cpus", 16), scalar("mem", 65536), scalar("disk", 100000), ports([2]uint64{7000, 9000}, [2]uint64{31000, 32000}, [2]uint64{55000, 55000}))
}

func launch(agent, host string, kind spec.Kind, res spec.Resources, ps ...int) controller.Action {
	return controller.Action{
		Type: controller.Launch, AgentID: agent, Hostname: host, Kind: string(kind), ConfigHash: "h" + string(kind),
		Resources: res, Ports: ps,
	}.WithReason("test wants " + string(kind))
}

func launchProber(agent, host string, c *spec.Cluster) controller.Action {
	return controller.Action{
		Type: controller.LaunchProber, AgentID: agent, Hostname: host, Kind: "prober", ConfigHash: c.Prober.ConfigHash,
		Resources: c.Prober.Resources,
	}.WithReason("no prober on " + host)
}

// testCluster loads a spec with the given quobyte block body (runtime and
// friends) and extra blocks.
func testCluster(t testing.TB, quobyte, extra string) *spec.Cluster {
	t.Helper()
	src := "mesos {\n  master = \"http://m1:5050\"\n}\nquobyte {\n" + quobyte + "\n}\n" + extra
	c, diags := spec.LoadBytes([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatalf("spec: %s", diags.Error())
	}
	return c
}

func dockerCluster(t testing.TB) *spec.Cluster {
	return testCluster(t, `image = "quobyte/server"
version = "3.14"
device_root = "/mnt/quobyte"
env = { LOG_LEVEL = "info", SHARED = "quobyte" }`, `service "data" {
  env = { SHARED = "data", EXTRA = "x y" }
  args = ["--debug"]
}`)
}

// sum adds up the named scalar in rs.
func sum(rs []mesos.Resource, name string) float64 {
	var v int64
	for _, r := range rs {
		if r.Name == name && r.Scalar != nil {
			v += toMilli(r.Scalar.Value)
		}
	}
	return fromMilli(v)
}

// portsOf lists every port in rs.
func portsOf(rs []mesos.Resource) []uint64 {
	var out []uint64
	for _, r := range rs {
		if r.Name != "ports" || r.Ranges == nil {
			continue
		}
		for _, x := range r.Ranges.Range {
			for p := x.Begin; p <= x.End; p++ {
				out = append(out, p)
			}
		}
	}
	return out
}

// CallRecorder is a calls.Caller that records calls instead of sending
// them. Fail, if set, decides the error of each call (nil: success).
// (Exported for the examples, which are in package actuate_test.)
type CallRecorder struct {
	mu    sync.Mutex
	calls []*scheduler.Call
	Fail  func(*scheduler.Call) error
}

// Call records c and answers as Fail says.
func (r *CallRecorder) Call(ctx context.Context, c *scheduler.Call) (mesos.Response, error) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	fail := r.Fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(c); err != nil {
			return nil, err
		}
	}
	return nil, ctx.Err()
}

// Calls returns the recorded calls, oldest first.
func (r *CallRecorder) Calls() []*scheduler.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*scheduler.Call(nil), r.calls...)
}

// OfType returns the recorded calls of type t.
func (r *CallRecorder) OfType(t scheduler.Call_Type) []*scheduler.Call {
	var out []*scheduler.Call
	for _, c := range r.Calls() {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (r *CallRecorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// heldOffers is the number of offers held.
func (a *Actuator) heldOffers() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.offers)
}

// suppressedNow reports whether offers are suppressed on this subscription.
func (a *Actuator) suppressedNow() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.suppressed
}
