package actuate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// rig is an Actuator with a test clock, recorded calls and launches.
type rig struct {
	t        *testing.T
	act      *Actuator
	calls    *CallRecorder
	now      time.Time
	c        *spec.Cluster
	mu       sync.Mutex
	launched []string // "taskID agentID kind hash"
	n        int
}

func newRig(t *testing.T) *rig {
	r := &rig{t: t, calls: &CallRecorder{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), c: dockerCluster(t)}
	r.act = New(Config{
		Caller:            r.calls,
		FrameworkID:       func() string { return "fw-1" },
		Now:               func() time.Time { return r.now },
		NewSuffix:         func() string { r.n++; return fmt.Sprintf("s%d", r.n) },
		FrameworkHTTPBase: "http://fw:7888",
		OnLaunch: func(taskID, agentID, kind, hash string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.launched = append(r.launched, fmt.Sprintf("%s %s %s %s", taskID, agentID, kind, hash))
		},
	})
	return r
}

// apply applies a plan of r's spec made of actions; a test launch's config
// hash ("h<kind>") becomes the spec's. The error sums up what failed.
func (r *rig) apply(actions ...controller.Action) (Report, error) {
	r.t.Helper()
	r.calls.Reset()
	for i, a := range actions {
		if svc := r.c.Service(spec.Kind(a.Kind)); a.Type == controller.Launch && svc != nil && a.ConfigHash == "h"+a.Kind {
			actions[i].ConfigHash = svc.ConfigHash
		}
	}
	rep := r.act.apply(context.Background(), r.plan(actions...))
	return rep, reportErr(rep)
}

func (r *rig) plan(actions ...controller.Action) *controller.Result {
	return &controller.Result{Generation: 7, SpecHash: r.c.Hash, Spec: r.c, RegistryAddrs: "node1:7861", Actions: actions}
}

// reportErr is nil when nothing failed, else every failure's text.
func reportErr(rep Report) error {
	var errs []error
	for _, f := range rep.Failed {
		errs = append(errs, fmt.Errorf("%s %s: %s", f.Action.Type, f.Action.Item(), f.Error))
	}
	for _, e := range rep.Errors {
		errs = append(errs, errors.New(e))
	}
	return errors.Join(errs...)
}

func (r *rig) advance(d time.Duration) { r.now = r.now.Add(d) }

func (r *rig) types() []scheduler.Call_Type {
	var out []scheduler.Call_Type
	for _, c := range r.calls.Calls() {
		out = append(out, c.Type)
	}
	return out
}

func refuse(t *testing.T, f *mesos.Filters) time.Duration {
	t.Helper()
	if f == nil || f.RefuseSeconds == nil {
		t.Fatal("no refuse filter")
	}
	return time.Duration(*f.RefuseSeconds * float64(time.Second))
}

func dataAction(agent, host string) controller.Action {
	return launch(agent, host, spec.Data, spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}, 7863, 7873)
}

