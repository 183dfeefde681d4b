package actuate

import (
	"fmt"
	"slices"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
)

// launch sends one ACCEPT per offer with a LAUNCH of all tasks assigned to
// it (CallConcurrency at a time), logs and hands each launch to OnLaunch as
// its answer comes, reports the outcomes in offer order, and returns the
// offers used.
func (r *applyRun) launch(assigned []assignment, waiting map[string]bool) map[string]bool {
	used := map[string]bool{}
	type pending struct {
		as           assignment
		task         mesos.TaskInfo
		item, reason string // set when the ACCEPT is answered
	}
	byOffer := map[string][]pending{}
	var order []string
	var tasks taskBuilder
	for _, as := range assigned {
		act := *as.Action
		kind := act.Kind
		id, err := taskid.New(kind, act.ConfigHash, r.a.cfg.NewSuffix())
		if err != nil {
			r.fail(act, fmt.Errorf("launch %s on %s: %w", kind, hostOf(act), err))
			continue
		}
		// The spec whose config the launch names: the plan's own, or the
		// previous one a revert goes back to.
		c := r.plan.SpecFor(act)
		if c == nil {
			r.fail(act, fmt.Errorf("launch %s on %s: no spec of this plan has config %s for it", kind, hostOf(act), act.ConfigHash))
			continue
		}
		ti, err := tasks.build(c, act, taskParams{
			AgentID: as.AgentID, TaskID: id.String(),
			Resources: as.Task, ExecutorResources: as.Executor,
			RegistryAddrs:     r.plan.RegistryAddrs,
			FrameworkHTTPBase: r.a.cfg.FrameworkHTTPBase,
			FrameworkImage:    r.a.cfg.FrameworkImage,
		})
		if err != nil {
			r.a.log.Error("cannot build task", "kind", kind, "host", hostOf(act), "item", act.Item(), "error", err)
			r.fail(act, err)
			continue
		}
		if _, ok := byOffer[as.OfferID]; !ok {
			order = append(order, as.OfferID)
		}
		byOffer[as.OfferID] = append(byOffer[as.OfferID], pending{as: as, task: ti})
	}
	accepts := make([]error, len(order))
	r.each(len(order), func(i int) {
		offerID := order[i]
		ps := byOffer[offerID]
		tasks := make([]mesos.TaskInfo, len(ps))
		for i, p := range ps {
			tasks[i] = p.task
		}
		// The filter applies to what is left of the offer. A prober's
		// leaves it unfiltered: its report usually asks for services on
		// that agent within the second, and the rest then comes back with
		// the master's next allocation, without a REVIVE. (An agent with
		// nothing to run declines it once, for Refuse.)
		refuse := r.a.cfg.Refuse
		if waiting[ps[0].as.AgentID] {
			refuse = r.a.cfg.PendingRefuse
		}
		if slices.ContainsFunc(ps, func(p pending) bool { return p.as.Action.Type == controller.LaunchProber }) {
			refuse = 0
		}
		call := calls.Accept(calls.OfferOperations{calls.OpLaunch(tasks...)}.WithOffers(mesos.OfferID{Value: offerID}))
		calls.RefuseSeconds(refuse)(call)
		err := r.call(call)
		accepts[i] = err
		// Each launch is logged and recorded as its answer comes, not
		// after the last one: at 10,000 launches that work took 0.1 s
		// after the last answer, before the next plan could start.
		for j := range ps {
			p := &ps[j]
			act, tid := p.as.Action, p.task.TaskID.Value
			p.item, p.reason = act.Item(), act.Reason()
			if err != nil {
				r.a.log.Warn("launch failed", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "reason", p.reason, "error", err)
				continue
			}
			r.a.log.Info("launch", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "offer", offerID, "item", p.item, "reason", p.reason)
			if r.a.cfg.OnLaunch != nil {
				r.a.cfg.OnLaunch(tid, p.as.AgentID, act.Kind, act.ConfigHash)
			}
		}
	})
	// The outcomes, in offer order.
	for i, offerID := range order {
		err := accepts[i]
		// An offer is used once, whatever the answer: after an error the
		// connection is most likely gone, and its offers with it.
		used[offerID] = true
		r.gone = append(r.gone, offerID)
		for _, p := range byOffer[offerID] {
			act, tid := p.as.Action, p.task.TaskID.Value
			if err != nil {
				r.fail(*act, fmt.Errorf("launch %s (task %s) on %s: %w", act.Kind, tid, p.as.Hostname, err))
				continue
			}
			r.rep.Launched = append(r.rep.Launched, LaunchedTask{
				TaskID: tid, AgentID: p.as.AgentID, Hostname: p.as.Hostname, Kind: act.Kind,
				ConfigHash: act.ConfigHash, OfferID: offerID, Item: p.item, Reason: p.reason,
			})
		}
	}
	return used
}
