package spec

import "time"

// Kind names a Quobyte service kind. The set is closed: Kinds lists it.
type Kind string

// The service kinds the framework deploys.
const (
	Registry   Kind = "registry"
	Metadata   Kind = "metadata"
	Data       Kind = "data"
	API        Kind = "api"
	Webconsole Kind = "webconsole"
	S3         Kind = "s3"
	Client     Kind = "client"
)

// Kinds returns every service kind in Quobyte's start order.
func Kinds() []Kind {
	return []Kind{Registry, API, Webconsole, S3, Metadata, Data, Client}
}

// ParseKind returns the kind named s, or false if s names none.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// DeviceBound reports whether services of this kind belong to devices on their
// host (and so never move to another host).
func (k Kind) DeviceBound() bool { return k.DeviceType() != "" }

// DeviceType is the device.type marker value whose presence on a host calls
// for one service of this kind there; empty for kinds that run anywhere.
func (k Kind) DeviceType() DeviceType {
	switch k {
	case Registry:
		return DirDevice
	case Metadata:
		return MetadataDevice
	case Data:
		return DataDevice
	}
	return ""
}

// DeviceType is a Quobyte device type as written in QUOBYTE_DEV_SETUP.
type DeviceType string

// The device types of QUOBYTE_DEV_SETUP's device.type key.
const (
	DirDevice      DeviceType = "DIR_DEVICE"
	MetadataDevice DeviceType = "METADATA_DEVICE"
	DataDevice     DeviceType = "DATA_DEVICE"
)

// State is the desired state of the whole installation.
type State string

// The installation states an operator can ask for.
const (
	Running State = "running"
	Stopped State = "stopped"
)

// Runtime says how service tasks are containerized.
type Runtime string

// The supported runtimes.
const (
	// Docker runs the server image with the Docker containerizer (production).
	Docker Runtime = "docker"
	// MesosImage runs the server image with the Mesos containerizer.
	MesosImage Runtime = "mesos"
	// Command runs a plain command on the host (bare metal, the simulated cluster).
	Command Runtime = "command"
)

// Cluster is a loaded, defaulted and validated spec. It is immutable once
// returned by Load: callers must not modify it.
type Cluster struct {
	// File is the path the spec was loaded from (for messages only).
	File string
	// Hash identifies the normalized spec: equal specs hash equal whatever
	// their formatting, comments or order of blocks.
	Hash string

	Mesos     Mesos
	Quobyte   Quobyte
	Prober    Prober
	Upgrade   Upgrade
	Placement Placement
	StatusAPI StatusAPI
	HA        HA
	// Services holds every kind, enabled or not, keyed by kind.
	Services map[Kind]*Service
}

// Mesos says how to reach and register with the Mesos master.
type Mesos struct {
	// Masters lists http(s) master URLs; empty when ZK is set.
	Masters []string
	// ZK is a zk://host:port,.../path URL from which the leading master is read.
	ZK              string
	FrameworkName   string
	Role            string
	Principal       string
	SecretFile      string // the secret is read from this file, never inline
	CAFile          string // TLS trust for https masters
	FailoverTimeout time.Duration
	// FrameworkIDStore is where the framework ID is persisted: a local file
	// path ("file:///var/lib/quobyte-mesos/framework-id") or a ZooKeeper node
	// ("zk://zk1:2181/quobyte-mesos/framework-id").
	FrameworkIDStore string
}

// Quobyte describes what to deploy.
type Quobyte struct {
	State       State
	Version     string
	Image       string // repository without tag; the tag is Version
	ClientImage string // repository of the client image, tag Version
	Runtime     Runtime
	// Command is the service command for the Command runtime. The server
	// image's environment contract applies either way.
	Command string
	// Registry overrides QUOBYTE_REGISTRY (an external registry list); empty
	// means the framework derives it from the registry services it runs.
	Registry string
	// DeviceRoot is the host directory under which devices are mounted; it is
	// handed to device-bound services and mounted into their containers.
	DeviceRoot string
	// Env is extra environment for every service.
	Env map[string]string
	// Address says how services name each other's hosts in the addresses
	// the framework hands them (QUOBYTE_REGISTRY): by the agent's hostname,
	// or by its IP address where hostnames do not resolve. It is not part of
	// the config hash: changing it restarts nothing, and services launched
	// afterwards get addresses of the new form.
	Address AddressMode
}

// AddressMode is how services address each other's hosts.
type AddressMode string

// The address modes (Quobyte.Address).
const (
	// AddressHostname names hosts by the agent's hostname (the default).
	AddressHostname AddressMode = "hostname"
	// AddressIP names hosts by the agent's IP address, as Mesos reports it
	// in offers (the agent's --ip).
	AddressIP AddressMode = "ip"
)

