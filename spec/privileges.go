package spec

import (
	"path/filepath"
	"sort"
	"strings"
)

// Linux capabilities a service may be granted: those Mesos' CapabilityInfo
// names (so that the Mesos containerizer can express every one), written
// without the CAP_ prefix as Docker's --cap-add takes them.
var capabilityNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
}

// CapabilityNames lists the capabilities a service may be granted.
func CapabilityNames() []string { return append([]string(nil), capabilityNames...) }

// privileges reads a service's privileged, capabilities and devices.
// Capabilities are normalized (upper case, no CAP_ prefix), devices are
// Docker's host[:container[:permissions]]; both are sorted and free of
// duplicates, so that their order never changes a config hash.
func (b *builder) privileges(raw *rawService, s *Service, rt Runtime) {
	body := raw.Body
	if raw.Privileged != nil {
		s.Privileged = *raw.Privileged
	}
	if raw.Capabilities != nil {
		s.Capabilities = []string{}
		for i, c := range raw.Capabilities {
			name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
			switch {
			case name == "ALL":
				b.errorf(elemRange(body, "capabilities", i), "Capability ALL",
					"capabilities = [%q]: to grant every capability, write privileged = true.", c)
			case !contains(capabilityNames, name):
				b.errorf(elemRange(body, "capabilities", i), "Unknown capability",
					"%q is no Linux capability Mesos knows.%s", c, didYouMean(name, capabilityNames))
			default:
				s.Capabilities = append(s.Capabilities, name)
			}
		}
		s.Capabilities = sortedUnique(s.Capabilities)
	}
	if raw.Devices != nil {
		s.Devices = []string{}
		for i, d := range raw.Devices {
			if msg := checkDevice(d); msg != "" {
				b.errorf(elemRange(body, "devices", i), "Invalid device", "devices = [%q]: %s", d, msg)
				continue
			}
			s.Devices = append(s.Devices, d)
		}
		s.Devices = sortedUnique(s.Devices)
	}
	if s.Privileged && raw.Capabilities != nil && len(s.Capabilities) > 0 {
		b.warnf(valueRange(body, "capabilities"), "Capabilities redundant",
			"A privileged %s service has every capability already.", s.Kind)
	}
	anySet := raw.Privileged != nil || raw.Capabilities != nil || raw.Devices != nil
	switch {
	case rt == Command && anySet:
		b.warnf(raw.DefRange, "Privileges ignored",
			"runtime = %q runs services as plain commands on the host: privileged, capabilities and devices apply to containers only.", rt)
	case rt == MesosImage && raw.Devices != nil && len(s.Devices) > 0:
		b.warnf(valueRange(body, "devices"), "Devices not in the task",
			"The Mesos containerizer has no devices per task: grant %s with the agents' --allowed_devices (linux/devices isolator).", strings.Join(s.Devices, ", "))
	}
}

// checkDevice checks one device in Docker's --device syntax,
// host[:container[:permissions]]; "" means valid.
func checkDevice(d string) string {
	parts := strings.Split(d, ":")
	if len(parts) > 3 {
		return "want host[:container[:permissions]]."
	}
	for i, p := range parts[:min(len(parts), 2)] {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			what := []string{"host", "container"}[i]
			return "the " + what + " path must be absolute and clean."
		}
	}
	if len(parts) == 3 {
		perms := parts[2]
		if perms == "" || strings.Trim(perms, "rwm") != "" || len(sortedUnique(strings.Split(perms, ""))) != len(perms) {
			return "permissions are some of r, w and m, each once."
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedUnique(ss []string) []string {
	out := append([]string{}, ss...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}
