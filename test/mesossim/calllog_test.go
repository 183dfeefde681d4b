package mesossim

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// The call log names, for every call, the stream that sent it, and for
// every SUBSCRIBE the instance (webui_url) that opened the stream: after a
// failover a call on the old stream is logged (with its refusal) and traced
// to the old instance.
func TestCallLog_TracesCallsToTheirSubscription(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := partitionAwareInfo("fw")
	info.WebUiURL = ptrTo("http://instance-a")
	_, streamA, fwID := protoSubscribe(t, c, info)
	revive := &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: &mesos.FrameworkID{Value: fwID}}
	mustCall(t, c, streamA, revive)

	info.ID = &mesos.FrameworkID{Value: fwID}
	info.WebUiURL = ptrTo("http://instance-b")
	_, streamB, _ := protoSubscribe(t, c, info)
	if code, _ := protoCall(t, c, streamA, revive); code != http.StatusBadRequest {
		t.Fatalf("call on the failed-over stream: %d, want 400", code)
	}
	// A KILL names its task, an ACCEPT the tasks it launches.
	fid := &mesos.FrameworkID{Value: fwID}
	mustCall(t, c, streamB, &scheduler.Call{Type: scheduler.Call_KILL, FrameworkID: fid,
		Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	mustCall(t, c, streamB, &scheduler.Call{Type: scheduler.Call_ACCEPT, FrameworkID: fid,
		Accept: &scheduler.Call_Accept{OfferIDs: []mesos.OfferID{{Value: "no-such-offer"}}, Operations: []mesos.Offer_Operation{{
			Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: []mesos.TaskInfo{
				{Name: "a", TaskID: mesos.TaskID{Value: "t2"}, AgentID: mesos.AgentID{Value: "x"}},
				{Name: "b", TaskID: mesos.TaskID{Value: "t3"}, AgentID: mesos.AgentID{Value: "x"}},
			}},
		}}}})

	resp, err := http.Get(c.URL() + "/debug/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Calls []CallRecord }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []CallRecord{
		{Seq: 1, Type: "SUBSCRIBE", Stream: streamA, WebUIURL: "http://instance-a", Status: 200},
		{Seq: 2, Type: "REVIVE", FrameworkID: fwID, Stream: streamA, Status: 202},
		{Seq: 3, Type: "SUBSCRIBE", FrameworkID: fwID, Stream: streamB, WebUIURL: "http://instance-b", Status: 200},
		{Seq: 4, Type: "REVIVE", FrameworkID: fwID, Stream: streamA, Status: 400},
		{Seq: 5, Type: "KILL", FrameworkID: fwID, Stream: streamB, TaskIDs: []string{"t1"}, Status: 202},
		{Seq: 6, Type: "ACCEPT", FrameworkID: fwID, Stream: streamB, TaskIDs: []string{"t2", "t3"}, Status: 202},
	}
	if len(got.Calls) != len(want) {
		t.Fatalf("%d calls logged, want %d: %+v", len(got.Calls), len(want), got.Calls)
	}
	for i, w := range want {
		g := got.Calls[i]
		g.Time, g.Hostname = w.Time, w.Hostname
		if !reflect.DeepEqual(g, w) {
			t.Errorf("call %d = %+v, want %+v", i+1, g, w)
		}
	}
	if after := c.Calls(5); len(after) != 1 || after[0].Seq != 6 {
		t.Errorf("Calls(3) = %+v", after)
	}
}

func ptrTo[T any](v T) *T { return &v }
