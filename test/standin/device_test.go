package standin

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFindDevices(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/"+SetupFile, "# comment\n! also a comment\n\n device.type = METADATA_DEVICE \ndevice.serial=1\n")
	write("a/"+IDFile, "device.id=17\n")
	write("b/"+SetupFile, "device.type=DATA_DEVICE\n")
	write("c/"+SetupFile, "device.type=DATA_DEVICE\ndevice.type=METADATA_DEVICE\n") // later key wins
	if err := os.MkdirAll(filepath.Join(root, "d", "quobyte-metadata"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("e/"+SetupFile, "device.serial=no-type\n")
	write("f/nested/"+SetupFile, "device.type=METADATA_DEVICE\n") // too deep
	write("plainfile", "device.type=METADATA_DEVICE\n")

	got, err := FindDevices(root, "METADATA_DEVICE")
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Path: filepath.Join(root, "a"), ID: "17"},
		{Path: filepath.Join(root, "c")},
		{Path: filepath.Join(root, "d")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("METADATA_DEVICE: got %+v, want %+v", got, want)
	}
	if got, _ := FindDevices(root, "DIR_DEVICE"); len(got) != 0 {
		t.Errorf("DIR_DEVICE: got %+v, want none", got)
	}

	// Neither the root itself nor a hidden subdirectory is a device, as for
	// the prober's directories mode.
	write(SetupFile, "device.type=DIR_DEVICE\n")
	write(".hidden/"+SetupFile, "device.type=DIR_DEVICE\n")
	if got, _ := FindDevices(root, "DIR_DEVICE"); len(got) != 0 {
		t.Errorf("root or hidden device: got %+v", got)
	}

	if got, err := FindDevices(filepath.Join(root, "missing"), "DATA_DEVICE"); err != nil || len(got) != 0 {
		t.Errorf("missing root: got %+v, %v", got, err)
	}
	if got, err := FindDevices("", "DATA_DEVICE"); err != nil || len(got) != 0 {
		t.Errorf("empty root: got %+v, %v", got, err)
	}
}

func TestFindDevicesMalformedMarker(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SetupFile), []byte("garbage line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindDevices(root, "DATA_DEVICE")
	if len(got) != 0 || err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("got %+v, %v; want no device and a line 1 error", got, err)
	}
}

func TestWriteDeviceID(t *testing.T) {
	dir := t.TempDir()
	if err := writeDeviceID(dir, "42"); err != nil {
		t.Fatal(err)
	}
	id, err := readDeviceID(dir)
	if err != nil || id != "42" {
		t.Errorf("read back %q, %v", id, err)
	}
	fi, err := os.Stat(filepath.Join(dir, IDFile))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}
	if err := writeDeviceID(filepath.Join(dir, "missing"), "1"); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
