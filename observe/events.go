package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// HandleEvent folds one event into the state (mesosconn.Handler). It never
// panics on bad input: what cannot be understood is logged and ignored.
func (o *Observer) HandleEvent(ctx context.Context, ev *scheduler.Event) {
	switch ev.GetType() {
	case scheduler.Event_OFFERS:
		offers := ev.GetOffers().GetOffers()
		o.mu.Lock()
		for i := range offers {
			o.foldOffer(&offers[i])
		}
		o.publish()
		o.mu.Unlock()
		// The actuator sees offers only once the snapshot describes their
		// agents.
		if o.cfg.OnOffers != nil && len(offers) > 0 {
			o.cfg.OnOffers(ctx, offers)
		}
	case scheduler.Event_RESCIND:
		if o.cfg.OnRescind != nil && ev.GetRescind() != nil {
			o.cfg.OnRescind(ev.GetRescind().OfferID.Value)
		}
	case scheduler.Event_UPDATE:
		st := ev.GetUpdate().GetStatus()
		o.mu.Lock()
		o.foldUpdate(&st)
		o.publish()
		o.mu.Unlock()
		// Acknowledge after recording: the snapshot holding this update is
		// published. Updates without a uuid (reconciliation answers,
		// master-generated ones) must not be acknowledged.
		if len(st.GetUUID()) > 0 {
			o.queueAck(ack{agentID: st.GetAgentID().GetValue(), taskID: st.TaskID.Value, uuid: st.GetUUID()})
		}
	case scheduler.Event_FAILURE:
		f := ev.GetFailure()
		if f.GetExecutorID() != nil {
			// An executor ended; its tasks' updates say what that means.
			o.log.Info("executor terminated", "agent", f.GetAgentID().GetValue(), "executor", f.GetExecutorID().GetValue(), "status", f.GetStatus())
			return
		}
		if id := f.GetAgentID().GetValue(); id != "" {
			o.mu.Lock()
			o.setReachable(id, false)
			o.publish()
			o.mu.Unlock()
			o.log.Warn("agent failed or was removed", "agent", id)
		}
	case scheduler.Event_MESSAGE:
		if m := ev.GetMessage(); m != nil {
			o.log.Debug("ignoring executor message", "agent", m.AgentID.Value, "executor", m.ExecutorID.Value)
		}
	case scheduler.Event_ERROR:
		o.log.Error("mesos reported an error", "message", ev.GetError().GetMessage())
	case scheduler.Event_SUBSCRIBED, scheduler.Event_HEARTBEAT:
		// The subscription's state comes through HandleStatus.
	case scheduler.Event_INVERSE_OFFERS, scheduler.Event_RESCIND_INVERSE_OFFER, scheduler.Event_UPDATE_OPERATION_STATUS:
		o.log.Debug("ignoring event", "type", ev.GetType().String())
	default:
		o.log.Warn("ignoring event of unknown type", "type", ev.GetType().String())
	}
}

func (o *Observer) queueAck(a ack) {
	select {
	case o.acks <- a:
	default:
		// Full: Mesos re-sends unacknowledged updates, and a repeat is
		// harmless.
		o.log.Warn("acknowledgement queue full; dropping ack (mesos will resend)", "task", a.taskID)
	}
}

// agentCopy returns a modifiable copy of agent id (a new one if unknown).
func (o *Observer) agentCopy(id string) *snapshot.Agent {
	if a := o.agents[id]; a != nil {
		c := *a
		return &c
	}
	return &snapshot.Agent{ID: id, Reachable: true}
}

func (o *Observer) setReachable(id string, v bool) {
	if a := o.agents[id]; a != nil && a.Reachable == v {
		return
	}
	a := o.agentCopy(id)
	o.markReachable(a, v)
	o.putAgent(a)
}

