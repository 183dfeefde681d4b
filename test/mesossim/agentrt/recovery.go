package agentrt

import (
	"net"
	"syscall"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// errRecovering is the agent's answer to executor calls other than
// SUBSCRIBE while it recovers (slave/http.cpp, Http::executor).
const errRecovering = "Agent has not finished recovery"

// termination is what a killed executor's live tasks end with instead of
// TASK_FAILED/REASON_EXECUTOR_TERMINATED (Mesos' pendingTermination).
type termination struct {
	state  mesos.TaskState
	reason mesos.TaskStatus_Reason
	msg    string
}

// Restart simulates the agent process restarting with its checkpointed
// state (--recover=reconnect), as slave.cpp does it: the executor API is
// gone for down (executor subscriptions break, calls are refused), then
// the agent recovers under the same ID and address. While it recovers,
// executors may SUBSCRIBE again but their other calls are answered 503
// "Agent has not finished recovery". After ExecutorReregistrationTimeout
// (counted from the end of down, whether or not every executor is back:
// MESOS-7539) executors that have not subscribed again are killed and
// their tasks end TASK_GONE (TASK_LOST without PARTITION_AWARE), source
// agent, REASON_EXECUTOR_REREGISTRATION_TIMEOUT; then recovered is called
// and the agent reregisters with the master. Command tasks keep running:
// the command executor reconnects at once; so do Docker tasks, whose
// docker executor outlives the agent too, and the Docker containerizer
// re-adopts their containers and removes orphans (recoverContainers)
// before the executors' window opens. Restart returns at once.
func (a *Agent) Restart(down time.Duration, recovered func()) {
	a.srvMu.Lock()
	srv := a.srv
	a.recovering = true
	a.srvMu.Unlock()
	_ = srv.Close() // every subscription ends with its connection
	a.mu.Lock()
	var exs []*executor
	for _, f := range a.frameworks {
		for _, ex := range f.executors {
			exs = append(exs, ex)
		}
	}
	a.mu.Unlock()
	for _, ex := range exs {
		ex.mu.Lock()
		ex.reregistered = false
		ex.mu.Unlock()
	}
	a.log.Info("agent restarting", "down", down)
	a.goRun(func() {
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(down):
		}
		a.recoverContainers(a.ctx)
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			a.log.Error("agent cannot listen again after its restart; executors cannot reach it", "address", a.addr, "error", err)
		} else {
			a.serve(ln)
		}
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(a.cfg.ExecutorReregistrationTimeout):
		}
		a.cleanupUnreregistered(exs)
		a.srvMu.Lock()
		a.recovering = false
		a.srvMu.Unlock()
		a.log.Info("agent recovered")
		if recovered != nil {
			recovered()
		}
	})
}

func (a *Agent) isRecovering() bool {
	a.srvMu.Lock()
	defer a.srvMu.Unlock()
	return a.recovering
}

// cleanupUnreregistered is slave.cpp's reregisterExecutorTimeout(): every
// executor that did not subscribe again is destroyed.
func (a *Agent) cleanupUnreregistered(exs []*executor) {
	msg := "Executor did not reregister within " + mesosDuration(a.cfg.ExecutorReregistrationTimeout)
	for _, ex := range exs {
		ex.mu.Lock()
		back, p := ex.reregistered || ex.exited, ex.proc
		if !back {
			state := mesos.TASK_LOST
			if hasCapability(ex.fw, mesos.FrameworkInfo_Capability_PARTITION_AWARE) {
				state = mesos.TASK_GONE
			}
			ex.pending = &termination{state: state, reason: mesos.REASON_EXECUTOR_REREGISTRATION_TIMEOUT, msg: msg}
		}
		ex.mu.Unlock()
		if back {
			continue
		}
		ex.log.Warn("killing executor that did not subscribe again after the agent's restart")
		if p != nil {
			_ = p.signal(syscall.SIGKILL)
		} else {
			ex.shutdown()
		}
	}
}
