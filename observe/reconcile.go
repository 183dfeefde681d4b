package observe

import (
	"context"
	"sort"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// reconcilePhase is where a subscription's reconciliation stands.
type reconcilePhase int

const (
	phaseIdle     reconcilePhase = iota // not subscribed
	phaseExplicit                       // asking about known tasks until each answered
	phaseImplicit                       // implicit reconciliation due
	phaseSettling                       // implicit sent, waiting for answers to stop
	phaseDone                           // reconciled; periodic implicit ahead
)

// reconcileState is one subscription's reconciliation round.
type reconcileState struct {
	phase reconcilePhase
	// pending maps task ID -> agent ID of tasks that have not answered.
	pending map[string]string
	next    time.Time     // when the next call is due
	delay   time.Duration // the explicit retry delay, doubled per retry
	// lastAnswer is when the last reconciliation answer arrived during
	// settling; implicitAt when the implicit call was made.
	lastAnswer, implicitAt time.Time
}

// maxSettleFactor bounds settling: a cluster whose answers never pause
// (thousands of tasks) is taken as reconciled after this many settle times.
const maxSettleFactor = 20

// answered notes an update for taskID. Only reconciliation answers extend
// settling: ordinary updates (prober keep-alives on a big cluster) never
// stop, and would hold Reconciled back forever.
func (r *reconcileState) answered(taskID string, now time.Time, reconciliation bool) {
	delete(r.pending, taskID)
	if r.phase == phaseSettling && reconciliation {
		r.lastAnswer = now
	}
}

// recoveryProbeTaskID names no task. Asked about without an agent ID, the
// Mesos master answers TASK_UNKNOWN only when no agent is still to
// reregister after a master failover ("we err on the side of caution and
// do not reply if there are *any* recovered agents", master.cpp's explicit
// reconciliation, case 2); until then it drops the question. Implicit
// reconciliation leaves out the tasks of those agents, and a reregistering
// agent's running tasks are not reported to the framework at all. An
// observer that starts empty (a restarted framework, a standby taking
// over) asks this first, so that its implicit reconciliation comes after
// every agent is back and sees every task: otherwise it would launch
// services that already run (chaos seed 37: an api beyond its count after
// a framework restart during a master failover; a second data service on
// a host would be worse). An observer that ran before knows its tasks and
// asks about them by agent instead.
const recoveryProbeTaskID = "quobyte-mesos.agents-reregistered"

// startRound begins reconciliation after a (re)subscribe. Caller holds o.mu.
func (o *Observer) startRound(now time.Time) {
	o.sub.Reconciled = false
	pending := map[string]string{}
	for id, t := range o.tasks {
		if !t.State.Terminal() {
			pending[id] = t.AgentID
		}
	}
	known := len(pending)
	if !o.reconciledOnce {
		pending[recoveryProbeTaskID] = ""
	}
	o.rec = reconcileState{phase: phaseExplicit, pending: pending, next: now, delay: o.cfg.ReconcileInitial}
	o.log.Info("reconciling after subscribe", "known_tasks", known, "first", !o.reconciledOnce)
}

// reconcileStep advances reconciliation by what is due at the clock's now
// and returns the call to send (nil: none) and when to look again. It does
// no I/O. Caller holds o.mu.
func (o *Observer) reconcileStep() (call *scheduler.Call, wakeAt time.Time) {
	now := o.cfg.Now()
	o.pruneTerminal(now)
	r := &o.rec
	switch r.phase {
	case phaseIdle:
		return nil, now.Add(time.Minute)
	case phaseExplicit:
		if len(r.pending) == 0 {
			r.phase, r.next = phaseImplicit, now
			return o.reconcileStep()
		}
		if now.Before(r.next) {
			return nil, r.next
		}
		tasks := make(map[string]string, len(r.pending))
		for id, agent := range r.pending {
			tasks[id] = agent
		}
		r.next = now.Add(r.delay)
		r.delay = min(2*r.delay, o.cfg.ReconcileMax)
		return calls.Reconcile(calls.ReconcileTasks(tasks)), r.next
	case phaseImplicit:
		r.phase, r.lastAnswer, r.implicitAt = phaseSettling, now, now
		return calls.Reconcile(), now.Add(o.cfg.ImplicitSettle)
	case phaseSettling:
		// Settled when answers paused for ImplicitSettle, or at the latest
		// maxSettleFactor settles after the implicit call.
		quiet := r.lastAnswer.Add(o.cfg.ImplicitSettle)
		if limit := r.implicitAt.Add(maxSettleFactor * o.cfg.ImplicitSettle); limit.Before(quiet) {
			quiet = limit
		}
		if now.Before(quiet) {
			return nil, quiet
		}
		r.phase, r.next = phaseDone, now.Add(o.cfg.ImplicitEvery)
		o.sub.Reconciled, o.reconciledOnce = true, true
		o.dirty = true
		o.log.Info("reconciled", "tasks", len(o.tasks))
		return nil, r.next
	case phaseDone:
		if now.Before(r.next) {
			return nil, r.next
		}
		r.next = now.Add(o.cfg.ImplicitEvery)
		return calls.Reconcile(), r.next
	}
	return nil, now.Add(time.Minute)
}

// retryAfterFailure makes a failed reconcile call due again after the
// current explicit delay. Caller holds o.mu.
func (o *Observer) retryAfterFailure(now time.Time) {
	r := &o.rec
	switch r.phase {
	case phaseSettling:
		// The implicit call failed: send it again.
		r.phase, r.next = phaseImplicit, now.Add(r.delay)
	case phaseDone:
		r.next = now.Add(o.cfg.ReconcileInitial)
	}
}

// pruneTerminal forgets terminal tasks older than the retention. Caller
// holds o.mu.
func (o *Observer) pruneTerminal(now time.Time) {
	for id, t := range o.tasks {
		if t.State.Terminal() && now.Sub(t.UpdatedAt) > o.cfg.TerminalRetention {
			o.dropTask(id)
		}
	}
}

// Run sends acknowledgements and drives reconciliation until ctx ends.
func (o *Observer) Run(ctx context.Context) {
	for range ackSenders {
		go o.runAcks(ctx)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
		o.mu.Lock()
		call, wakeAt := o.reconcileStep()
		o.publish()
		o.mu.Unlock()
		if call != nil {
			o.send(ctx, call)
			// Look again at once: a failed send re-arms itself, a sent one
			// is not due before wakeAt anyway.
			o.mu.Lock()
			wakeAt = o.peekWake()
			o.mu.Unlock()
		}
		// wakeAt is in the injected clock's time: wait the difference.
		d := wakeAt.Sub(o.cfg.Now())
		if d < 10*time.Millisecond {
			d = 10 * time.Millisecond
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(d)
	}
}

// peekWake returns when reconciliation next has something to do, without
// changing state. Caller holds o.mu.
func (o *Observer) peekWake() time.Time {
	r := o.rec
	now := o.cfg.Now()
	switch r.phase {
	case phaseIdle:
		return now.Add(time.Minute)
	case phaseSettling:
		return minTime(r.lastAnswer.Add(o.cfg.ImplicitSettle), r.implicitAt.Add(maxSettleFactor*o.cfg.ImplicitSettle))
	case phaseImplicit:
		return now
	}
	return r.next
}

func (o *Observer) send(ctx context.Context, call *scheduler.Call) {
	n := len(call.GetReconcile().GetTasks())
	resp, err := o.cfg.Caller.Call(ctx, call)
	if resp != nil {
		resp.Close()
	}
	if err != nil {
		o.log.Warn("reconcile call failed; will retry", "tasks", n, "error", err)
		o.mu.Lock()
		o.retryAfterFailure(o.cfg.Now())
		o.mu.Unlock()
		return
	}
	if n == 0 {
		o.log.Debug("implicit reconciliation sent")
	} else {
		o.log.Debug("explicit reconciliation sent", "tasks", n)
	}
}

// Acknowledgements: an agent sends a task's next update only once the last
// one is acknowledged, and re-sends an unacknowledged one after its retry
// interval (10 s by default). At 10,000 agents a queue of 4,096 sent by one
// goroutine overflowed while the probers and data services started
// (test/scale): the dropped acks held those tasks' next updates back by a
// retry interval, and convergence took 13.7 allocation intervals. The
// queue now holds a burst of every task's update, and several senders
// overlap the calls' round trips (acks of different tasks need no order;
// a task has one unacknowledged update at a time). The Caller pipelines
// them (mesosconn): the more are in flight, the more share one write.
// 256 senders (as many as an Apply's calls in flight) against 64: 10,000
// agents converged in 2.01 allocation intervals against 2.13 (five runs
// each, alternated, test/scale); each task's three updates wait for one
// another's acknowledgements, so the acks' round trips are the tail.
const (
	ackQueue   = 16384
	ackSenders = 256
)

// runAcks sends queued acknowledgements; ackSenders of them run. A failed
// ack is not retried: Mesos re-sends the update, which is then recorded
// (idempotently) and acked anew.
func (o *Observer) runAcks(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-o.acks:
			resp, err := o.cfg.Caller.Call(ctx, calls.Acknowledge(a.agentID, a.taskID, a.uuid))
			if resp != nil {
				resp.Close()
			}
			if err != nil && ctx.Err() == nil {
				o.log.Warn("acknowledge failed (mesos will resend the update)", "task", a.taskID, "error", err)
			}
		}
	}
}

// PendingReconciliation lists tasks that have not answered the current
// explicit reconciliation (for status pages and tests), sorted.
func (o *Observer) PendingReconciliation() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]string, 0, len(o.rec.pending))
	for id := range o.rec.pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