// markReachable records on a, a copy about to be put, whether the agent is
// reachable now: since when it is lost (UnreachableSince), and, for a lost
// agent that is back, since when it is back (BackSince).
func (o *Observer) markReachable(a *snapshot.Agent, v bool) {
	switch now := o.cfg.Now(); {
	case v && !a.Reachable:
		a.BackSince = now
	case !v && a.Reachable:
		a.UnreachableSince = now
	}
	a.Reachable = v
	if v {
		a.UnreachableSince = time.Time{}
	}
}

func (o *Observer) foldOffer(of *mesos.Offer) {
	id := of.AgentID.Value
	if id == "" {
		o.log.Warn("ignoring offer without agent id", "offer", of.ID.Value)
		return
	}
	a := o.agentCopy(id)
	a.Hostname = of.GetHostname()
	a.Attributes = attributes(of.GetAttributes())
	o.markReachable(a, true)
	if u := of.GetURL(); u != nil && u.Address.GetIP() != "" {
		a.IP = u.Address.GetIP()
	}
	a.LastOffer = summarize(of.GetResources(), o.cfg.Now())
	r, m := a.LastOffer.Resources, &a.MostOffered
	m.CPUs, m.Mem, m.Disk = max(m.CPUs, r.CPUs), max(m.Mem, r.Mem), max(m.Disk, r.Disk)
	o.putAgent(a)
}

// attributes renders Mesos attributes as strings (text as is, scalars and
// ranges and sets in Mesos' own notation).
func attributes(attrs []mesos.Attribute) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		switch a.GetType() {
		case mesos.TEXT:
			m[a.GetName()] = a.GetText().GetValue()
		case mesos.SCALAR:
			m[a.GetName()] = fmt.Sprint(a.GetScalar().GetValue())
		case mesos.RANGES:
			var parts []string
			for _, r := range a.GetRanges().GetRange() {
				parts = append(parts, fmt.Sprintf("%d-%d", r.Begin, r.End))
			}
			m[a.GetName()] = "[" + strings.Join(parts, ",") + "]"
		case mesos.SET:
			m[a.GetName()] = "{" + strings.Join(a.GetSet().GetItem(), ",") + "}"
		}
	}
	return m
}

// summarize sums an offer's scalar resources, by role as well for those
// reserved, and lists its port ranges. Offers carry only what our role may
// use (unreserved, and reserved to it or, with hierarchical roles, to an
// ancestor).
func summarize(rs []mesos.Resource, at time.Time) *snapshot.Offer {
	o := &snapshot.Offer{At: at}
	for i := range rs {
		r := &rs[i]
		if r.GetName() == "ports" {
			for _, pr := range r.GetRanges().GetRange() {
				o.Ports = append(o.Ports, snapshot.PortRange{Begin: pr.Begin, End: pr.End})
			}
			continue
		}
		v := r.GetScalar().GetValue()
		addScalar(&o.Resources, r.GetName(), v)
		if !r.IsUnreserved() {
			if o.Reserved == nil {
				o.Reserved = map[string]spec.Resources{}
			}
			sum := o.Reserved[r.ReservationRole()]
			addScalar(&sum, r.GetName(), v)
			o.Reserved[r.ReservationRole()] = sum
		}
	}
	return o
}

func addScalar(to *spec.Resources, name string, v float64) {
	switch name {
	case "cpus":
		to.CPUs += v
	case "mem":
		to.Mem += v
	case "disk":
		to.Disk += v
	}
}

