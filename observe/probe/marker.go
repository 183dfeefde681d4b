package probe

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/quobyte/quobyte-mesos/spec"
)

// File and directory names Quobyte uses to mark a device (see DESIGN.md,
// "Quobyte facts").
const (
	// SetupFile marks a device: key=value lines written by the operator.
	SetupFile = "QUOBYTE_DEV_SETUP"
	// IDFile is written by a Quobyte service once it registered the device.
	IDFile = "QUOBYTE_DEV_ID"
)

// legacyDirs maps the marker directories of older setups to the device type
// they stand for. Order matters only for deterministic reports.
var legacyDirs = []struct {
	name string
	typ  spec.DeviceType
}{
	{"quobyte-dir", spec.DirDevice},
	{"quobyte-metadata", spec.MetadataDevice},
	{"quobyte-data", spec.DataDevice},
}

// MaxMarkerSize caps how much of a marker file is read. Real markers are a
// few hundred bytes; the cap keeps a garbage file from costing memory.
const MaxMarkerSize = 64 << 10

// Marker is a parsed QUOBYTE_DEV_SETUP file.
type Marker struct {
	Serial    string
	Model     string
	Bootstrap bool
	// Type is empty when the marker names no device.type: the device exists
	// but calls for no service.
	Type spec.DeviceType
	// Extra holds keys this build does not interpret, so that newer Quobyte
	// markers are not rejected for carrying more than we know.
	Extra map[string]string
}

// UnknownTypeError is returned by ParseMarker for a device.type value that is
// none of DIR_DEVICE, METADATA_DEVICE, DATA_DEVICE.
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string { return "unknown device.type " + e.Type }

// ParseMarker reads a QUOBYTE_DEV_SETUP file: key=value lines, '#' comment
// lines and blank lines, whitespace around keys and values ignored. A later
// duplicate key wins, as in the Java properties files Quobyte writes.
func ParseMarker(r io.Reader) (Marker, error) {
	kv, err := parseKeyValues(r)
	if err != nil {
		return Marker{}, err
	}
	var m Marker
	for _, p := range kv {
		switch p.key {
		case "device.serial":
			m.Serial = p.value
		case "device.model":
			m.Model = p.value
		case "device.bootstrap":
			b, err := strconv.ParseBool(p.value)
			if err != nil {
				return Marker{}, fmt.Errorf("line %d: device.bootstrap %q is not true or false", p.line, p.value)
			}
			m.Bootstrap = b
		case "device.type":
			t, ok := parseDeviceType(p.value)
			if !ok {
				return Marker{}, &UnknownTypeError{Type: p.value}
			}
			m.Type = t
		default:
			if m.Extra == nil {
				m.Extra = make(map[string]string)
			}
			m.Extra[p.key] = p.value
		}
	}
	return m, nil
}

// Format writes m in the QUOBYTE_DEV_SETUP syntax (keys sorted, extras
// last). ParseMarker(Format(m)) gives m back; tests and tools use it.
func (m Marker) Format() string {
	var b strings.Builder
	if m.Serial != "" {
		fmt.Fprintf(&b, "device.serial=%s\n", m.Serial)
	}
	if m.Model != "" {
		fmt.Fprintf(&b, "device.model=%s\n", m.Model)
	}
	if m.Bootstrap {
		b.WriteString("device.bootstrap=true\n")
	}
	if m.Type != "" {
		fmt.Fprintf(&b, "device.type=%s\n", m.Type)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Extra)) {
		fmt.Fprintf(&b, "%s=%s\n", k, m.Extra[k])
	}
	return b.String()
}

func parseDeviceType(s string) (spec.DeviceType, bool) {
	switch t := spec.DeviceType(s); t {
	case spec.DirDevice, spec.MetadataDevice, spec.DataDevice:
		return t, true
	}
	return "", false
}

// ParseDeviceID reads a QUOBYTE_DEV_ID file and returns its device.id, a
// decimal number kept as text.
func ParseDeviceID(r io.Reader) (string, error) {
	kv, err := parseKeyValues(r)
	if err != nil {
		return "", err
	}
	id := ""
	for _, p := range kv {
		if p.key == "device.id" {
			id = p.value
		}
	}
	if id == "" {
		return "", errors.New("no device.id")
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("device.id %q is not a number", id)
	}
	return id, nil
}

type keyValue struct {
	line       int
	key, value string
}

// parseKeyValues splits r into key=value pairs in file order.
func parseKeyValues(r io.Reader) ([]keyValue, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMarkerSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > MaxMarkerSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxMarkerSize)
	}
	var out []keyValue
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want key=value, got %q", i+1, truncate(line, 40))
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "" {
			return nil, fmt.Errorf("line %d: empty key", i+1)
		}
		out = append(out, keyValue{line: i + 1, key: key, value: value})
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
