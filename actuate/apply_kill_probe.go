package actuate

import (
	"fmt"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/controller"
)

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
		r.fail(act, fmt.Errorf("kill %s on %s: %w", act.TaskID, hostOf(act), err))
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
	execID, err := proberExecutorIDOfTask(act.TaskID)
	if err == nil {
		err = r.call(calls.Message(act.AgentID, execID, []byte(probeMessage)))
	}
	if err != nil {
		r.a.log.Warn("probe request failed", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason, "error", err)
		r.fail(act, fmt.Errorf("probe %s on %s: %w", act.TaskID, hostOf(act), err))
		return
	}
	r.a.log.Debug("probe", "task_id", act.TaskID, "host", hostOf(act), "reason", act.Reason)
	r.rep.Probed = append(r.rep.Probed, taskRef(act))
}
