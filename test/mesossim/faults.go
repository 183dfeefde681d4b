package mesossim

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

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

// RemoveAgent removes an agent for good: its tasks become TASK_GONE (reason
// REASON_AGENT_REMOVED, source master), its offers are rescinded, frameworks get
// a FAILURE event for it, and its processes are stopped.
func (c *Cluster) RemoveAgent(idOrHostname string) error {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		return fmt.Errorf("mesossim: %w", err)
	}
	m.goneAgent(a, mesos.REASON_AGENT_REMOVED, "Agent "+a.cfg.Hostname+" removed")
	return nil
}

// goneAgent retires an agent: tasks TASK_GONE with reason, runtime closed.
func (m *master) goneAgent(a *agent, reason mesos.TaskStatus_Reason, msg string) {
	m.rescindAgentOffers(a)
	for _, t := range a.tasks {
		fw := t.fw
		if !t.terminal {
			st := m.masterUpdate(fw, t.info.TaskID.Value, a.id, mesos.TASK_GONE, reason, msg)
			t.status = st
			m.releaseTask(t)
			m.deliver(fw, st)
		}
		delete(fw.pending, t.info.TaskID.Value)
		m.completeTask(t)
	}
	a.state = agentGone
	a.held = nil
	m.failure(a)
	rt := a.rt
	m.later(rt.Close)
}

// failure tells every framework that an agent is lost.
func (m *master) failure(a *agent) {
	for _, fw := range m.frameworks {
		m.send(fw, &scheduler.Event{Type: scheduler.Event_FAILURE, Failure: &scheduler.Event_Failure{AgentID: &mesos.AgentID{Value: a.id}}})
	}
}

// PartitionAgent cuts an agent off from the master: its tasks become
// TASK_UNREACHABLE (source master, reason REASON_AGENT_REMOVED, with
// unreachable_time), its offers are rescinded and frameworks get a FAILURE
// event. Its tasks keep running; their updates wait for HealAgent.
func (c *Cluster) PartitionAgent(idOrHostname string) error {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		return fmt.Errorf("mesossim: %w", err)
	}
	if a.state != agentActive {
		return fmt.Errorf("mesossim: agent %s is %s, not active", a.cfg.Hostname, a.state)
	}
	m.rescindAgentOffers(a)
	a.state = agentUnreachable
	now := m.cfg.Now()
	for _, t := range a.tasks {
		if t.terminal {
			continue
		}
		st := m.masterUpdate(t.fw, t.info.TaskID.Value, a.id, mesos.TASK_UNREACHABLE, mesos.REASON_AGENT_REMOVED, "Agent "+a.cfg.Hostname+" is unreachable")
		st.UnreachableTime = &mesos.TimeInfo{Nanoseconds: now.UnixNano()}
		m.deliver(t.fw, st)
		if !t.fw.partitionAware {
			// TASK_LOST is terminal: the master forgets the task, and the agent
			// is told to kill it when it comes back.
			t.status = st
			m.releaseTask(t)
			delete(t.fw.pending, t.info.TaskID.Value)
			m.completeTask(t)
			a.orphans = append(a.orphans, orphanTask{frameworkID: t.fw.id, taskID: t.info.TaskID.Value})
			continue
		}
		// The master now knows the task as unreachable; the agent still knows
		// its real state and reports it when it reregisters.
		t.status, st = st, t.status
		t.agentView = &st
	}
	m.failure(a)
	return nil
}

// HealAgent ends a partition: the agent reregisters, each of its tasks of a
// partition-aware framework is reported in its current state (source master,
// reason REASON_AGENT_REREGISTERED), tasks of other frameworks (already
// TASK_LOST and forgotten) are killed, and the updates the agent held are
// delivered.
func (c *Cluster) HealAgent(idOrHostname string) error {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		return fmt.Errorf("mesossim: %w", err)
	}
	if a.state != agentUnreachable {
		return fmt.Errorf("mesossim: agent %s is %s, not unreachable", a.cfg.Hostname, a.state)
	}
	m.reregister(a, true)
	return nil
}

