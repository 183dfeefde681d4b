package mesossim

import (
	"fmt"
	"os"
	"path/filepath"
)

// deviceMarker is the file that marks a device for Quobyte.
const deviceMarker = "QUOBYTE_DEV_SETUP"

// AddDeviceMarker writes HostDir/<device>/QUOBYTE_DEV_SETUP on an agent;
// device is a relative path inside the host directory.
func (c *Cluster) AddDeviceMarker(agentHostname, device, content string) error {
	dir, err := c.deviceDir(agentHostname, device)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mesossim: creating device directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, deviceMarker), []byte(content), 0o644); err != nil {
		return fmt.Errorf("mesossim: writing device marker: %w", err)
	}
	return nil
}

// RemoveDeviceMarker removes HostDir/<device>/QUOBYTE_DEV_SETUP on an agent.
func (c *Cluster) RemoveDeviceMarker(agentHostname, device string) error {
	dir, err := c.deviceDir(agentHostname, device)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, deviceMarker)); err != nil {
		return fmt.Errorf("mesossim: removing device marker: %w", err)
	}
	return nil
}

func (c *Cluster) deviceDir(agentHostname, device string) (string, error) {
	m := c.m
	m.mu.Lock()
	a, err := m.agentByIDOrHostname(agentHostname)
	m.unlock()
	if err != nil {
		return "", fmt.Errorf("mesossim: %w", err)
	}
	if a.cfg.HostDir == "" {
		return "", fmt.Errorf("mesossim: agent %s has no host directory", a.cfg.Hostname)
	}
	// A device may sit below the host directory ("devices/data1" for a
	// Docker agent whose containers see <host dir>/devices as /devices),
	// never outside it.
	if !filepath.IsLocal(device) || filepath.Clean(device) != device || device == "." {
		return "", fmt.Errorf("mesossim: invalid device name %q", device)
	}
	return filepath.Join(a.cfg.HostDir, device), nil
}

// ExecutorReport makes the simulated executors on an agent report again,
// unasked, as a prober does when a device marker appears (simulated mode
// only: there ExecutorData stands in for the executor, and what it now
// says goes out as a new TASK_RUNNING of each custom executor's task).
func (c *Cluster) ExecutorReport(agentHostname string) error {
	m := c.m
	m.mu.Lock()
	a, err := m.agentByIDOrHostname(agentHostname)
	var r Runtime
	if err == nil {
		r = a.rt
	}
	m.unlock()
	if err != nil {
		return fmt.Errorf("mesossim: %w", err)
	}
	rt, ok := r.(*simRuntime)
	if !ok {
		return fmt.Errorf("mesossim: agent %s does not run the simulated runtime", agentHostname)
	}
	if rt.reportAgain() == 0 {
		return fmt.Errorf("mesossim: no executor on %s reported", agentHostname)
	}
	return nil
}
