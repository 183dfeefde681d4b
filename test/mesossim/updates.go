package mesossim

import (
	"bytes"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

// pendingUpdate is an agent-generated status update awaiting acknowledgement.
// As with a Mesos agent's status update manager, only the oldest unacknowledged
// update of a task is in flight; the next is sent when it is acknowledged.
type pendingUpdate struct {
	status   mesos.TaskStatus
	lastSent time.Time     // wall clock; zero = never sent
	backoff  time.Duration // wait before the next resend; doubles up to maxStatusUpdateRetry
}

// maxStatusUpdateRetry caps the resend backoff, as a Mesos agent's status
// update manager does (STATUS_UPDATE_RETRY_INTERVAL_MAX).
const maxStatusUpdateRetry = 10 * time.Minute

// updateFaults holds injected faults for the next status updates delivered to
// frameworks.
type updateFaults struct {
	drop       int
	duplicate  int
	delay      int
	delayFor   time.Duration
	dropKills  int // the next KILL calls are accepted but never reach the agent
	dropped    int // counters, for tests and /state
	duplicated int
	delayed    int
	killsLost  int
}

// agentUpdate receives a status update from an agent runtime.
func (m *master) agentUpdate(a *agent, fwID string, st mesos.TaskStatus) {
	m.mu.Lock()
	defer m.unlock()
	if m.closed || a.state.retired() {
		return
	}
	if a.state != agentActive {
		// The master cannot hear a partitioned or not yet reregistered agent;
		// the agent keeps the update and sends it when it is back.
		a.held = append(a.held, heldUpdate{frameworkID: fwID, status: st})
		return
	}
	m.applyAgentUpdate(a, fwID, st)
}

func (m *master) applyAgentUpdate(a *agent, fwID string, st mesos.TaskStatus) {
	if st.State == nil || st.TaskID.Value == "" {
		m.log.Error("agent sent a status update without state or task ID; dropped", "agent", a.cfg.Hostname, "task", st.TaskID.Value)
		return
	}
	fw := m.frameworks[fwID]
	if fw == nil {
		return // the framework is gone; Mesos drops its updates
	}
	t := fw.tasks[st.TaskID.Value]
	if t == nil || t.agent != a {
		return
	}
	if st.AgentID == nil {
		st.AgentID = &mesos.AgentID{Value: a.id}
	}
	if st.Timestamp == nil {
		st.Timestamp = m.timestamp()
	}
	t.status = st
	if mesosstate.Terminal(st.GetState()) && !t.terminal {
		m.releaseTask(t)
	}
	if len(st.UUID) == 0 {
		m.deliver(fw, st)
		return
	}
	q := fw.pending[st.TaskID.Value]
	fw.pending[st.TaskID.Value] = append(q, &pendingUpdate{status: st})
	if len(q) == 0 {
		m.sendPendingHead(fw, st.TaskID.Value)
	}
}

// releaseTask frees a task's resources once it is terminal.
func (m *master) releaseTask(t *task) {
	if t.terminal {
		return
	}
	t.terminal = true
	a := t.agent
	a.unuse(t.res)
	if t.executorID != "" {
		key := t.fw.id + "/" + t.executorID
		if e := a.executors[key]; e != nil {
			e.tasks--
			if e.tasks <= 0 {
				a.unuse(e.res)
				delete(a.executors, key)
			}
		}
	}
}

func (m *master) sendPendingHead(fw *framework, taskID string) {
	q := fw.pending[taskID]
	if len(q) == 0 {
		return
	}
	if t := fw.tasks[taskID]; t != nil && t.agent.state != agentActive {
		return // resent once the agent is back
	}
	q[0].lastSent = time.Now()
	q[0].backoff = m.cfg.StatusUpdateRetryInterval
	m.deliver(fw, q[0].status)
}

// resendPendingHead resends an unacknowledged update and doubles its backoff.
func (m *master) resendPendingHead(fw *framework, taskID string) {
	q := fw.pending[taskID]
	backoff := min(2*q[0].backoff, maxStatusUpdateRetry)
	m.sendPendingHead(fw, taskID)
	q[0].backoff = backoff
}

// deliver sends an UPDATE event, through the injected faults. The faults
// hit only an agent's updates (those with a uuid): they stand for what can
// befall an update between the agent and the master, whence the agent
// resends it. The master's own updates travel on the subscription's
// connection like every event, in order, and are lost only with it (the
// scheduler then subscribes again and reconciles).
func (m *master) deliver(fw *framework, st mesos.TaskStatus) {
	if fw.stream == nil {
		return
	}
	ev := &scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}}
	f := &m.faults
	switch {
	case len(st.UUID) == 0:
	case f.drop > 0:
		f.drop--
		f.dropped++
		return
	case f.delay > 0:
		f.delay--
		f.delayed++
		s, agentID := fw.stream, st.GetAgentID().GetValue()
		time.AfterFunc(f.delayFor, func() {
			// The update reaches the master late. If its agent is no
			// longer registered by then, the master drops it, as Mesos'
			// master ignores an update from an agent it removed (or
			// cannot hear); a live agent resends it. So no framework
			// hears from an agent after the FAILURE of its removal.
			m.mu.Lock()
			defer m.unlock()
			if a := m.agents[agentID]; m.closed || a == nil || a.state != agentActive || fw.stream != s {
				return
			}
			s.send(ev)
		})
		return
	case f.duplicate > 0:
		f.duplicate--
		f.duplicated++
		fw.stream.send(ev)
	}
	fw.stream.send(ev)
}

