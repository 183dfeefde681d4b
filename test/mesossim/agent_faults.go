package mesossim

import (
	"fmt"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Agent faults: how the master sees an agent leave, drop off the network,
// come back or be replaced, following the Mesos master's own handling.

// RemoveAgent removes an agent as Mesos does when an agent unregisters (shuts
// down): its tasks become TASK_LOST (reason REASON_AGENT_REMOVED, source
// master; partition-aware or not, as Mesos' master does), its offers are
// rescinded, frameworks get a FAILURE event, and its processes are stopped.
func (c *Cluster) RemoveAgent(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		m.retireAgent(a, agentRemoved, "Agent "+a.cfg.Hostname+" removed: the agent unregistered")
		return nil
	})
}

// MarkAgentGone is the operator's MARK_AGENT_GONE: the agent's tasks become
// TASK_GONE_BY_OPERATOR (reason REASON_AGENT_REMOVED_BY_OPERATOR; TASK_LOST with
// REASON_AGENT_REMOVED without PARTITION_AWARE) and it never returns.
func (c *Cluster) MarkAgentGone(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		m.retireAgent(a, agentGoneByOperator, "Agent "+a.cfg.Hostname+" marked gone by the operator")
		return nil
	})
}

// withAgent runs f under the master's lock on the live agent named by its
// ID or hostname; an unknown one is an error.
func (c *Cluster) withAgent(idOrHostname string, f func(m *master, a *agent) error) error {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		return fmt.Errorf("mesossim: %w", err)
	}
	return f(m, a)
}

// retireAgent takes an agent out for good and tells frameworks about its tasks.
func (m *master) retireAgent(a *agent, state agentState, msg string) {
	wasActive := a.state == agentActive
	m.rescindAgentOffers(a)
	for _, t := range a.tasks {
		fw := t.fw
		if !t.terminal {
			taskState, reason := mesos.TASK_LOST, mesos.REASON_AGENT_REMOVED
			if state == agentGoneByOperator && fw.partitionAware {
				taskState, reason = mesos.TASK_GONE_BY_OPERATOR, mesos.REASON_AGENT_REMOVED_BY_OPERATOR
			}
			st := m.masterUpdate(fw, t.info.TaskID.Value, a.id, taskState, reason, msg)
			st.ExecutorID = t.status.ExecutorID
			t.status = st
			m.releaseTask(t)
			m.deliver(fw, st)
		}
		delete(fw.pending, t.info.TaskID.Value)
		m.completeTask(t)
	}
	a.state = state
	a.held = nil
	if wasActive {
		m.failure(a)
	}
	rt := a.rt
	m.later(rt.Close)
}

// failure tells every framework that an agent is lost.
func (m *master) failure(a *agent) {
	for _, fw := range m.frameworks {
		m.send(fw, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: a.id}}})
	}
}

// PartitionAgent cuts an agent off from the master, which marks it
// unreachable: its tasks become TASK_UNREACHABLE (TASK_LOST without
// PARTITION_AWARE; source master, reason REASON_AGENT_REMOVED, with
// unreachable_time), its offers are rescinded and frameworks get a FAILURE
// event. Its tasks keep running; their updates wait for HealAgent, and kills
// do not reach them.
func (c *Cluster) PartitionAgent(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		if a.state != agentActive {
			return fmt.Errorf("mesossim: agent %s is %s, not active", a.cfg.Hostname, a.state)
		}
		m.rescindAgentOffers(a)
		a.state = agentUnreachable
		a.unreachableAt = m.cfg.Now()
		for _, t := range a.tasks {
			if t.terminal {
				continue
			}
			st := m.masterUpdate(t.fw, t.info.TaskID.Value, a.id, mesos.TASK_UNREACHABLE, mesos.REASON_AGENT_REMOVED, "Agent "+a.cfg.Hostname+" is unreachable")
			st.ExecutorID = t.status.ExecutorID
			st.UnreachableTime = &mesos.TimeInfo{Nanoseconds: a.unreachableAt.UnixNano()}
			m.deliver(t.fw, st)
			// The master now knows the task as unreachable; the agent still knows
			// its real state and reports it when it reregisters.
			t.status, st = st, t.status
			t.agentView = &st
		}
		m.failure(a)
		return nil
	})
}

