package mesossim

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func scalarOf(o mesos.Offer, name string) float64 {
	var sum float64
	for _, r := range o.Resources {
		if r.Name == name && r.Scalar != nil {
			sum += r.Scalar.Value
		}
	}
	return sum
}

func TestAcceptValidatesTasksAndReturnsUnusedResources(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("accept"))
	o := f.offer()
	if got := scalarOf(o, "cpus"); got != 8 {
		t.Fatalf("offer has %v cpus, want 8", got)
	}
	f.launch(o, 0,
		commandTask("ok1", o, 1, 64),
		commandTask("ok1", o, 1, 64), // duplicate ID
		commandTask("huge", o, 100, 64),
		commandTask("ok2", o, 1, 64),
	)
	errs := map[string]int{}
	for started := 0; started < 2 || len(errs) < 2; {
		ev := f.wait(isType(scheduler.Event_UPDATE))
		st := ev.Update.Status
		switch st.GetState() {
		case mesos.TASK_STARTING:
			started++
			f.ack(st)
		case mesos.TASK_ERROR:
			if st.GetReason() != mesos.REASON_TASK_INVALID || st.GetSource() != mesos.SOURCE_MASTER || len(st.UUID) != 0 {
				t.Fatalf("TASK_ERROR for %s: reason %s source %s", st.TaskID.Value, st.GetReason(), st.GetSource())
			}
			errs[st.TaskID.Value]++
		}
	}
	if errs["ok1"] != 1 || errs["huge"] != 1 {
		t.Fatalf("TASK_ERRORs %v, want one for the duplicate ok1 and one for huge", errs)
	}
	// The two launched tasks use 2 cpus; the rest comes back in the next offer.
	if got := scalarOf(f.offer(), "cpus"); got != 6 {
		t.Fatalf("next offer has %v cpus, want 6", got)
	}
	// The used offer is invalid now: its tasks are dropped.
	f.launch(o, 0, commandTask("late", o, 1, 64))
	st := f.wait(updateFor("late", mesos.TASK_DROPPED)).Update.Status
	if st.GetReason() != mesos.REASON_INVALID_OFFERS {
		t.Fatalf("reason %s, want REASON_INVALID_OFFERS", st.GetReason())
	}
}

func TestInvalidOfferWithoutPartitionAwareIsLost(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, mesos.FrameworkInfo{User: "root", Name: "old-style"})
	o := f.offer()
	o.ID.Value = "no-such-offer"
	f.launch(o, 0, commandTask("t", o, 1, 64))
	f.wait(updateFor("t", mesos.TASK_LOST))
}

func TestLaunchGroupSharesOneExecutor(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("group"))
	o := f.offer()
	scalar := mesos.SCALAR
	exec := mesos.ExecutorInfo{
		Type: mesos.ExecutorInfo_DEFAULT, ExecutorID: mesos.ExecutorID{Value: "pod"},
		Resources: []mesos.Resource{{Name: "cpus", Type: &scalar, Scalar: &mesos.Value_Scalar{Value: 0.1}}, {Name: "mem", Type: &scalar, Scalar: &mesos.Value_Scalar{Value: 32}}},
	}
	a, b := commandTask("a", o, 1, 64), commandTask("b", o, 1, 64)
	f.call(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{
		OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH_GROUP, LaunchGroup: &mesos.Offer_Operation_LaunchGroup{
			Executor: exec, TaskGroup: mesos.TaskGroupInfo{Tasks: []mesos.TaskInfo{a, b}},
		}}},
	}})
	for _, id := range []string{"a", "b"} {
		st := f.wait(updateFor(id, mesos.TASK_STARTING)).Update.Status
		if st.GetExecutorID().GetValue() != "pod" {
			t.Fatalf("task %s reports executor %q, want pod", id, st.GetExecutorID().GetValue())
		}
	}
	waitUntil(t, "group resources to be accounted", func() bool {
		return c.State().Agents[0].UsedRes["cpus"] == 2.1
	})
}

func TestReservedResourcesGoOnlyToTheirRole(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Agents[0].Reservations = map[string]map[string]float64{"quobyte": {"cpus": 2, "mem": 1024}}
	c := startCluster(t, cfg)

	info := partitionAwareInfo("reserved")
	info.Role = strPtr("quobyte")
	f := subscribeRaw(t, c, info)
	o := f.offer()
	var reserved, unreserved float64
	for _, r := range o.Resources {
		if r.Name != "cpus" {
			continue
		}
		if r.GetRole() == "quobyte" {
			reserved += r.Scalar.Value
		} else {
			unreserved += r.Scalar.Value
		}
		if r.GetAllocationInfo().GetRole() != "quobyte" {
			t.Errorf("allocation role %q, want quobyte", r.GetAllocationInfo().GetRole())
		}
	}
	if reserved != 2 || unreserved != 6 {
		t.Fatalf("offer to role quobyte: %v reserved and %v unreserved cpus, want 2 and 6", reserved, unreserved)
	}
	// A task may use the reserved cpus as offered (role field set).
	task := commandTask("r", o, 1, 64)
	task.Resources[0].Role = strPtr("quobyte")
	f.launch(o, 0, task)
	f.wait(updateFor("r", mesos.TASK_STARTING))

	other := subscribeRaw(t, c, partitionAwareInfo("other"))
	if got := scalarOf(other.offer(), "cpus"); got > 6 {
		t.Fatalf("a framework of role * was offered %v cpus, more than the unreserved 6", got)
	}
}

