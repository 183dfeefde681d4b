package actuate

import (
	"fmt"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
)

// outgoing is one KILL or MESSAGE an Apply sends, with its answer.
type outgoing struct {
	act  controller.Action
	call *scheduler.Call
	// resent: a KILL of this task went out before.
	resent bool
	err    error
}

// killAndProbe sends the KILLs that are due (see killDue) and the probe
// MESSAGEs of acts, CallConcurrency at a time, then records every outcome
// in plan order.
func (r *applyRun) killAndProbe(acts []controller.Action) {
	var out []outgoing
	for _, act := range acts {
		switch act.Type {
		case controller.Kill:
			if o, ok := r.killDue(act); ok {
				out = append(out, o)
			}
		case controller.Probe:
			execID, err := proberExecutorIDOfTask(act.TaskID)
			if err != nil {
				r.probeFailed(act, err)
				continue
			}
			out = append(out, outgoing{act: act, call: calls.Message(act.AgentID, execID, []byte(probeMessage))})
		}
	}
	r.each(len(out), func(i int) { out[i].err = r.call(out[i].call) })
	for _, o := range out {
		if o.act.Type == controller.Kill {
			r.killed(o)
		} else {
			r.probed(o)
		}
	}
}

// killDue returns the KILL of act unless one went out less than
// KillRetryInterval ago, by the snapshot's record (act.KillSent) or ours
// (the snapshot may not have caught up with the last Apply yet); such a
// kill waits.
func (r *applyRun) killDue(act controller.Action) (outgoing, bool) {
	a := r.a
	a.mu.Lock()
	last := a.killSent[act.TaskID]
	a.mu.Unlock()
	if act.KillSent.After(last) {
		last = act.KillSent
	}
	if !last.IsZero() && r.now.Sub(last) < a.cfg.KillRetryInterval {
		ref := taskRef(act)
		ref.RetryIn = a.cfg.KillRetryInterval - r.now.Sub(last)
		r.rep.KillsWaiting = append(r.rep.KillsWaiting, ref)
		a.log.Debug("kill already sent", "task_id", act.TaskID, "host", hostOf(act), "retry_in", ref.RetryIn, "reason", act.Reason())
		return outgoing{}, false
	}
	return outgoing{act: act, call: calls.Kill(act.TaskID, act.AgentID), resent: !last.IsZero()}, true
}

// killed records the outcome of a KILL.
func (r *applyRun) killed(o outgoing) {
	a, act := r.a, o.act
	if o.err != nil {
		a.log.Warn("kill failed", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason(), "error", o.err)
		r.fail(act, fmt.Errorf("kill %s on %s: %w", act.TaskID, hostOf(act), o.err))
		return
	}
	a.mu.Lock()
	a.killSent[act.TaskID] = r.now
	a.mu.Unlock()
	a.log.Info("kill", "task_id", act.TaskID, "host", hostOf(act), "kind", act.Kind, "reason", act.Reason(), "resent", o.resent)
	r.rep.Killed = append(r.rep.Killed, taskRef(act))
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

// probed records the outcome of a MESSAGE asking a prober to probe and
// report now.
func (r *applyRun) probed(o outgoing) {
	if o.err != nil {
		r.probeFailed(o.act, o.err)
		return
	}
	r.a.log.Debug("probe", "task_id", o.act.TaskID, "host", hostOf(o.act), "reason", o.act.Reason())
	r.rep.Probed = append(r.rep.Probed, taskRef(o.act))
}

func (r *applyRun) probeFailed(act controller.Action, err error) {
	r.a.log.Warn("probe request failed", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason(), "error", err)
	r.fail(act, fmt.Errorf("probe %s on %s: %w", act.TaskID, hostOf(act), err))
}
