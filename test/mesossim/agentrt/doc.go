// Package agentrt is the task runtime of one simulated Mesos agent: it runs
// tasks as real child processes in sandboxes, the way a Mesos 1.10+ agent with
// the Mesos containerizer (no image provisioner, no Docker) and the built-in
// command executor does, and it serves the executor HTTP API
// (/api/v1/executor) for custom executors.
//
// The master (package mesossim) owns the scheduler side: it calls Launch, Kill,
// Message and ShutdownFramework, and receives every status update through
// Config.Updates (and executor MESSAGE calls through Config.Messages).
// Retrying updates until the scheduler acknowledges them is the master's job;
// this package emits each update exactly once, in order per task, and never
// after Close has returned. Updates may call back into the Agent (Kill,
// Launch, Message, ShutdownFramework) but not Close.
//
// Kill of a task the agent does not know is ignored (the master answers
// those itself). After ShutdownFramework the framework is terminating, as on
// a Mesos agent: its executors get SHUTDOWN (command tasks are killed), and
// its status updates, executor messages and new tasks are dropped; the master
// reports the framework's tasks itself.
//
// # Command tasks
//
// A task with a CommandInfo and no ExecutorInfo runs under an emulation of the
// Mesos command executor: the executor ID is the task ID; the sandbox is
// WorkDir/frameworks/<fwid>/executors/<eid>/runs/<container id>; CommandInfo
// URIs are fetched into it (http, https, file:// and absolute paths;
// executable, extract, output_file honoured; cache ignored); the command runs
// in its own process group with stdout and stderr written to the sandbox.
// Updates: TASK_STARTING, TASK_RUNNING (with container status), then
// TASK_FINISHED, TASK_FAILED ("Command exited with status N") or TASK_KILLED
// (TASK_KILLING first when the framework has the TASK_KILLING_STATE
// capability). A kill sends SIGTERM to the process group and SIGKILL after the
// grace period.
//
// Mesos-native health checks (HTTP, TCP, COMMAND) run for command tasks only,
// as in Mesos where they are the executor's job. Results are sent as
// TASK_RUNNING with healthy set and reason
// REASON_TASK_HEALTH_CHECK_STATUS_UPDATED the way the built-in executors send
// them: every unhealthy result outside the grace period, and a healthy one
// when the task turns healthy (first success, or first after failures);
// after consecutive_failures failures in a row the task is killed and ends
// TASK_KILLED with healthy=false.
//
// # Environment
//
// As slave.cpp's executorEnvironment() builds it: LIBPROCESS_IP (the
// simulated host's address, Config.IP, as a Mesos agent started with --ip
// passes it on), then Config.ExecutorEnvironment (the agent's
// --executor_environment_variables, which replaces the agent's own
// environment; without it this agent passes its own environment minus
// MESOS_* and LIBPROCESS_*), then LIBPROCESS_PORT=0, MESOS_FRAMEWORK_ID,
// MESOS_EXECUTOR_ID, MESOS_DIRECTORY, MESOS_SANDBOX, MESOS_AGENT_ENDPOINT,
// MESOS_SLAVE_ID, MESOS_SLAVE_PID, MESOS_CHECKPOINT,
// MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, MESOS_HTTP_COMMAND_EXECUTOR and, for
// checkpointing frameworks, MESOS_RECOVERY_TIMEOUT and
// MESOS_SUBSCRIPTION_BACKOFF_MAX (= ExecutorReregistrationTimeout); PATH
// defaults to the host's default path. Command tasks get their CommandInfo
// environment over it and MESOS_ALLOCATION_ROLE last (launcher/executor.cpp).
// Health checks connect to Config.IP where Mesos uses 127.0.0.1. Simulator
// extensions: MESOS_SIM_HOST_DIR names the agent's host directory (standing
// in for its mounted devices), MESOS_SIM_IP the simulated host's address
// (services that would listen on all interfaces bind it, so that many
// simulated hosts share one machine).
//
// # Restart and recovery
//
// Restart simulates the agent restarting with checkpointed state
// (slave.cpp): the executor API is gone for a while, then executors may
// SUBSCRIBE again while the agent answers their other calls 503 "Agent has
// not finished recovery"; after ExecutorReregistrationTimeout the ones that
// did not come back are killed (TASK_GONE, or TASK_LOST without
// PARTITION_AWARE; REASON_EXECUTOR_REREGISTRATION_TIMEOUT). Command tasks and
// Docker tasks keep running (their executors outlive the agent); before the
// window opens the Docker containerizer recovers (dockerrecover.go): this
// host's containers named mesos-<container id> of live runs are re-adopted,
// the others (orphans) stopped and removed. Fetched files are written under syscall.ForkLock to a temporary
// name and renamed into place, so that no child process inherits a
// descriptor open for writing on an executable (ETXTBSY).
//
// # Custom executors
//
// A task with an ExecutorInfo starts that executor once per executor ID,
// after fetching its URIs into its sandbox. A different ExecutorInfo under a
// running executor's ID fails the task with TASK_ERROR, REASON_TASK_INVALID
// (source SOURCE_AGENT; a Mesos master would catch it first). The executor
// must SUBSCRIBE within Config.ExecutorRegistrationTimeout or its queued tasks
// fail with REASON_EXECUTOR_REGISTRATION_TIMEOUT and it is killed. The agent
// then sends SUBSCRIBED and LAUNCH, forwards KILL (with the kill grace as its
// kill_policy), MESSAGE and SHUTDOWN (SIGKILL after the shutdown grace
// period), and relays UPDATE calls to Config.Updates, filling in agent_id,
// executor_id, timestamp and (for TASK_RUNNING) the container status.
//
// Simplification: the agent answers an UPDATE with an ACKNOWLEDGED event as
// soon as it has handed the update to the master (a real agent does so once
// its status update manager has checkpointed it; the executor cannot tell the
// difference). An update whose UUID was relayed already is acknowledged again
// but not relayed twice. A new SUBSCRIBE replaces the previous stream, is
// answered with SUBSCRIBED (tasks already sent are not launched again) and
// has its unacknowledged updates relayed like UPDATE calls.
//
// When the executor process exits, its live tasks end TASK_FAILED with
// REASON_EXECUTOR_TERMINATED (source SOURCE_AGENT). Killing a task whose
// executor has not subscribed yet ends it TASK_KILLED with
// REASON_TASK_KILLED_DURING_LAUNCH. The executor API answers 405, 415, 406,
// 400 (malformed or failing validation, unknown framework or executor) and
// 403 (not subscribed) with a text body, as the agent does.
//
// # Docker containers
//
// With Config.Docker the agent also has Mesos' Docker containerizer
// (--containerizers=docker,mesos): a command task whose ContainerInfo is
// DOCKER runs under an emulation of the docker executor (dockertask.go), a
// custom executor whose ExecutorInfo has a DOCKER container runs in a
// container (dockerexec.go), both through the docker CLI with Mesos' run
// options (docker.go): fetch, pull (failure: TASK_FAILED from the agent,
// REASON_CONTAINER_LAUNCH_FAILED, Mesos' "Failed to run '<docker> pull
// <image>'..." message), `docker run` of mesos-<container id>, TASK_STARTING
// and, once `docker inspect` sees it started, TASK_RUNNING; `docker stop -t
// <grace>` on kill; "Container exited with status N" at the end; the
// container removed once it exits and on Close. Absolute host paths of
// volumes map under HostDir (each agent is its own machine). Without
// Config.Docker, DOCKER containers fail with TASK_FAILED,
// REASON_CONTAINER_LAUNCH_FAILED, as on an agent started with
// --containerizers=mesos.
//
// # What is not simulated
//
// Container images for the Mesos containerizer (a MESOS ContainerInfo with
// an image fails with TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED); LAUNCH_GROUP and the default executor; generalized
// checks (TaskInfo.check); resource isolation and limits; secrets in
// environment variables; executor HEARTBEAT events.
package agentrt