// Prober configures the device prober executor started on every agent.
type Prober struct {
	Interval time.Duration // keep-alive re-report period
	// Mode is "mounts" (scan the mount table for ext4/xfs under DeviceRoot)
	// or "directories" (each subdirectory of DeviceRoot is a device).
	Mode string
	// Artifact is "framework" (fetched from the framework's HTTP server) or
	// "image" (run from the framework image).
	Artifact string
	// ClientMountPoint is the directory whose presence on a host calls for a
	// Quobyte client there (when the client service is enabled).
	ClientMountPoint string
	Resources        Resources
	// ConfigHash identifies the prober's configuration (as Service.ConfigHash
	// does a service's): prober task IDs carry it, and a prober whose hash
	// differs is replaced.
	ConfigHash string
}

// Upgrade governs rolling replacement of tasks whose config hash differs.
type Upgrade struct {
	Order           []Kind
	MaxParallel     int
	MinHealthyTime  time.Duration
	HealthyDeadline time.Duration
	// AutoRevert lists the device-bound kinds whose host goes back to its
	// previous configuration when its replacement fails (Nomad's
	// auto_revert); the rollout pauses either way.
	AutoRevert []Kind
}

// AutoRevertsKind reports whether a failed replacement of kind k reverts.
func (u Upgrade) AutoRevertsKind(k Kind) bool {
	for _, a := range u.AutoRevert {
		if a == k {
			return true
		}
	}
	return false
}

// Placement restricts which agents run anything of ours.
type Placement struct {
	// Hosts are shell globs (path.Match) on the agent hostname; empty: all.
	Hosts []string
	// Attributes must all equal the agent's attributes of the same name.
	Attributes map[string]string
	// UnreachableTimeout is how long a stateless task on an unreachable
	// agent counts as alive before it is replaced elsewhere.
	UnreachableTimeout time.Duration
}

// StatusAPI configures the framework's own HTTP API (run --listen).
type StatusAPI struct {
	// AuthFile names a file of credentials (bearer tokens, basic-auth
	// user:password pairs), read by the framework while it runs; empty:
	// no authentication. Credentials are never written in the spec.
	AuthFile string
}

// HA lets several `run` instances share one framework: they elect a leader
// in ZooKeeper, and only the leader subscribes to Mesos and acts.
type HA struct {
	// Zookeeper is the zk://host:port,.../path URL under which the instances
	// of this framework (by Mesos.FrameworkName) elect their leader; empty:
	// one instance, no election.
	Zookeeper string
	// SessionTimeout is the ZooKeeper session timeout asked for: how long
	// after a leader falls silent a standby takes over. The leader stops
	// acting after half of the timeout the server granted without an
	// answer from ZooKeeper (observe/leader explains why).
	SessionTimeout time.Duration
}

// Enabled reports whether instances elect a leader.
func (h HA) Enabled() bool { return h.Zookeeper != "" }

// Resources are the scalar resources a task asks for.
type Resources struct {
	CPUs float64
	Mem  float64 // MiB
	Disk float64 // MiB
}

// Health is the Mesos HTTP health check on a service's status port.
type Health struct {
	Path        string
	Interval    time.Duration
	Timeout     time.Duration
	Grace       time.Duration // failures ignored for this long after start
	MaxFailures int           // consecutive failures before Mesos kills the task
}

// Restart is the backoff applied to a failing service instance.
type Restart struct {
	InitialDelay time.Duration
	MaxDelay     time.Duration
	// ResetAfter: a task running this long forgets its past failures.
	ResetAfter time.Duration
}

// Service is the effective configuration of one service kind.
type Service struct {
	Kind    Kind
	Enabled bool
	// Count is how many instances of a kind that runs anywhere are wanted.
	// Device-bound kinds and the client ignore it (one per qualifying host).
	Count     int
	Resources Resources
	// Ports by name: "rpc", "http" (status port, health-checked), and per kind
	// "jsonrpc" (api), "ui" (webconsole), "s3" (s3).
	Ports     map[string]int
	Health    Health
	Restart   Restart
	KillGrace time.Duration
	Env       map[string]string
	Args      []string
	// Hosts narrows Placement.Hosts for this kind (globs); empty: no narrowing.
	Hosts []string
	// Privileges of the service's container, least by default: Privileged
	// grants everything; Capabilities (Linux capability names without
	// CAP_, sorted) are added to the container runtime's default set;
	// Devices (Docker's host[:container[:permissions]], sorted) are made
	// available in it. Only the client has any by default: FUSE needs
	// /dev/fuse and SYS_ADMIN.
	Privileged   bool
	Capabilities []string
	Devices      []string
	// ConfigHash identifies everything a running task of this kind was
	// launched with (image, version, runtime, command, resources, ports, env,
	// health...). A task whose hash differs is replaced by a rolling upgrade.
	ConfigHash string
}

// Service returns the service of kind k (nil for an unknown kind).
func (c *Cluster) Service(k Kind) *Service { return c.Services[k] }

// ImageRef is the full image reference (image:version) for kind k.
func (c *Cluster) ImageRef(k Kind) string {
	img := c.Quobyte.Image
	if k == Client && c.Quobyte.ClientImage != "" {
		img = c.Quobyte.ClientImage
	}
	return img + ":" + c.Quobyte.Version
}
