package probe

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Watch timing. A marker written on an already mounted device changes no
// mount table, so marker files are stat-polled; the poll is cheap (a few
// stat calls per candidate) and keeps a new device well under a second.
const (
	// watchPoll is how often marker files (and, in directories mode, the
	// device root) are checked.
	watchPoll = 250 * time.Millisecond
	// mountFallback re-reads the mount table even without a kernel
	// notification, in case poll(2) on it is not supported.
	mountFallback = 2 * time.Second
)

// Watch calls onChange whenever what Scan would find may have changed: a
// mount appears or goes under the device root, or a marker file (or legacy
// marker directory, or the client mount point) appears, changes or goes. It
// returns nil when ctx ends. onChange runs on Watch's goroutine and should
// only hand the work on (e.g. a non-blocking send on a channel).
//
// Mount changes are noticed at once: in mounts mode Watch waits in poll(2)
// on the mount table, which the kernel wakes with POLLPRI|POLLERR on every
// mount or unmount in the namespace. Spurious wake-ups are filtered: only a
// change of the fingerprint of the candidates calls onChange.
func (s *Scanner) Watch(ctx context.Context, onChange func()) error {
	mountTable := -1
	if s.cfg.Mode == ModeMounts {
		// A raw descriptor, not an os.File: os.Open would register it with
		// Go's epoll-based poller, whose epoll_wait calls the file's poll
		// method too and so consumes the kernel's one-shot mount event
		// before our poll(2) sees it.
		fd, err := unix.Open(s.cfg.MountInfoPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			s.log.Warn("cannot watch the mount table, polling it instead", "path", s.cfg.MountInfoPath, "error", err)
		} else {
			mountTable = fd
			defer func() { unix.Close(mountTable) }()
		}
	}
	cands, _ := s.candidates()
	last := s.fingerprint(cands)
	lastRead := time.Now()
	for {
		mountsChanged, err := waitMountChange(ctx, mountTable, watchPoll)
		if err != nil {
			s.log.Warn("poll on the mount table failed, polling it instead", "path", s.cfg.MountInfoPath, "error", err)
			unix.Close(mountTable)
			mountTable = -1
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.cfg.Mode != ModeMounts || mountsChanged || time.Since(lastRead) >= mountFallback {
			cands, _ = s.candidates()
			lastRead = time.Now()
		}
		if fp := s.fingerprint(cands); fp != last {
			s.log.Trace("device candidates changed", "mount_event", mountsChanged, "candidates", len(cands))
			last = fp
			onChange()
		} else if mountsChanged {
			s.log.Trace("mount table changed outside the device root")
		}
	}
}

// waitMountChange waits up to d for the kernel's mount-change notification
// on fd, or just sleeps d when fd is -1. Sleeping returns early when ctx
// ends; poll(2) cannot be interrupted, so d bounds how long a cancelled
// Watch takes to return.
func waitMountChange(ctx context.Context, fd int, d time.Duration) (bool, error) {
	if fd < 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return false, nil
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
	n, err := unix.Poll(fds, int(d/time.Millisecond))
	if errors.Is(err, syscall.EINTR) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("poll: %w", err)
	}
	if fds[0].Revents&(unix.POLLHUP|unix.POLLNVAL) != 0 {
		// Not a file the kernel notifies about: waiting on it again would
		// spin. The caller falls back to sleeping.
		return false, fmt.Errorf("poll: revents %#x", fds[0].Revents)
	}
	return n > 0 && fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0, nil
}

// fingerprint summarizes the candidates and the metadata of their marker
// files; equal fingerprints mean a scan would find the same devices (free
// space aside).
func (s *Scanner) fingerprint(cands []candidate) string {
	var b strings.Builder
	statInto(&b, s.cfg.ClientMountPoint)
	for _, c := range cands {
		fmt.Fprintf(&b, "\n%s|%s|%d|%s", c.path, c.fstype, c.mountID, c.source)
		statInto(&b, filepath.Join(c.path, SetupFile))
		statInto(&b, filepath.Join(c.path, IDFile))
		for _, l := range legacyDirs {
			statInto(&b, filepath.Join(c.path, l.name))
		}
	}
	return b.String()
}

func statInto(b *strings.Builder, p string) {
	var st unix.Stat_t
	if p == "" || unix.Stat(p, &st) != nil {
		b.WriteString("|-")
		return
	}
	fmt.Fprintf(b, "|%d:%d:%o:%d.%d:%d.%d", st.Ino, st.Size, st.Mode, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}
