package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// testClock is a clock tests move by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// fixedNow is a clock that stands still; half a random source without
// jitter (tests pass theirs explicitly).
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func half() float64 { return 0.5 }

// next is Step.Next's plan alone.
func next(st *Step, c *spec.Cluster, s *snapshot.Snapshot, failed []FailedAction) *Result {
	_, r := st.Next(c, s, failed)
	return r
}

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
	st := NewStep(StepConfig{Now: clock.Now, Random: half})

	w.end(w.task("data", "data1", a, snapshot.Running), snapshot.Failed, "REASON_COMMAND_EXECUTOR_FAILED", "exit 1")
	got := dataLines(next(st, c, w.snap(), nil))
	want := []string{"blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0002 FAILED (REASON_COMMAND_EXECUTOR_FAILED): exit 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the failure (-want +got):\n%s", diff)
	}

	// The same terminal task in later snapshots is not a new failure.
	clock.now = clock.now.Add(2 * time.Second)
	w.now = clock.now
	got = dataLines(next(st, c, w.snap(), nil))
	want = []string{"blocked data node1: backing off 3s after 1 failure: task quobyte.data.data1.s0002 FAILED (REASON_COMMAND_EXECUTOR_FAILED): exit 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("same failure seen again (-want +got):\n%s", diff)
	}

	// The hold expires on the clock, even with an old snapshot (a tick).
	clock.now = clock.now.Add(3 * time.Second)
	got = dataLines(next(st, c, w.snap(), nil))
	want = []string{"launch data on node1 config data1: DATA_DEVICE on node1 has no data service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the hold (-want +got):\n%s", diff)
	}

	// A second failure doubles the delay.
	w.now = clock.now
	w.end(w.task("data", "data1", a, snapshot.Running), snapshot.Lost, "", "")
	snap := w.snap()
	clock.now = clock.now.Add(time.Second) // planned a second after the snapshot was taken
	in, r := st.Next(c, snap, nil)
	got = dataLines(r)
	want = []string{"blocked data node1: backing off 10s after 2 failures: task quobyte.data.data1.s0003 LOST"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("second failure (-want +got):\n%s", diff)
	}
	// The status API shows the holds through the Input planned from; the
	// snapshot stays what was observed.
	if b := in.Holds[snapshot.ItemKey("data", a.ID)]; b.Failures != 2 || !b.Until.Equal(clock.now.Add(10*time.Second)) || b.Config != "data1" {
		t.Errorf("Input.Holds = %+v", in.Holds)
	}
	if !in.Now.Equal(clock.now) || in.Snapshot.Time.Equal(in.Now) {
		t.Errorf("Input.Now %s, snapshot time %s: the snapshot's time must stay when it was taken", in.Now, in.Snapshot.Time)
	}
}

