package actuate

import (
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/spec"
)

// dockerDefaultCapabilities is the set Docker gives every container that is
// not privileged (moby's default capabilities). The Mesos containerizer
// gives a root task every capability unless told otherwise, so a service
// there gets this set plus its grants: the same privileges in both
// containerizers.
var dockerDefaultCapabilities = []string{
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
	"NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

// dockerPrivileges gives a service's container what the spec grants it and
// nothing more: --privileged only when asked (Docker also refuses it on
// hosts that do not grant every capability), a cap-add parameter per
// capability, a device parameter per device.
func dockerPrivileges(svc *spec.Service, d *mesos.ContainerInfo_DockerInfo) {
	d.Privileged = boolPtr(svc.Privileged)
	for _, c := range svc.Capabilities {
		d.Parameters = append(d.Parameters, mesos.Parameter{Key: "cap-add", Value: c})
	}
	for _, dev := range svc.Devices {
		d.Parameters = append(d.Parameters, mesos.Parameter{Key: "device", Value: dev})
	}
}

// mesosLinuxInfo is the Mesos containerizer's equivalent (linux/capabilities
// isolator): effective and bounding capabilities are Docker's default set
// plus the grants, or every capability when privileged. Devices have no
// per-task setting there (the agents' --allowed_devices grant them; the
// spec warns).
func mesosLinuxInfo(svc *spec.Service) *mesos.LinuxInfo {
	names := append(append([]string(nil), dockerDefaultCapabilities...), svc.Capabilities...)
	if svc.Privileged {
		names = spec.CapabilityNames()
	}
	seen := map[mesos.CapabilityInfo_Capability]bool{}
	caps := &mesos.CapabilityInfo{}
	for _, n := range names {
		c := mesos.CapabilityInfo_Capability(mesos.CapabilityInfo_Capability_value[n])
		if c != mesos.CapabilityInfo_UNKNOWN && !seen[c] {
			seen[c] = true
			caps.Capabilities = append(caps.Capabilities, c)
		}
	}
	bounding := *caps
	bounding.Capabilities = append([]mesos.CapabilityInfo_Capability(nil), caps.Capabilities...)
	return &mesos.LinuxInfo{EffectiveCapabilities: caps, BoundingCapabilities: &bounding}
}
