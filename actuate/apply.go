package actuate

import (
	"context"
	"fmt"
	"sort"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// applyRun is the state of one Apply.
type applyRun struct {
	a       *Actuator
	ctx     context.Context
	c       *spec.Cluster
	regs    string
	now     time.Time
	rep     Report
	itemErr []*ItemError
	other   []error
	// gone: offers accepted or declined, to forget at the end.
	gone []string
}

// Apply carries out plan: kills, probe requests, launches on the held
// offers, then offer hygiene (decline, revive, suppress). It keeps going
// after a failed call; the error joins every failure, and ItemErrors(err)
// says which backoff items they belong to. It returns early only when ctx
// ends.
func (a *Actuator) Apply(ctx context.Context, plan *controller.Result, c *spec.Cluster, registryAddrs string) (Report, error) {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	if plan == nil || c == nil {
		return Report{}, fmt.Errorf("apply: plan and spec are required")
	}
	if plan.SpecHash != "" && plan.SpecHash != c.Hash {
		// The plan's config hashes name another spec than the one we
		// would build TaskInfos from: launching would put tasks whose
		// ID lies about their config. Plan again instead.
		return Report{Generation: plan.Generation}, fmt.Errorf("apply generation %d: plan made for spec %s, spec in force is %s: not applied", plan.Generation, plan.SpecHash, c.Hash)
	}
	r := &applyRun{a: a, ctx: ctx, c: c, regs: registryAddrs, now: a.cfg.Now(), rep: Report{Generation: plan.Generation}}

	a.mu.Lock()
	epoch, st := a.epoch, a.offerState
	held := make([]heldOffer, 0, len(a.offers))
	for _, h := range a.offers {
		held = append(held, *h)
		h.seen = true
	}
	a.mu.Unlock()
	sort.Slice(held, func(i, j int) bool { return held[i].offer.ID.Value < held[j].offer.ID.Value })

	var launches []controller.Action
	for _, act := range plan.Actions {
		switch act.Type {
		case controller.Kill:
			r.kill(act)
		case controller.Probe:
			r.probe(act)
		case controller.Launch, controller.LaunchProber:
			launches = append(launches, act)
		default:
			r.other = append(r.other, fmt.Errorf("apply: unknown action type %q for %s", act.Type, act.Item))
		}
		if ctx.Err() != nil {
			return r.rep, fmt.Errorf("apply generation %d: %w", plan.Generation, ctx.Err())
		}
	}
	a.forgetKills(plan)

	offers := make([]mesos.Offer, len(held))
	for i := range held {
		offers[i] = held[i].offer
	}
	m := Match(launches, offers)
	waiting := map[string]bool{} // agents a launch still waits for
	noOffer := false
	for _, u := range m.Unmatched {
		waiting[u.Action.AgentID] = true
		noOffer = noOffer || u.NoOffer
		a.log.Debug("launch waits for an offer", "kind", u.Action.Kind, "host", hostOf(u.Action), "item", u.Action.Item, "why", u.Reason)
	}
	r.rep.Unmatched = m.Unmatched
	used := r.launch(m.Assigned, waiting)
	r.decline(held, used, waiting, plan.Gated)

	switch {
	case len(launches) > 0 && (st.suppressed || noOffer):
		r.maybeRevive(&st, "launches wait for offers")
	case len(launches) > 0, plan.Gated:
		// Launches wait for offers in hand, or the plan cannot tell yet
		// what is wanted (before reconciliation): keep offers coming.
	case !st.suppressed && st.offered:
		r.maybeSuppress(&st)
	case st.suppressed && a.cfg.DiscoveryInterval > 0 && r.now.Sub(st.suppressedAt) >= a.cfg.DiscoveryInterval:
		// Offers are how we learn of new agents: look now and then.
		r.maybeRevive(&st, "looking for new agents")
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

	r.rep.Errors = r.itemErr
	a.log.Debug("applied", "summary", r.rep.String())
	if err := errorsOf(r.itemErr, r.other); err != nil {
		return r.rep, fmt.Errorf("apply generation %d: %w", plan.Generation, err)
	}
	return r.rep, nil
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

func (r *applyRun) fail(act controller.Action, taskID string, err error) {
	r.itemErr = append(r.itemErr, &ItemError{Item: act.Item, Type: act.Type, TaskID: taskID, Err: err, Action: act})
}
