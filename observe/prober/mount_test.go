package prober

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/probe/probetest"
	"github.com/quobyte/quobyte-mesos/observe/prober/probertest"
	"github.com/quobyte/quobyte-mesos/spec"
)

func TestRealMounts(t *testing.T) { probetest.RunInMountNamespace(t, "^TestInNamespace_") }

// TestInNamespace_MountReported measures what the framework sees: the time
// from mounting a marked ext4 device under the root to the TASK_RUNNING
// update that lists it, and from an unmount to the update without it.
func TestInNamespace_MountReported(t *testing.T) {
	probetest.RequireMountNamespace(t)
	agent := probertest.NewAgent(t)
	root := filepath.Join(t.TempDir(), "devices")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	img := probetest.MakeFS(t, "ext4")
	staging := filepath.Join(t.TempDir(), "staging")
	probetest.Mount(t, img, staging)
	if err := os.WriteFile(filepath.Join(staging, probe.SetupFile), []byte("device.type=DATA_DEVICE\ndevice.serial=LOOP1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	probetest.Run(t, "umount", staging)

	cfg := testConfig(agent, root)
	cfg.Scan.Mode = probe.ModeMounts
	ctx, cancel := context.WithCancel(context.Background())
	done := running(t, ctx, cfg)
	agent.Launch(taskID)
	if r := report(t, agent.NextUpdate(5*time.Second)); len(r.Devices) != 0 {
		t.Fatalf("first report = %+v, want no devices", r)
	}

	start := time.Now()
	probetest.Mount(t, img, filepath.Join(root, "data1"))
	r := report(t, agent.NextUpdate(time.Second))
	t.Logf("mount reported %v after mount(8) started", time.Since(start).Round(time.Millisecond))
	if !r.HasType(spec.DataDevice) || r.Devices[0].Serial != "LOOP1" || r.Devices[0].Filesystem != "ext4" {
		t.Fatalf("report after the mount = %+v", r)
	}

	start = time.Now()
	probetest.Run(t, "umount", filepath.Join(root, "data1"))
	r = report(t, agent.NextUpdate(time.Second))
	t.Logf("unmount reported %v after umount(8) started", time.Since(start).Round(time.Millisecond))
	if len(r.Devices) != 0 {
		t.Fatalf("report after the unmount = %+v", r)
	}
	cancel()
	if err := waitDone(t, done, 2*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
