package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webconsoleNeverHealthy makes the webconsole of version v1 fail every
// health check (the stand-in's fault), with a grace of 2s: Mesos kills it
// after the grace and max_failures (3) failed checks.
var webconsoleNeverHealthy = [][2]string{{
	"service \"webconsole\" {\n  count = 1\n  resources {\n    cpus = 0.1\n    mem  = 64\n    disk = 0\n  }\n  health {\n    interval = \"1s\"\n    timeout  = \"1s\"\n    grace    = \"10s\"\n  }\n",
	"service \"webconsole\" {\n  count = 1\n  env = {\n    STANDIN_NEVER_HEALTHY_VERSION = \"v1\"\n  }\n  resources {\n    cpus = 0.1\n    mem  = 64\n    disk = 0\n  }\n  health {\n    interval = \"1s\"\n    timeout  = \"1s\"\n    grace    = \"2s\"\n  }\n",
}}

// Issue 10, bug 5: a service that fails its health checks is killed by
// (simulated) Mesos: TASK_KILLED, healthy=false, no reason. The framework
// recognises it: the log says so, /v1/status and `plan` name it ("killed
// by Mesos after 3 failed health checks"), and it counts as a failure of
// the service (it backs off), not as a kill of ours.
func TestHealthCheckKill_NamedAndCountedAsFailure(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.31", registry: 1, metadata: 1, data: 1, version: "v1", edits: webconsoleNeverHealthy})
	c.eventually(convergeWithin, "the webconsole killed by Mesos", func() (bool, string) {
		for _, line := range c.logLinesWith("framework", "task killed by Mesos for failing its health check") {
			if strings.Contains(line, "kind=webconsole") {
				return true, ""
			}
		}
		return false, "no health-check kill logged"
	})
	line := c.logLinesWith("framework", "task killed by Mesos for failing its health check")[0]
	for _, want := range []string{"kind=webconsole", "state=KILLED", "health_failures=3", `message="Command exited with status`} {
		if !strings.Contains(line, want) {
			t.Errorf("the health-check kill's log line lacks %s:\n%s", want, line)
		}
	}
	// It ran for the grace and three failed checks (KILLING, which Mesos
	// sends first, does not end the run).
	if d, err := time.ParseDuration(logValue(line, "ran_for")); err != nil || d < 2*time.Second {
		t.Errorf("the health-check kill's ran_for = %q, want at least the 2s grace:\n%s", logValue(line, "ran_for"), line)
	}
	killedTask := logValue(line, "task_id")

	// /v1/status: the service's problem and its backoff.
	c.eventually(10*time.Second, "the health-check kill in /v1/status", func() (bool, string) {
		st := c.status()
		named, held := false, false
		for _, p := range st.Services.Services {
			if p.Kind == "webconsole" && p.LastHealthKilled && p.LastHealthFailures == 3 {
				named = true
			}
		}
		for _, b := range st.Backoffs {
			if strings.HasPrefix(b.Item, "webconsole@") && b.Failures >= 1 &&
				strings.Contains(b.LastError, "killed by Mesos after 3 failed health checks") {
				held = true
			}
		}
		return named && held, fmt.Sprintf("service_health %+v; backoffs %+v", st.Services.Services, st.Backoffs)
	})
	// The kill was Mesos', not ours.
	for _, r := range c.calls(0) {
		if r.Type == "KILL" && r.TaskIDs[0] == killedTask {
			t.Errorf("the framework sent KILL for %s (seq %d): the health-check kill is Mesos'", killedTask, r.Seq)
		}
	}
	// plan names it too (the services not running healthy).
	c.eventually(20*time.Second, "the health-check kill in plan", func() (bool, string) {
		_, out := c.planExit(c.specPath)
		return strings.Contains(out, "webconsole") && strings.Contains(out, "killed by Mesos after 3 failed health checks"), out
	})
}

// logLinesWith returns the lines of a process log that contain s.
func (c *cluster) logLinesWith(name, s string) []string {
	b, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// logValue is the value of key=value in an hclog line.
func logValue(line, key string) string {
	_, v, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, " ")
	return strings.Trim(v, `"`)
}
