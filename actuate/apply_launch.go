package actuate

import (
	"fmt"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// launch sends one ACCEPT per offer with a LAUNCH of all tasks assigned to
// it (CallConcurrency at a time), records the outcomes in offer order, and
// returns the offers used. Each worker builds the TaskInfos of its offer
// before its call: at 5,000 launches, building them all before the first
// call kept the calls waiting for a core's worth of work.
func (r *applyRun) launch(assigned []assignment, waiting map[string]bool) map[string]bool {
	used := map[string]bool{}
	// pending is one task of an offer: its assignment and ID, and once
	// built its TaskInfo (or why it could not be built).
	type pending struct {
		as   assignment
		spec *spec.Cluster
		id   string
		task mesos.TaskInfo
		err  error
	}
	byOffer := map[string][]pending{}
	var order []string
	for _, as := range assigned {
		act := as.Action
		kind := act.Kind
		// (IDs are made here, in order: NewSuffix need not be safe for
		// concurrent use.)
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
		if _, ok := byOffer[as.OfferID]; !ok {
			order = append(order, as.OfferID)
		}
		byOffer[as.OfferID] = append(byOffer[as.OfferID], pending{as: as, spec: c, id: id.String()})
	}
	accepts := make([]error, len(order))
	sent := make([]bool, len(order))
	r.each(len(order), func(i int) {
		offerID := order[i]
		ps := byOffer[offerID] // (this worker's alone)
		tasks := make([]mesos.TaskInfo, 0, len(ps))
		for j := range ps {
			p := &ps[j]
			p.task, p.err = buildTaskInfo(p.spec, p.as.Action, taskParams{
				AgentID: p.as.AgentID, TaskID: p.id,
				Resources: p.as.Task, ExecutorResources: p.as.Executor,
				RegistryAddrs:     r.plan.RegistryAddrs,
				FrameworkHTTPBase: r.a.cfg.FrameworkHTTPBase,
				FrameworkImage:    r.a.cfg.FrameworkImage,
			})
			if p.err == nil {
				tasks = append(tasks, p.task)
			}
		}
		if len(tasks) == 0 {
			return // the offer stays unused
		}
		// The filter applies to what is left of the offer.
		refuse := r.a.cfg.Refuse
		if waiting[ps[0].as.AgentID] {
			refuse = r.a.cfg.PendingRefuse
		}
		call := calls.Accept(calls.OfferOperations{calls.OpLaunch(tasks...)}.WithOffers(mesos.OfferID{Value: offerID}))
		calls.RefuseSeconds(refuse)(call)
		accepts[i], sent[i] = r.call(call), true
	})
	for i, offerID := range order {
		err := accepts[i]
		if sent[i] {
			// An offer is used once, whatever the answer: after an error
			// the connection is most likely gone, and its offers with it.
			used[offerID] = true
			r.gone = append(r.gone, offerID)
		}
		for _, p := range byOffer[offerID] {
			act, tid := p.as.Action, p.id
			switch {
			case p.err != nil:
				r.a.log.Error("cannot build task", "kind", act.Kind, "host", hostOf(act), "item", act.Item(), "error", p.err)
				r.fail(act, p.err)
				continue
			case err != nil:
				r.a.log.Warn("launch failed", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "reason", act.Reason(), "error", err)
				r.fail(act, fmt.Errorf("launch %s (task %s) on %s: %w", act.Kind, tid, p.as.Hostname, err))
				continue
			}
			r.a.log.Info("launch", "task_id", tid, "kind", act.Kind, "host", p.as.Hostname, "offer", offerID, "item", act.Item(), "reason", act.Reason())
			if r.a.cfg.OnLaunch != nil {
				r.a.cfg.OnLaunch(tid, p.as.AgentID, act.Kind, act.ConfigHash)
			}
			r.rep.Launched = append(r.rep.Launched, LaunchedTask{
				TaskID: tid, AgentID: p.as.AgentID, Hostname: p.as.Hostname, Kind: act.Kind,
				ConfigHash: act.ConfigHash, OfferID: offerID, Item: act.Item(), Reason: act.Reason(),
			})
		}
	}
	return used
}
