package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/quobyte/quobyte-mesos/spec"
)

// The scan modes of Config.Mode.
const (
	// ModeMounts scans the mount table for ext4 and xfs mounts under the
	// device root (production).
	ModeMounts = "mounts"
	// ModeDirectories takes each subdirectory of the device root as a
	// device, whatever its filesystem (bare directories, the simulated
	// cluster).
	ModeDirectories = "directories"
)

// DefaultMountInfoPath is the mount table of the prober's mount namespace.
const DefaultMountInfoPath = "/proc/self/mountinfo"

// deviceFilesystems are the filesystems Quobyte devices may carry.
var deviceFilesystems = map[string]bool{"ext4": true, "xfs": true}

// Config configures a Scanner.
type Config struct {
	// DeviceRoot is the directory under which devices are mounted (mounts
	// mode) or whose subdirectories are devices (directories mode).
	DeviceRoot string
	// Mode is ModeMounts or ModeDirectories.
	Mode string
	// MountInfoPath is read in mounts mode; default DefaultMountInfoPath.
	MountInfoPath string
	// ClientMountPoint is reported as present when it is an existing
	// directory; empty: never present.
	ClientMountPoint string
	// Hostname goes into the report; default os.Hostname().
	Hostname string
	// Logger receives what does not fit into a report (unreadable mount
	// table lines); default: discard.
	Logger hclog.Logger
}

// Validate checks what NewScanner cannot repair.
func (c Config) Validate() error {
	if c.DeviceRoot == "" {
		return errors.New("device root is empty")
	}
	if !filepath.IsAbs(c.DeviceRoot) {
		return fmt.Errorf("device root %q is not an absolute path", c.DeviceRoot)
	}
	if c.Mode != ModeMounts && c.Mode != ModeDirectories {
		return fmt.Errorf("mode %q: want %q or %q", c.Mode, ModeMounts, ModeDirectories)
	}
	return nil
}

// Scanner finds marked devices. It only reads: every file is opened
// read-only (and without updating its access time where the kernel lets
// it), so probing never writes to a device. A Scanner is safe for concurrent
// use: it keeps no state between scans.
type Scanner struct {
	cfg Config
	log hclog.Logger
}

// NewScanner returns a scanner for cfg, filling in defaults. An invalid cfg
// (see Config.Validate) yields reports that reject the device root with the
// reason.
func NewScanner(cfg Config) *Scanner {
	if cfg.MountInfoPath == "" {
		cfg.MountInfoPath = DefaultMountInfoPath
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Scanner{cfg: cfg, log: log}
}

// Config returns the scanner's configuration with defaults filled in.
func (s *Scanner) Config() Config { return s.cfg }

// candidate is a path that may be a device.
type candidate struct {
	path    string
	fstype  string // from the mount table; empty in directories mode
	mountID int
	source  string
}

// Scan inspects every candidate under the device root once. Devices and
// rejections come sorted by path. Seq is left zero: the caller numbers its
// reports.
func (s *Scanner) Scan() Report {
	r := Report{
		Version:    ReportVersion,
		Hostname:   s.cfg.Hostname,
		DeviceRoot: s.cfg.DeviceRoot,
		Mode:       s.cfg.Mode,
		Devices:    []Device{},
	}
	r.ClientMountPoint = isDir(s.cfg.ClientMountPoint)
	cands, err := s.candidates()
	if err != nil {
		r.Rejected = append(r.Rejected, Rejected{Path: s.cfg.DeviceRoot, Reason: err.Error()})
	}
	for _, c := range cands {
		d, reason := s.inspect(c)
		if reason != "" {
			r.Rejected = append(r.Rejected, Rejected{Path: c.path, Reason: reason})
			continue
		}
		r.Devices = append(r.Devices, d)
	}
	sort.Slice(r.Devices, func(i, j int) bool { return r.Devices[i].Path < r.Devices[j].Path })
	sort.SliceStable(r.Rejected, func(i, j int) bool { return r.Rejected[i].Path < r.Rejected[j].Path })
	return r
}

// root returns the device root with symlinks resolved, as the mount table
// shows paths that way.
func (s *Scanner) root() string {
	root := filepath.Clean(s.cfg.DeviceRoot)
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		root = resolved
	}
	return root
}

// candidates lists the paths that may be devices.
func (s *Scanner) candidates() ([]candidate, error) {
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if s.cfg.Mode == ModeDirectories {
		return s.directoryCandidates()
	}
	return s.mountCandidates()
}

