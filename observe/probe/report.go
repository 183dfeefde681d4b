package probe

import "github.com/quobyte/quobyte-mesos/spec"

// Report is what a prober sends as the data of its TASK_RUNNING updates
// (JSON encoded). Version lets the framework reject reports it cannot read.
type Report struct {
	Version  int    `json:"version"`
	Hostname string `json:"hostname"`
	// DeviceRoot and Mode echo the prober's configuration.
	DeviceRoot string `json:"device_root"`
	Mode       string `json:"mode"`
	// Seq increases with every report of one prober process.
	Seq      uint64     `json:"seq"`
	Devices  []Device   `json:"devices"`
	Rejected []Rejected `json:"rejected,omitempty"`
	// ClientMountPoint is true when the client mount point directory exists.
	ClientMountPoint bool `json:"client_mount_point"`
}

// ReportVersion is the Report format this build writes and reads.
const ReportVersion = 1

// Device is a marked Quobyte device found by the prober.
type Device struct {
	Path       string            `json:"path"` // mount point
	Filesystem string            `json:"filesystem,omitempty"`
	Types      []spec.DeviceType `json:"types"`
	Serial     string            `json:"serial,omitempty"`
	Model      string            `json:"model,omitempty"`
	DeviceID   string            `json:"device_id,omitempty"` // from QUOBYTE_DEV_ID, empty before registration
	Bootstrap  bool              `json:"bootstrap,omitempty"`
	FreeBytes  uint64            `json:"free_bytes"`
	TotalBytes uint64            `json:"total_bytes"`
	Legacy     bool              `json:"legacy,omitempty"` // marked by a quobyte-* directory
	// Warnings name problems that do not disqualify the device, such as an
	// unreadable QUOBYTE_DEV_ID (the device is then reported without an ID).
	Warnings []string `json:"warnings,omitempty"`
}

// Rejected is a candidate mount the prober did not accept, and why.
type Rejected struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// HasType reports whether any device in r carries type t.
func (r *Report) HasType(t spec.DeviceType) bool {
	for _, d := range r.Devices {
		for _, dt := range d.Types {
			if dt == t {
				return true
			}
		}
	}
	return false
}
