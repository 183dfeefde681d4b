package agentrt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// Defaults taken from the Mesos agent's flags of the same names.
const (
	defaultRegistrationTimeout = time.Minute     // --executor_registration_timeout
	defaultShutdownGrace       = 5 * time.Second // --executor_shutdown_grace_period
	defaultKillGrace           = 3 * time.Second // KillPolicy's documented default
	defaultRecoveryTimeout     = 15 * time.Minute
	defaultReregistration      = 2 * time.Second // --executor_reregistration_timeout
)

// Config describes one simulated agent. AgentID, Hostname and WorkDir are
// required; everything else has a default.
type Config struct {
	AgentID, Hostname string
	// WorkDir holds sandboxes under
	// WorkDir/frameworks/<fwid>/executors/<eid>/runs/<container id>.
	WorkDir string
	// HostDir is the agent's host directory standing in for its mounted
	// devices; exported to tasks as MESOS_SIM_HOST_DIR. May be "".
	HostDir string
	// IP is the address of this simulated host (default 127.0.0.1). Every
	// agent of a simulated cluster runs on this one machine; giving each a
	// loopback address of its own (127.0.1.N: all of 127/8 is local on
	// Linux) lets services with fixed ports run on several "hosts" at once.
	// Tasks learn it from LIBPROCESS_IP, as executors do from a Mesos agent;
	// health checks and the container status use it where Mesos would use
	// the host's loopback, which reaches the same listener on a real host.
	IP string
	// Listen is the address of this agent's own HTTP server (executor API);
	// "" means 127.0.0.1:0.
	Listen string
	// Updates receives every status update the runtime generates, in order per
	// task. Called from runtime goroutines; it must not block long and must
	// not call Close. Resending until acknowledged is the master's job.
	Updates func(frameworkID string, status mesos.TaskStatus)
	// Messages receives executor-to-scheduler MESSAGE calls (optional; nil
	// drops them, which Mesos allows: messages are unreliable).
	Messages func(frameworkID, executorID string, data []byte)
	// ExecutorExited is told when a custom executor's process has exited
	// (after its tasks' terminal updates), with its wait status, so the
	// master can send the framework a FAILURE event. Optional.
	ExecutorExited func(frameworkID, executorID string, status int)
	Logger         hclog.Logger
	// Now stamps status updates; nil means time.Now. Timers (grace periods,
	// health check intervals) always use the real clock.
	Now func() time.Time
	// ExecutorRegistrationTimeout bounds how long a custom executor may take
	// to SUBSCRIBE; 0 means one minute, the Mesos default.
	ExecutorRegistrationTimeout time.Duration
	// ExecutorShutdownGracePeriod is the time between SHUTDOWN and SIGKILL
	// when the ExecutorInfo does not set one; 0 means 5s, the Mesos default.
	ExecutorShutdownGracePeriod time.Duration
	// Docker gives the agent the Docker containerizer (docker.go); nil:
	// DOCKER containers fail, as on an agent with only the Mesos one.
	Docker *DockerConfig
	// ExecutorReregistrationTimeout is how long a recovering agent waits for
	// its executors to subscribe again (Recover), and what checkpointing
	// executors get as MESOS_SUBSCRIPTION_BACKOFF_MAX; 0 means 2s, the
	// Mesos default (--executor_reregistration_timeout).
	ExecutorReregistrationTimeout time.Duration
	// ExecutorEnvironment is the agent's --executor_environment_variables:
	// when set, executors and command tasks get these variables instead of
	// the agent's own environment. nil: the agent's environment (minus
	// MESOS_* and LIBPROCESS_*), a simulator convenience.
	ExecutorEnvironment map[string]string
}