func TestApply_LaunchOneAcceptPerOffer(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1"), bigOffer("o2", "a2", "node2")})
	reg := launch("a1", "node1", spec.Registry, spec.Resources{CPUs: 1, Mem: 2048}, 7861, 7871)
	rep, err := r.apply(reg, dataAction("a1", "node1"))
	if err != nil {
		t.Fatal(err)
	}
	accepts := r.calls.OfType(scheduler.Call_ACCEPT)
	if len(accepts) != 1 {
		t.Fatalf("calls = %v, want one ACCEPT", r.types())
	}
	acc := accepts[0]
	if acc.FrameworkID.GetValue() != "fw-1" || len(acc.Accept.OfferIDs) != 1 || acc.Accept.OfferIDs[0].Value != "o1" {
		t.Errorf("accept = %+v", acc.Accept)
	}
	if len(acc.Accept.Operations) != 1 || acc.Accept.Operations[0].Type != mesos.Offer_Operation_LAUNCH {
		t.Fatalf("operations = %+v", acc.Accept.Operations)
	}
	tasks := acc.Accept.Operations[0].Launch.TaskInfos
	if len(tasks) != 2 || tasks[0].TaskID == tasks[1].TaskID {
		t.Fatalf("tasks = %+v", tasks)
	}
	for i, kind := range []string{"registry", "data"} {
		id, ok := taskid.Parse(tasks[i].TaskID.Value)
		if !ok || id.Kind != kind || id.ConfigHash != r.c.Service(spec.Kind(kind)).ConfigHash {
			t.Errorf("task %d id %q", i, tasks[i].TaskID.Value)
		}
	}
	if got := refuse(t, acc.Accept.Filters); got != defaultRefuse {
		t.Errorf("accept filter = %v", got)
	}
	if s := rep.String(); s != "generation 7: launched 2, killed 0 (0 waiting), probed 0, unmatched 0, declined 0, held 1" {
		t.Errorf("summary = %q", s)
	}
	if len(rep.Launched) != 2 || len(r.launched) != 2 || r.launched[0] != tasks[0].TaskID.Value+" a1 registry "+r.c.Service(spec.Registry).ConfigHash {
		t.Errorf("launched: report %+v, OnLaunch %v", rep.Launched, r.launched)
	}
	// o2 arrived before this Apply but was not seen by an earlier one:
	// held, not declined. No launch is pending now and o1 is used up.
	if len(rep.Declined) != 0 || rep.Held != 1 || r.act.heldOffers() != 1 {
		t.Errorf("declined %v, held %d", rep.Declined, rep.Held)
	}

	// Next plan: converged. o2 is declined with the long filter, and
	// offers are suppressed.
	r.advance(time.Second)
	rep, err = r.apply()
	if err != nil {
		t.Fatal(err)
	}
	declines := r.calls.OfType(scheduler.Call_DECLINE)
	if len(declines) != 1 || declines[0].Decline.OfferIDs[0].Value != "o2" || refuse(t, declines[0].Decline.Filters) != time.Hour {
		t.Errorf("declines = %+v", declines)
	}
	if !rep.Suppressed || len(r.calls.OfType(scheduler.Call_SUPPRESS)) != 1 || r.act.heldOffers() != 0 {
		t.Errorf("calls %v, held %d", r.types(), r.act.heldOffers())
	}
}

func TestApply_ProberLaunch(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	if _, err := r.apply(launchProber("a1", "node1", r.c)); err != nil {
		t.Fatal(err)
	}
	acc := r.calls.OfType(scheduler.Call_ACCEPT)
	if len(acc) != 1 {
		t.Fatalf("calls %v", r.types())
	}
	ti := acc[0].Accept.Operations[0].Launch.TaskInfos[0]
	if ti.Executor == nil || ti.Executor.ExecutorID.Value != proberExecutorID(r.c.Prober.ConfigHash) || len(ti.Executor.Resources) == 0 || len(ti.Resources) == 0 {
		t.Errorf("prober task = %+v", ti)
	}
}

func TestApply_DeclineShortWhileLaunchWaits(t *testing.T) {
	r := newRig(t)
	small := offer("o1", "a1", "node1", scalar("cpus", 1), scalar("mem", 1024))
	r.act.HandleOffers([]mesos.Offer{small, bigOffer("o2", "a2", "node2")})
	rep, _ := r.apply(dataAction("a1", "node1"))
	if len(rep.Unmatched) != 1 || rep.Unmatched[0].NoOffer || len(rep.Declined) != 0 {
		t.Fatalf("first apply: %+v", rep)
	}
	if rep.Revived {
		t.Error("revived although an offer from node1 is held: reviving will not make it bigger")
	}
	r.advance(time.Second)
	rep, _ = r.apply(dataAction("a1", "node1"))
	got := map[string]time.Duration{}
	for _, d := range r.calls.OfType(scheduler.Call_DECLINE) {
		for _, id := range d.Decline.OfferIDs {
			got[id.Value] = refuse(t, d.Decline.Filters)
		}
	}
	want := map[string]time.Duration{"o1": defaultPendingRefuse, "o2": defaultRefuse}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("declines = %v, want %v", got, want)
	}
	if len(rep.Declined) != 2 || rep.Held != 0 {
		t.Errorf("report: %+v", rep)
	}
}

