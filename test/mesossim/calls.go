package mesossim

import (
	"fmt"
	"math"
	"net/http"
	"strings"
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

// revive handles REVIVE: filters are cleared, the roles unsuppressed, and
// an allocation cycle runs at once.
func (m *master) revive(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fw.roles
	}
	for _, r := range roles {
		delete(fw.suppressed, r)
	}
	fw.filters = map[string]offerFilter{}
	m.generateOffers()
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

// updateFramework handles UPDATE_FRAMEWORK as Master::updateFramework
// (master.cpp) does: the new FrameworkInfo must be valid and may not change
// principal, user or checkpoint (validation.cpp, validateUpdate); suppressed
// roles must be among its roles. Then the framework's info, roles and
// suppressed roles change without a new stream (what it left suppressed
// before and does not list now is unsuppressed), offers to roles it left
// are rescinded, and new roles are offered from the next allocation.
// Running tasks keep the role they were launched with. It returns the
// HTTP status (200 OK, as the master answers this call) and a message.
func (m *master) updateFramework(fw *framework, call *scheduler.Call_UpdateFramework) (int, string) {
	info := call.FrameworkInfo
	if msg := validateFrameworkInfo(info); msg != "" {
		return http.StatusBadRequest, "Supplied FrameworkInfo is not valid: " + msg
	}
	old := fw.info
	switch {
	case old.GetPrincipal() != info.GetPrincipal() || (old.Principal == nil) != (info.Principal == nil):
		return http.StatusBadRequest, "FrameworkInfo update is not valid: Changing framework's principal is not allowed."
	case old.User != info.User:
		return http.StatusBadRequest, "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from '" + old.User + "' to '" + info.User + "'"
	case old.GetCheckpoint() != info.GetCheckpoint():
		return http.StatusBadRequest, fmt.Sprintf("FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '%t' to '%t'", old.GetCheckpoint(), info.GetCheckpoint())
	}
	roles := map[string]bool{}
	for _, r := range frameworkRoles(info) {
		roles[r] = true
	}
	for _, r := range call.SuppressedRoles {
		if !roles[r] {
			return http.StatusBadRequest, "'UpdateFramework' call is not valid: Suppressed role '" + r + "' is not contained in the set of roles"
		}
	}
	m.applyFrameworkInfo(fw, info, call.SuppressedRoles)
	for _, o := range fw.offers {
		if !roles[o.role] {
			m.removeOffer(o, true)
		}
	}
	m.log.Info("framework updated", "framework", fw.id, "name", info.Name, "roles", fw.roles)
	return http.StatusOK, ""
}

// validateFrameworkInfo checks the roles as validation.cpp's
// validateRoles does: MULTI_ROLE frameworks name roles and no role, others
// the reverse; role names must be valid.
func validateFrameworkInfo(info mesos.FrameworkInfo) string {
	multi := false
	for _, c := range info.Capabilities {
		if c.Type == mesos.FrameworkInfo_Capability_MULTI_ROLE {
			multi = true
		}
	}
	switch {
	case multi && info.Role != nil:
		return "'FrameworkInfo.role' must not be present when the MULTI_ROLE capability is set"
	case !multi && len(info.Roles) > 0:
		return "'FrameworkInfo.roles' is set but the MULTI_ROLE capability is not"
	}
	for _, r := range frameworkRoles(info) {
		if msg := validateRoleName(r); msg != "" {
			return msg
		}
	}
	if t := info.GetFailoverTimeout(); t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
		return fmt.Sprintf("The framework failover_timeout (%v) is invalid", t)
	}
	return ""
}

// validateRoleName follows roles::validate: not empty, not "." or "..",
// no leading '-', no slash-separated empty or dot segments, no whitespace
// or control characters.
func validateRoleName(r string) string {
	if r == "*" {
		return ""
	}
	if r == "" {
		return "Empty role name is invalid"
	}
	for _, seg := range strings.Split(r, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return "Role '" + r + "' cannot contain empty, '.' or '..' path segments"
		case strings.HasPrefix(seg, "-"):
			return "Role '" + r + "' cannot start with '-'"
		}
	}
	for _, ch := range r {
		if ch <= ' ' || ch == 0x7f || ch == '\\' || ch == '*' {
			return "Role '" + r + "' cannot include whitespace, control characters, backslash or '*'"
		}
	}
	return ""
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
		a.unuse(e.res)
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