// stateOf maps a Mesos task state to ours; ok is false for values this
// build does not know.
func stateOf(s mesos.TaskState) (snapshot.TaskState, bool) {
	switch s {
	case mesos.TASK_STAGING:
		return snapshot.Staging, true
	case mesos.TASK_STARTING:
		return snapshot.Starting, true
	case mesos.TASK_RUNNING:
		return snapshot.Running, true
	case mesos.TASK_KILLING:
		return snapshot.Killing, true
	case mesos.TASK_FINISHED:
		return snapshot.Finished, true
	case mesos.TASK_FAILED:
		return snapshot.Failed, true
	case mesos.TASK_KILLED:
		return snapshot.Killed, true
	case mesos.TASK_ERROR:
		return snapshot.Error, true
	case mesos.TASK_LOST:
		return snapshot.Lost, true
	case mesos.TASK_DROPPED:
		return snapshot.Dropped, true
	case mesos.TASK_UNREACHABLE:
		return snapshot.Unreachable, true
	case mesos.TASK_GONE:
		return snapshot.Gone, true
	case mesos.TASK_GONE_BY_OPERATOR:
		return snapshot.GoneByOperator, true
	case mesos.TASK_UNKNOWN:
		return snapshot.Unknown, true
	}
	return "", false
}

// foldUpdate applies one status update. Caller holds o.mu.
func (o *Observer) foldUpdate(st *mesos.TaskStatus) {
	tid := st.TaskID.Value
	if tid == recoveryProbeTaskID {
		// Any answer means the master has every agent back.
		o.rec.answered(tid, o.cfg.Now(), true)
		return
	}
	id, ok := taskid.Parse(tid)
	if !ok {
		o.log.Debug("ignoring update of a task that is not ours", "task", tid)
		return
	}
	if st.State == nil {
		o.log.Warn("ignoring update without a state", "task", tid)
		return
	}
	state, ok := stateOf(st.GetState())
	if !ok {
		o.log.Warn("ignoring update with an unknown task state", "task", tid, "state", int32(st.GetState()))
		return
	}
	reconciliation := st.Reason != nil && st.GetReason() == mesos.REASON_RECONCILIATION
	// Master-generated updates (reconciliation answers, TASK_UNREACHABLE,
	// reregistration) are the master's current view, sent once in stream
	// order: they always apply. Agent and executor updates are retried
	// until acknowledged and may come twice or late: a uuid seen before is
	// a repeat, and an older timestamp (the agent's clock, compared only
	// with the agent's) is a late one. Comparing master and agent
	// timestamps would make clock skew decide.
	fromMaster := reconciliation || (st.Source != nil && st.GetSource() == mesos.SOURCE_MASTER)
	meta := o.meta[tid]
	if !fromMaster {
		if meta.seen(st.GetUUID()) {
			o.log.Debug("ignoring repeated update", "task", tid, "state", state)
			return
		}
		ts := st.GetTimestamp()
		if ts < meta.lastAgentTS {
			o.log.Debug("ignoring late update", "task", tid, "state", state, "timestamp", ts, "recorded", meta.lastAgentTS)
			return
		}
		meta.lastAgentTS = ts
		meta.remember(st.GetUUID())
	}
	// Any update answers an outstanding explicit reconciliation.
	o.rec.answered(tid, o.cfg.Now(), reconciliation)

	now := o.cfg.Now()
	var t snapshot.Task
	if old := o.tasks[tid]; old != nil {
		t = *old
	} else {
		t = snapshot.Task{ID: tid, Kind: id.Kind, Config: id.ConfigHash}
	}
	agentID := st.GetAgentID().GetValue()
	if agentID != "" {
		t.AgentID = agentID
	}
	prev := t.State
	t.State = state
	t.Reason = ""
	if st.Reason != nil {
		t.Reason = st.GetReason().String()
	}
	t.Message = st.GetMessage()
	t.UpdatedAt = now
	o.foldReachability(&t, st, now)
	o.foldHealth(&t, &meta, st, prev, now, fromMaster)
	o.meta[tid] = meta
	if t.State.Terminal() && (prev == "" || !prev.Terminal()) && t.Failed() {
		o.recordFailure(&t, meta, now)
	}
	if old := o.tasks[tid]; old == nil || !sameTask(*old, t) {
		o.putTask(&t)
	}

	if agentID != "" {
		switch {
		case state == snapshot.Unreachable:
			// The agent is partitioned: its tasks are unknown, not gone.
			o.setReachable(agentID, false)
		case fromMaster && agentGone(state, st.GetReason()):
			// The master no longer knows the agent (removed, or marked
			// gone). Its FAILURE event reaches only a framework connected
			// at that moment; these answers (reconciliation's after a
			// resubscription) are all a framework that was away learns.
			// Placing a task there would wait for its offer forever.
			o.setReachable(agentID, false)
		case state == snapshot.Staging || state == snapshot.Starting || state == snapshot.Running || state == snapshot.Killing:
			if !reconciliation {
				o.setReachable(agentID, true) // it talks to the master again
			} else if o.agents[agentID] == nil {
				o.setReachable(agentID, true)
			}
		}
	}

	if id.Kind == taskid.ProberKind && state == snapshot.Running && len(st.GetData()) > 0 && agentID != "" {
		o.foldProbe(agentID, tid, st.GetData(), now)
	}
}