func TestApply_ReviveRateLimited(t *testing.T) {
	r := newRig(t)
	want := dataAction("a1", "node1")
	rep, _ := r.apply(want)
	if !rep.Revived || len(r.calls.OfType(scheduler.Call_REVIVE)) != 1 {
		t.Fatalf("no revive for a launch without offers: %v", r.types())
	}
	i := defaultReviveMinInterval
	for _, step := range []struct {
		after  time.Duration
		revive bool
	}{{i / 4, false}, {i / 2, false}, {i / 4, true}, {i / 4, false}, {i, true}} {
		r.advance(step.after)
		rep, _ = r.apply(want)
		if rep.Revived != step.revive || len(r.calls.OfType(scheduler.Call_REVIVE)) != map[bool]int{false: 0, true: 1}[step.revive] {
			t.Errorf("at +%v: revived %v, want %v (calls %v)", step.after, rep.Revived, step.revive, r.types())
		}
	}
}

// What a prober's launch leaves of its offer is not filtered: the probe's
// report asks for services there soon, and the rest comes back with the
// next allocation instead of after a REVIVE. A service's launch leaves
// the rest filtered for Refuse.
func TestApply_ProberLaunchLeavesItsOfferUnfiltered(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1"), bigOffer("o2", "a2", "node2"), bigOffer("o3", "a3", "node3")})
	// On node3 a service and the prober share the offer, the prober second.
	if _, err := r.apply(launchProber("a1", "node1", r.c), dataAction("a2", "node2"), dataAction("a3", "node3"), launchProber("a3", "node3", r.c)); err != nil {
		t.Fatal(err)
	}
	accepts := r.calls.OfType(scheduler.Call_ACCEPT)
	if len(accepts) != 3 {
		t.Fatalf("%d ACCEPTs, want 3", len(accepts))
	}
	for _, c := range accepts {
		want := time.Duration(0)
		if c.Accept.OfferIDs[0].Value == "o2" {
			want = defaultRefuse
		}
		if got := refuse(t, c.Accept.Filters); got != want {
			t.Errorf("ACCEPT of %s: refuse %v, want %v", c.Accept.OfferIDs[0].Value, got, want)
		}
	}
}

// Launched probers report within the second and ask for services: the
// plans before their reports come do not SUPPRESS (a REVIVE would follow at
// once, and what the probers' launches left of their offers would not come
// back), until ReviveMinInterval has passed.
func TestApply_NoSuppressRightAfterProbersLaunch(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	if _, err := r.apply(launchProber("a1", "node1", r.c)); err != nil {
		t.Fatal(err)
	}
	r.advance(defaultReviveMinInterval / 2)
	if rep, _ := r.apply(); rep.Suppressed {
		t.Fatalf("suppressed %v after probers were launched: %v", defaultReviveMinInterval/2, r.types())
	}
	r.advance(defaultReviveMinInterval / 2)
	if rep, _ := r.apply(); !rep.Suppressed {
		t.Fatalf("not suppressed %v after the probers' launch: %v", defaultReviveMinInterval, r.types())
	}
}

// A plan that launches on the offers in hand while other launches wait for
// offers sends its REVIVE before the ACCEPTs: at scale those take a second,
// and the waiting launches' offers can come meanwhile (test/scale).
func TestApply_ReviveGoesBeforeTheAccepts(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1"), bigOffer("o2", "a2", "node2")})
	rep, err := r.apply(dataAction("a1", "node1"), dataAction("a2", "node2"), dataAction("a3", "node3"))
	if err != nil {
		t.Fatal(err)
	}
	got := r.types()
	if !rep.Revived || len(got) != 3 || got[0] != scheduler.Call_REVIVE || got[1] != scheduler.Call_ACCEPT || got[2] != scheduler.Call_ACCEPT {
		t.Errorf("calls %v, want REVIVE and then the two ACCEPTs", got)
	}
}

