package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// callRecorder is a Caller that records calls.
type callRecorder struct {
	mu    sync.Mutex
	calls []*scheduler.Call
	// onCall runs before a call is recorded (e.g. to check the snapshot).
	onCall func(*scheduler.Call)
	err    error
}

func (r *callRecorder) Call(_ context.Context, c *scheduler.Call) (mesos.Response, error) {
	if r.onCall != nil {
		r.onCall(c)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return nil, r.err
}

func (r *callRecorder) ofType(t scheduler.Call_Type) []*scheduler.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*scheduler.Call
	for _, c := range r.calls {
		if c.GetType() == t {
			out = append(out, c)
		}
	}
	return out
}

var _ calls.Caller = (*callRecorder)(nil)

func newObserver(t *testing.T) (*Observer, *clock, *callRecorder) {
	t.Helper()
	clk := newClock()
	rec := &callRecorder{}
	o := New(Config{Caller: rec, Now: clk.Now, ImplicitSettle: 3 * time.Second, ReconcileInitial: 2 * time.Second, ReconcileMax: 10 * time.Second})
	return o, clk, rec
}

const (
	dataTask   = "quobyte.data.cfg1.a1"
	proberTask = "quobyte.prober.p1.b1"
)

func update(taskID, agentID string, state mesos.TaskState, ts float64, opts ...func(*mesos.TaskStatus)) *scheduler.Event {
	src := mesos.SOURCE_EXECUTOR
	st := mesos.TaskStatus{
		TaskID:    mesos.TaskID{Value: taskID},
		State:     &state,
		AgentID:   &mesos.AgentID{Value: agentID},
		Timestamp: &ts,
		Source:    &src,
		UUID:      []byte(fmt.Sprintf("uuid-%s-%v-%v", taskID, ts, state)),
	}
	for _, f := range opts {
		f(&st)
	}
	return &scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}}
}

func healthy(v bool) func(*mesos.TaskStatus) { return func(s *mesos.TaskStatus) { s.Healthy = &v } }

func reconciliation(s *mesos.TaskStatus) {
	r := mesos.REASON_RECONCILIATION
	s.Reason = &r
	fromMaster(s)
}

// fromMaster makes an update master-generated: no uuid, master's clock.
func fromMaster(s *mesos.TaskStatus) {
	src := mesos.SOURCE_MASTER
	s.Source = &src
	s.UUID = nil
}

func withData(b []byte) func(*mesos.TaskStatus) { return func(s *mesos.TaskStatus) { s.Data = b } }

func task(t *testing.T, o *Observer, id string) *snapshot.Task {
	t.Helper()
	for _, tk := range o.Latest().Tasks {
		if tk.ID == id {
			return tk
		}
	}
	return nil
}

func ackCount(o *Observer) int { return len(o.acks) }

func TestHandleEvent_Offers_RecordAgentsThenForward(t *testing.T) {
	clk := newClock()
	var o *Observer
	var forwarded []mesos.Offer
	o = New(Config{Caller: &callRecorder{}, Now: clk.Now, OnOffers: func(_ context.Context, offers []mesos.Offer) {
		// The snapshot already describes the offered agent.
		if o.Latest().Agent("agent-1") == nil {
			t.Error("offer forwarded before its agent was in the snapshot")
		}
		forwarded = append(forwarded, offers...)
	}})
	of := mesos.Offer{
		ID: mesos.OfferID{Value: "o1"}, AgentID: mesos.AgentID{Value: "agent-1"}, Hostname: "host-1.example",
		Attributes: []mesos.Attribute{
			{Name: "rack", Type: mesos.TEXT, Text: &mesos.Value_Text{Value: "r1"}},
			{Name: "weight", Type: mesos.SCALAR, Scalar: &mesos.Value_Scalar{Value: 2.5}},
		},
		Resources: []mesos.Resource{
			{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 4}},
			{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 2}}, // reserved to our role
			{Name: "mem", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 8192}},
			{Name: "disk", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 1000}},
			{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: 7000, End: 7999}}}},
		},
	}
	o.HandleEvent(context.Background(), &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{of}}})
	s := o.Latest()
	a := s.Agent("agent-1")
	if a == nil || a.Hostname != "host-1.example" || !a.Reachable || a.Attributes["rack"] != "r1" || a.Attributes["weight"] != "2.5" {
		t.Fatalf("agent = %+v", a)
	}
	if r := a.LastOffer.Resources; r != (spec.Resources{CPUs: 6, Mem: 8192, Disk: 1000}) || len(a.LastOffer.Ports) != 1 || a.LastOffer.Ports[0] != (snapshot.PortRange{Begin: 7000, End: 7999}) || !a.LastOffer.At.Equal(clk.Now()) {
		t.Fatalf("last offer = %+v", a.LastOffer)
	}
	if len(forwarded) != 1 || s.Generation != 1 {
		t.Fatalf("forwarded %d offers, generation %d", len(forwarded), s.Generation)
	}
}

