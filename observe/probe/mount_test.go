package probe

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/spec"
)

// The real-mount tests make filesystems in files, mount them on loop
// devices and scan the kernel's mount table. They must not touch the host's
// mounts, so TestRealMounts re-runs this test binary inside a private mount
// namespace (unshare -m --propagation private), where only the
// TestInNamespace_* tests run. When the child exits, the namespace and its
// mounts go away, and the loop devices with them (mount -o loop sets
// autoclear); the tests also unmount what they mounted.

const inNamespaceEnv = "QUOBYTE_PROBE_IN_MOUNT_NAMESPACE"

func TestRealMounts(t *testing.T) {
	if os.Getenv(inNamespaceEnv) != "" {
		t.Skip("already inside the namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("real-mount tests need root (mount, loop devices)")
	}
	for _, tool := range []string{"unshare", "mount", "umount", "mkfs.ext4", "losetup"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("real-mount tests need %s (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("no loop device support: %v", err)
	}
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a mount namespace: %v: %s", err, out)
	}
	args := []string{"-m", "--propagation", "private", os.Args[0],
		"-test.run", "^TestInNamespace_", "-test.v", "-test.timeout", "2m", "-test.count", "1"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), inNamespaceEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("namespace child output:\n%s", out.String())
	if err != nil {
		t.Fatalf("tests in the mount namespace failed: %v", err)
	}
	if strings.Contains(out.String(), "--- SKIP") {
		t.Error("a namespace test skipped; on a root machine with loop devices they must run")
	}
}

func requireNamespace(t *testing.T) {
	t.Helper()
	if os.Getenv(inNamespaceEnv) == "" {
		t.Skip("runs only inside the private mount namespace made by TestRealMounts")
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// makeFS makes a filesystem of type fstype in a sparse file and returns the
// image's path.
func makeFS(t testing.TB, fstype string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), fstype+".img")
	size := int64(32 << 20)
	if fstype == "xfs" {
		size = 300 << 20 // mkfs.xfs refuses smaller filesystems
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	switch fstype {
	case "ext4":
		run(t, "mkfs.ext4", "-q", "-F", img)
	case "xfs":
		if _, err := exec.LookPath("mkfs.xfs"); err != nil {
			t.Skipf("mkfs.xfs not installed: %v", err)
		}
		run(t, "mkfs.xfs", "-q", "-f", img)
	default:
		t.Fatalf("makeFS: unsupported %s", fstype)
	}
	return img
}

// mountAt mounts src (an image file, or "tmpfs") at dir and unmounts it at
// the end of the test.
func mountAt(t testing.TB, src, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if src == "tmpfs" {
		run(t, "mount", "-t", "tmpfs", "tmpfs", dir)
	} else {
		run(t, "mount", "-o", "loop", src, dir)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInNamespace_Scan(t *testing.T) {
	requireNamespace(t)
	root := filepath.Join(t.TempDir(), "devices")
	mountAt(t, makeFS(t, "ext4"), filepath.Join(root, "data 1"))
	writeFile(t, filepath.Join(root, "data 1", SetupFile), "# qmkdev\ndevice.serial=SER1\ndevice.model=Loop\ndevice.type=DATA_DEVICE\n")
	writeFile(t, filepath.Join(root, "data 1", IDFile), "device.id=5\n")
	mountAt(t, makeFS(t, "xfs"), filepath.Join(root, "meta"))
	if err := os.Mkdir(filepath.Join(root, "meta", "quobyte-metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountAt(t, makeFS(t, "ext4"), filepath.Join(root, "bare"))
	mountAt(t, makeFS(t, "ext4"), filepath.Join(root, "typo"))
	writeFile(t, filepath.Join(root, "typo", SetupFile), "device.type=DATA\n")
	mountAt(t, "tmpfs", filepath.Join(root, "scratch"))
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
	requireNamespace(t)
	root := filepath.Join(t.TempDir(), "devices")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Prepare a marked filesystem elsewhere, so that it arrives under the
	// root with its marker in one mount.
	img := makeFS(t, "ext4")
	staging := filepath.Join(t.TempDir(), "staging")
	mountAt(t, img, staging)
	writeFile(t, filepath.Join(staging, SetupFile), "device.type=DIR_DEVICE\n")
	run(t, "umount", staging)

	s := NewScanner(Config{DeviceRoot: root, Mode: ModeMounts, Logger: testLogger(t)})
	w := startWatch(t, s)
	unrelated := filepath.Join(t.TempDir(), "unrelated")
	mountAt(t, "tmpfs", unrelated)
	w.quiet(t, 400*time.Millisecond) // a mount outside the root changes nothing

	start := time.Now()
	mountAt(t, img, filepath.Join(root, "r1"))
	mountDone := time.Since(start)
	if d := w.await(t, "marked mount", time.Second); d > 200*time.Millisecond {
		t.Logf("slow: the kernel notification should wake Watch at once (mount(8) took %v)", mountDone)
	}
	if r := s.Scan(); !r.HasType(spec.DirDevice) {
		t.Errorf("after the mount, scan = %+v, want a DIR_DEVICE", r)
	}

	mountAt(t, makeFS(t, "ext4"), filepath.Join(root, "r2"))
	w.await(t, "unmarked mount", time.Second)
	writeFile(t, filepath.Join(root, "r2", SetupFile), "device.type=DATA_DEVICE\n")
	w.await(t, "marker written on a mounted device", time.Second)

	run(t, "umount", filepath.Join(root, "r1"))
	w.await(t, "unmount", time.Second)
	if r := s.Scan(); r.HasType(spec.DirDevice) || !r.HasType(spec.DataDevice) {
		t.Errorf("after the unmount, scan = %+v, want only a DATA_DEVICE", r)
	}
}
