package mesossim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A device may be a path below the agent's host directory (a Docker agent's
// devices under <host dir>/devices), never one leading out of it.
func TestDeviceMarker_PathsInsideTheHostDirectory(t *testing.T) {
	a := DefaultAgent("agent1")
	a.HostDir = t.TempDir()
	c, err := Start(context.Background(), Config{Agents: []AgentConfig{a}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AddDeviceMarker("agent1", "devices/data1", "device.type=DATA_DEVICE\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.HostDir, "devices", "data1", "QUOBYTE_DEV_SETUP")); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", ".", "..", "../x", "/abs", "a/../../b", "a//b", "devices/"} {
		if err := c.AddDeviceMarker("agent1", bad, "x"); err == nil {
			t.Errorf("device %q accepted", bad)
		}
	}
}
