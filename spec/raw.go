package spec

import "github.com/hashicorp/hcl/v2"

// The raw* types mirror the HCL file one to one, as gohcl decodes it.
// Everything optional is a pointer (or nil map/slice) so that "not written"
// and "written as zero" stay distinguishable until defaults are applied.
// Durations stay strings here: parsing them is validation, with positions.
// Each block keeps its hcl.Body so that semantic errors can point at the
// offending attribute's value.

type rawFile struct {
	Mesos     *rawMesos     `hcl:"mesos,block"`
	Quobyte   *rawQuobyte   `hcl:"quobyte,block"`
	Prober    *rawProber    `hcl:"prober,block"`
	Services  []*rawService `hcl:"service,block"`
	Upgrade   *rawUpgrade   `hcl:"upgrade,block"`
	Placement *rawPlacement `hcl:"placement,block"`
	StatusAPI *rawStatusAPI `hcl:"status_api,block"`
	HA        *rawHA        `hcl:"ha,block"`
	Body      hcl.Body      `hcl:",body"`
}

type rawMesos struct {
	// Master is a string (one URL, http(s) or zk://) or a list of http(s)
	// URLs, so it is decoded by hand.
	Master           *hcl.Attribute `hcl:"master,optional"`
	FrameworkName    *string        `hcl:"framework_name,optional"`
	Role             *string        `hcl:"role,optional"`
	Principal        *string        `hcl:"principal,optional"`
	SecretFile       *string        `hcl:"secret_file,optional"`
	CAFile           *string        `hcl:"ca_file,optional"`
	FailoverTimeout  *string        `hcl:"failover_timeout,optional"`
	FrameworkIDStore *string        `hcl:"framework_id_store,optional"`
	Body             hcl.Body       `hcl:",body"`
	DefRange         hcl.Range      `hcl:",def_range"`
}

type rawQuobyte struct {
	State       *string           `hcl:"state,optional"`
	Version     *string           `hcl:"version,optional"`
	Image       *string           `hcl:"image,optional"`
	ClientImage *string           `hcl:"client_image,optional"`
	Runtime     *string           `hcl:"runtime,optional"`
	Command     *string           `hcl:"command,optional"`
	Registry    *string           `hcl:"registry,optional"`
	DeviceRoot  *string           `hcl:"device_root,optional"`
	Address     *string           `hcl:"address,optional"`
	Env         map[string]string `hcl:"env,optional"`
	Body        hcl.Body          `hcl:",body"`
	DefRange    hcl.Range         `hcl:",def_range"`
}

type rawProber struct {
	Interval         *string `hcl:"interval,optional"`
	Mode             *string `hcl:"mode,optional"`
	Artifact         *string `hcl:"artifact,optional"`
	ClientMountPoint *string `hcl:"client_mount_point,optional"`
	// DeviceRoot is accepted here too, as an alias of quobyte.device_root
	// (the sketch put it here); setting both is an error.
	DeviceRoot *string       `hcl:"device_root,optional"`
	Resources  *rawResources `hcl:"resources,block"`
	Body       hcl.Body      `hcl:",body"`
}

type rawResources struct {
	CPUs *float64 `hcl:"cpus,optional"`
	Mem  *float64 `hcl:"mem,optional"`
	Disk *float64 `hcl:"disk,optional"`
	Body hcl.Body `hcl:",body"`
}

type rawService struct {
	Name      string            `hcl:"name,label"`
	Enabled   *bool             `hcl:"enabled,optional"`
	Count     *int              `hcl:"count,optional"`
	Resources *rawResources     `hcl:"resources,block"`
	Ports     *rawPorts         `hcl:"ports,block"`
	Health    *rawHealth        `hcl:"health,block"`
	Restart   *rawRestart       `hcl:"restart,block"`
	KillGrace *string           `hcl:"kill_grace,optional"`
	Env       map[string]string `hcl:"env,optional"`
	Args      []string          `hcl:"args,optional"`
	Hosts     []string          `hcl:"hosts,optional"`
	Body      hcl.Body          `hcl:",body"`
	NameRange hcl.Range         `hcl:"name,label_range"`
	DefRange  hcl.Range         `hcl:",def_range"`

	// Privileges of the service's container (privileges.go).
	Privileged   *bool    `hcl:"privileged,optional"`
	Capabilities []string `hcl:"capabilities,optional"`
	Devices      []string `hcl:"devices,optional"`
}

// rawPorts takes any attribute: which port names are allowed depends on the
// service kind, checked after decoding.
type rawPorts struct {
	Attrs hcl.Attributes `hcl:",remain"`
}

type rawHealth struct {
	Path        *string  `hcl:"path,optional"`
	Interval    *string  `hcl:"interval,optional"`
	Timeout     *string  `hcl:"timeout,optional"`
	Grace       *string  `hcl:"grace,optional"`
	MaxFailures *int     `hcl:"max_failures,optional"`
	Body        hcl.Body `hcl:",body"`
}

type rawRestart struct {
	InitialDelay *string  `hcl:"initial_delay,optional"`
	MaxDelay     *string  `hcl:"max_delay,optional"`
	ResetAfter   *string  `hcl:"reset_after,optional"`
	Body         hcl.Body `hcl:",body"`
}

type rawUpgrade struct {
	Order           []string `hcl:"order,optional"`
	MaxParallel     *int     `hcl:"max_parallel,optional"`
	MinHealthyTime  *string  `hcl:"min_healthy_time,optional"`
	HealthyDeadline *string  `hcl:"healthy_deadline,optional"`
	AutoRevert      []string `hcl:"auto_revert,optional"`
	Body            hcl.Body `hcl:",body"`
}

type rawPlacement struct {
	Hosts              []string          `hcl:"hosts,optional"`
	Attributes         map[string]string `hcl:"attributes,optional"`
	UnreachableTimeout *string           `hcl:"unreachable_timeout,optional"`
	Body               hcl.Body          `hcl:",body"`
}

type rawStatusAPI struct {
	AuthFile *string  `hcl:"auth_file,optional"`
	Body     hcl.Body `hcl:",body"`
}

type rawHA struct {
	Zookeeper      *string   `hcl:"zookeeper,optional"`
	SessionTimeout *string   `hcl:"session_timeout,optional"`
	Body           hcl.Body  `hcl:",body"`
	DefRange       hcl.Range `hcl:",def_range"`
}