// An offer tells the agent's IP (url.address.ip, as a Mesos master sets
// it), which of its resources are reserved for which role, and the most
// each resource has been offered: what the plan explains a waiting launch
// with.
func TestHandleEvent_Offers_RecordIPReservationsAndMostOffered(t *testing.T) {
	clk := newClock()
	o := New(Config{Caller: &callRecorder{}, Now: clk.Now})
	scalar := func(name string, v float64, role string) mesos.Resource {
		r := mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
		if role != "" {
			r.Reservations = []mesos.Resource_ReservationInfo{{Type: mesos.Resource_ReservationInfo_STATIC.Enum(), Role: &role}}
		}
		return r
	}
	host, ip := "storage-node-01.dc1.example.com", "10.1.2.3"
	offer := func(id string, rs ...mesos.Resource) *scheduler.Event {
		of := mesos.Offer{ID: mesos.OfferID{Value: id}, AgentID: mesos.AgentID{Value: "agent-1"}, Hostname: host,
			URL: &mesos.URL{Scheme: "http", Address: mesos.Address{Hostname: &host, IP: &ip, Port: 5051}}, Resources: rs}
		return &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{of}}}
	}
	o.HandleEvent(context.Background(), offer("o1", scalar("cpus", 0.2, ""), scalar("cpus", 3, "quobyte"), scalar("mem", 4096, "")))
	o.HandleEvent(context.Background(), offer("o2", scalar("cpus", 1, ""), scalar("mem", 1024, "")))
	a := o.Latest().Agent("agent-1")
	if a == nil || a.IP != ip {
		t.Fatalf("agent = %+v, want IP %s", a, ip)
	}
	if want := (spec.Resources{CPUs: 3.2, Mem: 4096}); a.MostOffered != want {
		t.Errorf("most offered = %+v, want %+v", a.MostOffered, want)
	}
	if want := (spec.Resources{CPUs: 1, Mem: 1024}); a.LastOffer.Resources != want || a.LastOffer.Reserved != nil {
		t.Errorf("last offer = %+v, want %+v and nothing reserved", a.LastOffer, want)
	}
	o.HandleEvent(context.Background(), offer("o3", scalar("cpus", 0.2, ""), scalar("cpus", 3, "quobyte")))
	if r := o.Latest().Agent("agent-1").LastOffer.Reserved; len(r) != 1 || r["quobyte"] != (spec.Resources{CPUs: 3}) {
		t.Errorf("reserved = %+v, want cpus=3 for role quobyte", r)
	}
}

func TestHandleEvent_Update_RecordsStateHealthAndTimes(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_STARTING, 1))
	tk := task(t, o, dataTask)
	if tk == nil || tk.Kind != "data" || tk.Config != "cfg1" || tk.AgentID != "agent-1" || tk.State != snapshot.Starting || !tk.RunningSince.IsZero() {
		t.Fatalf("task = %+v", tk)
	}
	clk.Advance(time.Second)
	runAt := clk.Now()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 2))
	clk.Advance(time.Second)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 3, healthy(false)))
	clk.Advance(time.Second)
	healthyAt := clk.Now()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 4, healthy(true)))
	clk.Advance(time.Second)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 5, healthy(true)))
	tk = task(t, o, dataTask)
	if tk.State != snapshot.Running || !tk.RunningSince.Equal(runAt) || tk.Healthy == nil || !*tk.Healthy || !tk.HealthySince.Equal(healthyAt) {
		t.Fatalf("task = %+v", tk)
	}
	fail := mesos.REASON_COMMAND_EXECUTOR_FAILED
	msg := "exited 1"
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_FAILED, 6, func(s *mesos.TaskStatus) { s.Reason = &fail; s.Message = &msg }))
	tk = task(t, o, dataTask)
	if tk.State != snapshot.Failed || tk.Reason != "REASON_COMMAND_EXECUTOR_FAILED" || tk.Message != "exited 1" || tk.Healthy != nil || !tk.RunningSince.Equal(runAt) {
		t.Fatalf("failed task = %+v", tk)
	}
	h := o.Latest().Items[snapshot.ItemKey("data", "agent-1")]
	want := snapshot.TaskEnd{TaskID: dataTask, Config: "cfg1", State: snapshot.Failed, Reason: "REASON_COMMAND_EXECUTOR_FAILED",
		Message: "exited 1", At: clk.Now(), RanFor: 3 * time.Second, HealthyFor: time.Second}
	if h.Failures != 1 || h.Last != want {
		t.Fatalf("item history = %+v, want 1 failure, last %+v", h, want)
	}
	if n := ackCount(o); n != 6 {
		t.Fatalf("acks queued = %d, want 6 (one per update with uuid)", n)
	}
}