// agentGone reports whether a master's update says the task's agent is gone
// for the master: TASK_UNKNOWN (Mesos' answer for a task on an agent it
// does not know, reconciliation's sixth case), TASK_GONE_BY_OPERATOR, or
// TASK_LOST because the agent was removed.
func agentGone(state snapshot.TaskState, reason mesos.TaskStatus_Reason) bool {
	switch state {
	case snapshot.Unknown, snapshot.GoneByOperator:
		return true
	case snapshot.Lost:
		return reason == mesos.REASON_AGENT_REMOVED || reason == mesos.REASON_AGENT_REMOVED_BY_OPERATOR
	}
	return false
}

// foldReachability keeps Task.UnreachableSince: from the master's
// unreachable_time when it says, else from when we first saw the task
// unreachable. A reconciliation answer repeating UNREACHABLE does not move
// it. A kill cannot reach an unreachable task (the master answers it with a
// reconciliation), so a kill sent before is forgotten: the task's fate is
// decided again when it is back.
func (o *Observer) foldReachability(t *snapshot.Task, st *mesos.TaskStatus, now time.Time) {
	if !t.State.MaybeAlive() {
		t.UnreachableSince = time.Time{}
		return
	}
	t.KillSent = time.Time{}
	if ut := st.GetUnreachableTime(); ut != nil {
		t.UnreachableSince = time.Unix(0, ut.GetNanoseconds())
	} else if t.UnreachableSince.IsZero() {
		t.UnreachableSince = now
	}
}

// foldHealth keeps what a task's health checks said: Healthy and
// HealthySince while it runs, HealthFailures (healthy=false updates since it
// was last healthy), the longest healthy streak (meta), and at the end
// whether Mesos killed it for failing its check. Master updates
// (reconciliation answers) repeat the latest health and count no failure.
func (o *Observer) foldHealth(t *snapshot.Task, meta *taskMeta, st *mesos.TaskStatus, prev snapshot.TaskState, now time.Time, fromMaster bool) {
	endStreak := func() {
		if t.Healthy != nil && *t.Healthy && !t.HealthySince.IsZero() {
			meta.longestHealthy = max(meta.longestHealthy, now.Sub(t.HealthySince))
		}
	}
	switch {
	case t.State == snapshot.Running:
		if prev != snapshot.Running || t.RunningSince.IsZero() {
			t.RunningSince = now
		}
		if st.Healthy == nil {
			return
		}
		h := st.GetHealthy()
		switch {
		case h && (t.Healthy == nil || !*t.Healthy):
			t.HealthySince, t.HealthFailures = now, 0
		case !h:
			endStreak()
			t.HealthySince = time.Time{}
			if !fromMaster {
				t.HealthFailures++
			}
		}
		t.Healthy = &h
	case t.State == snapshot.Killing:
		// Still running, on its way out (Mesos sends KILLING before KILLED
		// to frameworks that take it, a health-check kill included): it
		// serves no more, but how long it ran is still read from
		// RunningSince when it ends.
		endStreak()
		t.Healthy, t.HealthySince = nil, time.Time{}
	case t.State.Terminal():
		endStreak()
		// Mesos kills a task whose health check keeps failing: TASK_KILLED,
		// healthy=false, no reason. A kill of ours is no health kill.
		t.HealthKilled = t.State == snapshot.Killed && st.Healthy != nil && !st.GetHealthy() &&
			st.Reason == nil && t.KillSent.IsZero()
		// RunningSince stays: how long the task ran is read from it.
		t.Healthy, t.HealthySince = nil, time.Time{}
	default:
		// Health describes a running task only.
		t.RunningSince, t.Healthy, t.HealthySince = time.Time{}, nil, time.Time{}
	}
}

