package probe

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/observe/probe/probetest"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The real-mount tests make filesystems in files, mount them on loop
// devices and scan the kernel's mount table, inside a private mount
// namespace (see probetest) so that the host's mounts are never touched.

func TestRealMounts(t *testing.T) { probetest.RunInMountNamespace(t, "^TestInNamespace_") }

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInNamespace_Scan(t *testing.T) {
	probetest.RequireMountNamespace(t)
	root := filepath.Join(t.TempDir(), "devices")
	probetest.Mount(t, probetest.MakeFS(t, "ext4"), filepath.Join(root, "data 1"))
	writeFile(t, filepath.Join(root, "data 1", SetupFile), "# qmkdev\ndevice.serial=SER1\ndevice.model=Loop\ndevice.type=DATA_DEVICE\n")
	writeFile(t, filepath.Join(root, "data 1", IDFile), "device.id=5\n")
	probetest.Mount(t, probetest.MakeFS(t, "xfs"), filepath.Join(root, "meta"))
	if err := os.Mkdir(filepath.Join(root, "meta", "quobyte-metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	probetest.Mount(t, probetest.MakeFS(t, "ext4"), filepath.Join(root, "bare"))
	probetest.Mount(t, probetest.MakeFS(t, "ext4"), filepath.Join(root, "typo"))
	writeFile(t, filepath.Join(root, "typo", SetupFile), "device.type=DATA\n")
	probetest.Mount(t, "tmpfs", filepath.Join(root, "scratch"))
	writeFile(t, filepath.Join(root, "scratch", SetupFile), "device.type=DATA_DEVICE\n")
	// An unmounted directory with a marker is no device in mounts mode.
	device(t, filepath.Join(root, "plain"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})

	s := NewScanner(Config{DeviceRoot: root, Mode: ModeMounts, Hostname: "h"})
	got := s.Scan()
	want := Report{
		Version: ReportVersion, Hostname: "h", DeviceRoot: root, Mode: ModeMounts,
		Devices: []Device{
			{Path: root + "/data 1", Filesystem: "ext4", Types: []spec.DeviceType{spec.DataDevice}, Serial: "SER1", Model: "Loop", DeviceID: "5"},
			{Path: root + "/meta", Filesystem: "xfs", Types: []spec.DeviceType{spec.MetadataDevice}, Legacy: true},
		},
		Rejected: []Rejected{
			{Path: root + "/bare", Reason: "no marker"},
			{Path: root + "/scratch", Reason: "wrong filesystem tmpfs"},
			{Path: root + "/typo", Reason: "unknown device.type DATA"},
		},
	}
	if d := cmp.Diff(want, got, ignoreSpace); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	for _, d := range got.Devices {
		// The images are 32 MiB (ext4) and 300 MiB (xfs): statfs must have
		// read the mounted filesystem, not the host's disk.
		if d.TotalBytes == 0 || d.TotalBytes > 300<<20 || d.FreeBytes == 0 || d.FreeBytes > d.TotalBytes {
			t.Errorf("%s: free %d of total %d bytes", d.Path, d.FreeBytes, d.TotalBytes)
		}
	}

	// Probing must not write to the devices: no change to the markers, and
	// none to their access times either.
	paths := []string{
		filepath.Join(root, "data 1"), filepath.Join(root, "data 1", SetupFile), filepath.Join(root, "data 1", IDFile),
		filepath.Join(root, "meta"), filepath.Join(root, "meta", "quobyte-metadata"),
		filepath.Join(root, "typo", SetupFile),
	}
	before := snapshotPaths(t, paths)
	for i := 0; i < 3; i++ {
		s.Scan()
	}
	if d := cmp.Diff(before, snapshotPaths(t, paths), cmp.AllowUnexported(fileState{})); d != "" {
		t.Errorf("scanning changed the devices (-before +after):\n%s", d)
	}
}

func TestInNamespace_WatchMounts(t *testing.T) {
	probetest.RequireMountNamespace(t)
	root := filepath.Join(t.TempDir(), "devices")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Prepare a marked filesystem elsewhere, so that it arrives under the
	// root with its marker in one mount.
	img := probetest.MakeFS(t, "ext4")
	staging := filepath.Join(t.TempDir(), "staging")
	probetest.Mount(t, img, staging)
	writeFile(t, filepath.Join(staging, SetupFile), "device.type=DIR_DEVICE\n")
	probetest.Run(t, "umount", staging)

	s := NewScanner(Config{DeviceRoot: root, Mode: ModeMounts, Logger: testLogger(t)})
	w := startWatch(t, s)
	unrelated := filepath.Join(t.TempDir(), "unrelated")
	probetest.Mount(t, "tmpfs", unrelated)
	w.quiet(t, 400*time.Millisecond) // a mount outside the root changes nothing

	start := time.Now()
	probetest.Mount(t, img, filepath.Join(root, "r1"))
	mountDone := time.Since(start)
	if d := w.await(t, "marked mount", time.Second); d > 200*time.Millisecond {
		t.Logf("slow: the kernel notification should wake Watch at once (mount(8) took %v)", mountDone)
	}
	if r := s.Scan(); !r.HasType(spec.DirDevice) {
		t.Errorf("after the mount, scan = %+v, want a DIR_DEVICE", r)
	}

	probetest.Mount(t, probetest.MakeFS(t, "ext4"), filepath.Join(root, "r2"))
	w.await(t, "unmarked mount", time.Second)
	writeFile(t, filepath.Join(root, "r2", SetupFile), "device.type=DATA_DEVICE\n")
	w.await(t, "marker written on a mounted device", time.Second)

	probetest.Run(t, "umount", filepath.Join(root, "r1"))
	w.await(t, "unmount", time.Second)
	if r := s.Scan(); r.HasType(spec.DirDevice) || !r.HasType(spec.DataDevice) {
		t.Errorf("after the unmount, scan = %+v, want only a DATA_DEVICE", r)
	}
}
