package probe

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMountInfo(t *testing.T) {
	in := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 98:0 /mnt1 /mnt/with\040space rw,noatime master:1 - xfs /dev/sdb\0401 rw,attr2
37 22 0:25 / /mnt/tmp rw - tmpfs tmpfs rw,size=4k
this line is broken
38 22 7:0 / /mnt/back\134slash\0 rw shared:3 unbindable - ext4 /dev/loop0 rw

`
	got, errs := ParseMountInfo(strings.NewReader(in))
	want := []Mount{
		{ID: 22, ParentID: 1, Root: "/", MountPoint: "/", FSType: "ext4", Source: "/dev/sda1"},
		{ID: 36, ParentID: 22, Root: "/mnt1", MountPoint: "/mnt/with space", FSType: "xfs", Source: "/dev/sdb 1"},
		{ID: 37, ParentID: 22, Root: "/", MountPoint: "/mnt/tmp", FSType: "tmpfs", Source: "tmpfs"},
		{ID: 38, ParentID: 22, Root: "/", MountPoint: `/mnt/back\slash\0`, FSType: "ext4", Source: "/dev/loop0"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mounts (-want +got):\n%s", d)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 4") {
		t.Errorf("errors = %v, want one for line 4", errs)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`a\040b`: "a b", `\011\012\134`: "\t\n\\", `\999`: `\999`, `end\04`: `end\04`, `\477`: `\477`, `plain`: "plain",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseMountInfo checks that no mount table makes the parser panic, and
// that it returns at most one mount or error per line.
func FuzzParseMountInfo(f *testing.F) {
	f.Add("36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root rw\n")
	f.Add("1 0 0:1 / / rw - \n")
	f.Add("x y z\n\n- - - - - - - - -\n")
	f.Fuzz(func(t *testing.T, in string) {
		mounts, errs := ParseMountInfo(strings.NewReader(in))
		if lines := strings.Count(in, "\n") + 1; len(mounts)+len(errs) > lines+1 {
			t.Fatalf("%d mounts and %d errors from %d lines", len(mounts), len(errs), lines)
		}
	})
}