// Before the first offer the framework has not seen the cluster: an empty
// plan then means "no agent known yet", not "converged", and suppressing
// would hide every agent until the discovery revive.
func TestApply_NoSuppressBeforeFirstOffer(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 3; i++ {
		if rep, _ := r.apply(); rep.Suppressed || r.act.suppressedNow() {
			t.Fatalf("suppressed before any offer: %v", r.types())
		}
		r.advance(time.Minute)
	}
	r.act.HandleOffers([]mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 0.1))})
	if rep, _ := r.apply(); !rep.Suppressed {
		t.Fatalf("not suppressed once offers came and nothing is wanted: %v", r.types())
	}
	// A new subscription has seen nothing again.
	r.act.Disconnected()
	r.advance(time.Minute)
	if rep, _ := r.apply(); rep.Suppressed {
		t.Errorf("suppressed on a new subscription before its first offer: %v", r.types())
	}
}

func TestApply_SuppressWhenConverged(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{offer("o0", "a1", "node1", scalar("cpus", 0.1))})
	rep, _ := r.apply()
	if !rep.Suppressed || !r.act.suppressedNow() {
		t.Fatalf("not suppressed: %v", r.types())
	}
	r.advance(time.Minute)
	// (The offer held since before is declined now: only SUPPRESS must not repeat.)
	if rep, _ = r.apply(); rep.Suppressed || len(r.calls.OfType(scheduler.Call_SUPPRESS)) != 0 {
		t.Errorf("suppressed again: %v", r.types())
	}
	// A launch while suppressed revives at once, whatever offers are held.
	r.act.HandleOffers([]mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 0.1))})
	if rep, _ = r.apply(dataAction("a1", "node1")); !rep.Revived || r.act.suppressedNow() {
		t.Errorf("no revive while suppressed: %v", r.types())
	}
	// Converged again right after the revive: wait for its offers before
	// suppressing, or the revive was for nothing.
	r.advance(defaultReviveMinInterval / 2)
	if rep, _ = r.apply(); rep.Suppressed {
		t.Error("suppressed right after a revive")
	}
	r.advance(defaultReviveMinInterval)
	if rep, _ = r.apply(); !rep.Suppressed {
		t.Errorf("not suppressed: %v", r.types())
	}
	// A new subscription starts unsuppressed.
	r.act.Disconnected()
	if r.act.suppressedNow() {
		t.Error("still suppressed after Disconnected")
	}
	r.act.HandleOffers([]mesos.Offer{offer("o2", "a1", "node1", scalar("cpus", 0.1))})
	r.advance(time.Second)
	if rep, _ = r.apply(); !rep.Suppressed {
		t.Errorf("not suppressed on the new subscription: %v", r.types())
	}
}

// Offers are how new agents show up: while suppressed, look now and then.
func TestApply_DiscoveryRevive(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{offer("o0", "a1", "node1", scalar("cpus", 0.1))})
	r.apply()
	r.advance(defaultDiscoveryInterval - time.Second)
	if rep, _ := r.apply(); rep.Revived {
		t.Error("revived too early")
	}
	r.advance(time.Second)
	if rep, _ := r.apply(); !rep.Revived {
		t.Errorf("no discovery revive: %v", r.types())
	}
}

func TestApply_KillRetryInterval(t *testing.T) {
	r := newRig(t)
	k := controller.Action{Type: controller.Kill, AgentID: "a1", Hostname: "node1", Kind: "data", TaskID: "quobyte.data.h.s1"}.WithReason("not wanted")
	rep, _ := r.apply(k)
	kills := r.calls.OfType(scheduler.Call_KILL)
	if len(kills) != 1 || kills[0].Kill.TaskID.Value != k.TaskID || kills[0].Kill.AgentID.GetValue() != "a1" || len(rep.Killed) != 1 {
		t.Fatalf("kills = %+v", kills)
	}
	// The snapshot has not caught up (KillSent still zero): our own record
	// keeps the kill from going out again too soon.
	r.advance(9 * time.Second)
	rep, _ = r.apply(k)
	if len(r.calls.OfType(scheduler.Call_KILL)) != 0 || len(rep.KillsWaiting) != 1 || rep.KillsWaiting[0].RetryIn != time.Second {
		t.Errorf("kill re-sent too soon: %+v", rep)
	}
	r.advance(time.Second)
	if rep, _ = r.apply(k); len(rep.Killed) != 1 {
		t.Errorf("kill not re-sent after the interval: %v", r.types())
	}
	// The snapshot's record counts too (e.g. after a framework restart).
	k2 := k
	k2.TaskID, k2.KillSent = "quobyte.data.h.s2", r.now.Add(-3*time.Second)
	if rep, _ = r.apply(k2); len(rep.Killed) != 0 || len(rep.KillsWaiting) != 1 {
		t.Errorf("snapshot's KillSent ignored: %+v", rep)
	}
	// A kill the plan no longer asks for is forgotten.
	if len(r.act.killSent) != 0 {
		t.Errorf("stale kill records: %v", r.act.killSent)
	}
}

