package e2e

import (
	"fmt"
	"testing"
	"time"
)

// Agents restarted with checkpointing under Docker (issue 10): the Docker
// containerizer re-adopts the host's containers, the prober (an executor in
// a container of the framework image) subscribes again within the agent's
// reregistration window, and the framework sees nothing to do: no task
// launched or killed, the same containers. Needs a Docker engine (see
// docker_test.go).
func TestDocker_AgentRestart_KeepsContainers(t *testing.T) {
	dockerImages(t)
	small := want{"prober": 5, "registry": 1, "metadata": 1, "data": 2, "api": 1, "webconsole": 1}
	c := startCluster(t, clusterOpts{subnet: "127.0.33", registry: 1, metadata: 1, data: 2, version: "e2e-v1", docker: true})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(small) })
	beforeTasks, beforeContainers := c.taskIDs(), c.containers()
	seq := lastSeq(c.calls(0))

	// The registry's host (with metadata and data) and the other data host.
	for _, host := range c.hosts[:2] {
		c.admin("restart-agent", map[string]any{"agent": host, "down_ms": 500})
	}
	for _, host := range c.hosts[:2] {
		c.waitAgentState(host, "active", 20*time.Second)
	}
	time.Sleep(3 * time.Second) // past the reregistration window: nothing ends late
	c.eventually(convergeWithin, "convergence after the restarts", func() (bool, string) { return c.converged(small) })
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(beforeTasks) {
		t.Errorf("the agent restarts changed what runs:\nbefore %v\nafter  %v", beforeTasks, after)
	}
	if after := c.containers(); fmt.Sprint(after) != fmt.Sprint(beforeContainers) {
		t.Errorf("the agent restarts changed the containers:\nbefore %v\nafter  %v", beforeContainers, after)
	}
	for _, r := range c.calls(seq) {
		if r.Type == "KILL" || (r.Type == "ACCEPT" && len(r.TaskIDs) > 0) {
			t.Errorf("%s %v (seq %d) after the agent restarts", r.Type, r.TaskIDs, r.Seq)
		}
	}
	for _, s := range []string{"state=TASK_GONE", "removing orphaned Docker container"} {
		if n := c.logLines("mesos-sim", s); n != 0 {
			t.Errorf("mesos-sim logged %q %d times", s, n)
		}
	}
	// Each restarted host re-adopted its containers: its services' and its
	// prober's.
	if n := c.logLines("mesos-sim", "recovered Docker container"); n < 2+3 {
		t.Errorf("mesos-sim re-adopted %d containers, want at least 5 (2 probers, registry, metadata, data)", n)
	}
}