// acknowledge handles ACKNOWLEDGE: it pops the task's in-flight update when the
// uuid matches and sends the next; unknown uuids are ignored, as an agent does.
func (m *master) acknowledge(fw *framework, taskID string, uuid []byte) {
	q := fw.pending[taskID]
	if len(q) == 0 || !bytes.Equal(q[0].status.UUID, uuid) {
		return
	}
	q = q[1:]
	if len(q) == 0 {
		delete(fw.pending, taskID)
		if t := fw.tasks[taskID]; t != nil && t.terminal {
			m.completeTask(t)
		}
		return
	}
	fw.pending[taskID] = q
	m.sendPendingHead(fw, taskID)
}

// completeTask forgets a terminal, acknowledged task (it moves to the history).
func (m *master) completeTask(t *task) {
	fw := t.fw
	delete(fw.tasks, t.info.TaskID.Value)
	delete(t.agent.tasks, t.info.TaskID.Value)
	fw.completed = append(fw.completed, t)
	if len(fw.completed) > completedTasksKept {
		fw.completed = fw.completed[len(fw.completed)-completedTasksKept:]
	}
}

// retryUnacknowledged resends in-flight updates whose backoff has passed:
// first after StatusUpdateRetryInterval, then doubling up to ten minutes.
func (m *master) retryUnacknowledged() {
	m.mu.Lock()
	defer m.unlock()
	now := time.Now()
	for _, fw := range m.frameworks {
		if fw.stream == nil {
			continue
		}
		for taskID, q := range fw.pending {
			if len(q) > 0 && !q[0].lastSent.IsZero() && now.Sub(q[0].lastSent) >= q[0].backoff {
				m.resendPendingHead(fw, taskID)
			}
		}
	}
}

// masterUpdate builds a status update generated by the master: no uuid (it is
// neither acknowledged nor resent), source SOURCE_MASTER.
func (m *master) masterUpdate(fw *framework, taskID, agentID string, state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string) mesos.TaskStatus {
	state = m.compatState(fw, state)
	src := mesos.SOURCE_MASTER
	st := mesos.TaskStatus{
		TaskID:    mesos.TaskID{Value: taskID},
		State:     &state,
		Source:    &src,
		Reason:    &reason,
		Timestamp: m.timestamp(),
	}
	if agentID != "" {
		st.AgentID = &mesos.AgentID{Value: agentID}
	}
	if msg != "" {
		st.Message = &msg
	}
	return st
}

// compatState maps the partition-aware states to TASK_LOST for frameworks
// without the PARTITION_AWARE capability, as Mesos does.
func (m *master) compatState(fw *framework, s mesos.TaskState) mesos.TaskState {
	if fw.partitionAware {
		return s
	}
	switch s {
	case mesos.TASK_DROPPED, mesos.TASK_UNREACHABLE, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR, mesos.TASK_UNKNOWN:
		return mesos.TASK_LOST
	}
	return s
}
