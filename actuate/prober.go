package actuate

import (
	"fmt"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// proberExecutorPrefix starts the executor ID of every prober executor.
const proberExecutorPrefix = "quobyte-prober-"

// ProberArtifactPath is where the framework's HTTP server serves its own
// binary for agents to fetch (prober.artifact = "framework").
const ProberArtifactPath = "/artifacts/quobyte-mesos"

// probeMessage is the data of the MESSAGE asking a prober to probe now.
const probeMessage = "probe"

// proberExecutorID is the executor ID of probers of the given config hash.
// Mesos requires every ExecutorInfo with one ID to be identical on an
// agent, so the ID changes with everything the ExecutorInfo is made of that
// the spec controls; a changed config is a new executor.
func proberExecutorID(proberConfigHash string) string {
	return proberExecutorPrefix + proberConfigHash
}

// proberExecutorIDOfTask is the executor ID a prober task runs under, read
// from its task ID (the task may be of an older config than the spec's).
func proberExecutorIDOfTask(taskID string) (string, error) {
	id, ok := taskid.Parse(taskID)
	if !ok || id.Kind != taskid.ProberKind {
		return "", fmt.Errorf("task %q is not a prober task", taskID)
	}
	return proberExecutorID(id.ConfigHash), nil
}

// proberArgs are the prober subcommand's flags, from the prober config only.
func proberArgs(c *spec.Cluster) []string {
	return []string{
		"--device-root", c.Quobyte.DeviceRoot,
		"--mode", c.Prober.Mode,
		"--interval", c.Prober.Interval.String(),
		"--client-mount-point", c.Prober.ClientMountPoint,
	}
}

// buildProberTask builds the prober's task and its custom executor.
func buildProberTask(c *spec.Cluster, a controller.Action, p taskParams) (mesos.TaskInfo, error) {
	if a.ConfigHash == "" {
		return mesos.TaskInfo{}, fmt.Errorf("prober task on %s: the action has no config hash", hostOf(a))
	}
	if len(p.ExecutorResources) == 0 {
		return mesos.TaskInfo{}, fmt.Errorf("prober task on %s: the executor has no resources", hostOf(a))
	}
	exec := mesos.ExecutorInfo{
		Type:       mesos.ExecutorInfo_CUSTOM,
		ExecutorID: mesos.ExecutorID{Value: proberExecutorID(a.ConfigHash)},
		Name:       strPtr("quobyte prober"),
		Resources:  p.ExecutorResources,
		Labels:     &mesos.Labels{Labels: []mesos.Label{{Key: labelKind, Value: strPtr(taskid.ProberKind)}, {Key: labelConfigHash, Value: strPtr(a.ConfigHash)}}},
	}
	switch c.Prober.Artifact {
	case spec.ProberArtifactFramework:
		if p.FrameworkHTTPBase == "" {
			return mesos.TaskInfo{}, fmt.Errorf("prober task on %s: prober.artifact = %q needs the framework's HTTP address", hostOf(a), spec.ProberArtifactFramework)
		}
		// Never cached: the binary changes with the framework, under
		// the same URL.
		exec.Command = &mesos.CommandInfo{
			URIs: []mesos.CommandInfo_URI{{
				Value:      strings.TrimRight(p.FrameworkHTTPBase, "/") + ProberArtifactPath,
				Executable: boolPtr(true),
				Cache:      boolPtr(false),
			}},
			Shell: boolPtr(true),
			Value: strPtr(shellJoin("./quobyte-mesos prober", proberArgs(c))),
		}
	case spec.ProberArtifactImage:
		if p.FrameworkImage == "" {
			return mesos.TaskInfo{}, fmt.Errorf("prober task on %s: prober.artifact = %q needs the framework image", hostOf(a), spec.ProberArtifactImage)
		}
		// shell=false: Docker runs the image's entrypoint (the framework
		// binary, see examples/Dockerfile) with "prober" and the flags.
		exec.Command = &mesos.CommandInfo{
			Shell:     boolPtr(false),
			Value:     strPtr("prober"),
			Arguments: proberArgs(c),
		}
		root := c.Quobyte.DeviceRoot
		exec.Container = &mesos.ContainerInfo{
			Type: mesos.ContainerInfo_DOCKER.Enum(),
			Docker: &mesos.ContainerInfo_DockerInfo{
				Image:   p.FrameworkImage,
				Network: mesos.ContainerInfo_DockerInfo_HOST.Enum(),
				// Read-only, and rslave so that devices mounted after
				// the prober started show in its mount table: a Mesos
				// Volume would be a private bind that never sees them.
				Parameters: []mesos.Parameter{{Key: "volume", Value: root + ":" + root + ":ro,rslave"}},
			},
		}
	default:
		return mesos.TaskInfo{}, fmt.Errorf("prober task on %s: unknown prober.artifact %q", hostOf(a), c.Prober.Artifact)
	}
	return mesos.TaskInfo{
		Name:      "quobyte-prober",
		TaskID:    mesos.TaskID{Value: p.TaskID},
		AgentID:   mesos.AgentID{Value: p.AgentID},
		Resources: p.Resources,
		Executor:  &exec,
		Labels:    labels(c, taskid.ProberKind, a.ConfigHash),
	}, nil
}
