package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// testClock is a clock tests move by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// dataNode is a world with one agent carrying a DATA_DEVICE and its prober.
func dataNode(c *spec.Cluster) (*world, *snapshot.Agent) {
	w := newWorld()
	a := w.agent("node1", spec.DataDevice)
	w.prober(c, a)
	return w, a
}

func dataLines(r *Result) []string { return only(render(r), "launch data", "blocked data") }

func TestStep_TaskFailure_BacksOffThenRetries(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Clock: clock})

	failed := w.task("data", "data1", a, snapshot.Failed)
	failed.Reason, failed.Message = "REASON_COMMAND_EXECUTOR_FAILED", "exit 1"
	got := dataLines(st.Next(c, w.snap(), nil))
	want := []string{"blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0002 FAILED (REASON_COMMAND_EXECUTOR_FAILED): exit 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the failure (-want +got):\n%s", diff)
	}

	// The same terminal task in later snapshots is not a new failure.
	clock.now = clock.now.Add(2 * time.Second)
	w.now = clock.now
	got = dataLines(st.Next(c, w.snap(), nil))
	want = []string{"blocked data node1: backing off 3s after 1 failure: task quobyte.data.data1.s0002 FAILED (REASON_COMMAND_EXECUTOR_FAILED): exit 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("same failure seen again (-want +got):\n%s", diff)
	}

	// The hold expires on the clock, even with an old snapshot (a tick).
	clock.now = clock.now.Add(3 * time.Second)
	got = dataLines(st.Next(c, w.snap(), nil))
	want = []string{"launch data on node1 config data1: DATA_DEVICE on node1 has no data service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the hold (-want +got):\n%s", diff)
	}

	// A second failure doubles the delay.
	w.task("data", "data1", a, snapshot.Lost)
	got = dataLines(st.Next(c, w.snap(), nil))
	want = []string{"blocked data node1: backing off 10s after 2 failures: task quobyte.data.data1.s0003 LOST"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("second failure (-want +got):\n%s", diff)
	}
	// The status API shows the holds through the snapshot planned from.
	if b := st.Planned().Backoffs[snapshot.ItemKey("data", a.ID)]; b.Failures != 2 || !b.Until.Equal(clock.now.Add(10*time.Second)) {
		t.Errorf("Planned().Backoffs = %+v", st.Planned().Backoffs)
	}
}

func TestStep_KilledByUs_IsNoFailure(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	st := NewStep(StepConfig{Clock: &testClock{now: w.now}})
	tk := w.task("data", "data1", a, snapshot.Failed) // a kill can end FAILED
	tk.KillSent = w.now.Add(-time.Second)
	killed := w.task("data", "data1", a, snapshot.Killed)
	killed.KillSent = w.now.Add(-time.Second)
	got := dataLines(st.Next(c, w.snap(), nil))
	want := []string{"launch data on node1 config data1: DATA_DEVICE on node1 has no data service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestStep_KilledByMesos_IsAFailure(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	st := NewStep(StepConfig{Clock: &testClock{now: w.now}})
	tk := w.task("data", "data1", a, snapshot.Killed)
	tk.Reason = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
	got := dataLines(st.Next(c, w.snap(), nil))
	want := []string{"blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0002 KILLED (REASON_TASK_HEALTH_CHECK_STATUS_UPDATED)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestStep_ApplyFailure_BacksOffItsItem(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	st := NewStep(StepConfig{Clock: &testClock{now: w.now}})
	r := st.Next(c, w.snap(), nil)
	var launch Action
	for _, a := range r.Actions {
		if a.Type == Launch && a.Kind == "data" {
			launch = a
		}
	}
	fail := []ActionError{{Action: launch, Err: errors.New("offer rescinded")}}
	got := dataLines(st.Next(c, w.snap(), fail))
	want := []string{"blocked data node1: backing off 5s after 1 failure: launch data on node1: offer rescinded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestStep_Delays_DoubleToTheCapWithJitter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		random float64
		want   []time.Duration
	}{
		{"no jitter", 0.5, []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}},
		{"lowest jitter", 0, []time.Duration{4, 8, 16, 32, 64, 128, 240, 240}},
		{"highest jitter", 1, []time.Duration{6, 12, 24, 48, 96, 192, 360, 360}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCluster()
			clock := &testClock{now: t0}
			st := NewStep(StepConfig{Clock: clock, Random: func() float64 { return tc.random }})
			var got []time.Duration
			for range tc.want {
				st.fail(c, "data", "data@a1", clock.now, "boom")
				got = append(got, st.items["data@a1"].until.Sub(clock.now).Round(time.Second)/time.Second)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("delays in seconds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStep_Reset_AfterStableRunning(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Clock: clock})
	w.task("data", "data1", a, snapshot.Failed)
	st.Next(c, w.snap(), nil)
	if len(st.Holds()) != 1 {
		t.Fatalf("holds = %v, want one", st.Holds())
	}
	running := w.service(c, spec.Data, a)
	running.RunningSince = clock.now
	clock.now = clock.now.Add(9 * time.Minute)
	st.Next(c, w.snap(), nil)
	if len(st.Holds()) != 1 {
		t.Fatalf("after 9m running: holds = %v, want still one", st.Holds())
	}
	clock.now = clock.now.Add(time.Minute)
	st.Next(c, w.snap(), nil)
	if len(st.Holds()) != 0 {
		t.Fatalf("after 10m running (reset_after): holds = %v, want none", st.Holds())
	}
	// The next failure starts from the initial delay again.
	running.State = snapshot.Failed
	got := dataLines(st.Next(c, w.snap(), nil))
	if len(got) != 1 || got[0] != "blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0003 FAILED" {
		t.Fatalf("after reset: %v", got)
	}
}

func TestStep_Probe_AskedOncePerInterval(t *testing.T) {
	c := testCluster()
	w := newWorld()
	a := w.noReport("node1")
	pr := w.prober(c, a)
	pr.RunningSince, pr.UpdatedAt = time.Time{}, time.Time{} // known only from reconciliation
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Clock: clock})
	probes := func() []string { return only(render(st.Next(c, w.snap(), nil)), "probe") }
	want := []string{"probe " + pr.ID + ": no report from the prober on node1 (running since before we knew)"}
	if diff := cmp.Diff(want, probes()); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}
	clock.now = clock.now.Add(c.Prober.Interval - time.Second)
	if got := probes(); len(got) != 0 {
		t.Fatalf("asked again within the interval: %v", got)
	}
	clock.now = clock.now.Add(time.Second)
	if diff := cmp.Diff(want, probes()); diff != "" {
		t.Fatalf("after the interval (-want +got):\n%s", diff)
	}
}
