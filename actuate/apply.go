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
	"github.com/quobyte/quobyte-mesos/observe/taskid"
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
	r.decline(held, used, waiting)

	switch {
	case len(launches) > 0 && (st.suppressed || noOffer):
		r.maybeRevive(&st, "launches wait for offers")
	case len(launches) > 0:
	case !st.suppressed:
		r.maybeSuppress(&st)
	case a.cfg.DiscoveryInterval > 0 && r.now.Sub(st.suppressedAt) >= a.cfg.DiscoveryInterval:
		// Offers are how we learn of new agents: look now and then.
		r.maybeRevive(&st, "looking for new agents")
	}

	a.mu.Lock()
	for _, id := range r.gone {
		delete(a.offers, id)
	}
	if a.epoch == epoch { // a new subscription starts afresh
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

// kill sends KILL unless one went out less than KillRetryInterval ago,
// by the snapshot's record (act.KillSent) or ours (the snapshot may not
// have caught up with the last Apply yet).
func (r *applyRun) kill(act controller.Action) {
	a := r.a
	a.mu.Lock()
	last := a.killSent[act.TaskID]
	a.mu.Unlock()
	if act.KillSent.After(last) {
		last = act.KillSent
	}
	ref := taskRef(act)
	if !last.IsZero() && r.now.Sub(last) < a.cfg.KillRetryInterval {
		ref.RetryIn = a.cfg.KillRetryInterval - r.now.Sub(last)
		r.rep.KillsWaiting = append(r.rep.KillsWaiting, ref)
		a.log.Debug("kill already sent", "task_id", act.TaskID, "host", hostOf(act), "retry_in", ref.RetryIn, "reason", act.Reason)
		return
	}
	if err := r.call(calls.Kill(act.TaskID, act.AgentID)); err != nil {
		a.log.Warn("kill failed", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason, "error", err)
		r.fail(act, act.TaskID, fmt.Errorf("kill %s on %s: %w", act.TaskID, hostOf(act), err))
		return
	}
	a.mu.Lock()
	a.killSent[act.TaskID] = r.now
	a.mu.Unlock()
	a.log.Info("kill", "task_id", act.TaskID, "host", hostOf(act), "kind", act.Kind, "reason", act.Reason, "resent", !last.IsZero())
	r.rep.Killed = append(r.rep.Killed, ref)
}

// forgetKills drops our record of kills the plan no longer asks for: their
// tasks are terminal (or the plan changed its mind).
func (a *Actuator) forgetKills(plan *controller.Result) {
	want := map[string]bool{}
	for _, act := range plan.Actions {
		if act.Type == controller.Kill {
			want[act.TaskID] = true
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.killSent {
		if !want[id] {
			delete(a.killSent, id)
		}
	}
}

// probe asks a prober to probe and report now, by a MESSAGE to its executor.
func (r *applyRun) probe(act controller.Action) {
	execID, err := ProberExecutorIDOfTask(act.TaskID)
	if err == nil {
		err = r.call(calls.Message(act.AgentID, execID, []byte(ProbeMessage)))
	}
	if err != nil {
		r.a.log.Warn("probe request failed", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason, "error", err)
		r.fail(act, act.TaskID, fmt.Errorf("probe %s on %s: %w", act.TaskID, hostOf(act), err))
		return
	}
	r.a.log.Debug("probe", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason)
	r.rep.Probed = append(r.rep.Probed, taskRef(act))
}

// launch sends one ACCEPT per offer with a LAUNCH of all tasks assigned to
// it, and returns the offers used.
func (r *applyRun) launch(assigned []Assignment, waiting map[string]bool) map[string]bool {
	used := map[string]bool{}
	type pending struct {
		as   Assignment
		task mesos.TaskInfo
	}
	byOffer := map[string][]pending{}
	var order []string
	for _, as := range assigned {
		act := as.Action
		kind := act.Kind
		id, err := taskid.New(kind, act.ConfigHash, r.a.cfg.NewSuffix())
		if err != nil {
			r.fail(act, "", fmt.Errorf("launch %s on %s: %w", kind, hostOf(act), err))
			continue
		}
		ti, err := BuildTaskInfo(r.c, act, TaskParams{
			AgentID: as.AgentID, TaskID: id.String(),
			Resources: as.Task, ExecutorResources: as.Executor,
			RegistryAddrs:     r.regs,
			FrameworkHTTPBase: r.a.cfg.FrameworkHTTPBase,
			FrameworkImage:    r.a.cfg.FrameworkImage,
		})
		if err != nil {
			r.a.log.Error("cannot build task", "kind", kind, "host", hostOf(act), "item", act.Item, "error", err)
			r.fail(act, id.String(), err)
			continue
		}
		if _, ok := byOffer[as.OfferID]; !ok {
			order = append(order, as.OfferID)
		}
		byOffer[as.OfferID] = append(byOffer[as.OfferID], pending{as, ti})
	}
	for _, offerID := range order {
		ps := byOffer[offerID]
		tasks := make([]mesos.TaskInfo, len(ps))
		for i, p := range ps {
			tasks[i] = p.task
		}
		// The filter applies to what is left of the offer.
		refuse := r.a.cfg.RefuseSeconds
		if waiting[ps[0].as.AgentID] {
			refuse = r.a.cfg.PendingRefuseSeconds
		}
		call := calls.Accept(calls.OfferOperations{calls.OpLaunch(tasks...)}.WithOffers(mesos.OfferID{Value: offerID}))
		calls.RefuseSeconds(refuse)(call)
		err := r.call(call)
		// An offer is used once, whatever the answer: after an error the
		// connection is most likely gone, and its offers with it.
		used[offerID] = true
		r.gone = append(r.gone, offerID)
		for _, p := range ps {
			act, tid := p.as.Action, p.task.TaskID.Value
			if err != nil {
				r.a.log.Warn("launch failed", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "reason", act.Reason, "error", err)
				r.fail(act, tid, fmt.Errorf("launch %s on %s: %w", act.Kind, p.as.Hostname, err))
				continue
			}
			r.a.log.Info("launch", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "offer", offerID, "item", act.Item, "reason", act.Reason)
			if r.a.cfg.OnLaunch != nil {
				r.a.cfg.OnLaunch(tid, p.as.AgentID, act.Kind, act.ConfigHash)
			}
			r.rep.Launched = append(r.rep.Launched, LaunchedTask{
				TaskID: tid, AgentID: p.as.AgentID, Hostname: p.as.Hostname, Kind: act.Kind,
				ConfigHash: act.ConfigHash, OfferID: offerID, Item: act.Item, Reason: act.Reason,
			})
		}
	}
	return used
}

// decline declines every unused offer that an Apply has seen before (a
// fresh one may have come after the plan's snapshot was taken: it gets the
// next plan). Offers from agents a launch waits for get the short filter.
func (r *applyRun) decline(held []heldOffer, used, waiting map[string]bool) {
	var long, short []mesos.OfferID
	for _, h := range held {
		id := h.offer.ID.Value
		switch {
		case used[id]:
		case !h.seen:
			// kept for the next Apply
		case waiting[h.offer.AgentID.Value]:
			short = append(short, h.offer.ID)
		default:
			long = append(long, h.offer.ID)
		}
	}
	for _, g := range []struct {
		ids    []mesos.OfferID
		refuse time.Duration
	}{{long, r.a.cfg.RefuseSeconds}, {short, r.a.cfg.PendingRefuseSeconds}} {
		if len(g.ids) == 0 {
			continue
		}
		call := calls.Decline(g.ids...)
		calls.RefuseSeconds(g.refuse)(call)
		if err := r.call(call); err != nil {
			// Kept: the next Apply declines them again, unless the
			// subscription ended and Disconnected dropped them.
			r.a.log.Warn("decline failed", "offers", len(g.ids), "error", err)
			r.other = append(r.other, fmt.Errorf("decline %d offers: %w", len(g.ids), err))
			continue
		}
		for _, id := range g.ids {
			r.gone = append(r.gone, id.Value)
			r.rep.Declined = append(r.rep.Declined, id.Value)
		}
		r.a.log.Debug("declined offers", "count", len(g.ids), "refuse", g.refuse)
	}
}

// maybeSuppress stops offers when nothing is to be launched, unless a
// REVIVE went out less than ReviveMinInterval ago (its offers are still
// on their way; suppressing now would make it moot, and flap).
func (r *applyRun) maybeSuppress(st *offerState) {
	if !st.lastRevive.IsZero() && r.now.Sub(st.lastRevive) < r.a.cfg.ReviveMinInterval {
		return
	}
	if err := r.call(calls.Suppress()); err != nil {
		r.a.log.Warn("suppress failed", "error", err)
		r.other = append(r.other, fmt.Errorf("suppress offers: %w", err))
		return
	}
	r.a.log.Info("suppress offers", "reason", "no launch pending")
	r.rep.Suppressed = true
	st.suppressed, st.suppressedAt = true, r.now
}

// maybeRevive asks for offers again, at most once per ReviveMinInterval.
func (r *applyRun) maybeRevive(st *offerState, why string) {
	if !st.lastRevive.IsZero() && r.now.Sub(st.lastRevive) < r.a.cfg.ReviveMinInterval {
		r.a.log.Debug("revive deferred", "reason", why, "last", st.lastRevive)
		return
	}
	if err := r.call(calls.Revive()); err != nil {
		r.a.log.Warn("revive failed", "reason", why, "error", err)
		r.other = append(r.other, fmt.Errorf("revive offers: %w", err))
		return
	}
	r.a.log.Info("revive offers", "reason", why)
	r.rep.Revived = true
	st.suppressed, st.lastRevive = false, r.now
}