// HealAgent ends a partition: the agent reregisters, every framework gets each
// of its tasks in the state the agent knows (source master, reason
// REASON_AGENT_REREGISTERED, "Unreachable agent re-reregistered"), and the
// updates the agent held are delivered.
func (c *Cluster) HealAgent(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		if a.state != agentUnreachable {
			return fmt.Errorf("mesossim: agent %s is %s, not unreachable", a.cfg.Hostname, a.state)
		}
		m.reregister(a, true)
		return nil
	})
}

// reregister makes an agent active again. After a partition the master learns
// the tasks' states from the agent and tells the frameworks.
func (m *master) reregister(a *agent, afterPartition bool) {
	a.state = agentActive
	for _, t := range a.tasks {
		if t.agentView != nil {
			t.status = *t.agentView
			t.agentView = nil
		}
		if !afterPartition || t.terminal {
			continue
		}
		src := mesos.SOURCE_MASTER
		reason := mesos.REASON_AGENT_REREGISTERED
		state := t.status.GetState()
		st := mesos.TaskStatus{
			TaskID: t.info.TaskID, State: &state, Source: &src, Reason: &reason,
			Message: strPtr("Unreachable agent re-reregistered"), AgentID: &mesos.AgentID{Value: a.id},
			ExecutorID: t.status.ExecutorID, Healthy: t.status.Healthy, Timestamp: m.timestamp(),
		}
		m.deliver(t.fw, st)
	}
	held := a.held
	a.held = nil
	for _, h := range held {
		m.applyAgentUpdate(a, h.frameworkID, h.status)
	}
	// In-flight updates of the agent's tasks are resent now that it is back.
	for _, t := range a.tasks {
		if q := t.fw.pending[t.info.TaskID.Value]; len(q) > 0 {
			m.sendPendingHead(t.fw, t.info.TaskID.Value)
		}
	}
}

// RestartAgent restarts an agent that cannot recover its state: its processes
// die and it registers again under a new agent ID. The master removes the old
// agent ("a new agent registered at the same address"): its tasks become
// TASK_LOST with REASON_AGENT_REMOVED. It returns the new agent ID.
func (c *Cluster) RestartAgent(idOrHostname string) (string, error) {
	m := c.m
	m.mu.Lock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		m.unlock()
		return "", fmt.Errorf("mesossim: %w", err)
	}
	m.retireAgent(a, agentRemoved, "Agent "+a.cfg.Hostname+" removed: a new agent registered at the same address")
	m.unlock()

	// The old runtime is closed (by unlock) before the new one takes the same sandbox.
	m.mu.Lock()
	defer m.unlock()
	na, err := m.addAgent(a.cfg, c.factory, c.agentWorkDir(a.cfg.Hostname))
	if err != nil {
		return "", fmt.Errorf("mesossim: %w", err)
	}
	return na.id, nil
}

// AddAgent registers a new agent while the cluster runs (a host joining); it
// is offered from the next allocation cycle. It returns the agent's ID.
func (c *Cluster) AddAgent(cfg AgentConfig) (string, error) {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	if cfg.Hostname == "" {
		return "", fmt.Errorf("mesossim: agent has no hostname")
	}
	if _, err := m.agentByIDOrHostname(cfg.Hostname); err == nil {
		return "", fmt.Errorf("mesossim: agent hostname %q is taken", cfg.Hostname)
	}
	a, err := m.addAgent(cfg, c.factory, c.agentWorkDir(cfg.Hostname))
	if err != nil {
		return "", fmt.Errorf("mesossim: %w", err)
	}
	return a.id, nil
}
