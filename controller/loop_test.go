package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// chanSource is a Source fed by the test.
type chanSource struct {
	mu      sync.Mutex
	latest  *snapshot.Snapshot
	changed chan struct{}
}

func newChanSource() *chanSource { return &chanSource{changed: make(chan struct{}, 1)} }

func (s *chanSource) Latest() *snapshot.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

func (s *chanSource) Changed() <-chan struct{} { return s.changed }

func (s *chanSource) publish(snap *snapshot.Snapshot) {
	s.mu.Lock()
	s.latest = snap
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// recorder is an Applier that records plans and reports failures (or
// panics) on demand.
type recorder struct {
	mu      sync.Mutex
	plans   []*Result
	applied chan *Result
	report  func(*Result) ApplyReport // nil: all done
}

func newRecorder() *recorder { return &recorder{applied: make(chan *Result, 100)} }

func (r *recorder) Apply(ctx context.Context, res *Result) ApplyReport {
	r.mu.Lock()
	r.plans = append(r.plans, res)
	report := r.report
	r.mu.Unlock()
	r.applied <- res
	if report != nil {
		return report(res)
	}
	return ApplyReport{}
}

func (r *recorder) next(t *testing.T) *Result {
	t.Helper()
	select {
	case res := <-r.applied:
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("no plan applied within 5s")
		return nil
	}
}

func startLoop(t *testing.T, cfg LoopConfig) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := NewLoop(cfg)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
}

func TestLoop_NewSnapshot_PlansAndApplies(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	src := newChanSource()
	rec := newRecorder()
	onPlan := make(chan *Result, 10)
	stop := startLoop(t, LoopConfig{
		Spec: func() *spec.Cluster { return c }, Source: src, Applier: rec, Tick: time.Hour,
		Step:   NewStep(StepConfig{Now: fixedNow(w.now)}),
		OnPlan: func(_ Input, r *Result, _ ApplyReport) { onPlan <- r },
	})
	src.publish(w.snap())
	res := rec.next(t)
	if got := only(render(res), "launch data"); len(got) != 1 {
		t.Fatalf("plan %v: want one data launch", render(res))
	}
	seen := <-onPlan
	if seen != res {
		t.Fatalf("OnPlan saw another plan than the one applied")
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

func TestLoop_ApplyFailure_HoldShowsInTheNextPlan(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	src := newChanSource()
	rec := newRecorder()
	rec.report = func(r *Result) ApplyReport {
		var rep ApplyReport
		for _, a := range r.Actions {
			if a.Type == Launch {
				rep.Failed = append(rep.Failed, FailedAction{Action: a, Error: "no such image"})
			}
		}
		return rep
	}
	stop := startLoop(t, LoopConfig{
		Spec: func() *spec.Cluster { return c }, Source: src, Applier: rec, Tick: time.Hour,
		Step: NewStep(StepConfig{Now: fixedNow(w.now), Random: half}),
	})
	defer stop()
	src.publish(w.snap())
	rec.next(t)
	second := rec.next(t) // planned again at once, without a new snapshot
	got := only(render(second), "launch data", "blocked data")
	want := "blocked data node1: backing off 5s after 1 failure: launch data on node1: no such image"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("second plan %v, want %q", got, want)
	}
}

func TestLoop_Panic_IsRecoveredAndTheLoopGoesOn(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	src := newChanSource()
	rec := newRecorder()
	calls := 0
	rec.report = func(*Result) ApplyReport {
		calls++
		if calls == 1 {
			panic("actuator bug")
		}
		return ApplyReport{}
	}
	stop := startLoop(t, LoopConfig{
		Spec: func() *spec.Cluster { return c }, Source: src, Applier: rec, Tick: 10 * time.Millisecond,
	})
	defer stop()
	src.publish(w.snap())
	rec.next(t) // panicked
	rec.next(t) // the tick plans again
}

func TestLoop_Kick_PlansWithTheNewSpec(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	src := newChanSource()
	rec := newRecorder()
	var mu sync.Mutex
	current := c
	l := NewLoop(LoopConfig{
		Spec:    func() *spec.Cluster { mu.Lock(); defer mu.Unlock(); return current },
		Source:  src,
		Applier: rec,
		Tick:    time.Hour,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src.publish(w.snap())
	go l.Run(ctx)
	rec.next(t)

	stopped := testCluster()
	stopped.Quobyte.State = spec.Stopped
	stopped.Hash = "spec2"
	mu.Lock()
	current = stopped
	mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); lastPlan(l) == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // stored right after Apply returns
			t.Fatalf("no last plan after a plan was applied")
		}
	}
	l.Kick()
	// A plan for the first spec may still be queued (the snapshot's change
	// notice); the new spec must come right after.
	for i := 0; ; i++ {
		res := rec.next(t)
		if res.SpecHash == "spec2" {
			break
		}
		if i == 2 {
			t.Fatalf("plan after Kick made from spec %q, want spec2", res.SpecHash)
		}
	}
}

