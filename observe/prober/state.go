package prober

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sort"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/calls"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

// state is the executor's bookkeeping, as the v1 executor API asks of it:
// which tasks run, and which of its updates the agent has not acknowledged
// (to be handed back in SUBSCRIBE after the agent restarts). It is owned by
// the session loop; nothing else touches it.
type state struct {
	executorID mesos.ExecutorID
	// tasks are launched and not killed, by task ID.
	tasks map[string]mesos.TaskInfo
	// unackedTasks are launched but none of their updates is acknowledged.
	unackedTasks map[string]mesos.TaskInfo
	// unacked are sent and not acknowledged, oldest first.
	unacked []executor.Call_Update
	// terminal holds the UUIDs of sent TASK_KILLED updates not yet
	// acknowledged; the prober exits when it is empty.
	terminal map[string]bool
	// killing are killed tasks whose TASK_KILLED is not sent yet.
	killing map[string]bool
}

func newState(executorID string) *state {
	return &state{
		executorID:   mesos.ExecutorID{Value: executorID},
		tasks:        make(map[string]mesos.TaskInfo),
		unackedTasks: make(map[string]mesos.TaskInfo),
		terminal:     make(map[string]bool),
		killing:      make(map[string]bool),
	}
}

// launch records a launched task.
func (s *state) launch(t mesos.TaskInfo) {
	s.tasks[t.TaskID.Value] = t
	s.unackedTasks[t.TaskID.Value] = t
}

// taskIDs lists the running tasks in a stable order.
func (s *state) taskIDs() []string {
	ids := make([]string, 0, len(s.tasks))
	for id := range s.tasks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// sent records an update the agent accepted. It returns how many old
// updates were forgotten to respect maxUnacked.
func (s *state) sent(u executor.Call_Update) int {
	s.unacked = append(s.unacked, u)
	if mesosstate.Terminal(u.Status.GetState()) {
		s.terminal[string(u.Status.UUID)] = true
	}
	dropped := 0
	for len(s.unacked) > maxUnacked {
		// Keep terminal updates: they are the last word about a task.
		i := 0
		for i < len(s.unacked)-1 && mesosstate.Terminal(s.unacked[i].Status.GetState()) {
			i++
		}
		s.unacked = append(s.unacked[:i], s.unacked[i+1:]...)
		dropped++
	}
	return dropped
}

// ack records the agent's acknowledgement of one update.
func (s *state) ack(taskID string, uuid []byte) {
	delete(s.unackedTasks, taskID)
	delete(s.terminal, string(uuid))
	for i, u := range s.unacked {
		if bytes.Equal(u.Status.UUID, uuid) {
			s.unacked = append(s.unacked[:i], s.unacked[i+1:]...)
			return
		}
	}
}

// subscribe builds the SUBSCRIBE call, carrying what the agent has not
// acknowledged.
func (s *state) subscribe() *executor.Call {
	var tasks []mesos.TaskInfo
	ids := make([]string, 0, len(s.unackedTasks))
	for id := range s.unackedTasks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		tasks = append(tasks, s.unackedTasks[id])
	}
	var updates []executor.Call_Update
	if len(s.unacked) > 0 {
		updates = append(updates, s.unacked...)
	}
	return calls.Subscribe(tasks, updates)
}

// newStatus builds a status update of ours with a fresh RFC 4122 UUID.
func (s *state) newStatus(taskID string, st mesos.TaskState, data []byte, message string, now time.Time) (mesos.TaskStatus, error) {
	id, err := newUUID()
	if err != nil {
		return mesos.TaskStatus{}, err
	}
	ts := float64(now.UnixNano()) / 1e9
	status := mesos.TaskStatus{
		TaskID:     mesos.TaskID{Value: taskID},
		State:      st.Enum(),
		Source:     mesos.SOURCE_EXECUTOR.Enum(),
		ExecutorID: &mesos.ExecutorID{Value: s.executorID.Value},
		UUID:       id,
		Data:       data,
		Timestamp:  &ts,
	}
	if message != "" {
		status.Message = &message
	}
	return status, nil
}

// newUUID returns a random (version 4) UUID, as Mesos requires of status
// update UUIDs on the HTTP API.
func newUUID() ([]byte, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b, nil
}
