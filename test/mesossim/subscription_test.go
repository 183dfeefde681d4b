package mesossim

import (
	"net/http"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func TestSecondSubscriptionFailsOverTheFirstAndKeepsTasks(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := withFailoverTimeout(partitionAwareInfo("failover"), time.Minute)
	first := subscribeRaw(t, c, info)
	first.runTask(first.offer(), "t1")

	info.ID = &mesos.FrameworkID{Value: first.id}
	second := subscribeRaw(t, c, info)
	if second.id != first.id || second.streamID == first.streamID {
		t.Fatalf("resubscription: framework %s stream %s, first %s %s", second.id, second.streamID, first.id, first.streamID)
	}
	ev := first.wait(isType(scheduler.Event_ERROR))
	if ev.Error.Message != "Framework failed over" {
		t.Errorf("ERROR %q, want \"Framework failed over\"", ev.Error.Message)
	}
	select {
	case _, open := <-first.s.frames:
		if open {
			t.Fatal("first stream still delivers events after the ERROR")
		}
	case <-time.After(waitLimit):
		t.Fatal("first stream not closed after the ERROR")
	}
	// The old stream ID no longer works; the task survived.
	call := &scheduler.Call{Type: scheduler.Call_RECONCILE, FrameworkID: &mesos.FrameworkID{Value: first.id}, Reconcile: &scheduler.Call_Reconcile{}}
	if code, _ := protoCall(t, c, first.streamID, call); code != http.StatusBadRequest {
		t.Fatalf("call with the old stream ID: %d, want 400", code)
	}
	second.reconcile()
	second.wait(updateFor("t1", mesos.TASK_RUNNING))
}

func TestFailoverTimeoutRemovesFrameworkAndKillsTasks(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := withFailoverTimeout(partitionAwareInfo("short-lived"), 100*time.Millisecond)
	f := subscribeRaw(t, c, info)
	f.runTask(f.offer(), "t1")
	f.s.resp.Body.Close() // the scheduler goes away
	waitUntil(t, "the framework to be removed", func() bool {
		st := c.State()
		return len(st.Frameworks) == 0 && len(st.CompletedFrameworks) == 1 && st.Agents[0].UsedRes["cpus"] == 0
	})
	info.ID = &mesos.FrameworkID{Value: f.id}
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, FrameworkID: info.ID, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: &info}}
	body, _ := call.Marshal()
	resp := rawPost(t, c.URL()+schedulerPath, mediaProtobuf, body, map[string]string{"Accept": mediaProtobuf})
	ev := openRawStream(t, resp).nextProto(t)
	if ev.Type != scheduler.Event_ERROR || ev.Error.Message != "Framework has been removed" {
		t.Fatalf("resubscribing a removed framework: %s %v", ev.Type, ev.Error)
	}
}

func TestUnacknowledgedUpdatesAreResentAfterResubscribe(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := withFailoverTimeout(partitionAwareInfo("resend"), time.Minute)
	f := subscribeRaw(t, c, info)
	o := f.offer()
	f.launch(o, 0, commandTask("t1", o, 1, 64))
	starting := f.wait(updateFor("t1", mesos.TASK_STARTING)).Update.Status
	f.s.resp.Body.Close()
	waitUntil(t, "the disconnection", func() bool { return !c.State().Frameworks[0].Connected })

	info.ID = &mesos.FrameworkID{Value: f.id}
	g := subscribeRaw(t, c, info)
	again := g.wait(updateFor("t1", mesos.TASK_STARTING)).Update.Status
	if string(again.UUID) != string(starting.UUID) {
		t.Fatal("a different update was resent")
	}
	g.ack(again)
	g.wait(updateFor("t1", mesos.TASK_RUNNING))
}

func TestOffersAreRescindedWhenTheAgentGoes(t *testing.T) {
	c := startCluster(t, fastConfig(2))
	f := subscribeRaw(t, c, partitionAwareInfo("rescind"))
	o := f.offer()
	if err := c.RemoveAgent(o.Hostname); err != nil {
		t.Fatal(err)
	}
	ev := f.wait(isType(scheduler.Event_RESCIND))
	if ev.Rescind.OfferID != o.ID {
		t.Fatalf("rescinded %s, want %s", ev.Rescind.OfferID.Value, o.ID.Value)
	}
	ev = f.wait(isType(scheduler.Event_FAILURE))
	if ev.Failure.GetAgentID().GetValue() != o.AgentID.Value {
		t.Fatalf("FAILURE for %v, want %s", ev.Failure.AgentID, o.AgentID.Value)
	}
	f.quiet(200*time.Millisecond, offersFrom(o.AgentID.Value), "offer from a removed agent")
}

func TestUnacknowledgedUpdatesBackOff(t *testing.T) {
	cfg := fastConfig(1)
	cfg.StatusUpdateRetryInterval = 100 * time.Millisecond
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("backoff"))
	o := f.offer()
	f.launch(o, 0, commandTask("t1", o, 1, 64))
	f.wait(updateFor("t1", mesos.TASK_STARTING))
	// Resends come after 0.1, 0.3, 0.7, 1.5 s: three within 1.2 s, where a
	// fixed interval would make eleven.
	resends := 0
	deadline := time.After(1200 * time.Millisecond)
	for done := false; !done; {
		select {
		case b := <-f.s.frames:
			var ev scheduler.Event
			if err := ev.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			if updateFor("t1", mesos.TASK_STARTING)(&ev) {
				resends++
			}
		case <-deadline:
			done = true
		}
	}
	if resends < 2 || resends > 5 {
		t.Fatalf("%d resends in 1.2 s, want about 3 (doubling from 0.1 s)", resends)
	}
}
