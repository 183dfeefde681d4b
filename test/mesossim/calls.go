package mesossim

import (
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// kill handles KILL. An unknown task is answered as reconciliation would
// answer it, which is what a Mesos master does.
func (m *master) kill(fw *framework, call *scheduler.Call_Kill) {
	t := fw.tasks[call.TaskID.Value]
	if t == nil || !t.agent.state.tasksKnown() {
		// Tasks of unreachable or not yet reregistered agents are not among
		// the master's tasks either ("Cannot kill task ... because it is
		// unknown; performing reconciliation").
		m.reconcileOne(fw, call.TaskID.Value, call.GetAgentID().GetValue())
		return
	}
	if id := call.GetAgentID().GetValue(); (id != "" && id != t.agent.id) || t.terminal {
		return // Mesos ignores a kill naming another agent
	}
	grace := killGrace(t.info.KillPolicy)
	if call.KillPolicy != nil {
		grace = killGrace(call.KillPolicy)
	}
	switch t.agent.state {
	case agentCutOff:
		return // sent, and lost on the way
	case agentDisconnected:
		// "Kill will be retried if the agent reregisters."
		if t.agent.killed == nil {
			t.agent.killed = map[*task]time.Duration{}
		}
		t.agent.killed[t] = grace
		return
	}
	if m.faults.dropKills > 0 {
		// The kill message is lost on its way to the agent (a fault).
		m.faults.dropKills--
		m.faults.killsLost++
		return
	}
	rt, fwID, taskID := t.agent.rt, fw.id, t.info.TaskID.Value
	m.later(func() { rt.Kill(fwID, taskID, grace) })
}

// killGrace is a kill policy's grace period; Mesos' default is 3 seconds.
func killGrace(p *mesos.KillPolicy) time.Duration {
	if p == nil || p.GracePeriod == nil {
		return 3 * time.Second
	}
	return time.Duration(p.GracePeriod.Nanoseconds)
}

// shutdownExecutor handles SHUTDOWN: every task of the executor is killed.
func (m *master) shutdownExecutor(fw *framework, call *scheduler.Call_Shutdown) {
	a := m.agents[call.AgentID.Value]
	if a == nil || a.state != agentActive {
		return
	}
	for _, t := range a.tasks {
		if t.fw == fw && t.executorID == call.ExecutorID.Value && !t.terminal {
			rt, fwID, taskID, grace := a.rt, fw.id, t.info.TaskID.Value, killGrace(t.info.KillPolicy)
			m.later(func() { rt.Kill(fwID, taskID, grace) })
		}
	}
}

// reconcile handles RECONCILE. Answers carry no uuid, source SOURCE_MASTER
// and reason REASON_RECONCILIATION.
func (m *master) reconcile(fw *framework, call *scheduler.Call_Reconcile) {
	if len(call.Tasks) == 0 {
		// Implicit: the latest state of every task the master holds. Tasks of
		// unreachable agents are set aside by the master, and those of agents
		// not yet reregistered after a failover are unknown to it.
		for _, t := range fw.tasks {
			if t.agent.state.tasksKnown() {
				m.deliver(fw, m.reconcileKnown(t))
			}
		}
		return
	}
	for _, rt := range call.Tasks {
		m.reconcileOne(fw, rt.TaskID.Value, rt.GetAgentID().GetValue())
	}
}

// reconcileOne answers for one task, following the six cases of the Mesos
// master's explicit reconciliation.
func (m *master) reconcileOne(fw *framework, taskID, agentID string) {
	if t := fw.tasks[taskID]; t != nil && t.agent.state.tasksKnown() {
		m.deliver(fw, m.reconcileKnown(t)) // (1) known: latest state
		return
	}
	a := m.agents[agentID]
	var st mesos.TaskStatus
	switch {
	case (a != nil && a.state == agentRecovering) || (agentID == "" && m.anyRecovering()):
		// (2) The agent (or, without an agent ID, any agent) has not
		// reregistered since the failover: no answer; the framework retries.
		return
	case a != nil && a.state.tasksKnown():
		st = m.masterUpdate(fw, taskID, agentID, mesos.TASK_GONE, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown to the agent")
	case a != nil && a.state == agentUnreachable:
		st = m.masterUpdate(fw, taskID, agentID, mesos.TASK_UNREACHABLE, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unreachable")
		st.UnreachableTime = &mesos.TimeInfo{Nanoseconds: a.unreachableAt.UnixNano()}
	case a != nil && a.state == agentGoneByOperator:
		st = m.masterUpdate(fw, taskID, agentID, mesos.TASK_GONE_BY_OPERATOR, mesos.REASON_RECONCILIATION, "Reconciliation: Task is gone")
	default:
		st = m.masterUpdate(fw, taskID, agentID, mesos.TASK_UNKNOWN, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown")
	}
	m.deliver(fw, st)
}

func (m *master) anyRecovering() bool {
	for _, a := range m.agentOrder {
		if a.state == agentRecovering {
			return true
		}
	}
	return false
}

// reconcileKnown is the answer for a known task, without uuid or data, marked
// as a reconciliation answer. Like Mesos (the task's status_update_state), it
// gives the state of the update in flight to the framework when there is one,
// so a framework never learns a state before the update that carries it.
func (m *master) reconcileKnown(t *task) mesos.TaskStatus {
	latest := t.status
	if q := t.fw.pending[t.info.TaskID.Value]; len(q) > 0 {
		latest = q[0].status
	}
	state := latest.GetState()
	src := mesos.SOURCE_MASTER
	reason := mesos.REASON_RECONCILIATION
	st := mesos.TaskStatus{
		TaskID:          t.info.TaskID,
		State:           &state,
		Source:          &src,
		Reason:          &reason,
		AgentID:         &mesos.AgentID{Value: t.agent.id},
		ExecutorID:      latest.ExecutorID,
		Healthy:         latest.Healthy,
		Timestamp:       m.timestamp(),
		UnreachableTime: latest.UnreachableTime,
		Message:         strPtr("Reconciliation: Latest task state"),
	}
	return st
}

// message handles MESSAGE: the data goes to the executor through the agent.
func (m *master) message(fw *framework, call *scheduler.Call_Message) {
	a := m.agents[call.AgentID.Value]
	if a == nil || a.state != agentActive {
		return // framework messages are unreliable; Mesos drops them too
	}
	rt, fwID, execID, data := a.rt, fw.id, call.ExecutorID.Value, append([]byte(nil), call.Data...)
	m.later(func() {
		if err := rt.Message(fwID, execID, data); err != nil {
			m.log.Debug("framework message not delivered", "framework", fwID, "executor", execID, "error", err)
		}
	})
}

// suppress handles SUPPRESS: no offers for the roles (all roles when none given).
func (m *master) suppress(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fw.roles
	}
	for _, r := range roles {
		fw.suppressed[r] = true
	}
}

// revive handles REVIVE: filters are cleared and the roles unsuppressed.
func (m *master) revive(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fw.roles
	}
	for _, r := range roles {
		delete(fw.suppressed, r)
	}
	fw.filters = map[string]offerFilter{}
}

// executorMessage forwards an executor's message to its framework as a
// MESSAGE event. Messages are unreliable: one from an agent the master cannot
// hear, or for a disconnected framework, is dropped.
func (m *master) executorMessage(a *agent, fwID, execID string, data []byte) {
	m.mu.Lock()
	defer m.unlock()
	fw := m.frameworks[fwID]
	if fw == nil || a.state != agentActive {
		return
	}
	m.send(fw, &scheduler.Event{Type: scheduler.Event_MESSAGE, Message: &scheduler.Event_Message{
		AgentID: mesos.AgentID{Value: a.id}, ExecutorID: mesos.ExecutorID{Value: execID}, Data: data,
	}})
}

// updateFramework handles UPDATE_FRAMEWORK: the framework's info, roles and
// suppressed roles change as in a resubscription, without a new stream, and
// offers to roles it left are rescinded.
func (m *master) updateFramework(fw *framework, call *scheduler.Call_UpdateFramework) {
	m.applyFrameworkInfo(fw, call.FrameworkInfo, call.SuppressedRoles)
	kept := map[string]bool{}
	for _, r := range fw.roles {
		kept[r] = true
	}
	for _, o := range fw.offers {
		if !kept[o.role] {
			m.removeOffer(o, true)
		}
	}
}

// executorExited handles an agent's report that an executor exited: its
// resources are freed if a task still held them, and the framework gets a
// FAILURE event naming the agent and executor (not reliably: a disconnected
// framework misses it, as with Mesos).
func (m *master) executorExited(a *agent, fwID, execID string, status int) {
	m.mu.Lock()
	defer m.unlock()
	if m.closed || a.state != agentActive {
		return
	}
	key := fwID + "/" + execID
	if e := a.executors[key]; e != nil {
		a.used.sub(e.res)
		delete(a.executors, key)
	}
	fw := m.frameworks[fwID]
	if fw == nil {
		return
	}
	st := int32(status)
	m.send(fw, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{
		AgentID: &mesos.AgentID{Value: a.id}, ExecutorID: &mesos.ExecutorID{Value: execID}, Status: &st,
	}})
}
