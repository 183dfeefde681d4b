package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/quobyte/quobyte-mesos/spec"
)

// device makes dir (and its parents) and writes the given files into it; a
// name ending in "/" makes a directory instead.
func device(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ignoreSpace leaves out the numbers that depend on the host's disks.
var ignoreSpace = cmpopts.IgnoreFields(Device{}, "FreeBytes", "TotalBytes", "Filesystem")

func TestScan_Directories_AllCases(t *testing.T) {
	root := t.TempDir()
	client := t.TempDir()
	device(t, filepath.Join(root, "a-data"), map[string]string{
		SetupFile: "device.serial=S1\ndevice.model=M1\ndevice.type=DATA_DEVICE\n",
		IDFile:    "device.id=17\n",
	})
	device(t, filepath.Join(root, "b-registry"), map[string]string{
		SetupFile: "device.type=DIR_DEVICE\ndevice.bootstrap=true\n",
	})
	device(t, filepath.Join(root, "c-legacy"), map[string]string{"quobyte-metadata/": "", "quobyte-data/": ""})
	device(t, filepath.Join(root, "d-empty"), nil)
	device(t, filepath.Join(root, "e-unknown"), map[string]string{SetupFile: "device.type=TAPE_DEVICE\n"})
	device(t, filepath.Join(root, "f-dir-marker"), map[string]string{SetupFile + "/": ""})
	device(t, filepath.Join(root, "g-malformed"), map[string]string{SetupFile: "what is this\n"})
	device(t, filepath.Join(root, "h-bad-id"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n", IDFile: "device.id=x\n"})
	device(t, filepath.Join(root, "i-untyped"), map[string]string{SetupFile: "device.serial=S9\n"})
	device(t, filepath.Join(root, ".hidden"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	device(t, filepath.Join(root, "j-fifo"), nil)
	if err := syscall.Mkfifo(filepath.Join(root, "j-fifo", SetupFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "not-a-dir"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	s := NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories, ClientMountPoint: client, Hostname: "host1"})
	got := s.Scan()
	want := Report{
		Version: ReportVersion, Hostname: "host1", DeviceRoot: root, Mode: ModeDirectories, ClientMountPoint: true,
		Devices: []Device{
			{Path: root + "/a-data", Types: []spec.DeviceType{spec.DataDevice}, Serial: "S1", Model: "M1", DeviceID: "17"},
			{Path: root + "/b-registry", Types: []spec.DeviceType{spec.DirDevice}, Bootstrap: true},
			{Path: root + "/c-legacy", Types: []spec.DeviceType{spec.MetadataDevice, spec.DataDevice}, Legacy: true},
			{Path: root + "/h-bad-id", Types: []spec.DeviceType{spec.DataDevice},
				Warnings: []string{`ignoring QUOBYTE_DEV_ID: device.id "x" is not a number`}},
			{Path: root + "/i-untyped", Types: []spec.DeviceType{}, Serial: "S9"},
		},
		Rejected: []Rejected{
			{Path: root + "/d-empty", Reason: "no marker"},
			{Path: root + "/e-unknown", Reason: "unknown device.type TAPE_DEVICE"},
			{Path: root + "/f-dir-marker", Reason: "unreadable marker: QUOBYTE_DEV_SETUP is not a regular file"},
			{Path: root + "/g-malformed", Reason: `malformed marker: line 1: want key=value, got "what is this"`},
			{Path: root + "/j-fifo", Reason: "unreadable marker: QUOBYTE_DEV_SETUP is not a regular file"},
		},
	}
	if d := cmp.Diff(want, got, ignoreSpace); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	for _, d := range got.Devices {
		if d.TotalBytes == 0 || d.FreeBytes > d.TotalBytes {
			t.Errorf("%s: free %d of total %d bytes", d.Path, d.FreeBytes, d.TotalBytes)
		}
	}
	// The JSON form is what the framework reads: lists, never null.
	data, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"types":[]`) {
		t.Errorf("untyped device should carry an empty types list: %s", data)
	}
}

func TestScan_Directories_MissingRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nope")
	got := NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories}).Scan()
	if len(got.Devices) != 0 || len(got.Rejected) != 1 || !strings.HasPrefix(got.Rejected[0].Reason, "unreadable device root") {
		t.Errorf("report = %+v, want the root rejected as unreadable", got)
	}
	if got.ClientMountPoint {
		t.Error("client mount point reported present though unset")
	}
}

func TestScan_InvalidConfig(t *testing.T) {
	for _, cfg := range []Config{
		{DeviceRoot: "/mnt", Mode: "disks"},
		{DeviceRoot: "relative", Mode: ModeMounts},
		{Mode: ModeMounts},
	} {
		got := NewScanner(cfg).Scan()
		if len(got.Rejected) != 1 || !strings.HasPrefix(got.Rejected[0].Reason, "invalid configuration") {
			t.Errorf("%+v: rejected = %+v, want an invalid configuration", cfg, got.Rejected)
		}
	}
}

// TestScan_Mounts_FakeTable drives mounts mode from a written mount table
// whose mount points are plain directories: statfs works on them, and the
// filesystem type comes from the table.
func TestScan_Mounts_FakeTable(t *testing.T) {
	root := t.TempDir()
	device(t, filepath.Join(root, "ssd 1"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	device(t, filepath.Join(root, "xfs1"), map[string]string{"quobyte-dir/": ""})
	device(t, filepath.Join(root, "tmp"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n"})
	device(t, filepath.Join(root, "over"), map[string]string{SetupFile: "device.type=METADATA_DEVICE\n"})
	device(t, filepath.Join(root, "bare"), nil)
	esc := strings.ReplaceAll(root, " ", `\040`)
	table := fmt.Sprintf(`1 0 8:1 / / rw - ext4 /dev/sda1 rw
2 1 8:2 / %[1]s rw - ext4 /dev/sda2 rw
3 2 8:3 / %[1]s/ssd\0401 rw shared:7 - ext4 /dev/sdc rw
4 2 8:4 / %[1]s/xfs1 rw - xfs /dev/sdd rw
5 2 0:40 / %[1]s/tmp rw - tmpfs tmpfs rw
6 2 0:41 / %[1]s/over rw - tmpfs tmpfs rw
7 2 8:5 / %[1]s/over rw - ext4 /dev/sde rw
8 2 8:6 / %[1]s/bare rw - ext4 /dev/sdf rw
9 1 8:7 / %[1]sX rw - ext4 /dev/sdg rw
10 1 8:8 / /elsewhere rw - ext4 /dev/sdh rw
`, esc)
	mi := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(mi, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	got := NewScanner(Config{DeviceRoot: root, Mode: ModeMounts, MountInfoPath: mi, Hostname: "h"}).Scan()
	want := Report{
		Version: ReportVersion, Hostname: "h", DeviceRoot: root, Mode: ModeMounts,
		Devices: []Device{
			{Path: root + "/over", Filesystem: "ext4", Types: []spec.DeviceType{spec.MetadataDevice}},
			{Path: root + "/ssd 1", Filesystem: "ext4", Types: []spec.DeviceType{spec.DataDevice}},
			{Path: root + "/xfs1", Filesystem: "xfs", Types: []spec.DeviceType{spec.DirDevice}, Legacy: true},
		},
		Rejected: []Rejected{
			{Path: root + "/bare", Reason: "no marker"},
			{Path: root + "/tmp", Reason: "wrong filesystem tmpfs"},
		},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Device{}, "FreeBytes", "TotalBytes")); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
}

func TestScan_Mounts_UnreadableTable(t *testing.T) {
	got := NewScanner(Config{DeviceRoot: "/mnt", Mode: ModeMounts, MountInfoPath: "/nonexistent/mountinfo"}).Scan()
	if len(got.Rejected) != 1 || !strings.HasPrefix(got.Rejected[0].Reason, "unreadable mount table") {
		t.Errorf("rejected = %+v", got.Rejected)
	}
}

func TestEquivalent_IgnoresSeqAndFreeSpace(t *testing.T) {
	a := Report{Seq: 1, Devices: []Device{{Path: "/a", FreeBytes: 10, TotalBytes: 100}}}
	b := Report{Seq: 2, Devices: []Device{{Path: "/a", FreeBytes: 20, TotalBytes: 100}}}
	if !Equivalent(a, b) {
		t.Error("reports differing only in seq and free space should be equivalent")
	}
	b.Devices[0].Types = []spec.DeviceType{spec.DataDevice}
	if Equivalent(a, b) {
		t.Error("reports with different types should differ")
	}
	if a.Devices[0].FreeBytes != 10 {
		t.Error("Equivalent modified its argument")
	}
}

// fileState is what a write to a device would change.
type fileState struct {
	content             string
	mtime, ctime, atime syscall.Timespec
	size                int64
}

// snapshotPaths records the state of the given paths without touching
// their access times (no directory listing; files read with O_NOATIME).
func snapshotPaths(t *testing.T, paths []string) map[string]fileState {
	t.Helper()
	out := make(map[string]fileState)
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		fs := fileState{mtime: st.Mtim, ctime: st.Ctim, atime: st.Atim, size: st.Size}
		if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			if err := readFile(p, func(f *os.File) error {
				b, err := io.ReadAll(f)
				fs.content = string(b)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		out[p] = fs
	}
	return out
}

// TestScan_NeverWrites scans a tree many times and checks that no file or
// directory changed: contents, sizes, mtimes, ctimes, and (as root, where
// O_NOATIME applies) access times.
func TestScan_NeverWrites(t *testing.T) {
	root := t.TempDir()
	device(t, filepath.Join(root, "d1"), map[string]string{SetupFile: "device.type=DATA_DEVICE\n", IDFile: "device.id=3\n"})
	device(t, filepath.Join(root, "d2"), map[string]string{"quobyte-dir/": ""})
	device(t, filepath.Join(root, "d3"), map[string]string{SetupFile: "device.type=BAD\n"})
	var paths []string
	for _, p := range []string{"d1", "d1/" + SetupFile, "d1/" + IDFile, "d2", "d2/quobyte-dir", "d3", "d3/" + SetupFile} {
		paths = append(paths, filepath.Join(root, p))
	}
	// The device root itself is left out: directories mode lists it, which
	// moves its access time. It is the agent's directory, not a device.
	before := snapshotPaths(t, paths)
	s := NewScanner(Config{DeviceRoot: root, Mode: ModeDirectories})
	for i := 0; i < 5; i++ {
		s.Scan()
		s.fingerprint(mustCandidates(t, s))
	}
	after := snapshotPaths(t, paths)
	opts := []cmp.Option{cmp.AllowUnexported(fileState{})}
	if os.Geteuid() != 0 {
		opts = append(opts, cmpopts.IgnoreFields(fileState{}, "atime"))
	}
	if d := cmp.Diff(before, after, opts...); d != "" {
		t.Errorf("scanning changed the device tree (-before +after):\n%s", d)
	}
}

func mustCandidates(t testing.TB, s *Scanner) []candidate {
	c, err := s.candidates()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
