package actuate_test

import (
	"context"
	"fmt"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The framework wires an Actuator to the subscription's Caller and feeds
// it offers; the loop applies each plan. Here a CallRecorder stands in for
// the Mesos connection.
func ExampleActuator() {
	c, diags := spec.LoadBytes([]byte(`
mesos { master = "http://m1:5050" }
quobyte { image = "quobyte/server" }
`), "example.hcl")
	if diags.HasErrors() {
		panic(diags.Error())
	}
	calls := &actuate.CallRecorder{}
	act := actuate.New(actuate.Config{
		Caller:            calls,
		FrameworkHTTPBase: "http://framework:7888",
		OnLaunch: func(taskID, agentID, kind, hash string) {
			fmt.Println("launching", kind, "on", agentID)
		},
	})
	act.HandleOffers([]mesos.Offer{{
		ID: mesos.OfferID{Value: "o1"}, AgentID: mesos.AgentID{Value: "a1"}, Hostname: "node1",
		Resources: []mesos.Resource{
			{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 4}},
			{Name: "mem", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 8192}},
			{Name: "disk", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 1000}},
			{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: 7000, End: 8000}}}},
		},
	}})
	reg := c.Service(spec.Registry)
	plan := &controller.Result{Spec: c, SpecHash: c.Hash, Actions: []controller.Action{controller.Action{
		Type: controller.Launch, AgentID: "a1", Hostname: "node1", Kind: "registry",
		ConfigHash: reg.ConfigHash, Resources: reg.Resources, Ports: []int{reg.Ports["rpc"], reg.Ports["http"]},
	}.WithReason("DIR_DEVICE on node1 has no registry service")}}
	rep := act.Apply(context.Background(), plan)
	for _, f := range rep.Failed {
		fmt.Println("back off", f.Action.Item(), f.Error)
	}
	fmt.Println(len(rep.Failed), "failed,", len(calls.Calls()), "call")
	// Output:
	// launching registry on a1
	// 0 failed, 1 call
}