func TestApply_Probe(t *testing.T) {
	r := newRig(t)
	p := controller.Action{Type: controller.Probe, AgentID: "a1", Hostname: "node1", Kind: "prober", TaskID: "quobyte.prober.ph1.s1"}.WithReason("stale")
	rep, err := r.apply(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := r.calls.OfType(scheduler.Call_MESSAGE)
	if len(msgs) != 1 || msgs[0].Message.AgentID.Value != "a1" || msgs[0].Message.ExecutorID.Value != "quobyte-prober-ph1" || string(msgs[0].Message.Data) != "probe" || len(rep.Probed) != 1 {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestApply_ErrorsCarryItems(t *testing.T) {
	r := newRig(t)
	boom := errors.New("connection reset")
	r.calls.Fail = func(c *scheduler.Call) error {
		if c.Type == scheduler.Call_KILL || c.Type == scheduler.Call_ACCEPT {
			return boom
		}
		return nil
	}
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	k := controller.Action{Type: controller.Kill, AgentID: "a2", Kind: "api", TaskID: "quobyte.api.h.s1"}.WithReason("excess")
	badProbe := controller.Action{Type: controller.Probe, AgentID: "a2", Kind: "prober", TaskID: "not-a-prober"}
	rep, err := r.apply(k, dataAction("a1", "node1"), badProbe)
	if err == nil || !strings.Contains(err.Error(), boom.Error()) {
		t.Fatalf("err = %v", err)
	}
	items := map[string]bool{}
	for _, f := range rep.Failed {
		items[f.Action.Item()] = true
	}
	if !items["api@a2"] || !items["data@a1"] || !items["probe@a2"] || len(items) != 3 || len(rep.Failed) != 3 {
		t.Errorf("failed items = %v (report %v)", items, rep.Failed)
	}
	if len(r.launched) != 0 || len(rep.Launched) != 0 {
		t.Error("a failed ACCEPT reported a launch")
	}
	if r.act.heldOffers() != 0 {
		t.Error("the offer of a failed ACCEPT is kept")
	}
	// A failed kill is not recorded as sent: it goes again next time.
	r.calls.Fail = nil
	if rep, _ = r.apply(k); len(rep.Killed) != 1 {
		t.Errorf("failed kill not retried: %+v", rep)
	}
}

func TestApply_RescindAndDisconnect(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1"), bigOffer("o2", "a2", "node2")})
	r.act.HandleRescind("o1")
	rep, _ := r.apply(dataAction("a1", "node1"))
	if len(rep.Launched) != 0 || len(rep.Unmatched) != 1 || !rep.Unmatched[0].NoOffer || !rep.Revived {
		t.Errorf("rescinded offer used: %+v", rep)
	}
	r.act.Disconnected()
	if r.act.heldOffers() != 0 {
		t.Error("offers survive the connection")
	}
}

func TestApply_TaskBuildErrorLeavesOfferUnused(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	bad := launch("a1", "node1", "nfs", spec.Resources{CPUs: 1, Mem: 1})
	rep, err := r.apply(bad)
	if len(rep.Failed) != 1 || rep.Failed[0].Action.Item() != bad.Item() {
		t.Fatalf("failed %+v (%v)", rep.Failed, err)
	}
	if len(r.calls.OfType(scheduler.Call_ACCEPT)) != 0 || rep.Held != 1 {
		t.Errorf("calls %v, held %d", r.types(), rep.Held)
	}
}

func TestApply_ConcurrentEvents(t *testing.T) {
	r := newRig(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			id := fmt.Sprintf("o%d", i)
			r.act.HandleOffers([]mesos.Offer{bigOffer(id, "a1", "node1")})
			if i%3 == 0 {
				r.act.HandleRescind(id)
			}
			if i%50 == 0 {
				r.act.Disconnected()
			}
		}
	}()
	for range 50 {
		if err := reportErr(r.act.apply(context.Background(), r.plan())); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestApply_CanceledContext(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := controller.Action{Type: controller.Kill, AgentID: "a1", Kind: "data", TaskID: "quobyte.data.h.s1"}
	rep := r.act.Apply(ctx, r.plan(k, k))
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], context.Canceled.Error()) {
		t.Errorf("report = %+v, want the context's error", rep)
	}
}

// A plan without its spec, or a launch whose config no spec of the plan
// has, is not applied: a task's ID would lie about its config.
func TestApply_LaunchWithoutItsSpecFails(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	if rep := r.act.Apply(context.Background(), &controller.Result{Actions: []controller.Action{dataAction("a1", "node1")}}); len(rep.Errors) != 1 {
		t.Errorf("plan without a spec: %+v", rep)
	}
	stale := dataAction("a1", "node1")
	stale.ConfigHash = "0123456789"
	rep := r.act.apply(context.Background(), r.plan(stale))
	if len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Error, "no spec of this plan has config 0123456789") ||
		len(r.calls.OfType(scheduler.Call_ACCEPT)) != 0 {
		t.Errorf("stale config: %+v, calls %v", rep, r.types())
	}
}

// A revert's launch is built from the previous spec the Result carries.
func TestApply_RevertLaunchUsesThePreviousSpec(t *testing.T) {
	r := newRig(t)
	prev := testCluster(t, `image = "quobyte/server"
version = "3.13"
device_root = "/mnt/quobyte"`, "")
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	a := dataAction("a1", "node1")
	a.ConfigHash = prev.Service(spec.Data).ConfigHash
	plan := r.plan(a)
	plan.Reverts = []controller.Revert{{Item: a.Item(), Kind: "data", AgentID: "a1", From: r.c.Service(spec.Data).ConfigHash, To: a.ConfigHash, Spec: prev}}
	if err := reportErr(r.act.apply(context.Background(), plan)); err != nil {
		t.Fatal(err)
	}
	acc := r.calls.OfType(scheduler.Call_ACCEPT)
	if len(acc) != 1 {
		t.Fatalf("calls %v", r.types())
	}
	ti := acc[0].Accept.Operations[0].Launch.TaskInfos[0]
	if img := ti.Container.Docker.Image; img != "quobyte/server:3.13" {
		t.Errorf("image %q, want the previous spec's quobyte/server:3.13", img)
	}
}

// Launches that wait for a REVIVE held back by its rate limit ask the loop
// to plan again when it may go (the loop owns the timing).
func TestApply_RequeueAfterWhileLaunchesWait(t *testing.T) {
	r := newRig(t)
	want := dataAction("a1", "node1")
	rep, _ := r.apply(want) // revives
	if rep.RequeueAfter != 0 {
		t.Errorf("requeue %v after a REVIVE went out", rep.RequeueAfter)
	}
	r.advance(defaultReviveMinInterval / 4)
	rep, _ = r.apply(want) // the REVIVE is held back
	if rep.Revived || rep.RequeueAfter != defaultReviveMinInterval*3/4 {
		t.Errorf("revived %v, requeue after %v, want %v", rep.Revived, rep.RequeueAfter, defaultReviveMinInterval*3/4)
	}
	if rep, _ = r.apply(); rep.RequeueAfter != 0 {
		t.Errorf("requeue %v with nothing waiting", rep.RequeueAfter)
	}
}

// Before reconciliation the plan is gated: it cannot tell which agents it
// will want. For GatedHold after the gate began offers are held, so that
// the first launches after reconciliation need no REVIVE; a gate that lasts
// longer declines them with the short filter (an hour's filter would make
// every first launch wait for a REVIVE). Offers are never suppressed.
func TestApply_GatedPlanHoldsThenDeclinesShortAndNeverSuppresses(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	gated := &controller.Result{Generation: 1, Gated: true, Blocked: []controller.Blocked{{Kind: "*", Reason: "waiting for reconciliation"}}}
	gated.Spec = r.c
	apply := func(what string) {
		t.Helper()
		r.calls.Reset()
		rep := r.act.apply(context.Background(), gated)
		if err := reportErr(rep); err != nil {
			t.Fatal(err)
		}
		if rep.Suppressed || rep.Revived {
			t.Fatalf("%s: suppressed %v revived %v", what, rep.Suppressed, rep.Revived)
		}
	}
	apply("the first gated plan (only sees the offer)")
	r.advance(defaultGatedHold - time.Second)
	apply("a gated plan within the hold")
	if d := r.calls.OfType(scheduler.Call_DECLINE); len(d) != 0 {
		t.Fatalf("declined within the hold: %+v", d)
	}
	if r.act.heldOffers() != 1 {
		t.Fatalf("%d offers held, want 1", r.act.heldOffers())
	}
	r.advance(time.Second)
	apply("a gated plan after the hold")
	declines := r.calls.OfType(scheduler.Call_DECLINE)
	if len(declines) != 1 || refuse(t, declines[0].Decline.Filters) != defaultPendingRefuse {
		t.Fatalf("declines %+v, want one with the short filter", declines)
	}
}

// Offers held at the start of a gate carry the first launches after it,
// without a REVIVE.
func TestApply_OffersHeldThroughTheGateCarryTheFirstLaunches(t *testing.T) {
	r := newRig(t)
	r.act.HandleOffers([]mesos.Offer{bigOffer("o1", "a1", "node1")})
	gated := &controller.Result{Generation: 1, Gated: true, Spec: r.c}
	for range 2 {
		if err := reportErr(r.act.apply(context.Background(), gated)); err != nil {
			t.Fatal(err)
		}
		r.advance(time.Second)
	}
	r.calls.Reset()
	rep, _ := r.apply(launchProber("a1", "node1", r.c))
	if len(rep.Launched) != 1 || rep.Revived {
		t.Fatalf("after the gate: launched %d, revived %v; calls %v", len(rep.Launched), rep.Revived, r.types())
	}
}

// The discovery REVIVE looks for new agents while offers are suppressed;
// never before (at start-up it would only spend the revive allowance that
// the first launches need).
func TestApply_NoDiscoveryReviveUnlessSuppressed(t *testing.T) {
	r := newRig(t)
	r.advance(time.Hour) // long past any discovery interval
	if rep, _ := r.apply(); rep.Revived {
		t.Errorf("discovery revive without suppression: %v", r.types())
	}
}

// ACCEPTs go out CallConcurrency at a time, never more, and the report
// lists the launches in plan order whatever order the calls finished in.
func TestApply_AcceptsBoundedConcurrency(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	inFlight, most := 0, 0
	r.calls.Fail = func(c *scheduler.Call) error {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}
	var acts []controller.Action
	var offers []mesos.Offer
	for i := range 40 {
		agent, host := fmt.Sprintf("a%02d", i), fmt.Sprintf("node%02d", i)
		offers = append(offers, bigOffer("o"+agent, agent, host))
		acts = append(acts, dataAction(agent, host))
	}
	r.act.HandleOffers(offers)
	rep, err := r.apply(acts...)
	if err != nil {
		t.Fatal(err)
	}
	if most > defaultCallConcurrency || most < 2 {
		t.Errorf("%d calls in flight at most, want 2..%d", most, defaultCallConcurrency)
	}
	if len(rep.Launched) != len(acts) {
		t.Fatalf("launched %d of %d", len(rep.Launched), len(acts))
	}
	for i, l := range rep.Launched {
		if l.AgentID != acts[i].AgentID {
			t.Fatalf("launch %d on %s, want %s: not in plan order", i, l.AgentID, acts[i].AgentID)
		}
	}
}
