package agentrt

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// hostDefaultPath is what a Mesos container gets as PATH when its
// environment names none (launch.cpp, os::host_default_path()).
const hostDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// executorEnv is the environment a Mesos agent gives an executor (and, via
// the command executor, a command task), after slave.cpp's
// executorEnvironment(): the agent's LIBPROCESS_IP (here the simulated
// host's address), then the agent's --executor_environment_variables
// (Config.ExecutorEnvironment), LIBPROCESS_PORT=0 and the MESOS_*
// variables; PATH defaults to the host's default path when nothing set it
// (mesos-containerizer launch). Without Config.ExecutorEnvironment the
// simulated agent passes its own environment (minus MESOS_*) in place of
// the flag, which is what tasks on one development machine need (HOME,
// PATH, Go's variables); a Mesos 1.12 agent passes none of its own
// environment but LIBPROCESS_IP.
func (a *Agent) executorEnv(fw mesos.FrameworkInfo, executorID, sandbox string, shutdownGrace time.Duration) []string {
	env := []string{"LIBPROCESS_IP=" + a.cfg.IP}
	if a.cfg.ExecutorEnvironment != nil {
		names := make([]string, 0, len(a.cfg.ExecutorEnvironment))
		for k := range a.cfg.ExecutorEnvironment {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			env = append(env, k+"="+a.cfg.ExecutorEnvironment[k])
		}
	} else {
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "MESOS_") && !strings.HasPrefix(kv, "LIBPROCESS_") {
				env = append(env, kv)
			}
		}
	}
	checkpoint := "0"
	if fw.GetCheckpoint() {
		checkpoint = "1"
	}
	env = append(env,
		"LIBPROCESS_PORT=0",
		"MESOS_FRAMEWORK_ID="+fw.GetID().GetValue(),
		"MESOS_EXECUTOR_ID="+executorID,
		"MESOS_DIRECTORY="+sandbox,
		"MESOS_SANDBOX="+sandbox,
		"MESOS_AGENT_ENDPOINT="+a.Endpoint(),
		"MESOS_SLAVE_ID="+a.cfg.AgentID,
		"MESOS_SLAVE_PID=slave(1)@"+a.Endpoint(),
		"MESOS_CHECKPOINT="+checkpoint,
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD="+mesosDuration(shutdownGrace),
		"MESOS_HTTP_COMMAND_EXECUTOR=0",
		"MESOS_SIM_HOST_DIR="+a.cfg.HostDir,
		"MESOS_SIM_IP="+a.cfg.IP,
	)
	if fw.GetCheckpoint() {
		// The executor's subscription backoff is capped by the agent's
		// --executor_reregistration_timeout, so that a checkpointed
		// executor is back within the window the recovering agent gives it.
		env = append(env,
			"MESOS_RECOVERY_TIMEOUT="+mesosDuration(defaultRecoveryTimeout),
			"MESOS_SUBSCRIPTION_BACKOFF_MAX="+mesosDuration(a.cfg.ExecutorReregistrationTimeout))
	}
	if !hasVar(env, "PATH") {
		env = append(env, "PATH="+hostDefaultPath)
	}
	return env
}

// commandTaskEnv is what the command executor gives its task
// (launcher/executor.cpp): its own environment, the task's CommandInfo
// environment over it, and MESOS_ALLOCATION_ROLE, the role of the task's
// resources, last.
func commandTaskEnv(executorEnv []string, task mesos.TaskInfo) ([]string, error) {
	env, err := withCommandEnv(executorEnv, task.Command)
	if err != nil {
		return nil, err
	}
	if len(task.Resources) > 0 {
		env = append(env, "MESOS_ALLOCATION_ROLE="+task.Resources[0].GetAllocationInfo().GetRole())
	}
	return env, nil
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// withCommandEnv appends a CommandInfo's environment (it wins over the
// agent's variables; exec keeps the last of duplicate names). Secrets are
// not simulated and are an error.
func withCommandEnv(env []string, ci *mesos.CommandInfo) ([]string, error) {
	out := append([]string(nil), env...)
	for _, v := range ci.GetEnvironment().GetVariables() {
		if v.GetType() == mesos.Environment_Variable_SECRET {
			return nil, fmt.Errorf("environment variable %q: secrets are not supported by the simulated agent", v.Name)
		}
		out = append(out, v.Name+"="+v.GetValue())
	}
	return out, nil
}

// mesosDuration formats a duration the way Mesos stringifies one in the
// executor environment ("5secs", "250ms"), which mesos-go's
// executor/config parses.
func mesosDuration(d time.Duration) string {
	switch {
	case d%time.Minute == 0 && d != 0:
		return fmt.Sprintf("%dmins", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%dsecs", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	default:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	}
}