func TestHandleEvent_Update_DuplicateIsNoChange(t *testing.T) {
	o, clk, _ := newObserver(t)
	ev := update(dataTask, "agent-1", mesos.TASK_RUNNING, 2, healthy(true))
	o.HandleEvent(context.Background(), ev)
	before := o.Latest()
	clk.Advance(time.Minute)
	o.HandleEvent(context.Background(), ev)
	after := o.Latest()
	if after.Generation != before.Generation {
		t.Fatalf("duplicate update made generation %d -> %d", before.Generation, after.Generation)
	}
	if ackCount(o) != 2 {
		t.Fatalf("a duplicate must be acknowledged again; acks = %d", ackCount(o))
	}
}

func TestHandleEvent_Update_OlderUpdateIgnored(t *testing.T) {
	o, _, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 20))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_STAGING, 10))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_STARTING, 15))
	if tk := task(t, o, dataTask); tk.State != snapshot.Running {
		t.Fatalf("state = %s after stale updates, want RUNNING", tk.State)
	}
	if ackCount(o) != 3 {
		t.Fatalf("stale updates must still be acknowledged; acks = %d", ackCount(o))
	}
	// A reconciliation answer is the master's current truth, whatever its
	// timestamp says; it carries no uuid and is not acknowledged.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_KILLED, 1, reconciliation))
	if tk := task(t, o, dataTask); tk.State != snapshot.Killed || tk.Reason != "REASON_RECONCILIATION" {
		t.Fatalf("after reconciliation answer: %+v", tk)
	}
	if ackCount(o) != 3 {
		t.Fatalf("reconciliation answer acknowledged")
	}
}

func TestHandleEvent_Update_ForeignTaskIgnoredButAcked(t *testing.T) {
	o, _, _ := newObserver(t)
	for _, id := range []string{"marathon-app.1234", "quobyte.data", "quobyte.data..x", ""} {
		o.HandleEvent(context.Background(), update(id, "agent-1", mesos.TASK_RUNNING, 1))
	}
	if s := o.Latest(); len(s.Tasks) != 0 || len(s.Agents) != 0 {
		t.Fatalf("foreign tasks recorded: %+v", s.Tasks)
	}
	if ackCount(o) != 4 {
		t.Fatalf("acks = %d, want 4 (foreign updates are acknowledged so mesos stops resending)", ackCount(o))
	}
}

func TestHandleEvent_BadInputIgnored(t *testing.T) {
	o, _, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TaskState(99), 1))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1, func(s *mesos.TaskStatus) { s.State = nil }))
	unknownReason := mesos.TaskStatus_Reason(999)
	o.HandleEvent(ctx, update("quobyte.api.c.x", "agent-1", mesos.TASK_RUNNING, 1, func(s *mesos.TaskStatus) { s.Reason = &unknownReason }))
	for _, ev := range []*scheduler.Event{
		{Type: scheduler.Event_Type(77)},
		{Type: scheduler.Event_UPDATE},
		{Type: scheduler.Event_OFFERS},
		{Type: scheduler.Event_RESCIND},
		{Type: scheduler.Event_FAILURE},
		{Type: scheduler.Event_MESSAGE},
		{Type: scheduler.Event_ERROR},
		{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{{}}}},
	} {
		o.HandleEvent(ctx, ev)
	}
	s := o.Latest()
	if task(t, o, dataTask) != nil {
		t.Fatal("update with unknown state recorded")
	}
	if tk := task(t, o, "quobyte.api.c.x"); tk == nil || tk.State != snapshot.Running {
		t.Fatalf("unknown reason must not drop the update: %+v", tk)
	}
	if len(s.Agents) != 1 {
		t.Fatalf("agents = %d, want 1", len(s.Agents))
	}
}

func report(t *testing.T, r probe.Report) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandleEvent_ProberReport(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	good := probe.Report{Version: probe.ReportVersion, Hostname: "host-1", Seq: 1, Devices: []probe.Device{{Path: "/mnt/d1", Types: []spec.DeviceType{spec.DataDevice}}}}

	o.HandleEvent(ctx, update(proberTask, "agent-1", mesos.TASK_RUNNING, 1, withData([]byte("{not json"))))
	if a := o.Latest().Agent("agent-1"); a == nil || a.Probe != nil {
		t.Fatalf("malformed report recorded: %+v", a)
	}
	other := good
	other.Version = probe.ReportVersion + 1
	o.HandleEvent(ctx, update(proberTask, "agent-1", mesos.TASK_RUNNING, 2, withData(report(t, other))))
	if a := o.Latest().Agent("agent-1"); a.Probe != nil {
		t.Fatal("report of another version recorded")
	}
	clk.Advance(time.Second)
	o.HandleEvent(ctx, update(proberTask, "agent-1", mesos.TASK_RUNNING, 3, withData(report(t, good))))
	a := o.Latest().Agent("agent-1")
	if a.Probe == nil || !a.Probe.Report.HasType(spec.DataDevice) || !a.Probe.ReceivedAt.Equal(clk.Now()) || a.Hostname != "host-1" {
		t.Fatalf("agent = %+v", a)
	}
	// A delayed older report does not replace the newer one.
	older := good
	older.Devices = nil
	o.HandleEvent(ctx, update(proberTask, "agent-1", mesos.TASK_RUNNING, 2.5, withData(report(t, older))))
	if a := o.Latest().Agent("agent-1"); len(a.Probe.Report.Devices) != 1 {
		t.Fatal("stale report replaced a newer one")
	}
	// Reports in a non-prober task's data are not reports.
	o.HandleEvent(ctx, update(dataTask, "agent-2", mesos.TASK_RUNNING, 1, withData(report(t, good))))
	if a := o.Latest().Agent("agent-2"); a.Probe != nil {
		t.Fatal("data task's data taken as a prober report")
	}
}

