package mesossim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// The master counts what it refuses: calls a master refuses whenever they
// come (invalid) apart from calls refused for their timing (stale).
func TestRejections_InvalidApartFromStale(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("rejections"))
	o := f.offer()

	// Invalid: a KILL without its kill field fails validation.
	if code, _ := protoCall(t, c, f.streamID, &scheduler.Call{Type: scheduler.Call_KILL, FrameworkID: &mesos.FrameworkID{Value: f.id}}); code != http.StatusBadRequest {
		t.Fatalf("KILL without kill: %d", code)
	}
	// Invalid: a task without command or executor (TASK_ERROR).
	bad := commandTask("t-bad", o, 1, 64)
	bad.Command = nil
	f.launch(o, 0, bad)
	f.wait(updateFor("t-bad", mesos.TASK_ERROR))
	// Invalid: the offer used again.
	f.launch(o, 0, commandTask("t-again", o, 1, 64))
	f.wait(updateFor("t-again", mesos.TASK_DROPPED))
	// Stale: an offer that was never used but is gone (rescinded).
	f.launch(mesos.Offer{ID: mesos.OfferID{Value: "no-such-offer"}, AgentID: o.AgentID}, 0, commandTask("t-gone", o, 1, 64))
	f.wait(updateFor("t-gone", mesos.TASK_DROPPED))
	// Stale: a call on a stream that is no longer the framework's.
	old := f.streamID
	info := partitionAwareInfo("rejections")
	info.ID = &mesos.FrameworkID{Value: f.id}
	subscribeRaw(t, c, info)
	if code, _ := protoCall(t, c, old, &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: &mesos.FrameworkID{Value: f.id}}); code != http.StatusBadRequest {
		t.Fatalf("REVIVE on the old stream: %d", code)
	}

	r := c.Rejections()
	if r.Invalid != 3 || r.Stale != 2 {
		t.Fatalf("invalid %d, stale %d, want 3 and 2: %+v", r.Invalid, r.Stale, r.Recent)
	}
	want := []struct {
		invalid bool
		msg     string
	}{
		{true, "Expecting 'kill' to be present"},
		{true, "TASK_ERROR: Task should have at least one"},
		{true, "(it was used before)"},
		{false, "Offer no-such-offer is no longer valid"},
		{false, "didn't match the stream ID"},
	}
	for i, w := range want {
		if got := r.Recent[i]; got.Invalid != w.invalid || !strings.Contains(got.Message, w.msg) {
			t.Errorf("refusal %d = %+v, want invalid=%v and %q", i, got, w.invalid, w.msg)
		}
	}
}

// A dropped event stream: the master disconnects the framework as when
// its connection breaks (offers rescinded, tasks kept); it subscribes
// again with its ID and finds its tasks.
func TestDropStreams(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := withFailoverTimeout(partitionAwareInfo("drop"), time.Minute)
	f := subscribeRaw(t, c, info)
	f.runTask(f.offer(), "t1")
	if n := c.DropStreams(); n != 1 {
		t.Fatalf("DropStreams = %d, want 1", n)
	}
	waitUntil(t, "the stream to end", func() bool {
		select {
		case _, ok := <-f.s.frames:
			return !ok
		default:
			return false
		}
	})
	if fw := c.State().Frameworks[0]; fw.Connected || len(fw.Tasks) != 1 {
		t.Fatalf("after the drop: connected %v, %d tasks", fw.Connected, len(fw.Tasks))
	}
	info.ID = &mesos.FrameworkID{Value: f.id}
	g := subscribeRaw(t, c, info)
	g.reconcile()
	g.wait(updateFor("t1", mesos.TASK_RUNNING))
	if n := c.DropStreams(); n != 1 {
		t.Fatalf("DropStreams after the resubscription = %d", n)
	}
}
