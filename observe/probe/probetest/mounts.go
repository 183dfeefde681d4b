package probetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// env marks the re-run test binary as running inside the namespace.
const env = "QUOBYTE_PROBETEST_IN_MOUNT_NAMESPACE"

// InMountNamespace reports whether this process is the re-run inside the
// private mount namespace.
func InMountNamespace() bool { return os.Getenv(env) != "" }

// RequireMountNamespace skips the test unless it runs inside the namespace
// made by RunInMountNamespace.
func RequireMountNamespace(t testing.TB) {
	t.Helper()
	if !InMountNamespace() {
		t.Skip("runs only inside the private mount namespace made by RunInMountNamespace")
	}
}

// RunInMountNamespace re-runs the current test binary with -test.run
// pattern inside a new mount namespace with private propagation, logs its
// output, and fails t if it fails or if any test in it skipped (on a machine
// that can make the namespace, they all must run). When the child exits,
// its namespace and every mount in it go away; loop devices set up by
// mount -o loop are released with them (autoclear).
func RunInMountNamespace(t *testing.T, pattern string) {
	t.Helper()
	if InMountNamespace() {
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
	cmd := exec.Command("unshare", "-m", "--propagation", "private", os.Args[0],
		"-test.run", pattern, "-test.v", "-test.timeout", "2m", "-test.count", "1")
	cmd.Env = append(os.Environ(), env+"=1")
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
	if !strings.Contains(out.String(), "--- PASS") {
		t.Errorf("no test matching %q ran in the namespace", pattern)
	}
}

// Run runs a command and fails t with its output if it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// MakeFS makes a filesystem of type fstype ("ext4" or "xfs") in a sparse
// file under t.TempDir and returns the image's path. It skips t when
// mkfs.xfs is missing.
func MakeFS(t testing.TB, fstype string) string {
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
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	switch fstype {
	case "ext4":
		Run(t, "mkfs.ext4", "-q", "-F", img)
	case "xfs":
		if _, err := exec.LookPath("mkfs.xfs"); err != nil {
			t.Skipf("mkfs.xfs not installed: %v", err)
		}
		Run(t, "mkfs.xfs", "-q", "-f", img)
	default:
		t.Fatalf("MakeFS: unsupported filesystem %q", fstype)
	}
	return img
}

// Mount mounts src (an image file from MakeFS, or "tmpfs") at dir, making
// dir first, and unmounts it when the test ends.
func Mount(t testing.TB, src, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if src == "tmpfs" {
		Run(t, "mount", "-t", "tmpfs", "tmpfs", dir)
	} else {
		Run(t, "mount", "-o", "loop", src, dir)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}