// TestFilterHoldsBackOnlyWhatWasRefused: a long filter from an ACCEPT holds
// back the unused rest of the agent, but once a task ends and more is free,
// the agent is offered again, as Mesos' filters do.
func TestFilterHoldsBackOnlyWhatWasRefused(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("filters"))
	o := f.offer()
	f.launch(o, 3600, commandTask("t1", o, 1, 64))
	f.ack(f.wait(updateFor("t1", mesos.TASK_STARTING)).Update.Status)
	f.ack(f.wait(updateFor("t1", mesos.TASK_RUNNING)).Update.Status)
	f.quiet(200*time.Millisecond, isType(scheduler.Event_OFFERS), "offer of refused resources")
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	f.ack(f.wait(updateFor("t1", mesos.TASK_KILLED)).Update.Status)
	if got := scalarOf(f.offer(), "cpus"); got != 8 {
		t.Fatalf("offer after the task ended has %v cpus, want 8", got)
	}
}

func TestExecutorInfoMustMatchTheRunningExecutor(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("executors"))
	o := f.offer()
	withExecutor := func(id, command string, fwID string) mesos.TaskInfo {
		task := commandTask(id, o, 1, 64)
		task.Command = nil
		task.Executor = &mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "prober"}, Command: &mesos.CommandInfo{Value: strPtr(command)}}
		if fwID != "" {
			task.Executor.FrameworkID = &mesos.FrameworkID{Value: fwID}
		}
		return task
	}
	f.launch(o, 0, withExecutor("first", "prober --serve", ""), withExecutor("same", "prober --serve", f.id),
		withExecutor("changed", "prober --other", ""), withExecutor("foreign", "prober --serve", "someone-else"))
	want := map[string]mesos.TaskState{"first": mesos.TASK_STARTING, "same": mesos.TASK_STARTING, "changed": mesos.TASK_ERROR, "foreign": mesos.TASK_ERROR}
	for len(want) > 0 {
		st := f.wait(isType(scheduler.Event_UPDATE)).Update.Status
		w, ok := want[st.TaskID.Value]
		if !ok {
			continue
		}
		if st.GetState() != w || (w == mesos.TASK_ERROR && st.GetReason() != mesos.REASON_TASK_INVALID) {
			t.Fatalf("%s: %s %s %s, want %s", st.TaskID.Value, st.GetState(), st.GetReason(), st.GetMessage(), w)
		}
		delete(want, st.TaskID.Value)
	}
}

// TestFreedResourcesComeInAFurtherOffer: while a framework holds an offer for
// an agent, resources freed there are offered again in another offer, as
// Mesos' allocator does.
func TestFreedResourcesComeInAFurtherOffer(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	f := subscribeRaw(t, c, partitionAwareInfo("second-offer"))
	o := f.offer()
	f.runTask(o, "t1")
	held := f.offer() // the rest of the agent; kept, neither accepted nor declined
	if got := scalarOf(held, "cpus"); got != 7 {
		t.Fatalf("held offer has %v cpus, want 7", got)
	}
	f.call(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "t1"}}})
	f.ack(f.wait(updateFor("t1", mesos.TASK_KILLED)).Update.Status)
	more := f.wait(func(ev *scheduler.Event) bool {
		if ev.Type == scheduler.Event_RESCIND {
			t.Fatal("the held offer was rescinded")
		}
		return ev.Type == scheduler.Event_OFFERS
	}).Offers.Offers[0]
	if more.AgentID != held.AgentID || more.ID == held.ID || scalarOf(more, "cpus") != 1 {
		t.Fatalf("further offer %s on %s with %v cpus, want a new offer of the freed 1 cpu", more.ID.Value, more.AgentID.Value, scalarOf(more, "cpus"))
	}
}

// Found by the chaos runs: a framework that subscribes again is offered
// every agent afresh. Mesos' allocator drops a framework's offer filters
// when it deactivates it (a disconnect: HierarchicalAllocatorProcess::
// deactivateFramework); the simulation kept them, so an agent declined
// for an hour before a framework restart was never offered to the new
// instance, which never learned its hostname.
func TestFiltersDroppedWhenTheFrameworkDisconnects(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := withFailoverTimeout(partitionAwareInfo("refilter"), time.Minute)
	f := subscribeRaw(t, c, info)
	o := f.offer()
	f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
		OfferIDs: []mesos.OfferID{o.ID}, Filters: &mesos.Filters{RefuseSeconds: ptrTo(3600.0)},
	}})
	f.quiet(200*time.Millisecond, isType(scheduler.Event_OFFERS), "offer of a declined agent")
	c.DropStreams()
	info.ID = &mesos.FrameworkID{Value: f.id}
	g := subscribeRaw(t, c, info)
	if got := scalarOf(g.offer(), "cpus"); got != 8 {
		t.Fatalf("offer after resubscribing has %v cpus, want 8", got)
	}
}

// TestSubscribeAndReviveAllocateAtOnce: a SUBSCRIBE and a REVIVE each start
// an allocation cycle at once, as Mesos' allocator does (addFramework and
// reviveOffers call generateOffers); DECLINE does not. With an hour between
// periodic cycles, every offer here comes from one of them.
func TestSubscribeAndReviveAllocateAtOnce(t *testing.T) {
	cfg := fastConfig(1)
	cfg.AllocationInterval = time.Hour
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("at-once"))
	o := f.offer()
	f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
		OfferIDs: []mesos.OfferID{o.ID}, Filters: &mesos.Filters{RefuseSeconds: ptrTo(0.0)},
	}})
	f.quiet(200*time.Millisecond, isType(scheduler.Event_OFFERS), "offer after a DECLINE without a filter")
	f.call(&scheduler.Call{Type: scheduler.Call_REVIVE})
	if got := scalarOf(f.offer(), "cpus"); got != 8 {
		t.Fatalf("offer after REVIVE has %v cpus, want 8", got)
	}
}
