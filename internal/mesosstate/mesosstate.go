// Package mesosstate holds facts about Mesos task states that the prober
// executor and the simulated cluster both need.
package mesosstate

import mesos "github.com/mesos/mesos-go/api/v1/lib"

// Terminal reports whether a task in state s is over (Mesos'
// protobuf::isTerminalState): no update will follow it.
func Terminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR,
		mesos.TASK_LOST, mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}
