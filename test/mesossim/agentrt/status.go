package agentrt

import (
	"crypto/rand"
	"fmt"
	"strings"
	"syscall"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// newUUID returns 16 random bytes with the RFC 4122 version 4 bits set, the
// form Mesos uses for status update UUIDs.
func newUUID() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("agentrt: crypto/rand failed: %v", err)) // cannot happen on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

// uuidString formats 16 bytes as a canonical UUID (used for container IDs).
func uuidString(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// status builds an update with what every update from this agent carries.
func (a *Agent) status(taskID, executorID string, state mesos.TaskState, src mesos.TaskStatus_Source) mesos.TaskStatus {
	ts := float64(a.now().UnixNano()) / 1e9
	st := mesos.TaskStatus{
		TaskID:    mesos.TaskID{Value: taskID},
		State:     state.Enum(),
		Source:    src.Enum(),
		AgentID:   &mesos.AgentID{Value: a.cfg.AgentID},
		Timestamp: &ts,
		UUID:      newUUID(),
	}
	if executorID != "" {
		st.ExecutorID = &mesos.ExecutorID{Value: executorID}
	}
	return st
}

// containerStatus is what the agent attaches to TASK_RUNNING: the container
// ID, the executor's pid and the address the task can be reached at (the
// simulated host's, see Config.IP).
func containerStatus(containerID, ip string, pid int) *mesos.ContainerStatus {
	cs := &mesos.ContainerStatus{
		ContainerID:  &mesos.ContainerID{Value: containerID},
		NetworkInfos: []mesos.NetworkInfo{{IPAddresses: []mesos.NetworkInfo_IPAddress{{IPAddress: &ip}}}},
	}
	if pid > 0 {
		p := uint32(pid)
		cs.ExecutorPID = &p
	}
	return cs
}

func reasonString(st mesos.TaskStatus) string {
	if st.Reason == nil {
		return ""
	}
	return st.Reason.String()
}

// executorIDOf is the executor a task runs under: its ExecutorInfo's ID, or
// for a command task the task ID, as the Mesos agent names command executors.
func executorIDOf(task mesos.TaskInfo) string {
	if task.Executor != nil {
		return task.Executor.ExecutorID.Value
	}
	return task.TaskID.Value
}

// unsupportedContainer reports whether the simulated agent can run the task's
// (and its executor's) container, with the message Mesos gives when not.
// The agent runs the Mesos containerizer without an image provisioner, and
// the Docker containerizer when Config.Docker is set.
func (a *Agent) unsupportedContainer(task mesos.TaskInfo) (string, bool) {
	for _, ci := range []*mesos.ContainerInfo{task.Container, task.GetExecutor().GetContainer()} {
		if ci == nil {
			continue
		}
		switch ci.GetType() {
		case mesos.ContainerInfo_DOCKER:
			if a.docker != nil {
				continue
			}
			return "Failed to launch container: None of the enabled containerizers (mesos) could create a container for the provided TaskInfo/ExecutorInfo message", false
		case mesos.ContainerInfo_MESOS:
			if ci.GetMesos().GetImage() != nil {
				return "Failed to launch container: container images are not supported by the simulated agent (no image provisioner)", false
			}
		}
	}
	return "", true
}

// exitMessage renders a wait status the way the Mesos command executor does
// ("Command exited with status 1", "Command terminated with signal Killed").
func exitMessage(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("Command exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		name := ws.Signal().String()
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		return "Command terminated with signal " + name
	default:
		return "Command terminated"
	}
}