// reregister makes an agent active again. After a partition the master learns
// the tasks' real states and tells partition-aware frameworks.
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
		fw := t.fw
		st := m.reconcileKnown(t)
		reason := mesos.REASON_AGENT_REREGISTERED
		st.Reason = &reason
		st.Message = strPtr("Agent " + a.cfg.Hostname + " reregistered")
		m.deliver(fw, st)
	}
	for _, o := range a.orphans {
		rt, o := a.rt, o
		m.later(func() { rt.Kill(o.frameworkID, o.taskID, 0) })
	}
	a.orphans = nil
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
// die, it registers again under a new agent ID, and its old tasks become
// TASK_GONE (reason REASON_AGENT_RESTARTED). It returns the new agent ID.
func (c *Cluster) RestartAgent(idOrHostname string) (string, error) {
	m := c.m
	m.mu.Lock()
	a, err := m.agentByIDOrHostname(idOrHostname)
	if err != nil {
		m.unlock()
		return "", fmt.Errorf("mesossim: %w", err)
	}
	m.goneAgent(a, mesos.REASON_AGENT_RESTARTED, "Agent "+a.cfg.Hostname+" restarted with a new ID")
	m.unlock()

	// The old runtime must be closed before the new one takes the same sandbox.
	m.mu.Lock()
	defer m.unlock()
	na, err := m.addAgent(a.cfg, c.factory, c.agentWorkDir(a.cfg.Hostname))
	if err != nil {
		return "", fmt.Errorf("mesossim: %w", err)
	}
	return na.id, nil
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
		for _, a := range recovering {
			if a.state == agentRecovering {
				m.reregister(a, false)
			}
		}
	}
	if d := m.cfg.AgentReregisterDelay; d > 0 {
		time.AfterFunc(d, reregister)
	} else {
		m.later(reregister)
	}
	m.log.Info("master failed over", "leader", m.addrs[m.leader], "master_id", m.masterID)
}

// DropUpdates drops the next n status updates on their way to frameworks.
// Updates with a uuid are resent after the retry interval, as Mesos does.
func (c *Cluster) DropUpdates(n int) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.drop += n
}

// DelayUpdates delays the next n status updates by d.
func (c *Cluster) DelayUpdates(n int, d time.Duration) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.delay += n
	c.m.faults.delayFor = d
}

// DuplicateUpdates delivers the next n status updates twice.
func (c *Cluster) DuplicateUpdates(n int) {
	c.m.mu.Lock()
	defer c.m.unlock()
	c.m.faults.duplicate += n
}

// deviceMarker is the file that marks a device for Quobyte.
const deviceMarker = "QUOBYTE_DEV_SETUP"

// AddDeviceMarker writes HostDir/<device>/QUOBYTE_DEV_SETUP on an agent.
func (c *Cluster) AddDeviceMarker(agentHostname, device, content string) error {
	dir, err := c.deviceDir(agentHostname, device)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mesossim: creating device directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, deviceMarker), []byte(content), 0o644); err != nil {
		return fmt.Errorf("mesossim: writing device marker: %w", err)
	}
	return nil
}

// RemoveDeviceMarker removes HostDir/<device>/QUOBYTE_DEV_SETUP on an agent.
func (c *Cluster) RemoveDeviceMarker(agentHostname, device string) error {
	dir, err := c.deviceDir(agentHostname, device)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, deviceMarker)); err != nil {
		return fmt.Errorf("mesossim: removing device marker: %w", err)
	}
	return nil
}

func (c *Cluster) deviceDir(agentHostname, device string) (string, error) {
	m := c.m
	m.mu.Lock()
	a, err := m.agentByIDOrHostname(agentHostname)
	m.unlock()
	if err != nil {
		return "", fmt.Errorf("mesossim: %w", err)
	}
	if a.cfg.HostDir == "" {
		return "", fmt.Errorf("mesossim: agent %s has no host directory", a.cfg.Hostname)
	}
	if device == "" || device != filepath.Base(device) || device == "." || device == ".." {
		return "", fmt.Errorf("mesossim: invalid device name %q", device)
	}
	return filepath.Join(a.cfg.HostDir, device), nil
}
