package mesossim

import (
	"fmt"
	"time"
)

// Faults of tasks, of the master and of status update delivery. Agent faults
// are in agent_faults.go, device markers in markers.go.

// KillTask crashes a task's process (in simulated mode: the task fails).
func (c *Cluster) KillTask(taskID string) error {
	m := c.m
	m.mu.Lock()
	var rt Runtime
	for _, fw := range m.frameworks {
		if t := fw.tasks[taskID]; t != nil && !t.terminal {
			rt = t.agent.rt
		}
	}
	m.unlock()
	if rt == nil {
		return fmt.Errorf("mesossim: no live task %q", taskID)
	}
	if err := rt.KillProcess(taskID); err != nil {
		return fmt.Errorf("mesossim: killing task %q: %w", taskID, err)
	}
	return nil
}

// FailoverMaster simulates the leading master failing over: every scheduler
// stream drops, outstanding offers vanish, the new leader (the other master
// when two run) has a new master ID, and agents reregister after
// Config.AgentReregisterDelay. Until an agent reregisters its tasks are
// unknown to the master: implicit reconciliation leaves them out and explicit
// reconciliation naming the agent gets no answer.
func (c *Cluster) FailoverMaster() {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	for _, fw := range m.frameworks {
		if fw.stream != nil {
			fw.stream.close()
			m.disconnectLocked(fw)
		}
	}
	for _, o := range m.offers {
		m.removeOffer(o, false)
	}
	m.leader = (m.leader + 1) % len(m.addrs)
	m.masterID = m.newUUIDString()
	var recovering []*agent
	for _, a := range m.agentOrder {
		if a.state == agentActive {
			a.state = agentRecovering
			recovering = append(recovering, a)
		}
	}
	reregister := func() {
		m.mu.Lock()
		defer m.unlock()
		if m.closed {
			return
		}
		for _, a := range recovering {
			if a.state == agentRecovering {
				m.reregister(a, false)
			}
		}
	}
	if d := m.cfg.AgentReregisterDelay; d > 0 {
		m.timers = append(m.timers, time.AfterFunc(d, reregister))
	} else {
		m.later(reregister)
	}
	m.log.Info("master failed over", "leader", m.addrs[m.leader], "master_id", m.masterID)
}

// DropUpdates drops the next n agent status updates (those with a uuid) on
// their way to frameworks; they are resent after the retry interval, as a
// Mesos agent resends them. (The master's own updates travel on the
// subscription's connection and are lost only with it: DropStreams.)
func (c *Cluster) DropUpdates(n int) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.drop += n
}

// DelayUpdates delays the next n agent status updates by d.
func (c *Cluster) DelayUpdates(n int, d time.Duration) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.delay += n
	c.m.faults.delayFor = d
}

// DropKills loses the next n kills on their way to the agent: the KILL call
// is accepted (202) but the task keeps running, so the framework must retry
// until it sees a terminal update, as the Mesos docs ask.
func (c *Cluster) DropKills(n int) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.dropKills += n
}

// ClearFaults forgets the message faults not yet spent (updates to drop,
// delay or duplicate, kills to lose): from now on every message arrives.
func (c *Cluster) ClearFaults() {
	c.m.mu.Lock()
	defer c.m.unlock()
	f := &c.m.faults
	f.drop, f.delay, f.duplicate, f.dropKills = 0, 0, 0, 0
}

// DuplicateUpdates delivers the next n agent status updates twice.
func (c *Cluster) DuplicateUpdates(n int) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.duplicate += n
}