func TestHandleEvent_AgentUnreachableAndBack(t *testing.T) {
	o, _, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNREACHABLE, 2))
	s := o.Latest()
	if s.Agent("agent-1").Reachable || !task(t, o, dataTask).State.MaybeAlive() {
		t.Fatalf("agent reachable %v, task %s", s.Agent("agent-1").Reachable, task(t, o, dataTask).State)
	}
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 3))
	if !o.Latest().Agent("agent-1").Reachable {
		t.Fatal("agent still unreachable after its task reported RUNNING")
	}
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: "agent-1"}}})
	if o.Latest().Agent("agent-1").Reachable {
		t.Fatal("agent reachable after an agent FAILURE")
	}
	// An executor failure says nothing about the agent.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 4))
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: "agent-1"}, ExecutorID: &mesos.ExecutorID{Value: "e"}}})
	if !o.Latest().Agent("agent-1").Reachable {
		t.Fatal("executor failure marked the agent unreachable")
	}
}

// Found by the chaos runs (test/chaos, seed 4): an agent removed while the
// framework was resubscribing. Its FAILURE event went to nobody; after the
// resubscription the master answered the reconciliation of its tasks with
// TASK_UNKNOWN, yet the agent stayed reachable, and the webconsole was
// placed on it, waiting for an offer that never came. Whatever says the
// master no longer knows an agent makes it unreachable.
func TestHandleEvent_AgentGoneForTheMaster(t *testing.T) {
	ctx := context.Background()
	lostRemoved := func(s *mesos.TaskStatus) {
		fromMaster(s)
		s.Reason = mesos.REASON_AGENT_REMOVED.Enum()
	}
	for name, ev := range map[string]*scheduler.Event{
		"reconciliation UNKNOWN": update(dataTask, "agent-1", mesos.TASK_UNKNOWN, 2, reconciliation),
		"GONE_BY_OPERATOR":       update(dataTask, "agent-1", mesos.TASK_GONE_BY_OPERATOR, 2, fromMaster),
		"LOST, agent removed":    update(dataTask, "agent-1", mesos.TASK_LOST, 2, lostRemoved),
	} {
		t.Run(name, func(t *testing.T) {
			o, _, _ := newObserver(t)
			o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
			o.HandleEvent(ctx, ev)
			if o.Latest().Agent("agent-1").Reachable {
				t.Fatal("agent still reachable when the master says it is gone")
			}
		})
	}
	// A task's own end says nothing about its agent.
	o, _, _ := newObserver(t)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_LOST, 2))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_GONE, 3, reconciliation))
	if !o.Latest().Agent("agent-1").Reachable {
		t.Fatal("an ordinary LOST or GONE marked the agent unreachable")
	}
}