// clusterApplier applies plans to the fake cluster and publishes the world
// it leaves as the next snapshot, as the observer would: the loop then
// runs on its own until the cluster matches the spec.
type clusterApplier struct {
	mu  sync.Mutex
	f   *fakeCluster
	src *chanSource
}

func (a *clusterApplier) Apply(ctx context.Context, r *Result) ApplyReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.IsNoOp() {
		return ApplyReport{} // nothing changes, no new snapshot: the loop goes idle
	}
	a.f.apply(r)
	a.f.advance(10 * time.Second)
	for _, ag := range a.f.w.agents {
		if ag.Probe != nil {
			ag.Probe.ReceivedAt = a.f.w.now
		}
	}
	a.src.publish(a.f.w.snap())
	return ApplyReport{}
}

func TestLoop_FakeCluster_ConvergesAndHealsAKilledService(t *testing.T) {
	c := testCluster()
	w := newWorld()
	w.agent("node1", spec.DirDevice, spec.MetadataDevice)
	w.agent("node2", spec.DirDevice, spec.DataDevice)
	w.agent("node3", spec.DirDevice, spec.DataDevice)
	src := newChanSource()
	app := &clusterApplier{f: &fakeCluster{w: w, slow: true}, src: src}
	plans := make(chan *Result, 1000)
	l := NewLoop(LoopConfig{
		Spec: func() *spec.Cluster { return c }, Source: src, Applier: app,
		Tick: time.Hour, MinInterval: time.Millisecond,
		Step:   NewStep(StepConfig{Now: nowOf(app), Random: half}),
		OnPlan: func(_ Input, r *Result, _ ApplyReport) { plans <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src.publish(w.snap())
	go l.Run(ctx)

	// waitNoOp waits for an empty plan made from generation minGen or later.
	waitNoOp := func(what string, minGen uint64) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case r := <-plans:
				if r.IsNoOp() && r.Generation >= minGen {
					return
				}
			case <-deadline:
				t.Fatalf("%s: no empty plan within 10s; last: %v", what, render(lastPlan(l)))
			}
		}
	}
	waitNoOp("fresh cluster", 0)

	app.mu.Lock()
	n := 0
	for _, tk := range w.tasks {
		if !tk.State.Terminal() && tk.Kind != "prober" {
			n++
		}
	}
	if n != 8 { // 3 registries, 1 metadata, 2 data, API, webconsole
		app.mu.Unlock()
		t.Fatalf("converged with %d live services, want 8", n)
	}
	w.end(w.liveOn("data", "a-node2")[0], snapshot.Failed, "", "exit 1")
	failedAt := w.snap()
	src.publish(failedAt)
	app.mu.Unlock()

	waitNoOp("after a data service failed", failedAt.Generation)
	app.mu.Lock()
	defer app.mu.Unlock()
	if live := w.liveOn("data", "a-node2"); len(live) != 1 || live[0].State != snapshot.Running {
		t.Fatalf("data on node2 not back: %v", live)
	}
}

// nowOf makes the Step read the fake cluster's time.
func nowOf(a *clusterApplier) func() time.Time {
	return func() time.Time {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.f.w.now
	}
}

func lastPlan(l *Loop) *Result {
	_, r := l.Last()
	return r
}

// An apply's RequeueAfter brings the next plan without news: the loop, not
// the actuator, owns that timing.
func TestLoop_RequeueAfter_PlansAgainWithoutNews(t *testing.T) {
	c := testCluster()
	w, _ := dataNode(c)
	src := newChanSource()
	rec := newRecorder()
	n := 0
	rec.report = func(*Result) ApplyReport {
		n++
		if n == 1 {
			return ApplyReport{RequeueAfter: 20 * time.Millisecond}
		}
		return ApplyReport{}
	}
	stop := startLoop(t, LoopConfig{Spec: func() *spec.Cluster { return c }, Source: src, Applier: rec, Tick: time.Hour})
	defer stop()
	src.publish(w.snap())
	rec.next(t)
	rec.next(t) // the requeue, with no new snapshot and an hour's tick
	select {
	case r := <-rec.applied:
		t.Fatalf("a third plan (generation %d) without news or requeue", r.Generation)
	case <-time.After(100 * time.Millisecond):
	}
}
