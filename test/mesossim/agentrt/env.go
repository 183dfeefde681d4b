package agentrt

import (
	"fmt"
	"os"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// executorEnv is the environment a Mesos agent gives an executor (and, via
// the command executor, a command task): the agent's own environment minus
// MESOS_* variables, then the documented executor variables.
func (a *Agent) executorEnv(fw mesos.FrameworkInfo, executorID, sandbox string, shutdownGrace time.Duration) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MESOS_") {
			env = append(env, kv)
		}
	}
	checkpoint := "0"
	if fw.GetCheckpoint() {
		checkpoint = "1"
	}
	env = append(env,
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
		"LIBPROCESS_IP="+a.cfg.IP,
	)
	if fw.GetCheckpoint() {
		env = append(env,
			"MESOS_RECOVERY_TIMEOUT="+mesosDuration(defaultRecoveryTimeout),
			"MESOS_SUBSCRIPTION_BACKOFF_MAX="+mesosDuration(defaultBackoffMax))
	}
	return env
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
