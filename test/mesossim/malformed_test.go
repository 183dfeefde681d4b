package mesossim

import (
	"net/http"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestMalformedCallsGetMesosAnswers sends every call type with its fields
// missing or half-filled: the master must answer 202 or a 4xx, never fail.
func TestMalformedCallsGetMesosAnswers(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("malformed"))
	o := f.offer()
	fwID := &mesos.FrameworkID{Value: f.id}
	scalar := mesos.SCALAR
	calls := []*scheduler.Call{
		{Type: scheduler.Call_ACCEPT},
		{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{}},
		{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: []mesos.OfferID{o.ID, o.ID}}},
		{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: []mesos.OfferID{o.ID}, Operations: []mesos.Offer_Operation{
			{Type: mesos.Offer_Operation_LAUNCH},
			{Type: mesos.Offer_Operation_LAUNCH_GROUP},
			{Type: mesos.Offer_Operation_RESERVE},
			{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: []mesos.TaskInfo{
				{},
				{TaskID: mesos.TaskID{Value: "no-resources"}, AgentID: o.AgentID, Command: &mesos.CommandInfo{}},
				{TaskID: mesos.TaskID{Value: "bad-scalar"}, AgentID: o.AgentID, Command: &mesos.CommandInfo{},
					Resources: []mesos.Resource{{Name: "cpus", Type: &scalar}}},
				{TaskID: mesos.TaskID{Value: "bad-ranges"}, AgentID: o.AgentID, Command: &mesos.CommandInfo{},
					Resources: []mesos.Resource{{Name: "ports", Type: func() *mesos.Value_Type { v := mesos.RANGES; return &v }(),
						Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: 9, End: 1}}}}}},
				{TaskID: mesos.TaskID{Value: "no-role"}, AgentID: o.AgentID, Command: &mesos.CommandInfo{},
					Resources: []mesos.Resource{{Name: "cpus", Type: &scalar, Scalar: &mesos.Value_Scalar{Value: 1},
						Reservations: []mesos.Resource_ReservationInfo{{}}}}},
			}}},
			{Type: mesos.Offer_Operation_LAUNCH_GROUP, LaunchGroup: &mesos.Offer_Operation_LaunchGroup{}},
		}}},
		{Type: scheduler.Call_DECLINE},
		{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: []mesos.OfferID{{Value: "x"}}}},
		{Type: scheduler.Call_KILL},
		{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{}},
		{Type: scheduler.Call_SHUTDOWN},
		{Type: scheduler.Call_SHUTDOWN, Shutdown: &scheduler.Call_Shutdown{}},
		{Type: scheduler.Call_ACKNOWLEDGE},
		{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{UUID: []byte("short")}},
		{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{UUID: make([]byte, 16)}},
		{Type: scheduler.Call_RECONCILE},
		{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{Tasks: []scheduler.Call_Reconcile_Task{{}}}},
		{Type: scheduler.Call_MESSAGE},
		{Type: scheduler.Call_MESSAGE, Message: &scheduler.Call_Message{Data: []byte{}}},
		{Type: scheduler.Call_REQUEST},
		{Type: scheduler.Call_SUPPRESS},
		{Type: scheduler.Call_REVIVE},
		{Type: scheduler.Call_UPDATE_FRAMEWORK},
		{Type: scheduler.Call_Type(999)},
	}
	for _, call := range calls {
		call.FrameworkID = fwID
		code, body := protoCall(t, c, f.streamID, call)
		if code != http.StatusAccepted && (code < 400 || code >= 500) && code != http.StatusNotImplemented {
			t.Errorf("%s: %d %s", call.Type, code, body)
		}
	}
	for _, body := range []string{"", "garbage", "\xff\xff\xff"} {
		resp := rawPost(t, c.URL()+schedulerPath, mediaProtobuf, []byte(body), map[string]string{headerStreamID: f.streamID})
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: %d, want 400", body, resp.StatusCode)
		}
	}
	// The master still works.
	mustCall(t, c, f.streamID, &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: fwID})
	f.offer()
}

// TestDuplicateOfferIDsDoNotCorruptAccounting accepts one offer listed twice:
// the tasks are dropped and the offer's resources come back exactly once.
func TestDuplicateOfferIDsDoNotCorruptAccounting(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("dup-offers"))
	o := f.offer()
	refuse := 0.0
	f.call(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{
		OfferIDs: []mesos.OfferID{o.ID, o.ID},
		Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH,
			Launch: &mesos.Offer_Operation_Launch{TaskInfos: []mesos.TaskInfo{commandTask("t", o, 1, 64)}}}},
		Filters: &mesos.Filters{RefuseSeconds: &refuse},
	}})
	f.wait(updateFor("t", mesos.TASK_DROPPED))
	next := f.offer()
	if got := scalarOf(next, "cpus"); got != 8 {
		t.Fatalf("next offer has %v cpus, want 8", got)
	}
	waitUntil(t, "accounting to settle", func() bool {
		a := c.State().Agents[0]
		return a.OfferedRes["cpus"] == 8 && a.UsedRes["cpus"] == 0
	})
}
