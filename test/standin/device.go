package standin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Marker file and directory names (DESIGN.md, "Quobyte facts").
const (
	SetupFile = "QUOBYTE_DEV_SETUP" // key=value lines; device.type=...
	IDFile    = "QUOBYTE_DEV_ID"    // device.id=N, written after registration
)

// legacyDirs are the marker directories of older setups, by device type.
var legacyDirs = map[string]string{
	"DIR_DEVICE":      "quobyte-dir",
	"METADATA_DEVICE": "quobyte-metadata",
	"DATA_DEVICE":     "quobyte-data",
}

// maxMarkerSize caps what is read of a marker, so a garbage file costs little.
const maxMarkerSize = 64 << 10

// Device is a directory marked for one device type.
type Device struct {
	Path string
	// ID is the device.id of its QUOBYTE_DEV_ID, empty before registration.
	ID string
}

// FindDevices returns the devices of type typ under root: each non-hidden
// immediate subdirectory holding a QUOBYTE_DEV_SETUP with device.type=typ or
// the legacy marker directory of typ, the same candidates the prober's
// directories mode looks at. A missing root holds no devices. Unreadable or
// malformed markers are skipped (the real service would refuse such a device
// too) and reported in the returned error only if no device was found, so
// that the health reason can name the cause.
func FindDevices(root, typ string) ([]Device, error) {
	if root == "" || typ == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read device root: %w", err)
	}
	var candidates []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			candidates = append(candidates, filepath.Join(root, e.Name()))
		}
	}
	var devs []Device
	var problems []error
	for _, dir := range candidates {
		ok, err := isDevice(dir, typ)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if !ok {
			continue
		}
		d := Device{Path: dir}
		if id, err := readDeviceID(dir); err == nil {
			d.ID = id
		}
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Path < devs[j].Path })
	if len(devs) == 0 && len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return devs, nil
}

func isDevice(dir, typ string) (bool, error) {
	if legacy, ok := legacyDirs[typ]; ok {
		if fi, err := os.Stat(filepath.Join(dir, legacy)); err == nil && fi.IsDir() {
			return true, nil
		}
	}
	f, err := os.Open(filepath.Join(dir, SetupFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("open marker: %w", err)
	}
	defer f.Close()
	kv, err := parseKeyValues(io.LimitReader(f, maxMarkerSize))
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return kv["device.type"] == typ, nil
}

// parseKeyValues reads key=value lines; '#' (and '!', as in Java properties
// files) start comment lines; blank lines are skipped; a later key wins.
func parseKeyValues(r io.Reader) (map[string]string, error) {
	kv := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want key=value", n)
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return kv, nil
}

func readDeviceID(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, IDFile))
	if err != nil {
		return "", err
	}
	defer f.Close()
	kv, err := parseKeyValues(io.LimitReader(f, maxMarkerSize))
	if err != nil {
		return "", err
	}
	id := kv["device.id"]
	if id == "" {
		return "", errors.New("no device.id")
	}
	return id, nil
}

// writeDeviceID writes QUOBYTE_DEV_ID atomically (temporary file, rename),
// so that a prober never reads half a file.
func writeDeviceID(dir, id string) error {
	tmp, err := os.CreateTemp(dir, "."+IDFile+".*")
	if err != nil {
		return fmt.Errorf("write device id: %w", err)
	}
	// CreateTemp makes the file owner-only; the prober may run as another user.
	_, werr := fmt.Fprintf(tmp, "# written by quobyte-standin on registration\ndevice.id=%s\n", id)
	merr := tmp.Chmod(0o644)
	cerr := tmp.Close()
	if err := errors.Join(werr, merr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write device id: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, IDFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write device id: %w", err)
	}
	return nil
}