func TestStep_KilledByUs_IsNoFailure(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	st := NewStep(StepConfig{Now: fixedNow(w.now), Random: half})
	tk := w.task("data", "data1", a, snapshot.Running) // a kill can end FAILED
	tk.KillSent = w.now.Add(-time.Second)
	w.end(tk, snapshot.Failed, "", "")
	killed := w.task("data", "data1", a, snapshot.Running)
	killed.KillSent = w.now.Add(-time.Second)
	w.end(killed, snapshot.Killed, "", "")
	got := dataLines(next(st, c, w.snap(), nil))
	want := []string{"launch data on node1 config data1: DATA_DEVICE on node1 has no data service"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestStep_KilledByMesos_IsAFailure(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	st := NewStep(StepConfig{Now: fixedNow(w.now), Random: half})
	tk := w.task("data", "data1", a, snapshot.Running)
	tk.HealthKilled, tk.HealthFailures = true, 3
	w.end(tk, snapshot.Killed, "", "Command exited with status 0")
	got := dataLines(next(st, c, w.snap(), nil))
	want := []string{"blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0002 killed by Mesos after 3 failed health checks: Command exited with status 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestStep_ApplyFailure_BacksOffItsItem(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	st := NewStep(StepConfig{Now: fixedNow(w.now), Random: half})
	r := next(st, c, w.snap(), nil)
	var launch Action
	for _, a := range r.Actions {
		if a.Type == Launch && a.Kind == "data" {
			launch = a
		}
	}
	fail := []FailedAction{{Action: launch, Error: "offer rescinded"}}
	got := dataLines(next(st, c, w.snap(), fail))
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
			st := NewStep(StepConfig{Now: clock.Now, Random: func() float64 { return tc.random }})
			var got []time.Duration
			for range tc.want {
				st.fail(c, "data", "data@a1", "data1", clock.now, "boom")
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
	st := NewStep(StepConfig{Now: clock.Now, Random: half})
	w.end(w.task("data", "data1", a, snapshot.Running), snapshot.Failed, "", "")
	st.Next(c, w.snap(), nil)
	if len(st.items) != 1 {
		t.Fatalf("items = %v, want one", st.items)
	}
	running := w.service(c, spec.Data, a)
	running.RunningSince = clock.now
	clock.now = clock.now.Add(9 * time.Minute)
	st.Next(c, w.snap(), nil)
	if len(st.items) != 1 {
		t.Fatalf("after 9m running: items = %v, want still one", st.items)
	}
	clock.now = clock.now.Add(time.Minute)
	st.Next(c, w.snap(), nil)
	if len(st.items) != 0 {
		t.Fatalf("after 10m running (reset_after): items = %v, want none", st.items)
	}
	// The next failure starts from the initial delay again.
	w.now = clock.now
	w.end(running, snapshot.Failed, "", "")
	got := dataLines(next(st, c, w.snap(), nil))
	if len(got) != 1 || got[0] != "blocked data node1: backing off 5s after 2 failures: task quobyte.data.data1.s0003 FAILED" &&
		got[0] != "blocked data node1: backing off 5s after 1 failure: task quobyte.data.data1.s0003 FAILED" {
		t.Fatalf("after reset: %v", got)
	}
}

// Issue 10, bug 6: a spec change clears the backoff of the items whose
// configuration it changes (putting a version back after a bad one waited
// out the bad one's backoff).
func TestStep_SpecChange_ClearsTheBackoffOfChangedItems(t *testing.T) {
	c := testCluster()
	w, a := dataNode(c)
	reg := w.agent("node2", spec.DirDevice)
	w.prober(c, reg)
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Now: clock.Now, Random: half})
	for i := 0; i < 4; i++ { // backoff grows to 40s
		w.end(w.task("data", "data1", a, snapshot.Running), snapshot.Failed, "", "bad")
		w.end(w.task("registry", "registry1", reg, snapshot.Running), snapshot.Failed, "", "bad")
		st.Next(c, w.snap(), nil)
	}
	next2 := withNewConfig(c, "2", spec.Data)
	in, r := st.Next(next2, w.snap(), nil)
	if _, held := in.Holds[snapshot.ItemKey("data", a.ID)]; held {
		t.Errorf("data still held after its config changed: %+v", in.Holds)
	}
	if h := in.Holds[snapshot.ItemKey("registry", reg.ID)]; h.Failures != 4 {
		t.Errorf("registry hold %+v: its config did not change, it must stay", h)
	}
	if got := dataLines(r); len(got) != 1 || got[0] != "launch data on node1 config data2: DATA_DEVICE on node1 has no data service" {
		t.Errorf("data after the spec change: %v", got)
	}
}

// Issue 11: a kind that runs anywhere backs off as a whole when its
// instances fail, so a crashing API does not move from agent to agent at a
// rate that grows with the number of agents.
func TestStep_AnywhereKind_CrashLoopBoundedAcrossAgents(t *testing.T) {
	c := testCluster()
	c.Services[spec.Webconsole].Enabled = false
	w := newWorld()
	w.service(c, spec.Registry, w.agent("reg", spec.DirDevice))
	for i := 0; i < 20; i++ {
		w.agent(fmt.Sprintf("node%02d", i))
	}
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Now: clock.Now, Random: half})
	f := &fakeCluster{w: w}
	launches := 0
	for i := 0; i < 120; i++ { // two minutes, a plan a second
		r := next(st, c, w.snap(), nil)
		for _, a := range r.Actions {
			if a.Type == Launch && a.Kind == "api" {
				launches++
			}
		}
		f.apply(r)
		for _, tk := range w.tasks {
			if tk.Kind == "api" && !tk.State.Terminal() {
				w.end(tk, snapshot.Failed, "", "crash") // every api dies at once
			}
		}
		w.now = w.now.Add(time.Second)
		clock.now = w.now
	}
	// Kind-wide holds of 5s, 10s, 20s, 40s (then 80s) allow about five
	// launches in two minutes; per agent alone it would be one a second.
	if launches > 6 {
		t.Fatalf("%d api launches in two minutes across 20 agents, want at most 6", launches)
	}
}

func TestStep_Probe_AskedOncePerInterval(t *testing.T) {
	c := testCluster()
	w := newWorld()
	a := w.noReport("node1")
	pr := w.prober(c, a)
	pr.RunningSince, pr.UpdatedAt = time.Time{}, time.Time{} // known only from reconciliation
	clock := &testClock{now: w.now}
	st := NewStep(StepConfig{Now: clock.Now, Random: half})
	probes := func() []string { return only(render(next(st, c, w.snap(), nil)), "probe") }
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
