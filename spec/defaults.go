package spec

import "time"

// Defaults for everything an operator may leave out. Only mesos.master and
// quobyte.image (or quobyte.command with runtime = "command") have none.
const (
	DefaultFrameworkName      = "quobyte"
	DefaultRole               = "quobyte"
	DefaultFailoverTimeout    = 672 * time.Hour // four weeks: a framework outage must never kill Quobyte
	DefaultFrameworkIDStore   = "file:///var/lib/quobyte-mesos/framework-id"
	DefaultVersion            = "latest"
	DefaultRuntime            = Docker
	DefaultDeviceRoot         = "/mnt"
	DefaultAddress            = AddressHostname
	DefaultProberInterval     = 2 * time.Minute
	DefaultProberMode         = ProberModeMounts
	DefaultProberArtifact     = ProberArtifactFramework
	DefaultClientMountPoint   = "/quobyte"
	DefaultMaxParallel        = 1
	DefaultMinHealthyTime     = 30 * time.Second
	DefaultHealthyDeadline    = 5 * time.Minute
	DefaultUnreachableTimeout = 10 * time.Minute
	DefaultHealthPath         = "/serviceHealth"
	DefaultKillGrace          = 30 * time.Second
	// DefaultSessionTimeout is the ZooKeeper session timeout of the leader
	// election (as Mesos masters use): a dead leader is replaced after about
	// this long.
	DefaultSessionTimeout = 10 * time.Second
	// MinSessionTimeout and MaxSessionTimeout bound ha.session_timeout:
	// ZooKeeper grants between 2 and 20 ticks (4 s to 40 s with its default
	// tick of 2 s) and negotiates anything else into that range.
	MinSessionTimeout = time.Second
	MaxSessionTimeout = 2 * time.Minute
)

// Prober modes and artifacts (Prober.Mode, Prober.Artifact).
const (
	ProberModeMounts        = "mounts"
	ProberModeDirectories   = "directories"
	ProberArtifactFramework = "framework"
	ProberArtifactImage     = "image"
)

// Port names. "http" is the status port every service serves /serviceHealth
// on, and the one health-checked.
const (
	PortRPC     = "rpc"
	PortHTTP    = "http"
	PortJSONRPC = "jsonrpc"
	PortUI      = "ui"
	PortS3      = "s3"
)

// DefaultPorts returns the standard Quobyte ports of kind k; its keys are the
// port names a service of that kind may set.
func DefaultPorts(k Kind) map[string]int {
	switch k {
	case Registry:
		return map[string]int{PortRPC: 7861, PortHTTP: 7871}
	case Metadata:
		return map[string]int{PortRPC: 7862, PortHTTP: 7872}
	case Data:
		return map[string]int{PortRPC: 7863, PortHTTP: 7873}
	case Webconsole:
		return map[string]int{PortRPC: 7864, PortHTTP: 7874, PortUI: 8080}
	case API:
		return map[string]int{PortRPC: 7865, PortHTTP: 7875, PortJSONRPC: 7860}
	case S3:
		return map[string]int{PortRPC: 7867, PortHTTP: 7877, PortS3: 8000}
	case Client:
		return map[string]int{PortHTTP: 55000}
	}
	return nil
}

// DefaultResources returns the resources a task of kind k asks for unless
// the spec says otherwise.
func DefaultResources(k Kind) Resources {
	switch k {
	case Registry:
		return Resources{CPUs: 1, Mem: 2048, Disk: 64}
	case Metadata, Data:
		return Resources{CPUs: 2, Mem: 4096, Disk: 64}
	case API, Webconsole:
		return Resources{CPUs: 0.5, Mem: 1024, Disk: 64}
	case S3, Client:
		return Resources{CPUs: 1, Mem: 2048, Disk: 64}
	}
	return Resources{}
}

// DefaultProberResources is what the prober executor asks for: it only reads
// the mount table and small marker files.
func DefaultProberResources() Resources { return Resources{CPUs: 0.1, Mem: 64, Disk: 0} }

// DefaultAutoRevert: a registry or metadata host whose replacement fails
// goes back to its previous configuration (the kinds whose loss hurts most).
func DefaultAutoRevert() []Kind { return []Kind{Registry, Metadata} }

// DefaultUpgradeOrder is Quobyte's own: registry, then the stateless
// front-ends, then metadata, then data (and clients last).
func DefaultUpgradeOrder() []Kind { return Kinds() }

// defaultService is the effective configuration of kind k when the spec has
// no service block for it.
func defaultService(k Kind) Service {
	count := 0
	switch k {
	case API, Webconsole, S3:
		count = 1
	}
	caps, devices := []string{}, []string{}
	if k == Client {
		caps, devices = []string{"SYS_ADMIN"}, []string{"/dev/fuse"}
	}
	return Service{
		Kind:      k,
		Enabled:   k != S3 && k != Client,
		Count:     count,
		Resources: DefaultResources(k),
		Ports:     DefaultPorts(k),
		Health: Health{
			Path:        DefaultHealthPath,
			Interval:    10 * time.Second,
			Timeout:     5 * time.Second,
			Grace:       2 * time.Minute,
			MaxFailures: 3,
		},
		Restart: Restart{
			InitialDelay: time.Second,
			MaxDelay:     5 * time.Minute,
			ResetAfter:   10 * time.Minute,
		},
		KillGrace: DefaultKillGrace,
		Env:       map[string]string{},
		Args:      []string{},
		Hosts:     []string{},

		Capabilities: caps,
		Devices:      devices,
	}
}

// CountIgnored reports whether Service.Count is meaningless for kind k:
// device-bound kinds run one per host with devices of their type, the client
// one per host with the client mount point.
func (k Kind) CountIgnored() bool { return k.DeviceBound() || k == Client }