// recordFailure counts a task's failure against its item and logs it, with
// what Mesos said, so that a crash loop shows in the log and the status API
// as more than a new launch. Caller holds o.mu.
func (o *Observer) recordFailure(t *snapshot.Task, meta taskMeta, now time.Time) {
	end := snapshot.TaskEnd{
		TaskID: t.ID, Config: t.Config, State: t.State, Reason: t.Reason, Message: t.Message,
		HealthKilled: t.HealthKilled, HealthFailures: t.HealthFailures, At: now, HealthyFor: meta.longestHealthy,
	}
	if !t.RunningSince.IsZero() {
		end.RanFor = now.Sub(t.RunningSince)
	}
	item := snapshot.ItemKey(t.Kind, t.AgentID)
	h := o.items[item]
	h.Failures++
	h.Last = end
	o.items[item] = h
	o.itemsChanged = true
	host := t.AgentID
	if a := o.agents[t.AgentID]; a != nil && a.Hostname != "" {
		host = a.Hostname
	}
	msg := "task failed"
	if t.HealthKilled {
		msg = "task killed by Mesos for failing its health check"
	}
	o.log.Warn(msg, "host", host, "kind", t.Kind, "task_id", t.ID, "state", t.State, "reason", t.Reason,
		"message", t.Message, "health_failures", t.HealthFailures, "ran_for", end.RanFor.Round(time.Millisecond),
		"failures", h.Failures)
	if o.cfg.OnFailure != nil {
		o.cfg.OnFailure(t.Kind, host, end)
	}
	o.dirty = true
}

// foldProbe records a prober report. Caller holds o.mu.
func (o *Observer) foldProbe(agentID, tid string, data []byte, now time.Time) {
	var r probe.Report
	if err := json.Unmarshal(data, &r); err != nil {
		o.log.Warn("ignoring malformed prober report", "task", tid, "agent", agentID, "error", err)
		return
	}
	if r.Version != probe.ReportVersion {
		o.log.Warn("ignoring prober report of another version", "task", tid, "agent", agentID, "version", r.Version, "want", probe.ReportVersion)
		return
	}
	for _, d := range r.Devices {
		for _, dt := range d.Types {
			switch dt {
			case spec.DirDevice, spec.MetadataDevice, spec.DataDevice:
			default:
				o.log.Warn("prober report names an unknown device type", "task", tid, "device", d.Path, "type", dt)
			}
		}
	}
	a := o.agentCopy(agentID)
	if a.Hostname == "" {
		a.Hostname = r.Hostname
	}
	a.Probe = &snapshot.Probe{Report: r, ReceivedAt: now}
	o.putAgent(a)
}

// sameTask reports whether a and b differ at most in UpdatedAt: a repeated
// update is no change (no new snapshot generation).
func sameTask(a, b snapshot.Task) bool {
	a.UpdatedAt = b.UpdatedAt
	ha, hb := a.Healthy, b.Healthy
	a.Healthy, b.Healthy = nil, nil
	if (ha == nil) != (hb == nil) || (ha != nil && *ha != *hb) {
		return false
	}
	return a == b
}