// Agent is the runtime of one agent. All methods are safe for concurrent use.
type Agent struct {
	cfg  Config
	log  hclog.Logger
	now  func() time.Time
	addr string       // the executor API's address, kept across restarts
	http *http.Client // for the fetcher and HTTP health checks

	// srvMu guards the executor API server (replaced by Restart) and the
	// recovery state.
	srvMu      sync.Mutex
	srv        *http.Server
	recovering bool // restarted, executors not yet given their reregistration window

	ctx    context.Context // cancelled by Close: every process gets SIGKILL
	cancel context.CancelFunc
	wg     sync.WaitGroup // runtime goroutines

	// emitMu is held for reading while Updates runs; Close takes it for
	// writing to set closed, so no update is delivered after Close returns.
	emitMu sync.RWMutex
	closed bool

	// runMu guards stopped, which stops goRun from adding goroutines once
	// Close waits for them. Separate from emitMu so that goRun may be called
	// from inside Updates without a recursive read lock.
	runMu   sync.Mutex
	stopped bool

	mu         sync.Mutex
	frameworks map[string]*framework

	// terminating holds frameworks shut down by ShutdownFramework: like a
	// Mesos agent, this one ignores their status updates and new tasks.
	// Its own mutex, because emit consults it under executor locks.
	termMu      sync.Mutex
	terminating map[string]bool

	docker         *dockerCLI // nil without Config.Docker
	shareOnce      sync.Once  // shareHostDir
	hostDirMounted bool       // shareHostDir made HostDir a shared mount
}

// framework is the agent's view of one framework: the tasks it runs under
// the agent's own executors (command and Docker tasks) and its custom
// executors.
type framework struct {
	info      mesos.FrameworkInfo
	tasks     map[string]ownTask   // by task ID
	executors map[string]*executor // by executor ID
}

// ownTask is a task under an executor the agent provides: the command
// executor (commandTask) or the docker executor (dockerTask).
type ownTask interface {
	kill(grace time.Duration, health bool)
	crash() error
}

// New validates cfg, creates the work directory and starts the agent's HTTP
// server.
func New(cfg Config) (*Agent, error) {
	if cfg.AgentID == "" || cfg.Hostname == "" || cfg.WorkDir == "" {
		return nil, errors.New("agentrt: AgentID, Hostname and WorkDir are required")
	}
	if cfg.Updates == nil {
		return nil, errors.New("agentrt: Updates is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if cfg.ExecutorRegistrationTimeout <= 0 {
		cfg.ExecutorRegistrationTimeout = defaultRegistrationTimeout
	}
	if cfg.ExecutorShutdownGracePeriod <= 0 {
		cfg.ExecutorShutdownGracePeriod = defaultShutdownGrace
	}
	if cfg.ExecutorReregistrationTimeout <= 0 {
		cfg.ExecutorReregistrationTimeout = defaultReregistration
	}
	wd, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("agentrt: work dir: %w", err)
	}
	cfg.WorkDir = wd
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return nil, fmt.Errorf("agentrt: create work dir: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("agentrt: listen on %s: %w", cfg.Listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		cfg:         cfg,
		log:         cfg.Logger.Named("agent").With("agent_id", cfg.AgentID),
		now:         cfg.Now,
		addr:        ln.Addr().String(),
		http:        &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}},
		ctx:         ctx,
		cancel:      cancel,
		frameworks:  make(map[string]*framework),
		terminating: make(map[string]bool),
	}
	if cfg.Docker != nil {
		a.docker = &dockerCLI{cfg.Docker.withDefaults()}
	}
	a.serve(ln)
	return a, nil
}

// serve starts the executor API server on ln.
func (a *Agent) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/executor", a.serveExecutorAPI)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return a.ctx }}
	a.srvMu.Lock()
	a.srv = srv
	a.srvMu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("executor API server stopped", "error", err)
		}
	}()
}

// Endpoint is the agent's "ip:port", given to executors as MESOS_AGENT_ENDPOINT.
func (a *Agent) Endpoint() string { return a.addr }

// Close kills every process, stops the HTTP server and waits for the runtime
// goroutines. No update is delivered after it returns.
func (a *Agent) Close() {
	a.emitMu.Lock()
	already := a.closed
	a.closed = true
	a.emitMu.Unlock()
	if already {
		return
	}
	a.runMu.Lock()
	a.stopped = true
	a.runMu.Unlock()
	a.cancel()
	a.srvMu.Lock()
	srv := a.srv
	a.srvMu.Unlock()
	_ = srv.Close()
	a.wg.Wait()
	a.stopDocker()
}