func TestRecordLaunchAndKill(t *testing.T) {
	o, clk, _ := newObserver(t)
	if err := o.RecordLaunch("not-ours", "agent-1"); err == nil {
		t.Fatal("RecordLaunch of a foreign id succeeded")
	}
	if err := o.RecordLaunch(dataTask, "agent-1"); err != nil {
		t.Fatal(err)
	}
	tk := task(t, o, dataTask)
	if tk.State != snapshot.Launching || !tk.LaunchedAt.Equal(clk.Now()) || tk.AgentID != "agent-1" || tk.Kind != "data" {
		t.Fatalf("launching task = %+v", tk)
	}
	clk.Advance(time.Second)
	o.HandleEvent(context.Background(), update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	clk.Advance(time.Second)
	o.RecordKillSent(dataTask)
	tk = task(t, o, dataTask)
	if tk.State != snapshot.Running || !tk.KillSent.Equal(clk.Now()) || tk.LaunchedAt.IsZero() {
		t.Fatalf("task = %+v", tk)
	}
	o.RecordKillSent("quobyte.data.x.unknown") // unknown: no-op, no panic
}

func TestChanged_Coalesces(t *testing.T) {
	o, _, _ := newObserver(t)
	for i := 0; i < 5; i++ {
		o.HandleEvent(context.Background(), update(dataTask, "agent-1", mesos.TASK_RUNNING, float64(i), healthy(i%2 == 0)))
	}
	select {
	case <-o.Changed():
	default:
		t.Fatal("no change signalled")
	}
	select {
	case <-o.Changed():
		t.Fatal("changes not coalesced")
	default:
	}
	// Five changes, one read: one new snapshot.
	if g := o.Latest().Generation; g != 1 {
		t.Fatalf("generation = %d, want 1", g)
	}
	if g := o.Latest().Generation; g != 1 {
		t.Fatalf("a read without a change built generation %d", g)
	}
}

// Acknowledge after recording: when the ACKNOWLEDGE goes out, the snapshot
// already holds the update.
func TestRun_AcknowledgesAfterRecording(t *testing.T) {
	clk := newClock()
	rec := &callRecorder{}
	var o *Observer
	rec.onCall = func(c *scheduler.Call) {
		if c.GetType() == scheduler.Call_ACKNOWLEDGE {
			if tk := task(t, o, dataTask); tk == nil || tk.State != snapshot.Running {
				t.Error("acknowledged before the update was in the snapshot")
			}
		}
	}
	o = New(Config{Caller: rec, Now: clk.Now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.ofType(scheduler.Call_ACKNOWLEDGE)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no ACKNOWLEDGE sent")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a := rec.ofType(scheduler.Call_ACKNOWLEDGE)[0].GetAcknowledge()
	if a.TaskID.Value != dataTask || a.AgentID.Value != "agent-1" || string(a.UUID) != "uuid-"+dataTask+"-1-TASK_RUNNING" {
		t.Fatalf("ack = %+v", a)
	}
}

func subscribed(n int) mesosconn.Status {
	return mesosconn.Status{State: snapshot.Subscribed, FrameworkID: "fw-1", Master: "http://m:5050", Subscriptions: n}
}

// answerRecoveryProbe answers the agentless question of a first
// reconciliation as a master with every agent back does.
func answerRecoveryProbe(ctx context.Context, o *Observer) {
	o.HandleEvent(ctx, update(recoveryProbeTaskID, "", mesos.TASK_UNKNOWN, 0, reconciliation))
}

func reconciledTasks(c *scheduler.Call) map[string]string {
	m := map[string]string{}
	for _, t := range c.GetReconcile().GetTasks() {
		m[t.TaskID.Value] = t.GetAgentID().GetValue()
	}
	return m
}

func TestReconcile_ExplicitUntilAllAnswerThenImplicit(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update("quobyte.data.c.1", "a1", mesos.TASK_RUNNING, 1))
	o.HandleEvent(ctx, update("quobyte.metadata.c.2", "a2", mesos.TASK_RUNNING, 1))
	o.HandleEvent(ctx, update("quobyte.api.c.3", "a3", mesos.TASK_FINISHED, 1)) // terminal: not asked
	o.HandleStatus(subscribed(2))
	if o.Latest().Subscription.Reconciled || o.Latest().Subscription.Resubscriptions != 1 {
		t.Fatalf("subscription = %+v", o.Latest().Subscription)
	}
	step := func() *scheduler.Call {
		o.mu.Lock()
		defer o.mu.Unlock()
		c, _ := o.reconcileStep()
		o.publish()
		return c
	}
	c := step()
	if c == nil || c.GetType() != scheduler.Call_RECONCILE {
		t.Fatalf("first step = %v, want explicit RECONCILE", c)
	}
	// The known tasks by agent; the first round of an observer also asks
	// whether every agent is back (no agent ID).
	if got := reconciledTasks(c); len(got) != 3 || got["quobyte.data.c.1"] != "a1" || got["quobyte.metadata.c.2"] != "a2" || got[recoveryProbeTaskID] != "" {
		t.Fatalf("reconciled %v", got)
	}
	if c := step(); c != nil {
		t.Fatalf("retry before its delay: %v", c)
	}
	// One answers, and so does the master about its agents; the other
	// stays silent and is asked again with backoff.
	o.HandleEvent(ctx, update("quobyte.data.c.1", "a1", mesos.TASK_RUNNING, 0, reconciliation))
	answerRecoveryProbe(ctx, o)
	clk.Advance(2 * time.Second)
	c = step()
	if got := reconciledTasks(c); len(got) != 1 || got["quobyte.metadata.c.2"] != "a2" {
		t.Fatalf("retry reconciled %v", got)
	}
	clk.Advance(3 * time.Second) // delay doubled to 4s
	if c := step(); c != nil {
		t.Fatal("retry before the doubled delay")
	}
	clk.Advance(time.Second)
	if c := step(); c == nil {
		t.Fatal("no retry after the doubled delay")
	}
	// The master answers for the second task (it is gone): explicit round over.
	o.HandleEvent(ctx, update("quobyte.metadata.c.2", "a2", mesos.TASK_GONE, 0, reconciliation))
	c = step()
	if c == nil || len(c.GetReconcile().GetTasks()) != 0 {
		t.Fatalf("want implicit reconciliation, got %v", c)
	}
	if o.Latest().Subscription.Reconciled {
		t.Fatal("reconciled before implicit answers settled")
	}
	clk.Advance(2 * time.Second)
	o.HandleEvent(ctx, update("quobyte.data.c.1", "a1", mesos.TASK_RUNNING, 0, reconciliation))
	clk.Advance(2 * time.Second)
	step()
	if o.Latest().Subscription.Reconciled {
		t.Fatal("reconciled while answers still arrive")
	}
	clk.Advance(time.Second + time.Millisecond)
	step()
	if !o.Latest().Subscription.Reconciled {
		t.Fatal("not reconciled after answers settled")
	}
	// Periodic implicit reconciliation.
	clk.Advance(10 * time.Minute)
	if c := step(); c == nil || len(c.GetReconcile().GetTasks()) != 0 {
		t.Fatalf("no periodic implicit reconciliation: %v", c)
	}
	// A disconnect makes the task set suspect again.
	o.HandleStatus(mesosconn.Status{State: snapshot.Disconnected, FrameworkID: "fw-1", Subscriptions: 2})
	if s := o.Latest().Subscription; s.Reconciled || s.State != snapshot.Disconnected {
		t.Fatalf("after disconnect: %+v", s)
	}
}

// After a restart the framework knows no tasks: implicit reconciliation
// rebuilds them from their IDs alone, once the master has every agent back
// (it answers the agentless question only then; before, implicit
// reconciliation would leave out the tasks of agents still to reregister
// after a master failover, and they would be launched again).
func TestReconcile_RestartWaitsForEveryAgentThenRebuildsTasksFromImplicit(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	o.HandleStatus(subscribed(1))
	step := func() *scheduler.Call {
		o.mu.Lock()
		defer o.mu.Unlock()
		c, _ := o.reconcileStep()
		return c
	}
	c := step()
	if got := reconciledTasks(c); len(got) != 1 || got[recoveryProbeTaskID] != "" || c.GetReconcile().GetTasks()[0].AgentID != nil {
		t.Fatalf("first call %v, want the agentless question alone", c)
	}
	// The master drops it while agents are to reregister: asked again.
	clk.Advance(2 * time.Second)
	if got := reconciledTasks(step()); len(got) != 1 {
		t.Fatalf("retry %v", got)
	}
	if o.Latest().Subscription.Reconciled {
		t.Fatal("reconciled before the master has every agent")
	}
	answerRecoveryProbe(ctx, o)
	c = step()
	if c == nil || c.GetType() != scheduler.Call_RECONCILE || len(c.GetReconcile().GetTasks()) != 0 {
		t.Fatalf("want implicit reconciliation once answered, got %v", c)
	}
	for _, tk := range o.Latest().Tasks {
		if tk.ID == recoveryProbeTaskID {
			t.Fatal("the question became a task")
		}
	}
	for _, id := range []string{"quobyte.registry.h1.x", "quobyte.data.h2.y", "quobyte.prober.h3.z"} {
		o.HandleEvent(ctx, update(id, "agent-1", mesos.TASK_RUNNING, 0, reconciliation))
	}
	clk.Advance(3*time.Second + time.Millisecond)
	o.mu.Lock()
	o.reconcileStep()
	o.publish()
	o.mu.Unlock()
	s := o.Latest()
	if !s.Subscription.Reconciled || len(s.Tasks) != 3 {
		t.Fatalf("reconciled %v, tasks %d", s.Subscription.Reconciled, len(s.Tasks))
	}
	if tk := task(t, o, "quobyte.registry.h1.x"); tk.Kind != "registry" || tk.Config != "h1" || tk.State != snapshot.Running {
		t.Fatalf("rebuilt task = %+v", tk)
	}
}

func TestReconcile_TerminalTasksPruned(t *testing.T) {
	o, clk, _ := newObserver(t)
	o.HandleEvent(context.Background(), update(dataTask, "a1", mesos.TASK_FAILED, 1))
	clk.Advance(16 * time.Minute)
	o.mu.Lock()
	o.reconcileStep()
	o.publish()
	o.mu.Unlock()
	if len(o.Latest().Tasks) != 0 {
		t.Fatal("terminal task kept beyond retention")
	}
}

func TestObserver_ConcurrentReadersRaceFree(t *testing.T) {
	o, _, _ := newObserver(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 500; i++ {
			o.HandleEvent(ctx, update(dataTask, "a1", mesos.TASK_RUNNING, float64(i), healthy(i%3 == 0)))
			if i%50 == 0 {
				o.HandleStatus(subscribed(i/50 + 1))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 500; i++ {
			s := o.Latest()
			for _, tk := range s.Tasks {
				_ = tk.State
				_ = tk.Healthy
			}
			for _, a := range s.Agents {
				_ = a.Reachable
			}
		}
	}()
	wg.Wait()
}

// Ordinary updates (prober keep-alives) never stop on a big cluster: they
// must not hold Reconciled back; a never-ending stream of reconciliation
// answers is bounded too.
func TestReconcile_SettlingIgnoresOrdinaryUpdatesAndIsBounded(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	step := func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.reconcileStep()
		o.publish()
	}
	o.HandleStatus(subscribed(1))
	step() // the agentless question
	answerRecoveryProbe(ctx, o)
	step() // implicit sent
	for i := 0; i < 4; i++ {
		clk.Advance(time.Second)
		o.HandleEvent(ctx, update(proberTask, "a1", mesos.TASK_RUNNING, float64(i+1)))
	}
	step()
	if !o.Latest().Subscription.Reconciled {
		t.Fatal("ordinary updates held reconciliation back")
	}

	o.HandleStatus(subscribed(2))
	step() // explicit for the prober task
	o.HandleEvent(ctx, update(proberTask, "a1", mesos.TASK_RUNNING, 0, reconciliation))
	step() // implicit sent
	for i := 0; i < 100 && !o.Latest().Subscription.Reconciled; i++ {
		clk.Advance(time.Second)
		o.HandleEvent(ctx, update(proberTask, "a1", mesos.TASK_RUNNING, 0, reconciliation))
		step()
	}
	if !o.Latest().Subscription.Reconciled {
		t.Fatal("endless reconciliation answers held reconciliation back forever")
	}
}

// Master-generated updates carry the master's clock: they apply whatever
// their timestamp says against the agent's, and a late resend of an agent
// update already applied (same uuid) changes nothing.
func TestHandleEvent_Update_MasterUpdatesAndResends(t *testing.T) {
	o, _, _ := newObserver(t)
	ctx := context.Background()
	running := update(dataTask, "agent-1", mesos.TASK_RUNNING, 1000)
	o.HandleEvent(ctx, running)
	// The master's clock is behind the agent's.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNREACHABLE, 10, fromMaster))
	if tk := task(t, o, dataTask); tk.State != snapshot.Unreachable {
		t.Fatalf("master's UNREACHABLE ignored: %s", tk.State)
	}
	o.HandleEvent(ctx, running) // resent before it was acknowledged
	if tk := task(t, o, dataTask); tk.State != snapshot.Unreachable {
		t.Fatalf("a resent update overrode a newer state: %s", tk.State)
	}
	// The agent is back and reports anew.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_FAILED, 1001))
	if tk := task(t, o, dataTask); tk.State != snapshot.Failed {
		t.Fatalf("state = %s, want FAILED", tk.State)
	}
}

// Issue 10, bug 1: unreachability is measured from the master's
// unreachable_time, a reconciliation answer does not move it, and a kill
// sent before is forgotten (Mesos cannot deliver it).
func TestHandleEvent_Unreachable_TimeFromMasterAndKept(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	o.RecordKillSent(dataTask)
	lostAt := clk.Now().Add(-115 * time.Second) // the agent went away long before the master said so
	clk.Advance(time.Minute)
	unreachableAt := func(ts time.Time) func(*mesos.TaskStatus) {
		return func(s *mesos.TaskStatus) {
			s.UnreachableTime = &mesos.TimeInfo{Nanoseconds: ts.UnixNano()}
			r := mesos.REASON_AGENT_REMOVED
			s.Reason = &r
			fromMaster(s)
		}
	}
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNREACHABLE, 2, unreachableAt(lostAt)))
	tk := task(t, o, dataTask)
	if !tk.UnreachableSince.Equal(lostAt) || !tk.KillSent.IsZero() {
		t.Fatalf("unreachable task = %+v, want UnreachableSince %s and no kill", tk, lostAt)
	}
	clk.Advance(time.Minute)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNREACHABLE, 3, reconciliation))
	o.RecordKillSent(dataTask) // not delivered to an unreachable task
	if tk = task(t, o, dataTask); !tk.UnreachableSince.Equal(lostAt) || !tk.KillSent.IsZero() {
		t.Fatalf("after a reconciliation answer: %+v, want UnreachableSince still %s, no kill", tk, lostAt)
	}
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 4))
	if tk = task(t, o, dataTask); !tk.UnreachableSince.IsZero() || tk.State != snapshot.Running {
		t.Fatalf("back: %+v", tk)
	}
	// Without unreachable_time: from when we first saw it.
	clk.Advance(time.Minute)
	first := clk.Now()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNKNOWN, 5, fromMaster))
	clk.Advance(time.Minute)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_UNKNOWN, 6, reconciliation))
	if tk = task(t, o, dataTask); !tk.UnreachableSince.Equal(first) {
		t.Fatalf("UnreachableSince = %s, want %s (first seen)", tk.UnreachableSince, first)
	}
}

