package mesossim

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// rawFw is a framework speaking protobuf over plain HTTP, for the tests of
// master semantics.
type rawFw struct {
	t        testing.TB
	c        *Cluster
	s        *rawStream
	streamID string
	id       string
}

func subscribeRaw(t testing.TB, c *Cluster, info mesos.FrameworkInfo) *rawFw {
	t.Helper()
	s, streamID, id := protoSubscribe(t, c, info)
	return &rawFw{t: t, c: c, s: s, streamID: streamID, id: id}
}

func (f *rawFw) call(call *scheduler.Call) {
	f.t.Helper()
	call.FrameworkID = &mesos.FrameworkID{Value: f.id}
	mustCall(f.t, f.c, f.streamID, call)
}

func (f *rawFw) wait(match func(*scheduler.Event) bool) *scheduler.Event {
	f.t.Helper()
	return f.s.waitProto(f.t, match)
}

// quiet fails if a matching event arrives within d.
func (f *rawFw) quiet(d time.Duration, match func(*scheduler.Event) bool, why string) {
	f.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case b, ok := <-f.s.frames:
			if !ok {
				return
			}
			var ev scheduler.Event
			if err := ev.Unmarshal(b); err != nil {
				f.t.Fatal(err)
			}
			if match(&ev) {
				f.t.Fatalf("%s: got %s %+v", why, ev.Type, ev.Update)
			}
		case <-deadline:
			return
		}
	}
}

func (f *rawFw) offer() mesos.Offer {
	f.t.Helper()
	return f.wait(isType(scheduler.Event_OFFERS)).Offers.Offers[0]
}

func (f *rawFw) launch(o mesos.Offer, refuse float64, tasks ...mesos.TaskInfo) {
	f.t.Helper()
	f.call(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{
		OfferIDs:   []mesos.OfferID{o.ID},
		Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: tasks}}},
		Filters:    &mesos.Filters{RefuseSeconds: &refuse},
	}})
}

func (f *rawFw) ack(st mesos.TaskStatus) {
	f.t.Helper()
	f.call(&scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
		AgentID: *st.AgentID, TaskID: st.TaskID, UUID: st.UUID,
	}})
}

// runTask launches a task and acknowledges it up to TASK_RUNNING.
func (f *rawFw) runTask(o mesos.Offer, id string) mesos.TaskStatus {
	f.t.Helper()
	f.launch(o, 0, commandTask(id, o, 1, 64))
	f.ack(f.wait(updateFor(id, mesos.TASK_STARTING)).Update.Status)
	running := f.wait(updateFor(id, mesos.TASK_RUNNING)).Update.Status
	f.ack(running)
	return running
}

func (f *rawFw) reconcile(tasks ...scheduler.Call_Reconcile_Task) {
	f.t.Helper()
	f.call(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{Tasks: tasks}})
}

func reconcileTask(taskID, agentID string) scheduler.Call_Reconcile_Task {
	rt := scheduler.Call_Reconcile_Task{TaskID: mesos.TaskID{Value: taskID}}
	if agentID != "" {
		rt.AgentID = &mesos.AgentID{Value: agentID}
	}
	return rt
}

func withFailoverTimeout(info mesos.FrameworkInfo, d time.Duration) mesos.FrameworkInfo {
	secs := d.Seconds()
	info.FailoverTimeout = &secs
	return info
}