// emit hands one update to the master unless the agent is closed.
func (a *Agent) emit(frameworkID string, st mesos.TaskStatus) {
	a.emitMu.RLock()
	defer a.emitMu.RUnlock()
	if a.closed || a.isTerminating(frameworkID) {
		return
	}
	a.log.Debug("status update", "framework_id", frameworkID, "task_id", st.TaskID.Value,
		"state", st.GetState().String(), "reason", reasonString(st), "message", st.GetMessage())
	a.cfg.Updates(frameworkID, st)
}

// deliverMessage hands an executor's MESSAGE to the master unless closed.
func (a *Agent) deliverMessage(frameworkID, executorID string, data []byte) {
	a.emitMu.RLock()
	defer a.emitMu.RUnlock()
	if a.closed || a.isTerminating(frameworkID) || a.cfg.Messages == nil {
		return
	}
	a.cfg.Messages(frameworkID, executorID, data)
}

// executorExited reports an executor's exit to the master unless closed.
func (a *Agent) executorExited(frameworkID, executorID string, status int) {
	a.emitMu.RLock()
	defer a.emitMu.RUnlock()
	if a.closed || a.isTerminating(frameworkID) || a.cfg.ExecutorExited == nil {
		return
	}
	a.cfg.ExecutorExited(frameworkID, executorID, status)
}

func (a *Agent) isTerminating(frameworkID string) bool {
	a.termMu.Lock()
	defer a.termMu.Unlock()
	return a.terminating[frameworkID]
}

