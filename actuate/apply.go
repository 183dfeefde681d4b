package actuate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
)

// applyRun is the state of one Apply.
type applyRun struct {
	a    *Actuator
	ctx  context.Context
	plan *controller.Result
	now  time.Time
	rep  Report
	// gone: offers accepted or declined, to forget at the end.
	gone []string
}

// Apply carries out plan (controller.Applier): kills, probe requests,
// launches on the held offers, then offer hygiene (decline, revive,
// suppress). It keeps going after a failed call and reports every failed
// action with its error, so that only their items back off. Launches are
// built from the spec the plan carries (Result.SpecFor) with the plan's
// RegistryAddrs. It returns early only when ctx ends. Config.OnReport sees
// the full Report.
func (a *Actuator) Apply(ctx context.Context, plan *controller.Result) controller.ApplyReport {
	rep := a.apply(ctx, plan)
	if a.cfg.OnReport != nil {
		a.cfg.OnReport(rep)
	}
	return rep.ApplyReport
}

func (a *Actuator) apply(ctx context.Context, plan *controller.Result) Report {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	if plan == nil || plan.Spec == nil {
		return Report{ApplyReport: controller.ApplyReport{Errors: []string{"apply: no plan, or a plan without its spec: nothing applied"}}}
	}
	r := &applyRun{a: a, ctx: ctx, plan: plan, now: a.cfg.Now(), rep: Report{Generation: plan.Generation}}

	a.mu.Lock()
	epoch, st := a.epoch, a.offerState
	held := make([]heldOffer, 0, len(a.offers))
	for _, h := range a.offers {
		held = append(held, *h)
		h.seen = true
	}
	a.mu.Unlock()
	sort.Slice(held, func(i, j int) bool { return held[i].offer.ID.Value < held[j].offer.ID.Value })

	// Launches stay in the plan's slice (match skips other actions): a
	// fresh cluster's plan has tens of thousands.
	var sends []controller.Action
	launches := 0
	for _, act := range plan.Actions {
		switch act.Type {
		case controller.Kill, controller.Probe:
			sends = append(sends, act)
		case controller.Launch, controller.LaunchProber:
			launches++
		default:
			r.fail(act, fmt.Errorf("unknown action type %q", act.Type))
		}
	}
	r.killAndProbe(sends)
	if ctx.Err() != nil {
		r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("apply generation %d: %v", plan.Generation, ctx.Err()))
		return r.rep
	}
	a.forgetKills(plan)

	offers := make([]mesos.Offer, len(held))
	for i := range held {
		offers[i] = held[i].offer
	}
	m := match(plan.Actions, offers)
	waiting := map[string]bool{} // agents a launch still waits for
	noOffer := false
	debug := a.log.IsDebug() // (tens of thousands wait in a fresh cluster)
	for _, u := range m.Unmatched {
		waiting[u.Action.AgentID] = true
		noOffer = noOffer || u.NoOffer
		if debug {
			a.log.Debug("launch waits for an offer", "kind", u.Action.Kind, "host", hostOf(u.Action), "item", u.Action.Item(), "why", u.Reason)
		}
	}
	r.rep.Unmatched = m.Unmatched
	// The REVIVE that launches waiting for offers need goes out before
	// the ACCEPTs: thousands of those take a second, and the offers it
	// brings meanwhile are ready for the next plan.
	if launches > 0 && (st.suppressed || noOffer) {
		r.maybeRevive(&st, "launches wait for offers")
	}
	used := r.launch(m.Assigned, waiting)
	if slices.ContainsFunc(r.rep.Launched, func(l LaunchedTask) bool { return l.Kind == taskid.ProberKind }) {
		st.lastProbers = r.now
	}
	switch {
	case !plan.Gated:
		st.gatedSince = time.Time{}
	case st.gatedSince.IsZero():
		st.gatedSince = r.now
	}
	hold := plan.Gated && r.now.Sub(st.gatedSince) < a.cfg.GatedHold
	r.decline(held, used, waiting, plan.Gated, hold)

	switch {
	case launches > 0, plan.Gated:
		// Launches wait for offers in hand, or the plan cannot tell yet
		// what is wanted (before reconciliation): keep offers coming.
	case !st.suppressed && st.offered:
		r.maybeSuppress(&st)
	case st.suppressed && a.cfg.DiscoveryInterval > 0 && r.now.Sub(st.suppressedAt) >= a.cfg.DiscoveryInterval:
		// Offers are how we learn of new agents: look now and then.
		r.maybeRevive(&st, "looking for new agents")
	}
	if len(m.Unmatched) > 0 && !r.rep.Revived {
		// The REVIVE the waiting launches may need was held back by its
		// rate limit (or offers in hand do not fit yet): plan again as
		// soon as it may go, not at the next tick (measured in
		// test/scale: waiting for the tick made a fresh cluster take
		// 12-18 allocation intervals).
		wait := a.cfg.ReviveMinInterval - r.now.Sub(st.lastRevive)
		if wait <= 0 {
			wait = a.cfg.ReviveMinInterval
		}
		r.rep.RequeueAfter = wait
	}

	a.mu.Lock()
	for _, id := range r.gone {
		delete(a.offers, id)
	}
	if a.epoch == epoch { // a new subscription starts afresh
		st.offered = st.offered || a.offerState.offered // offers may have come meanwhile
		a.offerState = st
	}
	r.rep.Held = len(a.offers)
	a.mu.Unlock()

	a.log.Debug("applied", "summary", r.rep.String())
	return r.rep
}

// call sends one call, with the framework ID when we know it.
func (r *applyRun) call(c *scheduler.Call) error {
	if f := r.a.cfg.FrameworkID; f != nil && c.FrameworkID == nil {
		if id := f(); id != "" {
			c.FrameworkID = &mesos.FrameworkID{Value: id}
		}
	}
	if r.a.cfg.Caller == nil {
		return fmt.Errorf("mesos %s: no caller configured", c.Type)
	}
	return calls.CallNoData(r.ctx, r.a.cfg.Caller, c)
}

// each runs f(0), ..., f(n-1) on at most CallConcurrency goroutines at
// once and returns when every one has returned. Calls to Mesos go through
// it: thousands of launches must not wait for one another's round trips,
// nor open thousands of connections to the master. f must only touch
// state of its own i.
func (r *applyRun) each(n int, f func(i int)) {
	workers := min(r.a.cfg.CallConcurrency, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// fail reports that act failed: its item backs off.
func (r *applyRun) fail(act controller.Action, err error) {
	r.rep.Failed = append(r.rep.Failed, controller.FailedAction{Action: act, Error: err.Error()})
}
