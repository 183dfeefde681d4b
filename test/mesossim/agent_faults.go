package mesossim

import (
	"fmt"
	"time"

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

// PartitionAgent cuts the network between the master and an agent. The
// master notices when the agent has missed MaxAgentPingTimeouts pings of
// AgentPingTimeout each (Master's SlaveObserver) and marks it unreachable:
// its tasks become TASK_UNREACHABLE (TASK_LOST without PARTITION_AWARE;
// source master, reason REASON_AGENT_REMOVED, message "health check timed
// out", unreachable_time, no uuid), and frameworks get a FAILURE event.
// Until then the master holds the agent's tasks as they were and kills sent
// to it are lost; the simulation offers nothing of it from the cut on (a
// master would, not knowing better). The tasks keep running; their updates
// wait for HealAgent.
func (c *Cluster) PartitionAgent(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		if a.state != agentActive {
			return fmt.Errorf("mesossim: agent %s is %s, not active", a.cfg.Hostname, a.state)
		}
		m.rescindAgentOffers(a)
		a.state = agentCutOff
		a.cuts++
		cut := a.cuts // a heal and a new cut start the count again
		after := m.cfg.AgentPingTimeout * time.Duration(m.cfg.MaxAgentPingTimeouts)
		m.timers = append(m.timers, time.AfterFunc(after, func() {
			m.mu.Lock()
			defer m.unlock()
			if !m.closed && a.state == agentCutOff && a.cuts == cut {
				m.markUnreachable(a, "health check timed out")
			}
		}))
		return nil
	})
}

// markUnreachable is Master::markUnreachable for an agent the master can no
// longer reach.
func (m *master) markUnreachable(a *agent, msg string) {
	m.rescindAgentOffers(a)
	a.state = agentUnreachable
	a.unreachableAt = m.cfg.Now()
	for _, t := range a.tasks {
		if t.terminal {
			continue
		}
		st := m.masterUpdate(t.fw, t.info.TaskID.Value, a.id, mesos.TASK_UNREACHABLE, mesos.REASON_AGENT_REMOVED, msg)
		st.ExecutorID = t.status.ExecutorID
		st.UnreachableTime = &mesos.TimeInfo{Nanoseconds: a.unreachableAt.UnixNano()}
		m.deliver(t.fw, st)
		// The master now knows the task as unreachable; the agent still knows
		// its real state and reports it when it reregisters.
		t.status, st = st, t.status
		t.agentView = &st
	}
	m.log.Info("agent unreachable", "agent", a.cfg.Hostname, "reason", msg)
	m.failure(a)
}

// HealAgent ends a partition. Before the master noticed it, the agent just
// answers pings again and sends the updates it held. After it was marked
// unreachable the agent reregisters: every framework gets each of its tasks
// in the state the agent knows (source master, reason
// REASON_AGENT_REREGISTERED, "Unreachable agent re-reregistered"), then the
// updates the agent held.
func (c *Cluster) HealAgent(idOrHostname string) error {
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		switch a.state {
		case agentCutOff:
			m.reregister(a, false)
		case agentUnreachable:
			m.reregister(a, true)
		default:
			return fmt.Errorf("mesossim: agent %s is %s, not partitioned", a.cfg.Hostname, a.state)
		}
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
	// Kills that waited for the agent are sent now.
	for t, grace := range a.killed {
		if !t.terminal && a.tasks[t.info.TaskID.Value] == t {
			rt, fwID, taskID, grace := a.rt, t.fw.id, t.info.TaskID.Value, grace
			m.later(func() { rt.Kill(fwID, taskID, grace) })
		}
	}
	a.killed = nil
}

// DefaultAgentDowntime is how long RestartAgent's agent is down when the
// caller gives no time.
const DefaultAgentDowntime = 500 * time.Millisecond

// RestartAgent restarts an agent that recovers its checkpointed state, as
// a Mesos agent does by default: its connection to the master closes (the
// master keeps its tasks, rescinds its offers and remembers kills for it),
// its executor API is gone for down (DefaultAgentDowntime when 0), then it
// recovers under the same agent ID and address. Executors have
// Config.ExecutorReregistrationTimeout to subscribe again (their other
// calls are answered 503 "Agent has not finished recovery" meanwhile);
// those that do not are killed and their tasks end TASK_GONE (TASK_LOST
// without PARTITION_AWARE) with REASON_EXECUTOR_REREGISTRATION_TIMEOUT.
// Command tasks keep running. Then the agent reregisters: the updates it
// held and the kills the master kept are delivered. It returns at once.
func (c *Cluster) RestartAgent(idOrHostname string, down time.Duration) error {
	if down <= 0 {
		down = DefaultAgentDowntime
	}
	return c.withAgent(idOrHostname, func(m *master, a *agent) error {
		if a.state != agentActive {
			return fmt.Errorf("mesossim: agent %s is %s, not active", a.cfg.Hostname, a.state)
		}
		m.rescindAgentOffers(a)
		a.state = agentDisconnected
		rt := a.rt
		m.later(func() {
			rt.Restart(down, func() {
				m.mu.Lock()
				defer m.unlock()
				if !m.closed && a.state == agentDisconnected {
					m.log.Info("agent reregistered after its restart", "agent", a.cfg.Hostname)
					m.reregister(a, false)
				}
			})
		})
		m.log.Info("agent restarting", "agent", a.cfg.Hostname, "down", down)
		return nil
	})
}

// RestartAgentWiped restarts an agent that cannot recover its state (its
// work directory was wiped): its processes die and it registers again
// under a new agent ID. The master removes the old agent ("a new agent
// registered at the same address"): its tasks become TASK_LOST with
// REASON_AGENT_REMOVED. It returns the new agent ID.
func (c *Cluster) RestartAgentWiped(idOrHostname string) (string, error) {
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