// goRun starts a runtime goroutine that Close waits for; it refuses once
// the agent is closed.
func (a *Agent) goRun(f func()) bool {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if a.stopped {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
	return true
}

// frameworkLocked returns (creating if needed) the framework entry; a.mu held.
func (a *Agent) frameworkLocked(info mesos.FrameworkInfo) *framework {
	id := info.GetID().GetValue()
	fw := a.frameworks[id]
	if fw == nil {
		fw = &framework{info: info, tasks: map[string]ownTask{}, executors: map[string]*executor{}}
		a.frameworks[id] = fw
	}
	return fw
}

// forgetFrameworkLocked drops a framework entry that has nothing left; a.mu held.
func (a *Agent) forgetFrameworkLocked(id string) {
	if fw := a.frameworks[id]; fw != nil && len(fw.tasks) == 0 && len(fw.executors) == 0 {
		delete(a.frameworks, id)
	}
}

// Launch starts a task asynchronously: a command task when task.Executor is
// nil, otherwise a task of that custom executor. Every outcome, failures
// included, arrives as status updates.
func (a *Agent) Launch(fw mesos.FrameworkInfo, task mesos.TaskInfo) {
	fwID := fw.GetID().GetValue()
	if a.isTerminating(fwID) {
		a.log.Warn("task of a terminating framework ignored", "framework_id", fwID, "task_id", task.TaskID.Value)
		return
	}
	if (task.Command == nil) == (task.Executor == nil) {
		// The master validates this too; a direct caller must not crash us.
		a.failAsync(fwID, task, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID,
			"Task should have at least one (but not both) of CommandInfo or ExecutorInfo present")
		return
	}
	if msg, ok := a.unsupportedContainer(task); !ok {
		a.failAsync(fwID, task, mesos.TASK_FAILED, mesos.REASON_CONTAINER_LAUNCH_FAILED, msg)
		return
	}
	if task.Executor == nil && isDocker(task.Container) {
		a.launchDockerTask(fw, task)
		return
	}
	if task.Executor == nil {
		a.launchCommandTask(fw, task)
		return
	}
	a.launchExecutorTask(fw, task)
}

// failAsync reports a task that never started, from a goroutine so that
// Launch never calls Updates on the caller's stack.
func (a *Agent) failAsync(fwID string, task mesos.TaskInfo, state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string) {
	eid := executorIDOf(task)
	st := a.status(task.TaskID.Value, eid, state, mesos.SOURCE_AGENT)
	st.Reason = reason.Enum()
	st.Message = &msg
	a.goRun(func() { a.emit(fwID, st) })
}

// Kill kills a task: SIGTERM, then SIGKILL after grace (for a custom
// executor's task: a KILL event carrying grace as its kill policy). grace is
// the effective grace period: the caller resolves the KILL call's kill
// policy, then the task's, then the 3s default, as the Mesos master does.
// Unknown tasks are ignored (the master answers those itself).
func (a *Agent) Kill(frameworkID, taskID string, grace time.Duration) {
	a.mu.Lock()
	fw := a.frameworks[frameworkID]
	if fw == nil {
		a.mu.Unlock()
		a.log.Warn("kill for unknown framework ignored", "framework_id", frameworkID, "task_id", taskID)
		return
	}
	if t := fw.tasks[taskID]; t != nil {
		a.mu.Unlock()
		t.kill(grace, false)
		return
	}
	for _, ex := range fw.executors {
		if ex.hasTask(taskID) {
			a.mu.Unlock()
			ex.killTask(taskID, grace)
			return
		}
	}
	a.mu.Unlock()
	a.log.Warn("kill for unknown task ignored", "framework_id", frameworkID, "task_id", taskID)
}

// Message delivers a framework message to a running executor. Messages to a
// command task's executor are accepted and dropped, as the command executor
// ignores them.
func (a *Agent) Message(frameworkID, executorID string, data []byte) error {
	a.mu.Lock()
	fw := a.frameworks[frameworkID]
	var ex *executor
	var isCommand bool
	if fw != nil {
		ex = fw.executors[executorID]
		_, isCommand = fw.tasks[executorID]
	}
	a.mu.Unlock()
	switch {
	case ex != nil:
		return ex.message(data)
	case isCommand:
		return nil
	default:
		return fmt.Errorf("agentrt: no executor %q of framework %q on agent %s", executorID, frameworkID, a.cfg.AgentID)
	}
}

// ShutdownFramework shuts down every executor of the framework: command
// tasks are killed with the shutdown grace period, custom executors get
// SHUTDOWN and SIGKILL after their grace period. As on a Mesos agent, the
// framework is terminating from then on: its status updates (and new tasks)
// are dropped; the master reports its tasks itself.
func (a *Agent) ShutdownFramework(frameworkID string) {
	a.termMu.Lock()
	a.terminating[frameworkID] = true
	a.termMu.Unlock()
	a.mu.Lock()
	fw := a.frameworks[frameworkID]
	var tasks []ownTask
	var exs []*executor
	if fw != nil {
		for _, t := range fw.tasks {
			tasks = append(tasks, t)
		}
		for _, ex := range fw.executors {
			exs = append(exs, ex)
		}
	}
	a.mu.Unlock()
	for _, t := range tasks {
		t.kill(a.cfg.ExecutorShutdownGracePeriod, false)
	}
	for _, ex := range exs {
		ex.shutdown()
	}
}

// KillProcess sends SIGKILL to the process group running the task (for a
// custom executor's task: the executor), as if it had crashed.
func (a *Agent) KillProcess(taskID string) error {
	a.mu.Lock()
	var t ownTask
	var ex *executor
	for _, fw := range a.frameworks {
		if t = fw.tasks[taskID]; t != nil {
			break
		}
		for _, e := range fw.executors {
			if e.hasTask(taskID) {
				ex = e
				break
			}
		}
		if ex != nil {
			break
		}
	}
	a.mu.Unlock()
	switch {
	case t != nil:
		return t.crash()
	case ex != nil:
		return ex.crash()
	default:
		return fmt.Errorf("agentrt: no task %q on agent %s", taskID, a.cfg.AgentID)
	}
}

// sandboxDir is the run directory of one container.
func (a *Agent) sandboxDir(fwID, eid, containerID string) string {
	return filepath.Join(a.cfg.WorkDir, "frameworks", fwID, "executors", eid, "runs", containerID)
}

// killGrace picks the task's KillPolicy grace period when set, else fallback.
func killGrace(kp *mesos.KillPolicy, fallback time.Duration) time.Duration {
	if kp != nil && kp.GracePeriod != nil {
		return time.Duration(kp.GracePeriod.Nanoseconds)
	}
	return fallback
}