func TestHandleEvent_AgentUnreachableSince(t *testing.T) {
	o, clk, _ := newObserver(t)
	ctx := context.Background()
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	at := clk.Now()
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: "agent-1"}}})
	clk.Advance(time.Minute)
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: "agent-1"}}})
	if a := o.Latest().Agent("agent-1"); a.Reachable || !a.UnreachableSince.Equal(at) {
		t.Fatalf("agent = %+v, want unreachable since %s", a, at)
	}
	if a := o.Latest().Agent("agent-1"); !a.BackSince.IsZero() {
		t.Fatalf("back since %s while never back", a.BackSince)
	}
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 2))
	if a := o.Latest().Agent("agent-1"); !a.Reachable || !a.UnreachableSince.IsZero() || !a.BackSince.Equal(clk.Now()) {
		t.Fatalf("agent back = %+v, want back since %s", a, clk.Now())
	}
	// Back by an offer too; an agent that stays reachable keeps the time.
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: "agent-1"}}})
	clk.Advance(time.Minute)
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{
		{ID: mesos.OfferID{Value: "o1"}, AgentID: mesos.AgentID{Value: "agent-1"}, Hostname: "host-1"}}}})
	back := clk.Now()
	clk.Advance(time.Minute)
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 3))
	if a := o.Latest().Agent("agent-1"); !a.BackSince.Equal(back) {
		t.Fatalf("back since %s, want %s", a.BackSince, back)
	}
}

