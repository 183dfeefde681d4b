package mesossim

import (
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// Runtime runs one agent's tasks. Process mode uses the agentrt package;
// simulated mode uses simRuntime. The master calls these methods without
// holding its own lock, and a Runtime may call RuntimeConfig.Updates from any
// goroutine, even from inside these methods.
type Runtime interface {
	// Endpoint is the agent's executor API endpoint (MESOS_AGENT_ENDPOINT).
	Endpoint() string
	// Launch starts a command task or a custom-executor task, asynchronously.
	Launch(fw mesos.FrameworkInfo, task mesos.TaskInfo)
	// Kill kills a task, giving it grace before SIGKILL.
	Kill(frameworkID, taskID string, grace time.Duration)
	// Message passes a framework message to an executor.
	Message(frameworkID, executorID string, data []byte) error
	// ShutdownFramework kills every task and executor of a framework.
	ShutdownFramework(frameworkID string)
	// KillProcess crashes a task's process (a fault).
	KillProcess(taskID string) error
	// Restart restarts the agent with its checkpointed state: it is down
	// for down, then recovers the executors that subscribe again within
	// RuntimeConfig.ExecutorReregistrationTimeout, destroys the others,
	// and calls recovered (from any goroutine, not at all after Close).
	// It returns at once.
	Restart(down time.Duration, recovered func())
	// Close stops every task and frees the runtime's resources.
	Close()
}

// RuntimeConfig is what the master gives a Runtime it creates; the fields
// match agentrt.Config.
type RuntimeConfig struct {
	AgentID, Hostname string
	WorkDir           string // sandboxes live below it
	HostDir           string // the agent's stand-in for its mounted devices; may be ""
	IP                string // the simulated host's address (AgentConfig.IP)
	Listen            string // the runtime's own HTTP server; "" = 127.0.0.1:0
	// Updates receives every status update the runtime generates, in order per task.
	// It does not block long; resending until acknowledged is the master's job.
	Updates func(frameworkID string, status mesos.TaskStatus)
	// Messages receives an executor's MESSAGE calls for its scheduler.
	Messages func(frameworkID, executorID string, data []byte)
	// ExecutorExited reports that a framework-given executor (custom or
	// default, not a command executor) exited with a wait status; the master
	// frees its resources and sends the framework a FAILURE event. Optional:
	// without it an executor's resources are freed with its last task.
	ExecutorExited func(frameworkID, executorID string, status int)
	Logger         hclog.Logger
	Now            func() time.Time
	Docker         *agentrt.DockerConfig // Config.Docker
	// ExecutorEnvironment is the agent's --executor_environment_variables
	// (AgentConfig.ExecutorEnvironment).
	ExecutorEnvironment map[string]string
	// ExecutorReregistrationTimeout is Config.ExecutorReregistrationTimeout.
	ExecutorReregistrationTimeout time.Duration
}

// RuntimeFactory creates an agent's runtime.
type RuntimeFactory func(RuntimeConfig) (Runtime, error)
