package actuate

import (
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// taskParams is what buildTaskInfo needs beyond the spec and the action:
// where the task goes, what it takes, and how it reaches the rest.
type taskParams struct {
	AgentID string
	TaskID  string
	// Resources the task takes (from Match).
	Resources []mesos.Resource
	// ExecutorResources the prober's executor takes (LaunchProber only).
	ExecutorResources []mesos.Resource
	// RegistryAddrs is QUOBYTE_REGISTRY when the spec names no external
	// registry: address:rpcport of the hosts running our registries, comma
	// separated, derived by the planner from the snapshot
	// (controller.Result.RegistryAddrs).
	RegistryAddrs string
	// FrameworkHTTPBase is the framework's HTTP server as agents reach it
	// ("http://10.0.0.5:7888"); the prober binary is fetched from there when
	// prober.artifact = "framework".
	FrameworkHTTPBase string
	// FrameworkImage is the framework's image, for prober.artifact = "image".
	FrameworkImage string
}

// Label keys on our tasks. Labels are for operators reading the Mesos UI:
// reconciliation drops them, so the framework never relies on them (the
// task ID carries kind and config hash).
const (
	labelKind       = "quobyte.kind"
	labelConfigHash = "quobyte.config-hash"
	labelSpecHash   = "quobyte.spec-hash"
	labelVersion    = "quobyte.version"
	taskNamePrefix  = "quobyte-"
)

// buildTaskInfo builds the TaskInfo for a Launch or LaunchProber action.
// It is pure: equal inputs give equal TaskInfos.
func buildTaskInfo(c *spec.Cluster, a controller.Action, p taskParams) (mesos.TaskInfo, error) {
	if p.AgentID == "" || p.TaskID == "" {
		return mesos.TaskInfo{}, fmt.Errorf("task info for %s on %s: agent ID and task ID are required", a.Kind, hostOf(a))
	}
	switch a.Type {
	case controller.LaunchProber:
		return buildProberTask(c, a, p)
	case controller.Launch:
		return buildServiceTask(c, a, p)
	}
	return mesos.TaskInfo{}, fmt.Errorf("task info for %s on %s: action %q launches nothing", a.Kind, hostOf(a), a.Type)
}

func buildServiceTask(c *spec.Cluster, a controller.Action, p taskParams) (mesos.TaskInfo, error) {
	t, err := serviceTemplate(c, a, p.RegistryAddrs)
	if err != nil {
		return mesos.TaskInfo{}, err
	}
	return p.own(t), nil
}

// own is template t as the task p describes: its IDs and resources.
func (p taskParams) own(t mesos.TaskInfo) mesos.TaskInfo {
	t.TaskID = mesos.TaskID{Value: p.TaskID}
	t.AgentID = mesos.AgentID{Value: p.AgentID}
	t.Resources = p.Resources
	return t
}

// serviceTemplate is a service's TaskInfo without what is the task's own
// (task ID, agent ID, resources): what every launch of the same kind,
// config and memory shares. Only a registry's depends on its host.
func serviceTemplate(c *spec.Cluster, a controller.Action, registryAddrs string) (mesos.TaskInfo, error) {
	kind, ok := spec.ParseKind(a.Kind)
	if !ok {
		return mesos.TaskInfo{}, fmt.Errorf("task info on %s: unknown service kind %q", hostOf(a), a.Kind)
	}
	svc := c.Service(kind)
	if svc == nil {
		return mesos.TaskInfo{}, fmt.Errorf("task info for %s on %s: the spec has no such service", kind, hostOf(a))
	}
	mem := a.Resources.Mem
	if mem <= 0 {
		mem = svc.Resources.Mem
	}
	cmd := &mesos.CommandInfo{Environment: mesosEnv(serviceEnv(c, svc, serviceAddress(a), mem, registryAddrs))}
	var container *mesos.ContainerInfo
	switch c.Quobyte.Runtime {
	case spec.Docker:
		// shell=false without a value: the image's entrypoint runs, with
		// the service's args as its command.
		cmd.Shell = boolPtr(false)
		cmd.Arguments = svc.Args
		container = dockerContainer(c, kind)
	case spec.MesosImage:
		cmd.Shell = boolPtr(false)
		cmd.Arguments = svc.Args
		container = mesosContainer(c, kind)
	case spec.Command:
		if c.Quobyte.Command == "" {
			return mesos.TaskInfo{}, fmt.Errorf("task info for %s on %s: runtime %q needs quobyte.command", kind, hostOf(a), spec.Command)
		}
		cmd.Shell = boolPtr(true)
		cmd.Value = strPtr(shellJoin(c.Quobyte.Command, svc.Args))
	default:
		return mesos.TaskInfo{}, fmt.Errorf("task info for %s on %s: unknown runtime %q", kind, hostOf(a), c.Quobyte.Runtime)
	}
	t := mesos.TaskInfo{
		Name:        taskNamePrefix + string(kind),
		Command:     cmd,
		Container:   container,
		HealthCheck: healthCheck(svc),
		KillPolicy:  &mesos.KillPolicy{GracePeriod: durationInfo(svc.KillGrace)},
		Labels:      labels(c, a.Kind, a.ConfigHash),
	}
	return t, nil
}

// serviceAddress is how services reach the action's host: its address
// (quobyte.address) or, without one, its hostname.
func serviceAddress(a controller.Action) string {
	if a.Address != "" {
		return a.Address
	}
	return a.Hostname
}

// taskBuilder builds the TaskInfos of one Apply. Launches of the same kind,
// config and memory share everything but their IDs and resources: it
// builds that part once (serviceTemplate) and shares it among their
// TaskInfos, which are only encoded, never changed. At 5,000 data launches
// building each environment, health check and label set anew was a fifth
// of the framework's CPU time for the Apply (BenchmarkApply_5000Accepts_FrameworkSide).
type taskBuilder struct {
	templates map[templateKey]mesos.TaskInfo
}

type templateKey struct {
	spec       *spec.Cluster
	kind       string
	configHash string
	mem        float64
	self       string // a registry's address, which its environment names
	registries string
}

// build is buildTaskInfo, with service templates shared.
func (b *taskBuilder) build(c *spec.Cluster, a controller.Action, p taskParams) (mesos.TaskInfo, error) {
	if a.Type != controller.Launch || p.AgentID == "" || p.TaskID == "" {
		return buildTaskInfo(c, a, p)
	}
	k := templateKey{spec: c, kind: a.Kind, configHash: a.ConfigHash, mem: a.Resources.Mem, registries: p.RegistryAddrs}
	if a.Kind == string(spec.Registry) {
		k.self = serviceAddress(a)
	}
	t, ok := b.templates[k]
	if !ok {
		var err error
		if t, err = serviceTemplate(c, a, p.RegistryAddrs); err != nil {
			return mesos.TaskInfo{}, err
		}
		if b.templates == nil {
			b.templates = map[templateKey]mesos.TaskInfo{}
		}
		b.templates[k] = t
	}
	return p.own(t), nil
}

// dockerContainer runs the server image with the Docker containerizer: host
// network (Quobyte services talk on fixed ports and announce the host's
// address), the service's privileges and no more (privileges.go), the
// device root mounted where the service expects it.
func dockerContainer(c *spec.Cluster, kind spec.Kind) *mesos.ContainerInfo {
	ci := &mesos.ContainerInfo{
		Type: mesos.ContainerInfo_DOCKER.Enum(),
		Docker: &mesos.ContainerInfo_DockerInfo{
			Image:   c.ImageRef(kind),
			Network: mesos.ContainerInfo_DockerInfo_HOST.Enum(),
		},
	}
	dockerPrivileges(c.Service(kind), ci.Docker)
	if kind.DeviceBound() {
		ci.Volumes = []mesos.Volume{deviceRootVolume(c, mesos.RW)}
	}
	if kind == spec.Client && c.Prober.ClientMountPoint != "" {
		// The client's FUSE mount must be seen by the host and other
		// containers: a shared bind, which Mesos' Volume cannot express.
		mp := c.Prober.ClientMountPoint
		ci.Docker.Parameters = append(ci.Docker.Parameters, mesos.Parameter{Key: "volume", Value: mp + ":" + mp + ":rshared"})
	}
	return ci
}

// mesosContainer runs the server image with the Mesos containerizer
// (filesystem/linux and docker/runtime isolators on the agent).
func mesosContainer(c *spec.Cluster, kind spec.Kind) *mesos.ContainerInfo {
	ci := &mesos.ContainerInfo{
		Type: mesos.ContainerInfo_MESOS.Enum(),
		Mesos: &mesos.ContainerInfo_MesosInfo{Image: &mesos.Image{
			Type:   mesos.Image_DOCKER.Enum(),
			Docker: &mesos.Image_Docker{Name: c.ImageRef(kind)},
		}},
		LinuxInfo: mesosLinuxInfo(c.Service(kind)),
	}
	if kind.DeviceBound() {
		ci.Volumes = []mesos.Volume{deviceRootVolume(c, mesos.RW)}
	}
	return ci
}

// deviceRootVolume mounts the device root at the same path inside the
// container, so that paths in device markers and Quobyte's device list mean
// the same inside and out.
func deviceRootVolume(c *spec.Cluster, mode mesos.Volume_Mode) mesos.Volume {
	return mesos.Volume{
		Mode:          mode.Enum(),
		ContainerPath: c.Quobyte.DeviceRoot,
		HostPath:      strPtr(c.Quobyte.DeviceRoot),
	}
}

// healthCheck is Mesos' HTTP check of the service's status port; nil when
// the service has none. Mesos counts failures only after the grace period,
// so delay_seconds stays 0 and the spec's grace does the waiting.
func healthCheck(svc *spec.Service) *mesos.HealthCheck {
	port := svc.Ports[spec.PortHTTP]
	if port <= 0 {
		return nil
	}
	h := svc.Health
	path := h.Path
	if path == "" {
		path = spec.DefaultHealthPath
	}
	failures := uint32(max(h.MaxFailures, 1))
	hc := &mesos.HealthCheck{
		Type:                mesos.HealthCheck_HTTP,
		HTTP:                &mesos.HealthCheck_HTTPCheckInfo{Port: uint32(port), Path: strPtr(path)},
		DelaySeconds:        f64Ptr(0),
		GracePeriodSeconds:  f64Ptr(h.Grace.Seconds()),
		ConsecutiveFailures: &failures,
	}
	// Unset durations keep Mesos' defaults rather than a zero it rejects.
	if h.Interval > 0 {
		hc.IntervalSeconds = f64Ptr(h.Interval.Seconds())
	}
	if h.Timeout > 0 {
		hc.TimeoutSeconds = f64Ptr(h.Timeout.Seconds())
	}
	return hc
}

func durationInfo(d time.Duration) *mesos.DurationInfo {
	return &mesos.DurationInfo{Nanoseconds: d.Nanoseconds()}
}

func labels(c *spec.Cluster, kind, hash string) *mesos.Labels {
	return &mesos.Labels{Labels: []mesos.Label{
		{Key: labelKind, Value: strPtr(kind)},
		{Key: labelConfigHash, Value: strPtr(hash)},
		{Key: labelSpecHash, Value: strPtr(c.Hash)},
		{Key: labelVersion, Value: strPtr(c.Quobyte.Version)},
	}}
}