// Issue 10, bug 5: Mesos' kill of a task failing its health check is told
// apart from a kill of ours and counted as a failure of the item.
func TestHandleEvent_HealthCheckKill(t *testing.T) {
	o, clk, _ := newObserver(t)
	told := &[]string{}
	o.cfg.OnFailure = func(kind, host string, end snapshot.TaskEnd) { *told = append(*told, kind+" "+host+" "+end.Describe()) }
	ctx := context.Background()
	o.HandleEvent(ctx, &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: []mesos.Offer{
		{ID: mesos.OfferID{Value: "o1"}, AgentID: mesos.AgentID{Value: "agent-1"}, Hostname: "host-1"}}}})
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 1))
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, 2, healthy(true)))
	clk.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		clk.Advance(10 * time.Second)
		o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_RUNNING, float64(3+i), healthy(false)))
	}
	if tk := task(t, o, dataTask); tk.HealthFailures != 3 {
		t.Fatalf("HealthFailures = %d, want 3", tk.HealthFailures)
	}
	// The command executor says KILLING first to frameworks that take it
	// (ours do); how long the task ran still counts to the end.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_KILLING, 8))
	clk.Advance(time.Second)
	msg := "Command exited with status 0"
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_KILLED, 9, healthy(false), func(s *mesos.TaskStatus) { s.Message = &msg }))
	tk := task(t, o, dataTask)
	if !tk.HealthKilled || !tk.Failed() {
		t.Fatalf("health-killed task = %+v", tk)
	}
	h := o.Latest().Items[snapshot.ItemKey("data", "agent-1")]
	if h.Failures != 1 || !h.Last.HealthKilled || h.Last.HealthyFor != time.Hour+10*time.Second || h.Last.RanFor != time.Hour+31*time.Second ||
		h.Last.Describe() != "task "+dataTask+" killed by Mesos after 3 failed health checks: Command exited with status 0" {
		t.Fatalf("item = %+v (%s)", h, h.Last.Describe())
	}

	if len(*told) != 1 || (*told)[0] != "data host-1 "+h.Last.Describe() {
		t.Fatalf("OnFailure was told %q", *told)
	}

	// Our own kill of an unhealthy task is neither a health kill nor a failure.
	const other = "quobyte.data.cfg1.a2"
	o.HandleEvent(ctx, update(other, "agent-2", mesos.TASK_RUNNING, 1, healthy(false)))
	o.RecordKillSent(other)
	o.HandleEvent(ctx, update(other, "agent-2", mesos.TASK_KILLED, 2, healthy(false)))
	if tk := task(t, o, other); tk.HealthKilled || tk.Failed() {
		t.Fatalf("our kill = %+v", tk)
	}
	if _, ok := o.Latest().Items[snapshot.ItemKey("data", "agent-2")]; ok {
		t.Fatal("our kill counted as a failure")
	}
	// A repeated terminal update (a reconciliation answer) is no new failure.
	o.HandleEvent(ctx, update(dataTask, "agent-1", mesos.TASK_KILLED, 10, reconciliation))
	if n := o.Latest().Items[snapshot.ItemKey("data", "agent-1")].Failures; n != 1 || len(*told) != 1 {
		t.Fatalf("failures = %d after a repeat, want 1; OnFailure told %d", n, len(*told))
	}
}

// A burst of updates as 10,000 agents' probers (or data services) start
// is queued for acknowledgement whole: a dropped ack holds the task's next
// update back by Mesos' retry interval (at 10,000 agents the old queue of
// 4,096 made a fresh cluster converge in 13.7 intervals instead of 6.4).
func TestHandleEvent_QueuesAckOfEveryUpdateOfABurst(t *testing.T) {
	o := New(Config{Caller: &callRecorder{}})
	for i := range 10000 {
		o.HandleEvent(context.Background(), update(fmt.Sprintf("quobyte.data.c.%d", i), fmt.Sprintf("agent-%d", i), mesos.TASK_RUNNING, 1))
	}
	if got := len(o.acks); got != 10000 {
		t.Errorf("%d acks queued of 10000 updates", got)
	}
}
