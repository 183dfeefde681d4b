package agentrt

import (
	"context"
	"strings"
)

// recoverContainers is the Docker containerizer's part of an agent's
// recovery after a restart (docker.cpp, DockerContainerizerProcess::recover):
// it lists the containers named mesos-<container id> — the ID a UUID, else
// Mesos did not start the container — and re-adopts those of the runs the
// agent checkpointed and has not seen end (Docker tasks, whose docker
// executor outlived the agent, and custom executors in containers), then
// stops and removes the others at once (--docker_kill_orphans, on by
// default, with --docker_stop_timeout 0). It runs before the executors'
// reregistration window opens, as in Mesos.
//
// One engine serves every simulated agent of this machine, so only
// containers labelled with this agent's ID are this host's: a Mesos agent
// alone on its host lists them all.
func (a *Agent) recoverContainers(ctx context.Context) {
	if a.docker == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	out, err := a.docker.output(ctx, "ps", "-a", "--filter", "label="+LabelAgentID+"="+a.cfg.AgentID,
		"--filter", "name="+dockerNamePrefix, "--format", "{{.Names}}")
	if err != nil {
		a.log.Error("recovering Docker containers: cannot list them; orphans stay", "error", err)
		return
	}
	runs := a.checkpointedContainers()
	for _, name := range strings.Fields(out) {
		cid, ok := mesosContainerID(name)
		switch {
		case !ok:
			continue // not started by Mesos
		case runs[cid]:
			a.log.Info("recovered Docker container", "container", name)
		default:
			a.log.Warn("removing orphaned Docker container", "container", name)
			if err := a.docker.remove(name); err != nil {
				a.log.Error("removing orphaned Docker container", "container", name, "error", err)
			}
		}
	}
}

// checkpointedContainers are the container IDs of the agent's live runs in
// Docker containers.
func (a *Agent) checkpointedContainers() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	runs := map[string]bool{}
	for _, f := range a.frameworks {
		for _, t := range f.tasks {
			if dt, ok := t.(*dockerTask); ok {
				runs[dt.containerID] = true
			}
		}
		for _, ex := range f.executors {
			if isDocker(ex.info.Container) {
				runs[ex.containerID] = true
			}
		}
	}
	return runs
}

// mesosContainerID parses a container name as Mesos' Docker containerizer
// does (docker.cpp, parse): mesos-<id> (Mesos 1.4 and later), or
// mesos-<agent id>.<id>[.executor] (0.23 to 1.3); the ID must be a UUID.
func mesosContainerID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(name, "/"), dockerNamePrefix)
	if !ok {
		return "", false
	}
	id := rest
	if parts := strings.Split(rest, "."); len(parts) == 2 || len(parts) == 3 {
		id = parts[1]
	} else if len(parts) > 3 {
		return "", false
	}
	return id, isUUID(id)
}

// isUUID reports whether s is a UUID in canonical form (8-4-4-4-12 hex).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}
