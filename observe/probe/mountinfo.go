package probe

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Mount is one line of /proc/<pid>/mountinfo (see proc(5)).
type Mount struct {
	ID         int
	ParentID   int
	Root       string // root of the mount within its filesystem
	MountPoint string
	FSType     string
	Source     string
}

// ParseMountInfo reads the mountinfo format. Lines it cannot read are
// skipped and returned as errors alongside the mounts it could read: one
// odd line must not hide every device of the host.
func ParseMountInfo(r io.Reader) ([]Mount, []error) {
	var (
		mounts []Mount
		errs   []error
	)
	sc := bufio.NewScanner(r)
	// Mount options of overlay filesystems can be long: allow 1 MiB lines.
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		m, err := parseMountInfoLine(sc.Text())
		if err != nil {
			errs = append(errs, fmt.Errorf("mountinfo line %d: %w", n, err))
			continue
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("mountinfo: %w", err))
	}
	return mounts, errs
}

// parseMountInfoLine parses
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// where a variable number of optional fields ends with "-".
func parseMountInfoLine(line string) (Mount, error) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 6 || sep < 0 || len(f) < sep+3 {
		return Mount{}, fmt.Errorf("malformed line %q", truncate(line, 80))
	}
	var m Mount
	if _, err := fmt.Sscanf(f[0]+" "+f[1], "%d %d", &m.ID, &m.ParentID); err != nil {
		return Mount{}, fmt.Errorf("mount ids %q %q: %w", f[0], f[1], err)
	}
	m.Root = unescapeOctal(f[3])
	m.MountPoint = unescapeOctal(f[4])
	m.FSType = unescapeOctal(f[sep+1])
	m.Source = unescapeOctal(f[sep+2])
	return m, nil
}

// unescapeOctal undoes the kernel's escaping of space, tab, newline and
// backslash as \ooo in mountinfo fields. Anything that is not a valid
// three-digit octal escape is kept as it is.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