func (s *Scanner) mountCandidates() ([]candidate, error) {
	f, err := os.Open(s.cfg.MountInfoPath)
	if err != nil {
		return nil, fmt.Errorf("unreadable mount table: %w", err)
	}
	defer f.Close()
	mounts, errs := ParseMountInfo(f)
	for _, err := range errs {
		s.log.Warn("skipping mount table line", "path", s.cfg.MountInfoPath, "error", err)
	}
	root := s.root()
	prefix := root + "/"
	if root == "/" {
		prefix = "/"
	}
	// A later line for the same mount point hides the earlier mount (it is
	// mounted over it), so the last one wins.
	byPath := make(map[string]candidate)
	for _, m := range mounts {
		if m.MountPoint == root || !strings.HasPrefix(m.MountPoint, prefix) {
			continue
		}
		byPath[m.MountPoint] = candidate{path: m.MountPoint, fstype: m.FSType, mountID: m.ID, source: m.Source}
	}
	out := make([]candidate, 0, len(byPath))
	for _, c := range byPath {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

func (s *Scanner) directoryCandidates() ([]candidate, error) {
	root := s.root()
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("unreadable device root: %w", err)
	}
	var out []candidate
	for _, e := range entries {
		// Hidden entries are scratch space (editors, rsync), not devices.
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(root, e.Name())
		if !isDir(p) { // follows symlinks: a linked directory is a device too
			continue
		}
		out = append(out, candidate{path: p})
	}
	return out, nil
}

// inspect reads one candidate's markers. A non-empty reason rejects it.
func (s *Scanner) inspect(c candidate) (Device, string) {
	d := Device{Path: c.path, Filesystem: c.fstype}
	if s.cfg.Mode == ModeMounts && !deviceFilesystems[c.fstype] {
		return Device{}, "wrong filesystem " + c.fstype
	}

	hasSetup := false
	switch info, err := os.Stat(filepath.Join(c.path, SetupFile)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Device{}, "unreadable marker: " + err.Error()
	case !info.Mode().IsRegular():
		return Device{}, "unreadable marker: " + SetupFile + " is not a regular file"
	default:
		hasSetup = true
	}

	var types []spec.DeviceType
	if hasSetup {
		var m Marker
		err := readFile(filepath.Join(c.path, SetupFile), func(f *os.File) error {
			var perr error
			m, perr = ParseMarker(f)
			return perr
		})
		var unknown *UnknownTypeError
		switch {
		case errors.As(err, &unknown):
			return Device{}, unknown.Error()
		case errors.Is(err, errOpen):
			return Device{}, "unreadable marker: " + err.Error()
		case err != nil:
			return Device{}, "malformed marker: " + err.Error()
		}
		d.Serial, d.Model, d.Bootstrap = m.Serial, m.Model, m.Bootstrap
		if m.Type != "" {
			types = append(types, m.Type)
		}
	}
	for _, l := range legacyDirs {
		if isDir(filepath.Join(c.path, l.name)) && !containsType(types, l.typ) {
			types = append(types, l.typ)
		}
	}
	if !hasSetup && len(types) == 0 {
		return Device{}, "no marker"
	}
	d.Legacy = !hasSetup
	d.Types = sortTypes(types)

	idPath := filepath.Join(c.path, IDFile)
	if info, err := os.Stat(idPath); err == nil {
		if !info.Mode().IsRegular() {
			d.Warnings = append(d.Warnings, IDFile+" is not a regular file")
		} else if err := readFile(idPath, func(f *os.File) error {
			id, err := ParseDeviceID(f)
			d.DeviceID = id
			return err
		}); err != nil {
			d.Warnings = append(d.Warnings, "ignoring "+IDFile+": "+err.Error())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		d.Warnings = append(d.Warnings, "ignoring "+IDFile+": "+err.Error())
	}

	var st unix.Statfs_t
	if err := unix.Statfs(c.path, &st); err != nil {
		return Device{}, "statfs: " + err.Error()
	}
	d.FreeBytes = st.Bavail * uint64(st.Bsize)
	d.TotalBytes = st.Blocks * uint64(st.Bsize)
	if d.Filesystem == "" {
		d.Filesystem = filesystemName(st.Type)
	}
	return d, ""
}

// errOpen marks failures to open or read a marker, as opposed to parsing it.
var errOpen = errors.New("cannot read")

// readFile opens path read-only without touching its access time (root may
// set O_NOATIME on any file; others fall back to a plain read-only open) and
// without blocking on a FIFO planted under the marker's name.
func readFile(path string, parse func(*os.File) error) error {
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK
	fd, err := unix.Open(path, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(path, flags, 0)
	}
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", errOpen, filepath.Base(path), err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := parse(f); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) || errors.Is(err, unix.EIO) || errors.Is(err, unix.EISDIR) {
			return fmt.Errorf("%w: %w", errOpen, err)
		}
		return err
	}
	return nil
}

func isDir(p string) bool {
	if p == "" {
		return false
	}
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

func containsType(ts []spec.DeviceType, t spec.DeviceType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// sortTypes orders types as legacyDirs does (DIR, METADATA, DATA) and never
// returns nil, so that the JSON form is a list.
func sortTypes(ts []spec.DeviceType) []spec.DeviceType {
	out := make([]spec.DeviceType, 0, len(ts))
	for _, l := range legacyDirs {
		if containsType(ts, l.typ) {
			out = append(out, l.typ)
		}
	}
	return out
}

// filesystemName names the filesystems a device directory is likely to sit
// on, from statfs(2)'s f_type; empty when unknown.
func filesystemName(magic int64) string {
	switch uint32(magic) {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4" // ext2 and ext3 share the magic; the mount table would tell
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	}
	return ""
}

// Equivalent reports whether a and b describe the same devices, ignoring
// what changes all the time without anyone acting: the sequence number and
// free space. The prober re-reports at once only when reports are not
// equivalent; free space travels with the keep-alive reports.
func Equivalent(a, b Report) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(r Report) Report {
	r.Seq = 0
	devs := make([]Device, len(r.Devices))
	for i, d := range r.Devices {
		d.FreeBytes = 0
		devs[i] = d
	}
	r.Devices = devs
	return r
}
